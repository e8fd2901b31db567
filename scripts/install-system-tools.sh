#!/usr/bin/env bash
# The system tools the tests check our output with: openssl and ssh-keygen, from Debian when
# missing. The tests fail without them rather than skip, so this makes sure they are there.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v ssh-keygen >/dev/null || missing+=(openssh-client)
if ((${#missing[@]} == 0)); then
  log "openssl and ssh-keygen are installed"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "missing ${missing[*]}: install them with your package manager" >&2
  exit 1
fi
sudo=()
[[ $(id -u) -eq 0 ]] || sudo=(sudo)
log "installing ${missing[*]} from Debian"
"${sudo[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
