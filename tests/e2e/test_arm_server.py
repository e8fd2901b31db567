"""The ARM test server (tools/arm/server.py) driven with plain HTTP: the semantics the provider's
tests rely on, and that valid requests produce no violations while invalid ones are counted."""

import time

import pytest

from arm import OTHER_SUBSCRIPTION, SUBSCRIPTION, TOKEN, ArmServer

LOC = "westeurope"
RG = "zt-rg"


def storage_ids(arm):
    rg = arm.rg_path(RG)
    return {
        "storageAccount": f"{rg}/providers/Microsoft.Storage/storageAccounts/ztstore",
        "keyVault": f"{rg}/providers/Microsoft.KeyVault/vaults/zt-kv",
        "applicationInsights": f"{rg}/providers/Microsoft.Insights/components/zt-ai",
    }


def ok(result, *statuses):
    status, headers, body = result
    assert status in statuses, (status, body)
    return headers, body


def create_rg(arm, name=RG, location=LOC):
    return ok(arm.request("PUT", arm.rg_path(name), {"location": location, "tags": {"owner": "zt"}}), 200, 201)


def create_network(arm):
    create_rg(arm)
    vnet = {"location": LOC, "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "pe", "properties": {"addressPrefix": "10.10.1.0/24",
                                                  "privateEndpointNetworkPolicies": "Disabled"}}]}}
    headers, _ = ok(arm.request("PUT", arm.vnet_path(RG, "vnet"), vnet), 201)
    assert arm.wait(headers)["status"] == "Succeeded"


def create_workspace(arm, name="ws"):
    body = {"location": LOC, "identity": {"type": "SystemAssigned"}, "sku": {"name": "Basic", "tier": "Basic"},
            "properties": {"friendlyName": name, "publicNetworkAccess": "Disabled", **storage_ids(arm)}}
    headers, _ = ok(arm.request("PUT", arm.workspace_path(RG, name), body), 202)
    assert arm.wait(headers)["status"] == "Succeeded"


def create_private_endpoint(arm, name="ws-pe", workspace="ws"):
    body = {"location": LOC, "properties": {
        "subnet": {"id": arm.subnet_path(RG, "vnet", "pe")},
        "privateLinkServiceConnections": [{"name": "ws", "properties": {
            "privateLinkServiceId": arm.workspace_path(RG, workspace), "groupIds": ["amlworkspace"]}}]}}
    headers, _ = ok(arm.request("PUT", arm.pe_path(RG, name), body), 201)
    assert arm.wait(headers)["status"] == "Succeeded"


def assert_clean(arm):
    stats = arm.stats()
    assert stats["rejected"] == 0 and stats["response_violations"] == 0, arm.violations()


def test_auth(arm_server):
    arm = arm_server
    status, headers, body = arm.request("GET", arm.rg_path(RG), token=None)
    assert status == 401 and body["error"]["code"] == "AuthenticationFailed"
    assert headers["www-authenticate"].startswith("Bearer ")
    status, _, body = arm.request("GET", arm.rg_path(RG), token="not-the-token")
    assert status == 401 and body["error"]["code"] == "InvalidAuthenticationToken"
    status, _, body = arm.request("GET", arm.rg_path(RG), token=TOKEN)
    assert status == 404 and body["error"]["code"] == "ResourceGroupNotFound"
    assert_clean(arm)


def test_resource_group_lifecycle(arm_server):
    arm = arm_server
    _, body = ok(arm.request("PUT", arm.rg_path(RG), {"location": LOC}), 201)
    assert body["id"] == f"/subscriptions/{SUBSCRIPTION}/resourceGroups/{RG}"
    assert body["properties"]["provisioningState"] == "Succeeded"
    ok(arm.request("PUT", arm.rg_path(RG), {"location": LOC, "tags": {"a": "1"}}), 200)
    assert ok(arm.request("HEAD", arm.rg_path(RG)), 204)
    # Tags by PATCH replace the set.
    _, body = ok(arm.request("PATCH", arm.rg_path(RG), {"tags": {"b": "2"}}), 200)
    assert body["tags"] == {"b": "2"}
    status, _, body = arm.request("PUT", arm.rg_path(RG), {"location": "eastus"})
    assert status == 409 and body["error"]["code"] == "InvalidResourceGroupLocation"
    _, body = ok(arm.request("GET", f"/subscriptions/{SUBSCRIPTION}/resourcegroups"), 200)
    assert [rg["name"] for rg in body["value"]] == [RG]
    assert_clean(arm)


