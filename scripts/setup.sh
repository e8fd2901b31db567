#!/usr/bin/env bash
# One-stop toolchain set-up for a fresh machine, a fresh clone, or CI.
# Every step is idempotent and cached, so re-running it is cheap.
set -euo pipefail
here="$(dirname "${BASH_SOURCE[0]}")"
source "$here/lib.sh"

start=$SECONDS
bash "$here/install-pulumi.sh"   # pulumi + Python language host, built from Go modules

# The provider binary that examples' Pulumi.yaml point at (target/debug). Cargo's own
# fingerprints make this a no-op when nothing changed.
log "building pulumi-resource-zerotrust"
(cd "$ZT_ROOT" && cargo build --quiet --bin pulumi-resource-zerotrust)

bash "$here/python-env.sh"       # venv: Pulumi Python SDK, pytest, sdk/python if present
log "setup done in $((SECONDS - start))s"
