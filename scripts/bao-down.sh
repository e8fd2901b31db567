#!/usr/bin/env bash
# Stop the Vault PKI test backend scripts/bao-up.sh started in $ZT_BAO_DIR and delete its
# state (raft storage, keys and tokens, TLS files, config, env file, ports, pid, log). Safe to
# run when nothing is up. --keep-logs leaves $ZT_BAO_DIR/bao.log in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ZT_ROOT/tools/bao/bao-env.sh"

keep_logs=false
[[ "${1:-}" == --keep-logs ]] && keep_logs=true

if [[ ! -d "$ZT_BAO_DIR" ]]; then
  log "nothing to stop: $ZT_BAO_DIR does not exist"
  exit 0
fi
dir="$(cd "$ZT_BAO_DIR" && pwd)"
exec 9>"$dir/.lock"
flock 9

bao_stop "$dir"
rm -rf "$dir/data" "$dir/tls"
rm -f "$dir/init.json" "$dir/init.json.tmp" "$dir/unprivileged-token" "$dir/unprivileged-token.tmp" \
  "$dir/env" "$dir/env.tmp" "$dir/ports" "$dir/bao.hcl" "$dir/bao.hcl.tmp"
$keep_logs || rm -f "$dir/bao.log"
log "bao state in $dir removed"
