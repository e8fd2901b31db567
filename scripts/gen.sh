#!/usr/bin/env bash
# Regenerates schema.json from the Rust types, and sdk/python, sdk/nodejs and sdk/go from
# schema.json. All are checked in; tests fail when any is stale.
#
# Usage: scripts/gen.sh [--out DIR]   (--out writes the three SDKs under DIR instead of sdk/,
#                                      leaving schema.json alone: the staleness test uses it)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"

out="$ZT_ROOT/sdk"
if [[ "${1:-}" == "--out" && -n "${2:-}" ]]; then
  out="$2"
else
  cargo build --quiet --bin pulumi-resource-zerotrust
  target/debug/pulumi-resource-zerotrust --schema > schema.json
fi
bash scripts/install-pulumi.sh >&2

# gen-sdk deletes and rewrites sdk/<language> from the schema file alone: no plugin boot.
pulumi package gen-sdk schema.json --language python --out "$out" >&2
# --local: a package.json whose postinstall compiles the SDK, for `file:` installs from the repo.
pulumi package gen-sdk schema.json --language nodejs --local --out "$out" >&2
pulumi package gen-sdk schema.json --language go --out "$out" >&2
# The generator writes a go.mod requiring sdk/v3 v3.269.0, whose dependencies include a module
# version the proxy here refuses; require the CLI's own version instead, then record the sums
# (the generator writes no go.sum) so builds verify what they fetch.
(cd "$out/go" && go mod edit -require "github.com/pulumi/pulumi/sdk/v3@$ZT_PULUMI_VERSION" \
   && GOFLAGS=-mod=mod go mod tidy >&2)
log "regenerated SDKs in $out"
