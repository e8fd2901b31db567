"""Unit tests of tools/arm/validate.py: good and bad bodies for each resource type, request lines,
and the operation table checked against the operation modules of Microsoft's SDKs."""

import inspect
import json
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "arm"))
import validate as V  # noqa: E402

SUB = "4a6b3c1d-2e5f-4a7b-8c9d-0e1f2a3b4c5d"
LOC = "westus"
RG = f"/subscriptions/{SUB}/resourceGroups/rg1"
SUBNET_ID = f"{RG}/providers/Microsoft.Network/virtualNetworks/vnet1/subnets/pe"
WS_ID = f"{RG}/providers/Microsoft.MachineLearningServices/workspaces/ws1"
PUT = frozenset({"create", "update"})
PATCH = frozenset({"update"})
API = V.load_api_versions()

OPERATION_MODULES = {
    "resource": "azure.mgmt.resource.resources.operations._operations",
    "network": "azure.mgmt.network.operations._operations",
    "ml": "azure.ai.ml._restclient.arm_ml_service.operations._operations",
}


def req(package, model, body, write=PUT):
    return V.check_body(package, model, body, "request", write)


def resp(package, model, body):
    return V.check_body(package, model, body, "response")


def has(reasons, *fragments):
    """Some reason mentions all fragments."""
    return any(all(f in r for f in fragments) for r in reasons)


# ---- the operation table is Microsoft's --------------------------------------------------------


@pytest.mark.parametrize("op", V.OPERATIONS, ids=lambda op: op.op_id)
def test_operation_matches_sdk(op):
    module = V.import_quietly(OPERATION_MODULES[op.package])
    builder = getattr(module, op.sdk_builder)
    src = inspect.getsource(builder)
    url = re.search(r'_url = \(?\s*"([^"]+)"', src)
    assert url and url.group(1) == op.template
    assert re.search(r'HttpRequest\(method="(\w+)"', src).group(1) == op.method
    default = re.search(r'_params\.pop\("api-version", "([^"]+)"\)', src).group(1)
    assert default == API[op.rtype], f"{op.op_id}: SDK default api-version {default}, pinned {API[op.rtype]}"
    # The status codes the SDK accepts, from the method that sends this request.
    module_src = inspect.getsource(module)
    codes = None
    for m in re.finditer(r"\n    def \w+\(.*?(?=\n    def |\nclass |\Z)", module_src, re.S):
        if f"{op.sdk_builder}(" in m.group(0):
            found = re.search(r"status_code not in \[([^\]]*)\]", m.group(0))
            if found:
                codes = tuple(int(c) for c in found.group(1).split(","))
                break
    assert codes == op.statuses, f"{op.op_id}: SDK accepts {codes}"


def test_models_exist_for_every_operation():
    for op in V.OPERATIONS:
        for model in (op.request_model, op.response_model):
            if model:
                V.model_class(op.package, model.removeprefix("list:"))
        V.model_class(op.package, V.ERROR_MODEL[op.package])


def test_api_versions_are_stable_and_cover_every_type():
    assert set(API) == set(V.TYPE_PACKAGE)
    for version in API.values():
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", version), version


# ---- resource groups --------------------------------------------------------------------------


def test_resource_group_bodies():
    assert req("resource", "ResourceGroup", {"location": "westus", "tags": {"env": "test"}}) == []
    assert has(req("resource", "ResourceGroup", {"tags": {}}), "$.location", "required")
    assert has(req("resource", "ResourceGroup", {"location": "westus", "tags": {"n": 1}}),
               '$.tags["n"]', "expected a string")
    assert has(req("resource", "ResourceGroup", {"location": "westus", "color": "red"}), "$.color", "unknown")
    assert has(req("resource", "ResourceGroup", {"location": "westus", "id": RG}), "$.id", "read-only")
    assert has(req("resource", "ResourceGroup", {"location": "westus", "properties": {"provisioningState": "x"}}),
               "$.properties.provisioningState", "read-only")
    # PATCH: only the patchable model's properties; a location is not one of them.
    assert req("resource", "ResourceGroupPatchable", {"tags": {"a": "b"}}, PATCH) == []
    assert has(req("resource", "ResourceGroupPatchable", {"location": "eastus"}, PATCH), "$.location", "unknown")
    good = {"id": RG, "name": "rg1", "type": "Microsoft.Resources/resourceGroups", "location": "westus",
            "properties": {"provisioningState": "Succeeded"},
            "systemData": {"createdAt": "2026-01-01T00:00:00.000Z", "createdByType": "Application"}}
    assert resp("resource", "ResourceGroup", good) == []
    assert has(resp("resource", "ResourceGroup", {**good, "systemData": {"createdAt": "yesterday"}}),
               "createdAt", "date-time")
    assert has(resp("resource", "ResourceGroup", {**good, "systemData": {"createdByType": "Robot"}}),
               "createdByType", "'Robot'")


