#!/usr/bin/env bash
# Stop the AWS test backend scripts/moto-up.sh started in $ZT_MOTO_DIR and delete its
# state (saved moto state, env file, port, pid, log). Safe to run when nothing is up.
# --keep-logs leaves $ZT_MOTO_DIR/moto.log in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ZT_ROOT/tools/moto/moto-env.sh"

keep_logs=false
[[ "${1:-}" == --keep-logs ]] && keep_logs=true

if [[ ! -d "$ZT_MOTO_DIR" ]]; then
  log "nothing to stop: $ZT_MOTO_DIR does not exist"
  exit 0
fi
dir="$(cd "$ZT_MOTO_DIR" && pwd)"
exec 9>"$dir/.lock"
flock 9

moto_stop "$dir"
rm -f "$dir/state.pickle" "$dir/state.pickle.tmp" "$dir/env" "$dir/env.tmp" "$dir/port"
$keep_logs || rm -f "$dir/moto.log"
log "moto state in $dir removed"
