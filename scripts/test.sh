#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs (scripts/setup.sh), then runs
# every layer: lints, unit tests, gRPC tests against the real server, the protocol descriptor
# check, openssl/ssh-keygen checks, the schema and SDK staleness checks, and the end-to-end
# `pulumi` runs of the examples.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"

bash scripts/setup.sh --test

log "lint"
cargo fmt --check
cargo clippy --all-targets --quiet -- -D warnings

# Property tests and bounded fuzzing run here too: five decoders at ZT_FUZZ_SECONDS each
# (about 20 s on two cores; scripts/fuzz.sh runs them for longer). They log how many cases
# ran to ZT_CASE_LOG, printed after the run.
log "cargo tests (unit, gRPC, descriptors, layers, openssl, schema, properties, fuzzing)"
export ZT_CASE_LOG="$ZT_CACHE/test-cases.log"
rm -f "$ZT_CASE_LOG"
ZT_FUZZ_SECONDS="${ZT_FUZZ_SECONDS:-6}" ZT_PYTHON="$ZT_VENV/bin/python" \
  cargo test --lib --bins --tests 2>&1
log "cases run by the property tests and fuzz targets:"
cat "$ZT_CASE_LOG" >&2

log "end-to-end tests through the pulumi CLI (the local apiserver, moto and OpenBao start on first use)"
trap 'bash scripts/kube-down.sh || true; bash scripts/moto-down.sh || true; bash scripts/bao-down.sh || true' EXIT
"$ZT_VENV/bin/python" -m pytest -v tests/e2e
