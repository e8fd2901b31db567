#!/usr/bin/env bash
# Regenerates schema.json from the Rust types and sdk/python from schema.json. Both are checked
# in; tests fail when either is stale.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"
cargo build --quiet --bin pulumi-resource-zerotrust
target/debug/pulumi-resource-zerotrust --schema > schema.json
bash scripts/install-pulumi.sh
# gen-sdk deletes and rewrites sdk/python from the schema file alone: no plugin boot, no network.
pulumi package gen-sdk schema.json --language python --out sdk >&2
log "regenerated schema.json and sdk/python"
