#!/usr/bin/env bash
# Start a throwaway Kubernetes control plane on loopback for the tests:
# etcd, kube-apiserver and kube-controller-manager (namespace and garbage
# collector controllers only), then apply tests/k8s/crds and wait until the
# custom resources are served. Builds/installs the binaries first if needed
# (scripts/install-kube.sh; fast when cached).
#
# State lives in $ZT_KUBE_DIR (default .cache/kube): etcd data, keys and
# certificates, logs, pids, and the two files clients use:
#   $ZT_KUBE_DIR/kubeconfig  context zerotrust-test, CA data and a bearer token
#   $ZT_KUBE_DIR/env         `source` it: KUBECONFIG, ZT_KUBE_SERVER,
#                            ZT_KUBE_TOKEN, ZT_KUBE_UNPRIVILEGED_TOKEN (no
#                            RBAC grants), ZT_KUBE_CA_FILE, ZT_KUBE_ETCD_URL
#
# Ports are free loopback ports picked at start (so two run dirs never
# collide); ZT_KUBE_APISERVER_PORT, ZT_KUBE_ETCD_PORT and ZT_KUBE_ETCD_PEER_PORT
# fix them instead. Running it again while the cluster is healthy does nothing.
# scripts/kube-down.sh stops it and deletes the state.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$ZT_ROOT/tools/k8s/kube-env.sh"

TOKEN=zerotrust-test-token
# A second identity with no RBAC grants at all, so tests can see how Forbidden errors read.
VIEWER_TOKEN=zerotrust-unprivileged-token
CONTEXT=zerotrust-test
FIELD_MANAGER=zerotrust-kube-up
CRD_DIR="$ZT_ROOT/tests/k8s/crds"

mkdir -p "$ZT_KUBE_DIR"
dir="$(cd "$ZT_KUBE_DIR" && pwd)"
# One kube-up/kube-down at a time per run dir (tests may call it in parallel).
exec 9>"$dir/.lock"
flock 9

envfile="$dir/env" kubeconfig="$dir/kubeconfig" ca="$dir/pki/ca.crt"

# pid_alive NAME: the recorded pid still runs the binary we started. Checking
# the command line guards against a recycled pid after a reboot or crash.
pid_alive() {
  local pid
  pid="$(cat "$dir/$1.pid" 2>/dev/null)" || return 1
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$dir"
}

# api PATH [CURL_ARGS...]: authenticated request to the apiserver; prints the body.
# The user agent matters: the apiserver pretty-prints JSON for curl's default
# one, and the greps below expect compact JSON.
api() {
  local path=$1; shift
  curl -sS --fail-with-body --max-time 10 --cacert "$ca" -H "Authorization: Bearer $TOKEN" -A zerotrust-kube-up \
    "$@" "$server$path"
}