# ---- virtual networks and subnets -------------------------------------------------------------


VNET = {"location": "westus", "tags": {"a": "b"},
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                       "subnets": [{"name": "pe", "properties": {"addressPrefix": "10.0.1.0/24",
                                                                  "privateEndpointNetworkPolicies": "Disabled"}}]}}


def test_virtual_network_bodies():
    assert req("network", "VirtualNetwork", VNET) == []
    bad = json.loads(json.dumps(VNET))
    bad["properties"]["addressSpace"]["addressPrefixes"] = "10.0.0.0/16"
    assert has(req("network", "VirtualNetwork", bad), "addressPrefixes", "expected an array")
    # The flattened Python-SDK spelling is not a wire name.
    assert has(req("network", "VirtualNetwork", {"location": "westus", "properties.addressSpace": {}}),
               "$.properties.addressSpace", "unknown")
    bad = json.loads(json.dumps(VNET))
    bad["properties"]["privateEndpointVNetPolicies"] = "Sometimes"
    assert has(req("network", "VirtualNetwork", bad), "privateEndpointVNetPolicies", "PrivateEndpointVNetPolicies")
    bad = json.loads(json.dumps(VNET))
    bad["properties"]["resourceGuid"] = "x"
    assert has(req("network", "VirtualNetwork", bad), "resourceGuid", "read-only")
    assert req("network", "TagsObject", {"tags": {"x": "y"}}, PATCH) == []
    assert has(req("network", "TagsObject", {"tags": {"x": "y"}, "location": "eastus"}, PATCH), "unknown")


def test_subnet_bodies():
    assert req("network", "Subnet", {"properties": {"addressPrefix": "10.0.2.0/24"}}) == []
    assert has(req("network", "Subnet", {"properties": {"addressPrefix": "10.0.2.0/24",
                                                        "privateEndpoints": [{"id": "x"}]}}),
               "privateEndpoints", "read-only")
    # Enum values are compared exactly.
    assert has(req("network", "Subnet", {"properties": {"privateEndpointNetworkPolicies": "disabled"}}),
               "privateEndpointNetworkPolicies", "'disabled'")
    assert has(req("network", "Subnet", {"properties": {"defaultOutboundAccess": "false"}}),
               "defaultOutboundAccess", "expected a boolean")


# ---- private endpoints --------------------------------------------------------------------------


PE = {"location": "westus",
      "properties": {"subnet": {"id": SUBNET_ID},
                     "privateLinkServiceConnections": [
                         {"name": "ws", "properties": {"privateLinkServiceId": WS_ID, "groupIds": ["amlworkspace"]}}]}}


def test_private_endpoint_bodies():
    assert req("network", "PrivateEndpoint", PE) == []
    bad = json.loads(json.dumps(PE))
    bad["properties"]["networkInterfaces"] = [{"id": "nic"}]
    assert has(req("network", "PrivateEndpoint", bad), "networkInterfaces", "read-only")
    bad = json.loads(json.dumps(PE))
    bad["properties"]["privateLinkServiceConnections"][0]["properties"]["groupIds"] = "amlworkspace"
    assert has(req("network", "PrivateEndpoint", bad), "groupIds", "expected an array")
    bad = json.loads(json.dumps(PE))
    bad["properties"]["privateLinkServiceConnections"][0]["properties"]["groupId"] = "amlworkspace"
    assert has(req("network", "PrivateEndpoint", bad), "groupId", "unknown")
    # The seed program's inline SubnetArgs without an id is still a Subnet; the server, not the
    # definitions, refuses a private endpoint without a subnet id.
    assert req("network", "PrivateEndpoint", {"location": "westus", "properties": {"subnet": {}}}) == []


# ---- workspaces ---------------------------------------------------------------------------------


WS = {"location": "westus", "identity": {"type": "SystemAssigned"}, "sku": {"name": "Basic", "tier": "Basic"},
      "properties": {
          "friendlyName": "zt",
          "storageAccount": f"{RG}/providers/Microsoft.Storage/storageAccounts/st1",
          "keyVault": f"{RG}/providers/Microsoft.KeyVault/vaults/kv1",
          "applicationInsights": f"{RG}/providers/Microsoft.Insights/components/ai1",
          "publicNetworkAccess": "Disabled"}}


