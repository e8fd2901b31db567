#!/usr/bin/env bash
# Benchmarks (not tests): provider start-up to port line, and key generation rates next to openssl.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"

cargo build --release --quiet --bin pulumi-resource-zerotrust
bin="$ZT_ROOT/target/release/pulumi-resource-zerotrust"

log "start-up: launch to port line, 20 runs"
python3 - "$bin" <<'PY'
import statistics, subprocess, sys, time
times = []
for _ in range(20):
    start = time.perf_counter()
    proc = subprocess.Popen([sys.argv[1]], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = proc.stdout.readline()
    times.append((time.perf_counter() - start) * 1000)
    assert line.strip().isdigit(), line
    proc.terminate()
    proc.wait()
print(f"start-up to port line: median {statistics.median(times):.1f} ms "
      f"(min {min(times):.1f}, max {max(times):.1f}, n=20)")
PY

log "key generation (zerotrust, in process)"
cargo bench --quiet --bench keygen

log "key generation (openssl genpkey, one process per key, so it includes process start)"
openssl version
for spec in "RSA-2048:-algorithm RSA -pkeyopt rsa_keygen_bits:2048:50" \
            "P256:-algorithm EC -pkeyopt ec_paramgen_curve:P-256:500" \
            "Ed25519:-algorithm ED25519:500"; do
  name=${spec%%:*}; rest=${spec#*:}; args=${rest%:*}; n=${rest##*:}
  start=$(date +%s.%N)
  for _ in $(seq "$n"); do openssl genpkey $args -out /dev/null 2>/dev/null; done
  end=$(date +%s.%N)
  python3 -c "import sys; n,s,e=int(sys.argv[1]),float(sys.argv[2]),float(sys.argv[3]); print(f'openssl   {sys.argv[4]:<9} {n/(e-s):>9.1f} keys/s  ({n} keys in {e-s:.2f}s)')" "$n" "$start" "$end" "$name"
done
