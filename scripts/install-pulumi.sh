#!/usr/bin/env bash
# Provide the Pulumi CLI, the Python, Node.js, Go and YAML language hosts and the
# Python exec script, all in one directory on PATH (the engine looks for
# language hosts next to `pulumi`).
#
# Pulumi publishes no binaries we can download here, so we build from the Go
# module proxy using the tools module in tools/pulumi (pins + go.sum). The
# result goes to $ZT_TOOLS_CACHE, outside the checkout, so fresh clones reuse it.
#
# Language hosts: upstream's Python, Node.js and Go hosts are untagged modules
# of their own (e.g. github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3)
# that must be required by pseudo-version, and the proxy we can reach refuses
# every version of them (403 "not available", including @v/list). So we build
# one small host of our own, tools/pulumi/langhost, from the sdk/v3 and pkg/v3
# libraries, and install it under the three upstream names; the name picks the
# language. YAML uses Pulumi's real host from pulumi-yaml, which the proxy does
# serve, built from its own tools module (tools/yaml: it pins an older pkg/v3).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

exec_name=pulumi-language-python-exec
hosts=(pulumi-language-python pulumi-language-nodejs pulumi-language-go pulumi-language-yaml)
all_hosts_in() {
  local h
  for h in "${hosts[@]}"; do [[ -x "$1/$h" ]] || return 1; done
}

# A pulumi v3.274.x on PATH from elsewhere (not our cache dir, which comes
# first on PATH) is fine as long as the Python host and exec script sit beside it.
if existing="$(command -v pulumi 2>/dev/null)" && [[ "$(dirname "$existing")" != "$ZT_PULUMI_BIN" ]]; then
  dir="$(dirname "$existing")"
  ver="$("$existing" version 2>/dev/null || true)"
  if [[ "$ver" == v3.274.* && -f "$dir/$exec_name" ]] && all_hosts_in "$dir"; then
    log "using pulumi $ver found at $dir"
    exit 0
  fi
fi

cd "$ZT_ROOT/tools/pulumi"
pinned="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi/pkg/v3)"
if [[ "$pinned" != "$ZT_PULUMI_VERSION" ]]; then
  log "tools/pulumi/go.mod pins pkg/v3 $pinned but lib.sh expects $ZT_PULUMI_VERSION"
  exit 1
fi
mkdir -p "$ZT_PULUMI_BIN"

# Same flags as upstream release builds; without the -X the CLI has no version.
flags=(-trimpath -buildvcs=false "-tags=osusergo,grpcnotrace"
       -ldflags "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$ZT_PULUMI_VERSION")
gover="$(go env GOVERSION)"

# build NAME PKG VERSION_FLAG [SOURCES...]: skip when the binary was built from
# the same go.mod/go.sum/sources/Go release (the stamp) and, given a version
# flag, reports our version. Run in the tools module that pins PKG. Build to a
# temp name and rename, so an interrupted build never looks installed.
build() {
  local name=$1 pkg=$2 vflag=$3; shift 3
  local out="$ZT_PULUMI_BIN/$name" stamp
  stamp="$(cat go.mod go.sum "$@" | sha256sum | cut -d' ' -f1) $gover"
  if [[ -x "$out" && "$(cat "$out.stamp" 2>/dev/null)" == "$stamp" ]] \
      && { [[ -z "$vflag" ]] || [[ "$("$out" "$vflag" 2>/dev/null)" == "$ZT_PULUMI_VERSION" ]]; }; then
    log "$name is up to date"
    return
  fi
  local start=$SECONDS
  log "building $name ($pkg) with $gover (pulumi: ~7.5 min on 2 cores with a cold Go cache)"
  go build "${flags[@]}" -o "$out.tmp" "$pkg"
  mv -f "$out.tmp" "$out"
  echo "$stamp" > "$out.stamp"
  log "built $name in $((SECONDS - start))s"
}
build pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi version
build langhost ./langhost -version langhost/*.go
# One binary, three names: the engine starts pulumi-language-<runtime>.
for lang in python nodejs go; do
  ln -f "$ZT_PULUMI_BIN/langhost" "$ZT_PULUMI_BIN/pulumi-language-$lang"
done
rm -f "$ZT_PULUMI_BIN/pulumi-language-python.stamp"   # left by the former Python-only host

# The exec script ships inside the sdk/v3 module; the module cache is
# read-only, so copy it and make it executable.
go mod download github.com/pulumi/pulumi/sdk/v3
sdk_dir="$(go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$sdk_dir/python/cmd/$exec_name" "$ZT_PULUMI_BIN/$exec_name"
# pulumi-yaml's host has no version flag: the stamp alone says it is current.
cd "$ZT_ROOT/tools/yaml"
yaml_version="$(go list -m -f '{{.Version}}' github.com/pulumi/pulumi-yaml)"
flags=(-trimpath -buildvcs=false "-tags=osusergo,grpcnotrace"
       -ldflags "-X github.com/pulumi/pulumi-yaml/pkg/version.Version=$yaml_version")
build pulumi-language-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml ""

log "pulumi $ZT_PULUMI_VERSION and the python, nodejs, go and yaml hosts ready in $ZT_PULUMI_BIN"