def test_workspace_bodies():
    assert req("ml", "Workspace", WS) == []
    # The seed program's shape (sku and identity, no properties) misses a required property.
    assert has(req("ml", "Workspace", {"location": "westus", "sku": {"name": "Basic"},
                                       "identity": {"type": "SystemAssigned"}}), "$.properties", "required")
    bad = json.loads(json.dumps(WS))
    bad["identity"]["principalId"] = "00000000-0000-0000-0000-000000000000"
    assert has(req("ml", "Workspace", bad), "$.identity.principalId", "read-only")
    bad = json.loads(json.dumps(WS))
    bad["properties"]["publicNetworkAccess"] = "Off"
    assert has(req("ml", "Workspace", bad), "publicNetworkAccess", "PublicNetworkAccessType")
    assert has(req("ml", "Workspace", {**WS, "identity": {}}), "$.identity.type", "required")
    assert has(req("ml", "Workspace", {**WS, "sku": {"tier": "Basic"}}), "$.sku.name", "required")
    assert req("ml", "WorkspaceUpdateParameters", {"tags": {"a": "b"}, "properties": {"friendlyName": "x"}},
               PATCH) == []
    assert has(req("ml", "WorkspaceUpdateParameters", {"properties": {"storageAccount": "x"}}, PATCH),
               "storageAccount", "unknown")
    good = {**WS, "id": WS_ID, "name": "ws1", "type": "Microsoft.MachineLearningServices/workspaces",
            "identity": {"type": "SystemAssigned", "principalId": "p", "tenantId": "t"},
            "properties": {**WS["properties"], "provisioningState": "Succeeded", "workspaceId": "w",
                           "privateLinkCount": 0}}
    assert resp("ml", "Workspace", good) == []
    assert has(resp("ml", "Workspace", {**good, "properties": {**good["properties"], "privateLinkCount": "0"}}),
               "privateLinkCount", "expected an integer")


# ---- online endpoints ---------------------------------------------------------------------------


OE = {"location": "westus", "identity": {"type": "SystemAssigned"},
      "properties": {"authMode": "Key", "publicNetworkAccess": "Disabled", "traffic": {}}}


def test_online_endpoint_bodies():
    assert req("ml", "OnlineEndpoint", OE) == []
    for mode in ("AMLToken", "AADToken"):
        assert req("ml", "OnlineEndpoint", {**OE, "properties": {"authMode": mode}}) == []
    assert has(req("ml", "OnlineEndpoint", {**OE, "properties": {"authMode": "Token"}}), "authMode", "'Token'")
    assert has(req("ml", "OnlineEndpoint", {**OE, "properties": {}}), "authMode", "required")
    assert has(req("ml", "OnlineEndpoint", {"properties": {"authMode": "Key"}}), "$.location", "required")
    assert has(req("ml", "OnlineEndpoint", {**OE, "properties": {"authMode": "Key", "scoringUri": "https://x"}}),
               "scoringUri", "read-only")
    assert has(req("ml", "OnlineEndpoint", {**OE, "properties": {"authMode": "Key", "traffic": {"blue": "100"}}}),
               'traffic["blue"]', "expected an integer")
    # keys may be set at creation but are never returned.
    assert req("ml", "OnlineEndpoint", {**OE, "properties": {"authMode": "Key",
                                                             "keys": {"primaryKey": "a", "secondaryKey": "b"}}}) == []
    good = {**OE, "id": WS_ID + "/onlineEndpoints/ep", "name": "ep",
            "type": "Microsoft.MachineLearningServices/workspaces/onlineEndpoints",
            "properties": {"authMode": "Key", "scoringUri": "https://ep/score", "provisioningState": "Creating"}}
    assert resp("ml", "OnlineEndpoint", good) == []
    assert has(resp("ml", "OnlineEndpoint", {**good, "properties": {**good["properties"], "keys": {}}}),
               "keys", "never returns")
    assert has(resp("ml", "OnlineEndpoint", {**good, "properties": {"authMode": "Key",
                                                                    "provisioningState": "Provisioning"}}),
               "provisioningState", "EndpointProvisioningState")
    assert req("ml", "PartialMinimalTrackedResourceWithIdentity", {"tags": {"a": "b"}}, PATCH) == []
    assert resp("ml", "EndpointAuthKeys", {"primaryKey": "a", "secondaryKey": "b"}) == []
    assert has(resp("ml", "EndpointAuthKeys", {"primary": "a"}), "unknown")


def test_discriminated_models_use_the_subtype():
    ok = {"endpointComputeType": "Managed", "instanceType": "Standard_DS3_v2"}
    assert V.check_body("ml", "OnlineDeploymentProperties", ok, "request", PUT) == []
    bad = {"endpointComputeType": "Kubernetes", "instanceType": "x", "notAField": 1}
    assert has(V.check_body("ml", "OnlineDeploymentProperties", bad, "request", PUT), "notAField", "unknown")


def test_list_pages_and_errors():
    page = {"value": [{"id": RG, "name": "rg1", "location": "westus"}], "nextLink": None}
    assert resp("resource", "list:ResourceGroup", page) == []
    assert has(resp("resource", "list:ResourceGroup", {"items": []}), "$.items", "unknown")
    assert resp("ml", "ErrorResponse", {"error": {"code": "X", "message": "y"}}) == []
    assert has(resp("network", "CloudError", {"code": "X"}), "$.code", "unknown")


