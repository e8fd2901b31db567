#!/usr/bin/env bash
# Start the AWS test backend on loopback: moto 5.2.5 (ACM Private CA, Route53, ...) from
# the test venv, run by tools/moto/launcher.py, which keeps moto's state in a file so that
# a restart after SIGKILL finds the same resources, and gives moto's ACM PCA the
# subordinate-CA templates (see the launcher's docstring). Makes the venv first if it has
# no moto (scripts/python-env.sh).
#
# State lives in $ZT_MOTO_DIR (default .cache/moto): moto.pid, port, moto.log,
# state.pickle, and the file clients use:
#   $ZT_MOTO_DIR/env   `source` it: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID/SECRET_ACCESS_KEY
#                      (test/test), AWS_REGION and AWS_DEFAULT_REGION (us-east-1),
#                      AWS_MAX_ATTEMPTS=1, AWS_EC2_METADATA_DISABLED, AWS_CONFIG_FILE and
#                      AWS_SHARED_CREDENTIALS_FILE (/dev/null), ZT_MOTO_URL,
#                      ZT_MOTO_ACCOUNT_ID, ZT_MOTO_DIR
#
# The port is a free loopback port picked at start; ZT_MOTO_PORT fixes it instead. Running
# it again while moto is healthy does nothing. A server that died, or is unhealthy, is
# replaced by a clean one (empty state).
#
#   scripts/moto-up.sh --restart   stop moto if it runs (SIGTERM) and start it again on the
#                                  same port with the saved state: what the tests call after
#                                  they SIGKILLed it. With nothing to restart it is a start.
#
# scripts/moto-down.sh stops it and deletes the state. `POST $ZT_MOTO_URL/moto-api/reset`
# empties moto, the saved state included.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ZT_ROOT/tools/moto/moto-env.sh"

restart=false
case "${1:-}" in
  "") ;;
  --restart) restart=true ;;
  *) log "usage: $0 [--restart]"; exit 2 ;;
esac

mkdir -p "$ZT_MOTO_DIR"
dir="$(cd "$ZT_MOTO_DIR" && pwd)"
# One moto-up/moto-down at a time per run dir (tests may call it in parallel).
exec 9>"$dir/.lock"
flock 9

envfile="$dir/env" portfile="$dir/port" state="$dir/state.pickle" logfile="$dir/moto.log"
port="$(cat "$portfile" 2>/dev/null || true)"

# ---- already up? -------------------------------------------------------------
if ! $restart && [[ -f "$envfile" && -n "$port" ]] && moto_pid_alive "$dir" && moto_healthy "$port"; then
  log "moto already up at http://127.0.0.1:$port (source $envfile)"
  exit 0
fi

if ! "$ZT_VENV/bin/python" -c 'import moto, werkzeug' 2> /dev/null; then
  bash "$ZT_ROOT/scripts/python-env.sh" --test
fi

moto_stop "$dir"
if $restart && [[ -n "$port" ]]; then
  # Same port, so every env file and client already pointing at it stays valid.
  log "restarting moto on 127.0.0.1:$port with the saved state"
  echo "[zerotrust] ---- restart $(date -u +%FT%TZ) ----" >> "$logfile"
else
  $restart && log "nothing to restart in $dir; starting moto"
  if [[ -e "$state" || -e "$envfile" ]]; then
    log "cleaning up what is left in $dir from an earlier run"
  fi
  rm -f "$state" "$state.tmp" "$envfile" "$envfile.tmp" "$portfile"
  : > "$logfile"
  port="${ZT_MOTO_PORT:-}"
  if [[ -z "$port" ]]; then
    # Ask the kernel for a free loopback port. Small race: something else may take it
    # before moto binds it (handled below by retrying).
    port="$("$ZT_VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  fi
  echo "$port" > "$portfile"
fi
url="http://127.0.0.1:$port"

# Detached in its own session (the caller's Ctrl-C or job control does not reach it), fd 9
# (the run-dir lock) closed for it. In a non-interactive shell the background child is no
# group leader, so setsid execs in place and $! is the server's own pid.
start=$SECONDS
setsid "$ZT_VENV/bin/python" "$ZT_MOTO_LAUNCHER" --host 127.0.0.1 --port "$port" --state "$state" \
  >> "$logfile" 2>&1 < /dev/null 9>&- &
pid=$!
echo "$pid" > "$dir/moto.pid"

# Wait until moto answers; fail early if it died. Existence only (a zombie counts as
# dead): right after the fork the command line is still this script's.
deadline=$((SECONDS + 60))
until moto_healthy "$port"; do
  proc_state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
  if [[ -z "$proc_state" || "$proc_state" == Z || $SECONDS -ge $deadline ]]; then
    log "moto did not come up on $url; last lines of $logfile:"
    tail -n 20 "$logfile" >&2
    moto_stop "$dir"
    tries="${ZT_MOTO_UP_TRIES:-0}"
    if ! $restart && [[ -z "${ZT_MOTO_PORT:-}" ]] && (( tries < 2 )) \
         && grep -qs 'Address already in use' "$logfile"; then
      log "the picked port was taken meanwhile; retrying with a new one"
      flock -u 9
      ZT_MOTO_UP_TRIES=$((tries + 1)) exec bash "$ZT_ROOT/scripts/moto-up.sh"
    fi
    exit 1
  fi
  sleep 0.2
done

{
  printf 'export AWS_ENDPOINT_URL=%q\n' "$url"
  # moto routes requests on the SigV4 credential scope and never checks signatures, but
  # the SDKs must sign: static fake credentials, and no profile or IMDS lookups.
  printf 'export AWS_ACCESS_KEY_ID=test\n'
  printf 'export AWS_SECRET_ACCESS_KEY=test\n'
  printf 'export AWS_REGION=us-east-1\n'
  printf 'export AWS_DEFAULT_REGION=us-east-1\n'
  printf 'export AWS_CONFIG_FILE=/dev/null\n'
  printf 'export AWS_SHARED_CREDENTIALS_FILE=/dev/null\n'
  printf 'export AWS_EC2_METADATA_DISABLED=true\n'
  # Unimplemented moto operations answer HTTP 500; retrying them only hides the error.
  printf 'export AWS_MAX_ATTEMPTS=1\n'
  printf 'export ZT_MOTO_URL=%q\n' "$url"
  printf 'export ZT_MOTO_ACCOUNT_ID=%q\n' "${MOTO_ACCOUNT_ID:-123456789012}"
  printf 'export ZT_MOTO_DIR=%q\n' "$dir"
} > "$envfile.tmp"
mv -f "$envfile.tmp" "$envfile"
log "moto up at $url in $((SECONDS - start))s (source $envfile)"