def test_network_and_ml_sequence(arm_server):
    arm = arm_server
    create_rg(arm)

    # A virtual network with an inline subnet: 201, Azure-AsyncOperation, Updating -> Succeeded.
    vnet = {"location": LOC, "tags": {"tier": "net"}, "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]},
        "subnets": [{"name": "pe", "properties": {"addressPrefix": "10.10.1.0/24",
                                                  "privateEndpointNetworkPolicies": "Disabled"}}]}}
    headers, body = ok(arm.request("PUT", arm.vnet_path(RG, "vnet"), vnet), 201)
    assert body["properties"]["provisioningState"] == "Updating"
    assert "azure-asyncoperation" in headers and headers["retry-after"] == "1"
    status, _, first = arm.request("GET", headers["azure-asyncoperation"])
    assert status == 200 and first["status"] == "InProgress"
    assert arm.wait(headers)["status"] == "Succeeded"
    _, body = ok(arm.request("GET", arm.vnet_path(RG, "vnet")), 200)
    assert body["properties"]["provisioningState"] == "Succeeded" and body["etag"].startswith('W/"')
    assert [s["name"] for s in body["properties"]["subnets"]] == ["pe"]

    # A second subnet as a child resource; overlapping and out-of-range prefixes are refused.
    headers, body = ok(arm.request("PUT", arm.subnet_path(RG, "vnet", "apps"),
                                   {"properties": {"addressPrefix": "10.10.2.0/24"}}), 201)
    assert body["type"] == "Microsoft.Network/virtualNetworks/subnets"
    arm.wait(headers)
    status, _, body = arm.request("PUT", arm.subnet_path(RG, "vnet", "clash"),
                                  {"properties": {"addressPrefix": "10.10.2.128/25"}})
    assert status == 400 and body["error"]["code"] == "NetcfgSubnetRangesOverlap"
    status, _, body = arm.request("PUT", arm.subnet_path(RG, "vnet", "far"),
                                  {"properties": {"addressPrefix": "192.168.0.0/24"}})
    assert status == 400 and body["error"]["code"] == "NetcfgSubnetRangeOutsideVnet"
    status, _, body = arm.request("PUT", arm.subnet_path(RG, "nonet", "s"),
                                  {"properties": {"addressPrefix": "10.0.0.0/24"}})
    assert status == 404 and body["error"]["code"] == "ParentResourceNotFound"

    # The workspace: 202 + Location, Creating -> Succeeded, identity and ids filled in.
    ws = {"location": LOC, "identity": {"type": "SystemAssigned"}, "sku": {"name": "Basic", "tier": "Basic"},
          "properties": {"friendlyName": "zt", "publicNetworkAccess": "Disabled", **storage_ids(arm)}}
    headers, body = ok(arm.request("PUT", arm.workspace_path(RG, "ws"), ws), 202)
    assert body is None and "location" in headers
    _, body = ok(arm.request("GET", arm.workspace_path(RG, "ws")), 200)
    assert body["properties"]["provisioningState"] in ("Creating", "Succeeded")
    assert arm.wait(headers)["status"] == "Succeeded"
    _, body = ok(arm.request("GET", arm.workspace_path(RG, "ws")), 200)
    assert body["properties"]["provisioningState"] == "Succeeded"
    assert body["identity"]["principalId"] and body["identity"]["tenantId"]
    assert body["properties"]["workspaceId"] and body["properties"]["privateLinkCount"] == 0
    assert body["properties"]["storageAccount"] == storage_ids(arm)["storageAccount"]

    # A private endpoint in the subnet, connected to the workspace.
    pe = {"location": LOC, "properties": {
        "subnet": {"id": arm.subnet_path(RG, "vnet", "pe")},
        "privateLinkServiceConnections": [{"name": "ws", "properties": {
            "privateLinkServiceId": arm.workspace_path(RG, "ws"), "groupIds": ["amlworkspace"]}}]}}
    headers, body = ok(arm.request("PUT", arm.pe_path(RG, "ws-pe"), pe), 201)
    assert arm.wait(headers)["status"] == "Succeeded"
    _, body = ok(arm.request("GET", arm.pe_path(RG, "ws-pe")), 200)
    nic = body["properties"]["networkInterfaces"][0]["id"]
    assert "/providers/Microsoft.Network/networkInterfaces/" in nic
    conn = body["properties"]["privateLinkServiceConnections"][0]
    assert conn["properties"]["privateLinkServiceConnectionState"]["status"] == "Approved"
    _, body = ok(arm.request("GET", arm.subnet_path(RG, "vnet", "pe")), 200)
    assert body["properties"]["privateEndpoints"] == [{"id": arm.pe_path(RG, "ws-pe")}]
    _, body = ok(arm.request("GET", arm.workspace_path(RG, "ws")), 200)
    assert body["properties"]["privateLinkCount"] == 1
    assert body["properties"]["privateEndpointConnections"][0]["properties"]["privateEndpoint"]["id"] == \
        arm.pe_path(RG, "ws-pe")

    # Private endpoints need an existing subnet of the same subscription.
    bad = {"location": LOC, "properties": {"subnet": {"id": arm.subnet_path(RG, "vnet", "missing")}}}
    status, _, body = arm.request("PUT", arm.pe_path(RG, "pe2"), bad)
    assert status == 400 and body["error"]["code"] == "InvalidResourceReference"
    other = arm.subnet_path(RG, "vnet", "pe").replace(SUBSCRIPTION, OTHER_SUBSCRIPTION)
    status, _, body = arm.request("PUT", arm.pe_path(RG, "pe3"), {"location": LOC,
                                                                 "properties": {"subnet": {"id": other}}})
    assert status == 400 and "subscription" in body["error"]["message"]

    # Online endpoints: Key (listKeys), AMLToken (getToken), read-only URIs filled in.
    ep = {"location": LOC, "identity": {"type": "SystemAssigned"},
          "properties": {"authMode": "Key", "publicNetworkAccess": "Disabled"}}
    headers, body = ok(arm.request("PUT", arm.endpoint_path(RG, "ws", "score"), ep), 201)
    assert body["properties"]["provisioningState"] == "Creating" and "azure-asyncoperation" in headers
    assert arm.wait(headers)["status"] == "Succeeded"
    _, body = ok(arm.request("GET", arm.endpoint_path(RG, "ws", "score")), 200)
    assert body["properties"]["scoringUri"].startswith("https://score.")
    assert body["properties"]["swaggerUri"] and "keys" not in body["properties"]
    assert body["identity"]["principalId"]
    _, keys = ok(arm.request("POST", arm.endpoint_path(RG, "ws", "score") + "/listKeys"), 200)
    assert keys["primaryKey"] and keys["secondaryKey"] and keys["primaryKey"] != keys["secondaryKey"]
    headers, _ = ok(arm.request("PUT", arm.endpoint_path(RG, "ws", "tok"),
                                {**ep, "properties": {"authMode": "AMLToken"}}), 201)
    arm.wait(headers)
    status, _, body = arm.request("POST", arm.endpoint_path(RG, "ws", "tok") + "/listKeys")
    assert status == 400
    _, token = ok(arm.request("POST", arm.endpoint_path(RG, "ws", "tok") + "/token"), 200)
    assert token["accessToken"] and token["tokenType"] == "Bearer"
    status, _, body = arm.request("PUT", arm.endpoint_path(RG, "nows", "x"), ep)
    assert status == 404 and body["error"]["code"] == "ParentResourceNotFound"
    status, _, body = arm.request("GET", arm.endpoint_path(RG, "ws", "nothere"))
    assert status == 404 and body["error"]["code"] == "ResourceNotFound"

    # Tag updates by PATCH where the APIs have it.
    for path, body in ((arm.workspace_path(RG, "ws"), {"tags": {"t": "ws"}}),
                       (arm.endpoint_path(RG, "ws", "score"), {"tags": {"t": "ep"}}),
                       (arm.vnet_path(RG, "vnet"), {"tags": {"t": "net"}})):
        _, got = ok(arm.request("PATCH", path, body), 200)
        assert got["tags"] == body["tags"]
        _, got = ok(arm.request("GET", path), 200)
        assert got["tags"] == body["tags"]

    # An update PUT is 200; a location change is a conflict.
    headers, body = ok(arm.request("PUT", arm.endpoint_path(RG, "ws", "score"),
                                   {**ep, "properties": {"authMode": "Key", "description": "v2"}}), 200)
    assert body["properties"]["provisioningState"] == "Updating"
    arm.wait(headers)
    status, _, body = arm.request("PUT", arm.vnet_path(RG, "vnet"), {**vnet, "location": "eastus"})
    assert status == 409 and body["error"]["code"] == "InvalidResourceLocation"

    # In-use subnets cannot go, neither alone, nor with their network, nor by a PUT leaving them out.
    for path in (arm.subnet_path(RG, "vnet", "pe"), arm.vnet_path(RG, "vnet")):
        status, _, body = arm.request("DELETE", path)
        assert status == 400 and body["error"]["code"] == "InUseSubnetCannotBeDeleted", body
    status, _, body = arm.request("PUT", arm.vnet_path(RG, "vnet"), {**vnet, "properties": {
        "addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}, "subnets": []}})
    assert status == 400 and body["error"]["code"] == "InUseSubnetCannotBeDeleted"

    # Deleting the private endpoint: 202, Deleting, then 404 and the subnet is free.
    headers, _ = ok(arm.request("DELETE", arm.pe_path(RG, "ws-pe")), 202)
    assert "location" in headers and "azure-asyncoperation" in headers
    _, body = ok(arm.request("GET", arm.pe_path(RG, "ws-pe")), 200, 404)
    assert arm.wait(headers)["status"] == "Succeeded"
    status, _, body = arm.request("GET", arm.pe_path(RG, "ws-pe"))
    assert status == 404 and body["error"]["code"] == "ResourceNotFound"
    ok(arm.request("DELETE", arm.pe_path(RG, "ws-pe")), 204)

    # Deleting the resource group: 202 + Location, Deleting, then everything in it is gone.
    headers, _ = ok(arm.request("DELETE", arm.rg_path(RG)), 202)
    assert "location" in headers
    status, _, body = arm.request("GET", headers["location"])
    assert status == 202
    _, body = ok(arm.request("GET", arm.rg_path(RG)), 200, 404)
    result = arm.wait(headers)
    assert result["status"] == "Succeeded", result
    for path in (arm.rg_path(RG), arm.vnet_path(RG, "vnet"), arm.workspace_path(RG, "ws"),
                 arm.endpoint_path(RG, "ws", "score")):
        status, _, body = arm.request("GET", path)
        assert status == 404 and body["error"]["code"] == "ResourceGroupNotFound", (path, body)
    assert arm.resources() == {}
    assert_clean(arm)
    assert arm.stats()["requests"] > 50


def test_vnet_put_without_subnets_removes_them(arm_server):
    arm = arm_server
    create_network(arm)
    headers, body = ok(arm.request("PUT", arm.vnet_path(RG, "vnet"), {
        "location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.10.0.0/16"]}}}), 200)
    arm.wait(headers)
    assert ok(arm.request("GET", arm.vnet_path(RG, "vnet")), 200)[1]["properties"]["subnets"] == []
    assert arm.request("GET", arm.subnet_path(RG, "vnet", "pe"))[0] == 404
    assert_clean(arm)


