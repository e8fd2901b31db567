#!/usr/bin/env bash
# Benchmarks (figures, not tests). Usage: scripts/bench.sh [--smoke] [PART...]
#
# Parts (default: all, in this order):
#   startup  provider launch to port line
#   keygen   key generation rates in process, next to openssl's
#   tls      `pulumi up`/`destroy` of N tls resources (N = 200, 1000), engine checkpoints off and
#            on, against the engine's floor in the same run (the program with N = 0, and the same
#            program with ED25519 keys, the cheapest key work zerotrust has; also ED25519 keys
#            alone): wall time, provider CPU and peak RSS from /proc
#   rsa      RSA-3072 keys and certificates at --parallel 16: provider CPU above wall time means
#            key work runs on both cores
#   kube     100 Kubernetes objects (Namespace + Secret + ConfigMap) on the local kube-apiserver
#   vault    50 Vault PKI certificates on the local OpenBao
# The backend parts also read the servers' CPU time, so the provider's and the backend's shares
# of the wall time are both figures.
#
# --smoke runs every part with a tiny N, one repetition and the debug build, so the test suite can
# exercise this script (tests/e2e/test_bench.py) without timing anything.
# ZT_BENCH_REPS overrides the repetitions per case (median reported; default 3); ZT_BENCH_JSON names
# a file to append the end-to-end rows to, as JSON lines.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"

smoke=false
parts=()
for arg in "$@"; do
  case "$arg" in
    --smoke) smoke=true ;;
    startup|keygen|tls|rsa|kube|vault) parts+=("$arg") ;;
    *) echo "usage: scripts/bench.sh [--smoke] [startup|keygen|tls|rsa|kube|vault]..." >&2; exit 2 ;;
  esac
done
((${#parts[@]})) || parts=(startup keygen tls rsa kube vault)
wants() { [[ " ${parts[*]} " == *" $1 "* ]]; }

bash scripts/setup.sh --bench "${parts[@]}" >&2

checkpoints=off,on
if $smoke; then
  profile=debug reps=1 tls_sizes=4 rsa_n=4 kube_n=3 vault_n=4 startup_runs=3 keygen_ms=100
else
  profile=release reps="${ZT_BENCH_REPS:-3}" tls_sizes=200,1000 rsa_n=100 kube_n=100 vault_n=50
  startup_runs=20 keygen_ms=5000
  cargo build --release --quiet --bin pulumi-resource-zerotrust
fi
plugin_dir="$ZT_ROOT/target/$profile"
bin="$plugin_dir/pulumi-resource-zerotrust"
e2e=("$ZT_VENV/bin/python" "$ZT_ROOT/tools/bench/e2e.py" --plugin-dir "$plugin_dir" --reps "$reps")
# ZT_BENCH_JSON: also append every end-to-end row, as JSON lines, to this file.
[[ -n "${ZT_BENCH_JSON:-}" ]] && e2e+=(--json "$ZT_BENCH_JSON")

log "$(date -u +%FT%TZ) on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(pulumi version), $profile build"

if wants startup; then
  log "start-up: launch to port line, $startup_runs runs"
  "$ZT_VENV/bin/python" - "$bin" "$startup_runs" <<'PY'
import statistics, subprocess, sys, time
times = []
for _ in range(int(sys.argv[2])):
    start = time.perf_counter()
    proc = subprocess.Popen([sys.argv[1]], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    times.append((time.perf_counter() - start) * 1000)
    assert line.strip().isdigit(), line
    proc.terminate()
    proc.wait()
print(f"start-up to port line: median {statistics.median(times):.1f} ms "
      f"(min {min(times):.1f}, max {max(times):.1f}, n={len(times)})")
PY
fi

if wants keygen; then
  log "key generation (zerotrust, in process)"
  if $smoke; then
    ZT_KEYGEN_BUDGET_MS=$keygen_ms cargo test --quiet --bench keygen
  else
    ZT_KEYGEN_BUDGET_MS=$keygen_ms cargo bench --quiet --bench keygen
  fi
  log "key generation (openssl genpkey, one process per key, so it includes process start)"
  openssl version
  scale=1; $smoke && scale=50
  for spec in "RSA-2048:-algorithm RSA -pkeyopt rsa_keygen_bits:2048:50" \
              "P256:-algorithm EC -pkeyopt ec_paramgen_curve:P-256:500" \
              "Ed25519:-algorithm ED25519:500"; do
    name=${spec%%:*}; rest=${spec#*:}; args=${rest%:*}; n=$(( ${rest##*:} / scale ))
    start=$(date +%s.%N)
    for _ in $(seq "$n"); do openssl genpkey $args -out /dev/null 2>/dev/null; done
    end=$(date +%s.%N)
    python3 -c "import sys; n,s,e=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'openssl   {sys.argv[4]:<9} {n/(e-s):>9.1f} keys/s  ({n} keys in {e-s:.2f}s)')" "$n" "$start" "$end" "$name"
  done
fi

if wants tls; then
  log "tls: up/destroy of N resources (N/2 ECDSA P256 keys + N/2 self-signed certs) against the floor"
  "${e2e[@]}" --label tls --kinds empty,keys,floor,ecdsa --sizes "$tls_sizes" --checkpoints "$checkpoints"
fi

if wants rsa; then
  log "rsa: $rsa_n resources (RSA-3072 keys + self-signed certs) at --parallel 16"
  "${e2e[@]}" --label rsa --kinds rsa --sizes "$rsa_n" --checkpoints off --parallel 16 \
    --config rsaBits=3072
fi

# A local server the bench had to start is stopped on exit, so a run leaves the machine as it
# found it; one that was already running (say, by the test suite) is left running.
stop_on_exit=()
trap 'for c in "${stop_on_exit[@]}"; do bash "$c" || true; done' EXIT

if wants kube; then
  source "$ZT_ROOT/tools/k8s/kube-env.sh"
  if ! { [[ -f "$ZT_KUBE_DIR/env" ]] && kill -0 "$(cat "$ZT_KUBE_DIR/kube-apiserver.pid" 2>/dev/null)" 2>/dev/null; }; then
    stop_on_exit+=("scripts/kube-down.sh")
  fi
  bash scripts/kube-up.sh >&2
  log "kube: $kube_n objects (Namespace + Secret + ConfigMap) on the local kube-apiserver"
  "${e2e[@]}" --label kube --kinds keys,kube --sizes "$kube_n" --checkpoints off \
    --config "zerotrust:kubeconfig=$ZT_KUBE_DIR/kubeconfig" \
    --backend-pid-files "$ZT_KUBE_DIR/kube-apiserver.pid,$ZT_KUBE_DIR/etcd.pid,$ZT_KUBE_DIR/kube-controller-manager.pid"
fi

if wants vault; then
  bao_dir="${ZT_BAO_DIR:-$ZT_CACHE/bao}"
  if ! { [[ -f "$bao_dir/env" ]] && kill -0 "$(cat "$bao_dir/bao.pid" 2>/dev/null)" 2>/dev/null; }; then
    stop_on_exit+=("scripts/bao-down.sh")
  fi
  bash scripts/bao-up.sh >&2
  # shellcheck disable=SC1091
  source "$bao_dir/env"
  log "vault: a PKI mount, root and role, then certificates up to $vault_n resources, on OpenBao"
  "${e2e[@]}" --label vault --kinds keys,vault --sizes "$vault_n" --checkpoints off \
    --backend-pid-files "$bao_dir/bao.pid"
fi