crd_hash() { cat "$CRD_DIR"/*.yaml 2>/dev/null | sha256sum | cut -d' ' -f1; }

# apply_crds: server-side apply every CRD file, then wait until each is
# Established and its resource can actually be listed.
apply_crds() {
  local f name group plural version deadline
  shopt -s nullglob
  local files=("$CRD_DIR"/*.yaml)
  shopt -u nullglob
  for f in "${files[@]}"; do
    # metadata.name of the CRD, e.g. peerauthentications.security.istio.io
    name="$(awk '/^metadata:/{m=1; next} m && /^[^ #]/{m=0} m && /^  name:/{print $2; exit}' "$f")"
    [[ -n "$name" ]] || { log "no metadata.name in $f"; return 1; }
    api "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name?fieldManager=$FIELD_MANAGER&force=true" \
      -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary "@$f" -o /dev/null \
      || { log "applying $f failed"; return 1; }
  done
  for f in "${files[@]}"; do
    name="$(awk '/^metadata:/{m=1; next} m && /^[^ #]/{m=0} m && /^  name:/{print $2; exit}' "$f")"
    plural="${name%%.*}" group="${name#*.}"
    deadline=$((SECONDS + 60))
    until api "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/$name" 2>/dev/null \
          | grep -q '"type":"Established","status":"True"'; do
      (( SECONDS < deadline )) || { log "CRD $name not Established after 60s"; return 1; }
      sleep 0.2
    done
    # Every served version must answer a list before tests may use it.
    for version in $(awk '/^    - name:/{print $3}' "$f"); do
      until api "/apis/$group/$version/$plural?limit=1" -o /dev/null 2>/dev/null; do
        (( SECONDS < deadline )) || { log "$plural.$group/$version not served after 60s"; return 1; }
        sleep 0.2
      done
    done
    log "CRD $name established"
  done
  crd_hash > "$dir/crds.applied"
}

# ---- already up? -----------------------------------------------------------
if [[ -f "$envfile" ]] && pid_alive etcd && pid_alive kube-apiserver && pid_alive kube-controller-manager; then
  server="$(sed -n 's/^export ZT_KUBE_SERVER=//p' "$envfile")"
  if [[ "$(api /readyz 2>/dev/null)" == ok ]] \
       && api /version 2>/dev/null | grep -q "\"gitVersion\": *\"$ZT_KUBE_VERSION\""; then
    if [[ "$(cat "$dir/crds.applied" 2>/dev/null)" != "$(crd_hash)" ]]; then
      log "tests/k8s/crds changed; re-applying"
      apply_crds
    fi
    log "kube $ZT_KUBE_VERSION already up at $server (source $envfile)"
    exit 0
  fi
  log "cluster in $dir is unhealthy or another version; restarting it"
fi
# Anything half-started (or left from a crash) goes before a clean start.
if compgen -G "$dir/*.pid" > /dev/null || [[ -e "$dir/etcd-data" ]]; then
  log "cleaning up what is left in $dir from an earlier run"
  flock -u 9
  bash "$ZT_ROOT/scripts/kube-down.sh"
  flock 9
fi

bash "$ZT_ROOT/scripts/install-kube.sh"
start=$SECONDS

# ---- ports -----------------------------------------------------------------
# Ask the kernel for free loopback ports, holding all of them at once so they
# differ. Small race: something else may take one before our servers bind it.
pick_ports() {
  python3 - "$1" <<'PY'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
PY
}
read -r p1 p2 p3 < <(pick_ports 3) || true
[[ -n "${p3:-}" ]] || { log "could not pick free ports (python3 failed)"; exit 1; }
etcd_port="${ZT_KUBE_ETCD_PORT:-$p1}"
etcd_peer_port="${ZT_KUBE_ETCD_PEER_PORT:-$p2}"
api_port="${ZT_KUBE_APISERVER_PORT:-$p3}"
server="https://127.0.0.1:$api_port"
etcd_url="http://127.0.0.1:$etcd_port"
printf 'etcd %s\netcd-peer %s\nkube-apiserver %s\n' "$etcd_port" "$etcd_peer_port" "$api_port" > "$dir/ports"

# ---- keys, certificates, token ---------------------------------------------
pki="$dir/pki"
mkdir -p "$pki" "$dir/logs"
(
  cd "$pki"
  umask 077
  # A private CA and a serving certificate for every name a client might use.
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout ca.key -out ca.crt -days 365 -subj "/CN=zerotrust-test-ca" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver" 2>/dev/null
  printf '%s\n' \
    "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" \
    "extendedKeyUsage=serverAuth" \
    "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
    > apiserver.ext
  openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 365 \
    -extfile apiserver.ext -out apiserver.crt 2>/dev/null
  # Service-account token signing pair (the apiserver requires one).
  openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
  openssl pkey -in sa.key -pubout -out sa.pub
  # Static token file: token,user,uid,"group1,group2"
  { echo "$TOKEN,admin,admin,\"system:masters\""
    echo "$VIEWER_TOKEN,nobody,nobody"; } > tokens.csv
  chmod 644 ca.crt
)

# start NAME BINARY ARGS...: run detached in its own session (so the caller's
# Ctrl-C or job control does not reach it), log to logs/NAME.log, record the pid.
# fd 9 (the run-dir lock) is closed for it, or the server would hold the lock.
# In a non-interactive shell the background child is no group leader, so
# setsid execs in place and $! is the server's own pid.
start_server() {
  local name=$1; shift
  setsid "$@" > "$dir/logs/$name.log" 2>&1 < /dev/null 9>&- &
  echo $! > "$dir/$name.pid"
}

# wait_for NAME SECONDS CHECK...: until CHECK succeeds; fail early if NAME died.
# Only existence is checked here (a zombie counts as dead): right after the
# fork the child's command line is still this script's, until it execs.
wait_for() {
  local name=$1 limit=$2 deadline pid state; shift 2
  deadline=$((SECONDS + limit))
  pid="$(cat "$dir/$name.pid")"
  until "$@" > /dev/null 2>&1; do
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    if [[ -z "$state" || "$state" == Z ]]; then
      log "$name exited during startup; last lines of $dir/logs/$name.log:"
      tail -n 20 "$dir/logs/$name.log" >&2
      return 1
    fi
    (( SECONDS < deadline )) || { log "$name not ready after ${limit}s (see $dir/logs/$name.log)"; return 1; }
    sleep 0.2
  done
}

# On failure stop everything again but keep the logs for a look.
# A port picked above can be taken by someone else before our server binds
# it; when that is why it failed and the ports were not fixed by the caller,
# start over with new ports (twice at most).
fail() {
  log "kube-up failed; stopping what was started"
  flock -u 9
  bash "$ZT_ROOT/scripts/kube-down.sh" --keep-logs || true
  local tries="${ZT_KUBE_UP_TRIES:-0}"
  if grep -qs 'address already in use' "$dir"/logs/*.log && (( tries < 2 )) \
       && [[ -z "${ZT_KUBE_APISERVER_PORT:-}${ZT_KUBE_ETCD_PORT:-}${ZT_KUBE_ETCD_PEER_PORT:-}" ]]; then
    log "a picked port was taken meanwhile; retrying with new ports"
    ZT_KUBE_UP_TRIES=$((tries + 1)) exec bash "$ZT_ROOT/scripts/kube-up.sh"
  fi
  exit 1
}

# ---- etcd --------------------------------------------------------------------
log "starting etcd on 127.0.0.1:$etcd_port (peer $etcd_peer_port)"
start_server etcd "$ZT_ETCD_VENV/bin/etcd" \
  --name zerotrust-test \
  --data-dir "$dir/etcd-data" \
  --listen-client-urls "$etcd_url" \
  --advertise-client-urls "$etcd_url" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster "zerotrust-test=http://127.0.0.1:$etcd_peer_port" \
  --initial-cluster-state new \
  --unsafe-no-fsync \
  --log-level warn
etcd_healthy() { curl -sS --max-time 2 "$etcd_url/health" | grep -q '"health":"true"'; }
wait_for etcd 30 etcd_healthy || fail

# ---- kube-apiserver ----------------------------------------------------------
log "starting kube-apiserver $ZT_KUBE_VERSION on 127.0.0.1:$api_port"
start_server kube-apiserver "$ZT_KUBE_BIN/kube-apiserver" \
  --etcd-servers="$etcd_url" \
  --bind-address=127.0.0.1 \
  --advertise-address=127.0.0.1 \
  --secure-port="$api_port" \
  --tls-cert-file="$pki/apiserver.crt" \
  --tls-private-key-file="$pki/apiserver.key" \
  --token-auth-file="$pki/tokens.csv" \
  --authorization-mode=RBAC \
  --service-account-issuer=https://kubernetes.default.svc \
  --service-account-key-file="$pki/sa.pub" \
  --service-account-signing-key-file="$pki/sa.key" \
  --service-cluster-ip-range=10.0.0.0/24 \
  --disable-admission-plugins=ServiceAccount \
  --enable-priority-and-fairness=false \
  --profiling=false
readyz() { [[ "$(curl -sS --max-time 5 --cacert "$ca" -H "Authorization: Bearer $TOKEN" "$server/readyz")" == ok ]]; }
wait_for kube-apiserver 120 readyz || fail

# ---- kubeconfig and env file -------------------------------------------------
ca_data="$(base64 -w0 < "$ca")"
cat > "$kubeconfig.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CONTEXT
  cluster:
    server: $server
    certificate-authority-data: $ca_data
users:
- name: $CONTEXT-admin
  user:
    token: $TOKEN
contexts:
- name: $CONTEXT
  context:
    cluster: $CONTEXT
    user: $CONTEXT-admin
    namespace: default
current-context: $CONTEXT
EOF
chmod 600 "$kubeconfig.tmp"
mv -f "$kubeconfig.tmp" "$kubeconfig"

# ---- kube-controller-manager -------------------------------------------------
# Only what namespace deletion needs: the namespace controller empties and
# finalizes Terminating namespaces; the garbage collector honours
# ownerReferences and foreground/background propagation. No serving port.
# Its default client limit (20 qps) throttled the startup discovery, so it is
# raised. Deletion still takes ~5s: the namespace controller waits a fixed,
# not configurable 5s after the delete before emptying the namespace.
log "starting kube-controller-manager (namespace, garbagecollector)"
start_server kube-controller-manager "$ZT_KUBE_BIN/kube-controller-manager" \
  --kubeconfig="$kubeconfig" \
  --controllers=namespace,garbagecollector \
  --leader-elect=false \
  --secure-port=0 \
  --kube-api-qps=500 \
  --kube-api-burst=1000 \
  --concurrent-namespace-syncs=5 \
  --namespace-sync-period=1m
kcm_started() { grep -q 'Started controller.*namespace' "$dir/logs/kube-controller-manager.log"; }
wait_for kube-controller-manager 60 kcm_started || fail

# ---- CRDs --------------------------------------------------------------------
apply_crds || fail

{
  printf 'export KUBECONFIG=%q\n' "$kubeconfig"
  printf 'export ZT_KUBE_SERVER=%q\n' "$server"
  printf 'export ZT_KUBE_TOKEN=%q\n' "$TOKEN"
  printf 'export ZT_KUBE_UNPRIVILEGED_TOKEN=%q\n' "$VIEWER_TOKEN"
  printf 'export ZT_KUBE_CA_FILE=%q\n' "$ca"
  printf 'export ZT_KUBE_ETCD_URL=%q\n' "$etcd_url"
} > "$envfile.tmp"
mv -f "$envfile.tmp" "$envfile"
log "kube $ZT_KUBE_VERSION up at $server in $((SECONDS - start))s (source $envfile)"
