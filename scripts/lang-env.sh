#!/usr/bin/env bash
# Dependencies of the TypeScript and Go programs in examples/ and tests/e2e/programs/: Node.js
# (install-node.sh), each TypeScript program's npm packages from its package-lock.json (the
# zerotrust SDK comes from sdk/nodejs and its postinstall compiles it), and each Go program's
# modules. Skips a program whose lock file, the SDK and the Node version are unchanged since its
# last install, so re-running is cheap.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$ZT_ROOT"

began=$SECONDS
bash scripts/install-node.sh

sdk_hash="$(find sdk/nodejs -type f -not -path '*/node_modules/*' -not -path '*/bin/*' -print0 \
  | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
for manifest in examples/*/package.json tests/e2e/programs/*/package.json; do
  dir="$(dirname "$manifest")"
  stamp="$(cat "$dir/package.json" "$dir/package-lock.json" 2>/dev/null | sha256sum | cut -d' ' -f1) $sdk_hash $(node --version)"
  if [[ "$(cat "$dir/node_modules/.zerotrust-stamp" 2>/dev/null)" == "$stamp" ]]; then
    continue
  fi
  start=$SECONDS
  if [[ -f "$dir/package-lock.json" ]]; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2)
  else
    (cd "$dir" && npm install --no-audit --no-fund --loglevel=error >&2)
    stamp="$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum | cut -d' ' -f1) $sdk_hash $(node --version)"
  fi
  echo "$stamp" > "$dir/node_modules/.zerotrust-stamp"
  log "npm packages for $dir installed in $((SECONDS - start))s"
done

for mod in examples/*/go.mod tests/e2e/programs/*/go.mod; do
  (cd "$(dirname "$mod")" && go mod download)
done
# The test suite prints what the languages cost a run, this set-up included.
mkdir -p "$ZT_CACHE"
echo "$((SECONDS - began))" > "$ZT_CACHE/lang-env-seconds"
log "TypeScript and Go program dependencies are up to date ($((SECONDS - began))s)"
