#!/usr/bin/env bash
# The main job: set everything up, `pulumi up` the local mTLS demo (examples/ml-mtls) on a local
# file backend, then prove the identities with a real mTLS server (verify.py).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"

bash scripts/setup.sh

state="$ZT_CACHE/demo-state"
mkdir -p "$state"
export PULUMI_BACKEND_URL="file://$state"
cd examples/ml-mtls
pulumi stack select demo --create --non-interactive >&2
pulumi up --yes --non-interactive
pulumi stack output --json --show-secrets > "$ZT_CACHE/demo-outputs.json"
chmod 600 "$ZT_CACHE/demo-outputs.json"
python verify.py --outputs "$ZT_CACHE/demo-outputs.json"
log "demo stack 'demo' is up (state in $state); tear it down with:"
log "  PULUMI_BACKEND_URL=file://$state $ZT_ROOT/scripts/pulumi -C $ZT_ROOT/examples/ml-mtls destroy --yes --stack demo"
