"""The azure/* examples through the real CLI against the local ARM test server
(tools/arm/server.py via tests/e2e/arm.py): every request the provider sends is checked against
Microsoft's published API definitions, and each test ends by asserting that none was rejected.
"""

import json
import subprocess
import threading
import time

from arm import SUBSCRIPTION, TOKEN

SEED = "seed-004-private-ml-endpoint"
BAD_INPUT = "../tests/e2e/programs/azure-bad-input"
ENDPOINT = "zerotrust:azure/machinelearningservices:OnlineEndpoint"
WORKSPACE = "zerotrust:azure/machinelearningservices:Workspace"
PRIVATE_ENDPOINT = "zerotrust:azure/network:PrivateEndpoint"
SUBNET = "zerotrust:azure/network:Subnet"
VNET = "zerotrust:azure/network:VirtualNetwork"
GROUP = "zerotrust:azure/resources:ResourceGroup"
TAGGED = {"zero_trust_rg", "ml_vnet", "aml_workspace", "private_endpoint", "online_endpoint"}


def configure(stack, arm) -> None:
    stack.pulumi("config", "set", "--path", "zerotrust:azure.endpoint", arm.url)
    stack.pulumi("config", "set", "--path", "zerotrust:azure.subscriptionId", SUBSCRIPTION)
    stack.pulumi("config", "set", "--path", "--secret", "zerotrust:azure.token", TOKEN)


def ops(preview: dict) -> dict:
    """Logical name -> the set of step ops the preview plans for it."""
    out: dict = {}
    for s in preview.get("steps", []):
        out.setdefault(s["urn"].split("::")[-1], set()).add(s["op"])
    return out


def state(stack) -> dict:
    """Type -> ARM ids of the stack's resources."""
    out: dict = {}
    for r in stack.export()["deployment"]["resources"]:
        if r["type"].startswith("zerotrust:azure/"):
            out.setdefault(r["type"], []).append(r["id"])
    return out


def live_ids(arm) -> set:
    return {i.lower() for i in arm.resources()}


def state_ids(stack) -> set:
    return {i.lower() for ids in state(stack).values() for i in ids}


def assert_no_violations(arm) -> None:
    stats = arm.stats()
    assert stats["rejected"] == 0 and stats["response_violations"] == 0, arm.violations()
    print(f"ARM requests in this test: {stats['requests']}, rejected by the API definitions: {stats['rejected']}")


def requests(arm, since: int = 0) -> list:
    return [(e["method"], e["path"], e["status"]) for e in arm.log(since) if not e["path"].startswith("/_zt")]


def no_secrets_in(text: str, *secrets: str) -> None:
    assert TOKEN not in text, "the ARM token in plaintext"
    for s in secrets:
        assert s not in text, "a key in plaintext"