def test_workspace_delete_disconnects_private_endpoint_and_cascades(arm_server):
    arm = arm_server
    create_network(arm)
    create_workspace(arm)
    create_private_endpoint(arm)
    headers, _ = ok(arm.request("PUT", arm.endpoint_path(RG, "ws", "ep"), {
        "location": LOC, "properties": {"authMode": "AADToken"}}), 201)
    arm.wait(headers)
    headers, _ = ok(arm.request("DELETE", arm.workspace_path(RG, "ws")), 202)
    assert arm.wait(headers)["status"] == "Succeeded"
    assert arm.request("GET", arm.endpoint_path(RG, "ws", "ep"))[2]["error"]["code"] == "ParentResourceNotFound"
    _, body = ok(arm.request("GET", arm.pe_path(RG, "ws-pe")), 200)
    state = body["properties"]["privateLinkServiceConnections"][0]["properties"]["privateLinkServiceConnectionState"]
    assert state["status"] == "Disconnected"
    assert_clean(arm)


def test_invalid_requests_are_rejected_and_counted(arm_server):
    arm = arm_server
    create_rg(arm)
    cases = [
        # (method, path, body, api_version, what the reason mentions)
        ("PUT", arm.workspace_path(RG, "ws"), {"location": LOC, "sku": {"name": "Basic"}}, "pinned", "required"),
        ("PUT", arm.endpoint_path(RG, "ws", "ep"), {"location": LOC, "properties": {"authMode": "Token"}},
         "pinned", "EndpointAuthMode"),
        ("PUT", arm.vnet_path(RG, "v"), {"location": LOC, "properties.addressSpace": {}}, "pinned", "unknown"),
        ("PUT", arm.pe_path(RG, "p"), {"location": LOC, "properties": {"provisioningState": "Succeeded"}},
         "pinned", "read-only"),
        ("GET", arm.rg_path(RG), None, None, "missing api-version"),
        ("GET", arm.rg_path(RG), None, "2021-04-01", "not the pinned"),
        ("PATCH", arm.subnet_path(RG, "v", "s"), {"properties": {}}, "pinned", "PATCH is not an operation"),
        ("GET", f"{arm.rg_path(RG)}/providers/Microsoft.Compute/virtualMachines/vm", None, "2024-07-01",
         "no operation"),
    ]
    for method, path, body, api_version, fragment in cases:
        status, _, answer = arm.request(method, path, body, api_version=api_version, expect_violation=True)
        assert status == 400, (method, path, answer)
        assert answer["error"]["code"] == "ZeroTrustSpecViolation"
        assert fragment in answer["error"]["message"], answer
    stats = arm.stats()
    assert stats["rejected_expected"] == len(cases) and stats["rejected"] == 0
    violations = arm.violations()
    assert len(violations) == len(cases) and all(v["expected"] and v["reasons"] for v in violations)
    # Nothing was created by the rejected requests.
    assert arm.request("GET", arm.workspace_path(RG, "ws"))[0] == 404


