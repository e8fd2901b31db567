#!/usr/bin/env bash
# The fuzz targets of tests/fuzz.rs, for longer than the suite gives them, on the release
# build: scripts/fuzz.sh [SECONDS-PER-TARGET] (default 300). A finding fails with the input
# and the seed that produced it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"
ZT_FUZZ_SECONDS="${1:-300}" cargo test --release --test fuzz -- --nocapture --test-threads "$(nproc)"