def test_seed_004_lifecycle(stack_factory, arm_server):
    arm = arm_server
    stack = stack_factory(SEED)
    configure(stack, arm)

    # up: every resource is created through ARM's asynchronous operations.
    up = stack.pulumi("up", "--yes", "--skip-preview")
    out = stack.outputs()
    ids = state(stack)
    assert sorted(ids) == sorted([ENDPOINT, WORKSPACE, PRIVATE_ENDPOINT, SUBNET, VNET, GROUP]), ids
    assert state_ids(stack) == live_ids(arm)
    seen = requests(arm)
    polls = [p for m, p, _ in seen if m == "GET" and ("/operationStatuses/" in p or "/operationResults/" in p
                                                     or "/operationresults/" in p)]
    assert len(polls) >= 5, seen
    assert ("PUT", out["workspace_id"], 202) in seen
    endpoint = arm.request("GET", out["online_endpoint_id"])[2]
    assert endpoint["properties"]["provisioningState"] == "Succeeded"
    assert endpoint["properties"]["publicNetworkAccess"] == "Disabled"
    assert out["scoring_uri"] == endpoint["properties"]["scoringUri"]
    pe = arm.request("GET", out["private_endpoint_id"])[2]
    assert pe["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceId"].lower() \
        == out["workspace_id"].lower()
    no_secrets_in(up.stdout + up.stderr + json.dumps(stack.export()))
    stack.pulumi("preview", "--expect-no-changes")

    # A tag change updates every tagged resource in place: PATCH where the API has it, PUT for
    # the private endpoint (it has none).
    stack.pulumi("config", "set", "environment", "staging")
    planned = ops(stack.preview_json())
    assert {n for n, o in planned.items() if o == {"update"}} == TAGGED, planned
    mark = arm.log()[-1]["seq"]
    stack.up()
    writes = {(m, p.split("/")[-2]) for m, p, _ in requests(arm, mark) if m in ("PUT", "PATCH")}
    assert writes == {("PATCH", "resourceGroups"), ("PATCH", "virtualNetworks"), ("PATCH", "workspaces"),
                      ("PATCH", "onlineEndpoints"), ("PUT", "privateEndpoints")}, writes
    for r in arm.resources().values():
        if "/subnets/" not in r["id"]:
            assert r["body"]["tags"]["environment"] == "staging", r
    stack.pulumi("preview", "--expect-no-changes")

    # Key authentication: the keys become outputs, secret everywhere.
    stack.pulumi("config", "set", "authMode", "Key")
    assert ops(stack.preview_json())["online_endpoint"] == {"update"}
    up = stack.up()
    keys = arm.request("POST", out["online_endpoint_id"] + "/listKeys")[2]
    assert stack.outputs()["endpoint_primary_key"] == "[secret]"
    assert stack.outputs(secrets=True)["endpoint_primary_key"] == keys["primaryKey"]
    no_secrets_in(up.stdout + up.stderr + json.dumps(stack.export()), keys["primaryKey"], keys["secondaryKey"])
    stack.pulumi("preview", "--expect-no-changes")

    # An endpoint deleted out of band: refresh drops it, the next up puts it back.
    status, headers, _ = arm.request("DELETE", out["online_endpoint_id"])
    assert status in (200, 202, 204)
    if status == 202:
        arm.wait(headers)
    stack.pulumi("refresh", "--yes")
    assert ENDPOINT not in state(stack)
    stack.up()
    # A new endpoint (its generated name comes from a new seed, as with pulumi-azure-native).
    assert ENDPOINT in state(stack) and state_ids(stack) == live_ids(arm)
    stack.pulumi("preview", "--expect-no-changes")

    # A location change replaces the group and, with it, everything in it (same names, so the
    # old ones go first).
    stack.pulumi("config", "set", "location", "eastus")
    planned = ops(stack.preview_json())
    for name in TAGGED | {"private_endpoints"}:
        assert "replace" in planned[name] or "create-replacement" in planned[name], (name, planned)
    stack.up()
    assert {r["body"]["location"] for r in arm.resources().values() if "location" in r["body"]} == {"eastus"}
    assert state_ids(stack) == live_ids(arm)
    stack.pulumi("preview", "--expect-no-changes")

    # Destroy deletes in dependency order and leaves nothing.
    mark = arm.log()[-1]["seq"]
    stack.pulumi("destroy", "--yes", "--skip-preview")
    deletes = [p.split("/")[-2] for m, p, _ in requests(arm, mark) if m == "DELETE"]
    position = {kind: deletes.index(kind) for kind in deletes}
    assert position["onlineEndpoints"] < position["workspaces"]
    assert position["privateEndpoints"] < position["workspaces"]
    assert position["privateEndpoints"] < position["subnets"] < position["virtualNetworks"]
    assert deletes[-1] == "resourceGroups", deletes
    assert arm.resources() == {}
    assert_no_violations(arm)