# ---- request lines ----------------------------------------------------------------------------


def check(method, path, query=None, body=None, ctype="application/json"):
    raw = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    headers = {"content-type": ctype} if raw else {}
    return V.check_request(method, path, query if query is not None else {}, headers, raw, API)


def q(rtype):
    return {"api-version": [API[rtype]]}


def test_request_lines():
    ok = check("PUT", RG, q(V.RESOURCE_GROUPS), {"location": "westus"})
    assert ok.reasons == [] and ok.op.op_id == "ResourceGroups_CreateOrUpdate"
    # ARM matches fixed path segments without regard to case.
    assert check("GET", RG.replace("resourceGroups", "RESOURCEGROUPS"), q(V.RESOURCE_GROUPS)).reasons == []
    assert has(check("GET", RG).reasons, "missing api-version")
    assert has(check("GET", RG, {"api-version": ["2021-04-01"]}).reasons, "not the pinned")
    assert has(check("GET", RG, q(V.VIRTUAL_NETWORKS)).reasons, "not the pinned") or \
        API[V.VIRTUAL_NETWORKS] == API[V.RESOURCE_GROUPS]
    subnet = f"{RG}/providers/Microsoft.Network/virtualNetworks/v/subnets/s"
    assert has(check("PATCH", subnet, q(V.SUBNETS), {"properties": {}}).reasons, "PATCH is not an operation")
    pe = f"{RG}/providers/Microsoft.Network/privateEndpoints/p"
    assert has(check("PATCH", pe, q(V.PRIVATE_ENDPOINTS), {"tags": {}}).reasons, "PATCH is not an operation")
    assert has(check("GET", f"{RG}/providers/Microsoft.Network/loadBalancers/lb", q(V.VIRTUAL_NETWORKS)).reasons,
               "no operation")
    assert has(check("GET", "/subscriptions/not-a-guid/resourceGroups/rg", q(V.RESOURCE_GROUPS)).reasons,
               "subscriptionId")
    assert has(check("PUT", f"/subscriptions/{SUB}/resourceGroups/bad*name", q(V.RESOURCE_GROUPS),
                     {"location": "westus"}).reasons, "resourceGroupName")
    assert has(check("PUT", f"/subscriptions/{SUB}/resourceGroups/{'r' * 91}", q(V.RESOURCE_GROUPS),
                     {"location": "westus"}).reasons, "resourceGroupName")
    assert has(check("PUT", RG, q(V.RESOURCE_GROUPS), b"{not json").reasons, "not JSON")
    assert has(check("PUT", RG, q(V.RESOURCE_GROUPS), {"location": "w"}, ctype="text/plain").reasons, "Content-Type")
    assert has(check("PUT", RG, q(V.RESOURCE_GROUPS)).reasons, "needs a ResourceGroup body")
    assert has(check("GET", RG, q(V.RESOURCE_GROUPS), {"x": 1}).reasons, "takes no request body")
    keys = WS_ID + "/onlineEndpoints/ep/listKeys"
    assert check("POST", keys, q(V.ONLINE_ENDPOINTS)).reasons == []
    assert has(check("GET", keys, q(V.ONLINE_ENDPOINTS)).reasons, "GET is not an operation")


def test_async_status_shape():
    assert V.check_async_status({"id": "/x", "name": "x", "status": "InProgress", "startTime": "t"}) == []
    assert has(V.check_async_status({"status": "Running"}), "$.status")
    assert has(V.check_async_status({"status": "Failed"}), "$.error")
    assert has(V.check_async_status({"status": "Succeeded", "result": {}}), "$.result", "unknown")


def test_responses_are_checked_too():
    op = {o.op_id: o for o in V.OPERATIONS}
    ws_put, vnet_put, keys = op["Workspaces_CreateOrUpdate"], op["VirtualNetworks_CreateOrUpdate"], \
        op["OnlineEndpoints_ListKeys"]
    assert V.check_response(ws_put, 202, None) == []
    # Microsoft.MachineLearningServices answers a workspace PUT with 200 or 202, never 201.
    assert has(V.check_response(ws_put, 201, None), "status 201")
    assert has(V.check_response(vnet_put, 201, {"location": LOC, "properties": {"provisioningState": "Creatng"}}),
               "provisioningState")
    assert V.check_response(keys, 200, {"primaryKey": "a", "secondaryKey": "b"}) == []
    assert V.check_response(vnet_put, 400, {"error": {"code": "InUseSubnetCannotBeDeleted", "message": "m"}}) == []
    assert has(V.check_response(vnet_put, 400, {"code": "X"}), "unknown")
    assert has(V.check_response(op["Workspaces_Delete"], 202, {"status": "x"}), "without a body")