def test_unmarked_violation_counts_against_the_run(tmp_path):
    """What happens to a provider request the definitions reject (on a server kept out of the
    session tally, so that this test does not fail the run on purpose)."""
    arm = ArmServer(tmp_path / "arm").start()
    try:
        status, _, body = arm.request("PUT", arm.rg_path(RG), {"location": LOC, "id": "x"})
        assert status == 400 and body["error"]["code"] == "ZeroTrustSpecViolation"
        assert arm.stats()["rejected"] == 1
        (violation,) = arm.violations()
        assert violation["request"].startswith("PUT /subscriptions/") and not violation["expected"]
        assert any("$.id" in r and "read-only" in r for r in violation["reasons"])
    finally:
        arm.stop()


def test_fail_next_and_failed_operations(arm_server):
    arm = arm_server
    create_rg(arm)
    vnet = {"location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.1.0.0/16"]}}}
    arm.fail_next(r"/virtualNetworks/v1$", status=429, code="TooManyRequests", method="PUT",
                  headers={"Retry-After": "1"})
    status, headers, body = arm.request("PUT", arm.vnet_path(RG, "v1"), vnet)
    assert status == 429 and body["error"]["code"] == "TooManyRequests" and headers["retry-after"] == "1"
    headers, _ = ok(arm.request("PUT", arm.vnet_path(RG, "v1"), vnet), 201)
    arm.wait(headers)
    # An operation that is accepted and then fails.
    arm.fail_next(r"/workspaces/broken$", method="PUT",
                  lro_error={"code": "InternalServerError", "message": "provisioning failed"})
    ws = {"location": LOC, "properties": {"friendlyName": "broken"}}
    headers, _ = ok(arm.request("PUT", arm.workspace_path(RG, "broken"), ws), 202)
    result = arm.wait(headers)
    assert result["status"] == "Failed" and result["error"]["message"] == "provisioning failed"
    status, _, body = arm.request("GET", headers["location"])
    assert status == 400 and body["error"]["code"] == "InternalServerError"
    _, body = ok(arm.request("GET", arm.workspace_path(RG, "broken")), 200)
    assert body["properties"]["provisioningState"] == "Failed"
    assert_clean(arm)


