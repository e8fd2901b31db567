#!/usr/bin/env bash
# The provider-protocol conformance suite (conformance/README.md).
#
#   bash scripts/conformance.sh [FIXTURE.json...] [RUNNER ARGS...]
#                                               run it against zerotrust with the given fixtures,
#                                               by default every conformance/fixtures/zerotrust-*.json
#   bash scripts/conformance.sh --runner        only build the runner; print its path
#   bash scripts/conformance.sh -- ARGS...      run the runner with ARGS (any provider)
#
# The runner is a Go program on the engine's own plugin client (pkg/v3 at the CLI's version),
# built once into the tools cache and rebuilt when its sources or pins change.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

runner_dir="$ZT_TOOLS_CACHE/conformance"
runner="$runner_dir/provider-conformance"

build_runner() {
  local module="$ZT_ROOT/tools/pulumi" stamp
  # A runner given from outside (a frozen copy, while its sources are being edited) is used as is.
  if [[ -n "${ZT_CONFORMANCE_RUNNER:-}" ]]; then
    runner="$ZT_CONFORMANCE_RUNNER"
    return
  fi
  stamp="$(cat "$module/go.mod" "$module/go.sum" "$module"/conformance/*.go | sha256sum | cut -d' ' -f1) $(go env GOVERSION)"
  if [[ -x "$runner" && "$(cat "$runner.stamp" 2>/dev/null)" == "$stamp" ]]; then
    return
  fi
  mkdir -p "$runner_dir"
  log "building the conformance runner"
  # A private temporary name, so two builds at once cannot interleave their writes.
  (cd "$module" && go build -trimpath -o "$runner.$$.tmp" ./conformance)
  mv -f "$runner.$$.tmp" "$runner"
  echo "$stamp" > "$runner.stamp"
}

build_runner
case "${1:-}" in
  --runner)
    echo "$runner"
    exit 0
    ;;
  --)
    shift
    exec "$runner" "$@"
    ;;
esac

(cd "$ZT_ROOT" && cargo build --quiet --bin pulumi-resource-zerotrust)
provider="$ZT_ROOT/target/debug/pulumi-resource-zerotrust"
status=0
# A module's fixture runs against the same local server as its end-to-end tests, started (or
# reused) here; the provider finds it through the environment, as a user's program would.
# A fixture's backend is named by its file name's prefix, so a module may have several files.
backend_env() {
  case "$1" in
    zerotrust-kubernetes*)
      bash "$ZT_ROOT/scripts/kube-up.sh" >&2
      source "$ZT_ROOT/tools/k8s/kube-env.sh"
      source "$ZT_KUBE_DIR/env"
      ;;
    zerotrust-vault*)
      bash "$ZT_ROOT/scripts/bao-up.sh" >&2
      source "${ZT_BAO_DIR:-$ZT_CACHE/bao}/env"
      ;;
    zerotrust-aws*)
      bash "$ZT_ROOT/scripts/moto-up.sh" >&2
      source "${ZT_MOTO_DIR:-$ZT_CACHE/moto}/env"
      ;;
    zerotrust-azure*)
      start_arm_server
      ;;
  esac
}

# The ARM test server (tools/arm/server.py), which checks every request against Microsoft's API
# definitions, for this run only; the fixture reads its address and token from ZT_ARM_*.
start_arm_server() {
  local dir="$ZT_CACHE/conformance-arm" python="$ZT_VENV/bin/python"
  [[ -x "$python" ]] || python=python3
  rm -rf "$dir" && mkdir -p "$dir"
  "$python" "$ZT_ROOT/tools/arm/server.py" 0 --token zerotrust-arm-test-token \
    --port-file "$dir/port" --state "$dir/state.json" > "$dir/server.log" 2>&1 &
  arm_pid=$!
  trap 'kill "$arm_pid" 2>/dev/null || true' EXIT
  for _ in $(seq 300); do
    [[ -s "$dir/port" ]] && break
    kill -0 "$arm_pid" 2>/dev/null || { cat "$dir/server.log" >&2; return 1; }
    sleep 0.1
  done
  export ZT_ARM_ENDPOINT="http://127.0.0.1:$(cat "$dir/port")"
  # The server's control API, where a fixture arranges failures and slow operations.
  export ZT_ARM_FAIL_URL="$ZT_ARM_ENDPOINT/_zt/fail"
  export ZT_ARM_TOKEN=zerotrust-arm-test-token
  export ZT_ARM_SUBSCRIPTION_ID=4a6b3c1d-2e5f-4a7b-8c9d-0e1f2a3b4c5d
}

# Fixture files come first; from the first option on, the arguments are the runner's.
fixture_files=()
while [[ $# -gt 0 && "$1" != -* ]]; do
  fixture_files+=("$(realpath "$1")")
  shift
done
runner_args=("$@")
if [[ ${#fixture_files[@]} -eq 0 ]]; then
  fixture_files=("$ZT_ROOT"/conformance/fixtures/zerotrust-*.json)
fi

for fixtures in "${fixture_files[@]}"; do
  name="$(basename "$fixtures" .json)"
  log "conformance: zerotrust with $name"
  # A backend that cannot start leaves the variables its fixture requires unset, and the runner
  # reports that fixture's checks n/a ("backend absent") instead of passing them.
  ( backend_env "$name" || log "the backend of $name did not start: its checks will be n/a"
    "$runner" --provider "$provider" --fixtures "$fixtures" --schema "$ZT_ROOT/schema.json" \
      --json "$ZT_CACHE/conformance-$name.json" "${runner_args[@]}" ) || status=1
done
exit "$status"
