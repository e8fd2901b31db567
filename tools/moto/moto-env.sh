# shellcheck shell=bash
# Paths and helpers shared by scripts/moto-up.sh and scripts/moto-down.sh. Source it after
# scripts/lib.sh; it only sets variables and functions.

# Run state of the local AWS backend: pid, port, log, env file and the snapshot that
# tools/moto/launcher.py writes after every state-changing request.
ZT_MOTO_DIR="${ZT_MOTO_DIR:-$ZT_CACHE/moto}"
# moto itself lives in the test venv (scripts/python-env.sh pins moto[server]==5.2.5).
ZT_MOTO_LAUNCHER="$ZT_ROOT/tools/moto/launcher.py"
export ZT_MOTO_DIR ZT_MOTO_LAUNCHER

# moto_pid_alive DIR: the recorded pid still runs our launcher for this run dir. Checking
# the command line guards against a recycled pid after a reboot or crash.
moto_pid_alive() {
  local pid
  pid="$(cat "$1/moto.pid" 2>/dev/null)" || return 1
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "--state $1/state.pickle"
}

# moto_running PID: the process exists and is not a zombie waiting to be reaped.
moto_running() { [[ -r "/proc/$1/stat" ]] && [[ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]]; }

# moto_stop DIR: SIGTERM the recorded server if it is ours, wait up to 10s, then SIGKILL.
# Its state file stays; the caller decides whether to delete it.
moto_stop() {
  local dir=$1 pid i
  pid="$(cat "$dir/moto.pid" 2>/dev/null)" || return 0
  if moto_pid_alive "$dir"; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      moto_running "$pid" || break
      sleep 0.2
    done
    if moto_running "$pid"; then
      log "moto (pid $pid) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
      # Bounded: a process stuck in the kernel must not hang the test run's exit.
      for ((i = 0; i < 100; i++)); do
        moto_running "$pid" || break
        sleep 0.1
      done
      if moto_running "$pid"; then log "moto (pid $pid) still there 10s after SIGKILL; leaving it"; fi
    fi
    log "stopped moto (pid $pid)"
  fi
  rm -f "$dir/moto.pid"
}

# moto_healthy PORT: moto answers its own API on that loopback port.
moto_healthy() { curl -sS --fail --max-time 5 -o /dev/null "http://127.0.0.1:$1/moto-api/" 2>/dev/null; }