def test_log_redacts_the_token(arm_server):
    arm = arm_server
    create_rg(arm)
    (entry,) = [e for e in arm.log() if e["method"] == "PUT"]
    assert entry["operation"] == "ResourceGroups_CreateOrUpdate" and entry["status"] == 201
    assert entry["request_headers"]["authorization"] == "<redacted>"
    assert entry["request_body"] == {"location": LOC, "tags": {"owner": "zt"}}
    assert arm.log(since=entry["seq"]) == []


def test_restart_keeps_state(arm_server):
    arm = arm_server
    create_network(arm)
    create_workspace(arm)
    ep = {"location": LOC, "properties": {"authMode": "Key"}}
    headers, _ = ok(arm.request("PUT", arm.endpoint_path(RG, "ws", "ep"), ep), 201)
    _, keys = ok(arm.request("POST", arm.endpoint_path(RG, "ws", "ep") + "/listKeys"), 200)
    port, before = arm.port, arm.stats()["requests"]
    # Killed in the middle of the endpoint's operation: it is there after the restart and finishes.
    arm.kill()
    assert not arm.is_up()
    arm.start()
    assert arm.port == port
    _, body = ok(arm.request("GET", arm.endpoint_path(RG, "ws", "ep")), 200)
    assert body["properties"]["provisioningState"] in ("Creating", "Succeeded")
    assert arm.wait(headers)["status"] == "Succeeded"
    assert ok(arm.request("POST", arm.endpoint_path(RG, "ws", "ep") + "/listKeys"), 200)[1] == keys
    assert ok(arm.request("GET", arm.subnet_path(RG, "vnet", "pe")), 200)
    assert arm.stats()["requests"] > before
    assert len(arm.log()) == arm.stats()["requests"]
    # A clean stop and start keeps it too; reset empties it.
    arm.restart()
    assert ok(arm.request("GET", arm.workspace_path(RG, "ws")), 200)
    arm.reset()
    assert arm.request("GET", arm.rg_path(RG))[0] == 404
    assert_clean(arm)


def test_operations_finish_after_the_configured_polls(tmp_path):
    arm = ArmServer(tmp_path / "arm", lro_polls=3).start()
    try:
        create_rg(arm)
        headers, _ = ok(arm.request("PUT", arm.vnet_path(RG, "v"), {
            "location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}), 201)
        seen = [arm.request("GET", headers["azure-asyncoperation"])[2]["status"] for _ in range(4)]
        assert seen == ["InProgress", "InProgress", "Succeeded", "Succeeded"]
        start = time.time()
        arm.reset(everything=True)
        assert arm.stats()["requests"] == 0 and time.time() - start < 5
    finally:
        arm.collect()
        arm.stop()


@pytest.mark.parametrize("polls", [0])
def test_zero_polls_completes_at_once(tmp_path, polls):
    arm = ArmServer(tmp_path / "arm", lro_polls=polls).start()
    try:
        create_rg(arm)
        headers, body = ok(arm.request("PUT", arm.vnet_path(RG, "v"), {
            "location": LOC, "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}), 201)
        assert body["properties"]["provisioningState"] == "Succeeded"
        assert arm.request("GET", headers["azure-asyncoperation"])[2]["status"] == "Succeeded"
        assert_clean(arm)
    finally:
        arm.collect()
        arm.stop()
