#!/usr/bin/env bash
# Tool set-up for a fresh machine, a fresh clone, or CI; each command asks for what it needs:
#   scripts/setup.sh                    the demo: pulumi + its Python host, the provider, the venv
#   scripts/setup.sh --test             and everything the test suite uses: kube-apiserver, etcd,
#                                       the test packages (pytest, moto, OpenBao, Azure models),
#                                       Node.js and the npm and Go modules of the TS and Go programs
#   scripts/setup.sh --bench PART...    the demo set, plus kube or the test packages only for the
#                                       benchmark parts that use them (kube, vault)
# Every step is idempotent and cached, so re-running it is cheap.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"

kube=false test_packages=false languages=false
case "${1:-}" in
  "") ;;
  --test) kube=true test_packages=true languages=true ;;
  --bench)
    shift
    for part in "$@"; do
      case "$part" in
        kube) kube=true ;;
        vault) test_packages=true ;;
      esac
    done
    ;;
  *) echo "usage: scripts/setup.sh [--test | --bench PART...]" >&2; exit 2 ;;
esac

start=$SECONDS
bash "$here/install-pulumi.sh"   # pulumi + Python language host, built from Go modules
if $kube; then
  bash "$here/install-kube.sh"   # kube-apiserver + kube-controller-manager from Go modules, etcd
fi

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

if $test_packages; then
  bash "$here/python-env.sh" --test   # venv: Pulumi SDK, sdk/python, pytest and the test backends
  # The upstream wheels the compatibility corpus reads its examples from (tools/compat).
  "$ZT_VENV/bin/python" "$ZT_ROOT/tools/compat/corpus.py" fetch "$ZT_CACHE/compat/wheels"
else
  bash "$here/python-env.sh"          # venv: Pulumi SDK and sdk/python
fi
# Benchmarks use Python programs only, and must not overwrite the figure the test suite reports.
if $languages; then
  bash "$here/lang-env.sh"            # node, and the TypeScript and Go programs' dependencies
  bash "$here/install-system-tools.sh" # openssl and ssh-keygen, which the tests check output with
fi
log "setup done in $((SECONDS - start))s"
