#!/usr/bin/env bash
# Stop the control plane scripts/kube-up.sh started in $ZT_KUBE_DIR and delete
# its state (etcd data, keys, kubeconfig, env, pids, logs). Safe to run when
# nothing is up. --keep-logs leaves $ZT_KUBE_DIR/logs in place.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ZT_ROOT/tools/k8s/kube-env.sh"

keep_logs=false
[[ "${1:-}" == --keep-logs ]] && keep_logs=true

if [[ ! -d "$ZT_KUBE_DIR" ]]; then
  log "nothing to stop: $ZT_KUBE_DIR does not exist"
  exit 0
fi
dir="$(cd "$ZT_KUBE_DIR" && pwd)"
exec 9>"$dir/.lock"
flock 9

# running PID: the process exists and is not a zombie waiting to be reaped.
running() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

# stop NAME GRACE: SIGTERM the recorded pid if it still runs our binary for
# this run dir (never a recycled pid), wait up to GRACE seconds, then SIGKILL.
stop() {
  local name=$1 grace=$2 pidfile="$dir/$1.pid" pid i
  pid="$(cat "$pidfile" 2>/dev/null)" || return 0
  if [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
      running "$pid" || break
      sleep 0.2
    done
    if running "$pid"; then
      log "$name (pid $pid) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      while running "$pid"; do sleep 0.1; done
    fi
    log "stopped $name (pid $pid)"
  fi
  rm -f "$pidfile"
}
# Clients first, storage last. The controller manager keeps no state and has
# once been seen to sit on SIGTERM, so it gets a short grace.
stop kube-controller-manager 3
stop kube-apiserver 15
stop etcd 10

rm -rf "$dir/etcd-data" "$dir/pki" "$dir/kubeconfig" "$dir/kubeconfig.tmp" "$dir/env" "$dir/env.tmp" \
  "$dir/ports" "$dir/crds.applied"
$keep_logs || rm -rf "$dir/logs"
log "kube state in $dir removed"