def test_bad_input_and_arm_errors(stack_factory, arm_server):
    arm = arm_server
    stack = stack_factory(BAD_INPUT)
    configure(stack, arm)
    stack.pulumi("config", "set", "subscriptionId", SUBSCRIPTION)

    # Check refuses, with the property path, before anything reaches ARM.
    stack.pulumi("config", "set", "stage", "check")
    for bad, expected in (
        ("group", ["property resourceGroupName", '"bad/name." is not a valid resource group name']),
        ("endpoint", ["property endpointName", '"online_endpoint" is not a valid online endpoint name',
                      "property onlineEndpointProperties.authMode", 'unknown value "Password"']),
        ("subnet", ["property subnet.id", 'the subnet belongs to virtual network "other-vnet"']),
    ):
        stack.pulumi("config", "set", "bad", bad)
        proc = stack.pulumi("preview", check=False)
        out = proc.stdout + proc.stderr
        assert proc.returncode != 0
        for text in expected:
            assert text in out, f"{text!r} missing from:\n{out}"
    assert requests(arm) == []

    # ARM's refusals name the resource, the operation, ARM's code and its message. Throttling
    # and server errors on the way are retried.
    stack.pulumi("config", "set", "stage", "arm")
    arm.fail_next("/resourceGroups/zt-bad-input$", method="PUT", status=429, code="TooManyRequests",
                  message="slow down", headers={"Retry-After": "1"})
    arm.fail_next("/resourceGroups/zt-bad-input$", method="PUT", status=503, code="ServiceUnavailable",
                  message="try again")
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    pe = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/zt-bad-input/providers/Microsoft.Network/privateEndpoints/orphan-pe"
    assert f"create or update {pe}: InvalidResourceReference: " in out, out
    assert PRIVATE_ENDPOINT in out
    assert [s for m, p, s in requests(arm) if m == "PUT" and p.endswith("/zt-bad-input")] == [429, 503, 201]
    assert state(stack).keys() == {GROUP}
    no_secrets_in(out)

    # Import by ARM id: a network made outside Pulumi comes in with its inputs read from ARM.
    vnet_id = arm.vnet_path("zt-bad-input", "made-elsewhere")
    status, headers, _ = arm.request("PUT", vnet_id, {"location": "westus", "tags": {"owner": "ops"}, "properties": {
        "addressSpace": {"addressPrefixes": ["10.30.0.0/16"]}}})
    assert status == 201, status
    arm.wait(headers)
    stack.pulumi("import", VNET, "imported", vnet_id, "--yes", "--generate-code=false", "--protect=false")
    [imported] = [r for r in stack.export()["deployment"]["resources"] if r["type"] == VNET]
    assert imported["id"] == vnet_id
    assert imported["inputs"]["addressSpace"] == {"addressPrefixes": ["10.30.0.0/16"]}
    assert imported["inputs"]["tags"] == {"owner": "ops"} and imported["inputs"]["location"] == "westus"

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert arm.resources() == {}
    assert_no_violations(arm)


def test_seed_004_lro_failure_keeps_the_resource(stack_factory, arm_server):
    """An operation that ARM accepts and then fails: its code and message, and the resource is
    kept in state (it exists, in a failed state), so the next up finishes it."""
    arm = arm_server
    stack = stack_factory(SEED)
    configure(stack, arm)
    arm.fail_next("/workspaces/[^/]+$", method="PUT",
                  lro_error={"code": "InternalServerError", "message": "the workspace could not be provisioned"})
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "InternalServerError: the workspace could not be provisioned" in out, out
    # Kept in state as a resource whose initialization failed.
    [ws] = [r for r in stack.export()["deployment"]["resources"] if r["type"] == WORKSPACE]
    assert ws["initErrors"] and "InternalServerError" in ws["initErrors"][0], ws
    # The next up finishes the job on the same workspace.
    stack.up()
    assert state_ids(stack) == live_ids(arm)
    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert arm.resources() == {}
    assert_no_violations(arm)


def test_arm_server_stopped_mid_up_loses_nothing(stack_factory, arm_server):
    arm = arm_server
    stack = stack_factory(SEED)
    configure(stack, arm)
    cmd = ["pulumi", "up", "--yes", "--skip-preview", "--stack", stack.name, "--non-interactive"]
    proc = subprocess.Popen(cmd, cwd=stack.dir, env=stack.env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    # Kill it while the workspace is being provisioned (its operation still running).
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None:
        if any(e["method"] == "PUT" and "/workspaces/" in e["path"] for e in arm.log()):
            break
        time.sleep(0.1)
    arm.kill()
    assert proc.wait(timeout=300) != 0, "".join(lines)
    reader.join(10)
    arm.start()

    stack.up()
    stack.pulumi("refresh", "--yes")
    stack.pulumi("preview", "--expect-no-changes")
    assert state_ids(stack) == live_ids(arm)
    assert len(state_ids(stack)) == 6
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert arm.resources() == {}
    assert_no_violations(arm)
