#!/usr/bin/env bash
# One-stop toolchain set-up for a fresh machine, a fresh clone, or CI.
# Every step is idempotent and cached, so re-running it is cheap.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"

start=$SECONDS
bash "$here/install-pulumi.sh"   # pulumi + Python language host, built from Go modules
bash "$here/install-kube.sh"     # kube-apiserver + kube-controller-manager from Go modules, etcd

# The provider binary that examples' Pulumi.yaml point at (target/debug). Cargo's own
# fingerprints make this a no-op when nothing changed.
# Fresh clones on this machine share one cargo target directory, so dependencies (aws-lc,
# tonic, ...) compile once rather than on every clone; cargo's locks keep concurrent runs safe.
if [[ ! -e "$ZT_ROOT/target" ]]; then
  mkdir -p "$ZT_TOOLS_CACHE/cargo-target"
  ln -s "$ZT_TOOLS_CACHE/cargo-target" "$ZT_ROOT/target"
fi
log "building pulumi-resource-zerotrust"
(cd "$ZT_ROOT" && cargo build --quiet --bin pulumi-resource-zerotrust)

bash "$here/python-env.sh"       # venv: Pulumi Python SDK, pytest, sdk/python if present
log "setup done in $((SECONDS - start))s"
