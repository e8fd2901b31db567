"""Check ARM requests and responses against Microsoft's published API definitions.

The definitions are the model classes of Microsoft's Python SDKs, pinned in
scripts/python-env.sh (api-versions in tools/arm/api_versions.json):

    Microsoft.Resources        azure-mgmt-resource 26.0.0  azure.mgmt.resource.resources.models
    Microsoft.Network          azure-mgmt-network 33.1.0   azure.mgmt.network.models
    Microsoft.MachineLearning- azure-ai-ml 1.35.2          azure.ai.ml._restclient.arm_ml_service.models
      Services

All three are generated from the TypeSpec/OpenAPI definitions in Azure/azure-rest-api-specs by
Microsoft's current Python emitter. Their models do not carry an msrest `_attribute_map`; each
property is a `rest_field` with its wire name, its visibility (`read`, `create`, `update`, ...)
and a type annotation (`Optional[...]` when the property may be left out, `Union[str, SomeEnum]`
for enums, `list[...]`, `dict[str, ...]`, nested models, discriminated subclasses). The models
themselves accept any JSON (unknown keys are kept silently), so this module walks a body and
compares every key and value with that metadata itself:

- every key must be a property of the model (unknown keys are rejected, at any depth);
- every value must have the JSON type of the annotation: string, integer, number, boolean,
  array, object (dict values are checked too), RFC 3339 date-time, ISO 8601 duration;
- enum values must be one of the enum's values, compared exactly (the services accept any case
  and ARM's enums are extensible; the provider is held to the canonical spelling);
- discriminated models are checked as the subclass that the discriminator value names;
- in requests, properties that are read-only (visibility `read` only) or not writable by the
  operation (PUT writes `create`/`update` properties, PATCH `update` ones) are rejected, and
  required properties (a non-Optional annotation) must be present;
- in responses, properties the service never returns (no `read` visibility, e.g. an online
  endpoint's `keys`) are rejected and required properties must be present.

Operations are the ARM request shapes (method, path template, api-version, request and response
model, status codes) of the SDKs' operation modules; tests/e2e/test_arm_validate.py checks the
table below against those modules, so that a version bump that changes them fails loudly.

Limits: Microsoft's Python emitter drops the OpenAPI `pattern`/`minLength`/`maxLength`/`minimum`/
`maximum` constraints, so the only constraints checked are the path-parameter ones of ARM's
common types (resource group name: 1-90 characters of `^[-\\w\\._\\(\\)]+$`; subscription id: a
GUID), which `PATH_CONSTRAINTS` lists; everything else is the services' own business logic and
lives in tools/arm/server.py. Bodies of asynchronous-operation status responses have no model in
these SDKs and are checked against ARM's documented shape (`ASYNC_STATUS_FIELDS`).
"""

from __future__ import annotations

import base64
import datetime
import enum
import json
import re
import sys
import typing
from dataclasses import dataclass, field
from pathlib import Path

API_VERSIONS_FILE = Path(__file__).resolve().parent / "api_versions.json"

RESOURCE_GROUPS = "Microsoft.Resources/resourceGroups"
VIRTUAL_NETWORKS = "Microsoft.Network/virtualNetworks"
SUBNETS = "Microsoft.Network/virtualNetworks/subnets"
PRIVATE_ENDPOINTS = "Microsoft.Network/privateEndpoints"
WORKSPACES = "Microsoft.MachineLearningServices/workspaces"
ONLINE_ENDPOINTS = "Microsoft.MachineLearningServices/workspaces/onlineEndpoints"

# Where each resource type's models live.
MODEL_MODULES = {
    "resource": "azure.mgmt.resource.resources.models",
    "network": "azure.mgmt.network.models",
    "ml": "azure.ai.ml._restclient.arm_ml_service.models",
}
TYPE_PACKAGE = {
    RESOURCE_GROUPS: "resource",
    VIRTUAL_NETWORKS: "network",
    SUBNETS: "network",
    PRIVATE_ENDPOINTS: "network",
    WORKSPACES: "ml",
    ONLINE_ENDPOINTS: "ml",
}
# The error envelope each resource provider documents ({"error": {"code", "message", ...}}).
ERROR_MODEL = {"resource": "CloudError", "network": "CloudError", "ml": "ErrorResponse"}


def load_api_versions(path: Path = API_VERSIONS_FILE) -> dict[str, str]:
    data = json.loads(path.read_text())
    return {k: v for k, v in data.items() if not k.startswith("_")}


# ---- operations ------------------------------------------------------------------------------

SUB = "/subscriptions/{subscriptionId}"
RG = SUB + "/resourceGroups/{resourceGroupName}"
VNET = RG + "/providers/Microsoft.Network/virtualNetworks/{virtualNetworkName}"
PE = RG + "/providers/Microsoft.Network/privateEndpoints/{privateEndpointName}"
WS = RG + "/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}"
OE = WS + "/onlineEndpoints/{endpointName}"


@dataclass(frozen=True)
class Operation:
    """One ARM operation: what a request must look like and what its answer may be."""

    op_id: str  # Microsoft's operationId
    method: str
    template: str  # path template, as in the SDK's request builder
    rtype: str  # resource type whose api-version the request must carry
    request_model: str | None  # body model; None: no body allowed
    response_model: str | None  # model of 200/201 bodies; "list:<Model>" for pages
    statuses: tuple[int, ...]  # success codes the SDK accepts
    sdk_builder: str  # request builder in the SDK's operations module (checked by the tests)

    @property
    def package(self) -> str:
        return TYPE_PACKAGE[self.rtype]

    @property
    def write_visibility(self) -> frozenset[str]:
        return frozenset({"update"}) if self.method == "PATCH" else frozenset({"create", "update"})


OPERATIONS: tuple[Operation, ...] = (
    Operation("ResourceGroups_Get", "GET", SUB + "/resourcegroups/{resourceGroupName}", RESOURCE_GROUPS,
              None, "ResourceGroup", (200,), "build_resource_groups_get_request"),
    Operation("ResourceGroups_CheckExistence", "HEAD", SUB + "/resourcegroups/{resourceGroupName}",
              RESOURCE_GROUPS, None, None, (204, 404), "build_resource_groups_check_existence_request"),
    Operation("ResourceGroups_CreateOrUpdate", "PUT", SUB + "/resourcegroups/{resourceGroupName}",
              RESOURCE_GROUPS, "ResourceGroup", "ResourceGroup", (200, 201),
              "build_resource_groups_create_or_update_request"),
    Operation("ResourceGroups_Update", "PATCH", SUB + "/resourcegroups/{resourceGroupName}", RESOURCE_GROUPS,
              "ResourceGroupPatchable", "ResourceGroup", (200,), "build_resource_groups_update_request"),
    Operation("ResourceGroups_Delete", "DELETE", SUB + "/resourcegroups/{resourceGroupName}", RESOURCE_GROUPS,
              None, None, (200, 202), "build_resource_groups_delete_request"),
    Operation("ResourceGroups_List", "GET", SUB + "/resourcegroups", RESOURCE_GROUPS,
              None, "list:ResourceGroup", (200,), "build_resource_groups_list_request"),
    Operation("VirtualNetworks_Get", "GET", VNET, VIRTUAL_NETWORKS, None, "VirtualNetwork", (200,),
              "build_virtual_networks_get_request"),
    Operation("VirtualNetworks_CreateOrUpdate", "PUT", VNET, VIRTUAL_NETWORKS, "VirtualNetwork", "VirtualNetwork",
              (200, 201), "build_virtual_networks_create_or_update_request"),
    Operation("VirtualNetworks_UpdateTags", "PATCH", VNET, VIRTUAL_NETWORKS, "TagsObject", "VirtualNetwork",
              (200,), "build_virtual_networks_update_tags_request"),
    Operation("VirtualNetworks_Delete", "DELETE", VNET, VIRTUAL_NETWORKS, None, None, (200, 202, 204),
              "build_virtual_networks_delete_request"),
    Operation("VirtualNetworks_List", "GET", RG + "/providers/Microsoft.Network/virtualNetworks",
              VIRTUAL_NETWORKS, None, "list:VirtualNetwork", (200,), "build_virtual_networks_list_request"),
    Operation("Subnets_Get", "GET", VNET + "/subnets/{subnetName}", SUBNETS, None, "Subnet", (200,),
              "build_subnets_get_request"),
    Operation("Subnets_CreateOrUpdate", "PUT", VNET + "/subnets/{subnetName}", SUBNETS, "Subnet", "Subnet",
              (200, 201), "build_subnets_create_or_update_request"),
    Operation("Subnets_Delete", "DELETE", VNET + "/subnets/{subnetName}", SUBNETS, None, None, (200, 202, 204),
              "build_subnets_delete_request"),
    Operation("Subnets_List", "GET", VNET + "/subnets", SUBNETS, None, "list:Subnet", (200,),
              "build_subnets_list_request"),
    Operation("PrivateEndpoints_Get", "GET", PE, PRIVATE_ENDPOINTS, None, "PrivateEndpoint", (200,),
              "build_private_endpoints_get_request"),
    Operation("PrivateEndpoints_CreateOrUpdate", "PUT", PE, PRIVATE_ENDPOINTS, "PrivateEndpoint",
              "PrivateEndpoint", (200, 201), "build_private_endpoints_create_or_update_request"),
    Operation("PrivateEndpoints_Delete", "DELETE", PE, PRIVATE_ENDPOINTS, None, None, (200, 202, 204),
              "build_private_endpoints_delete_request"),
    Operation("PrivateEndpoints_List", "GET", RG + "/providers/Microsoft.Network/privateEndpoints",
              PRIVATE_ENDPOINTS, None, "list:PrivateEndpoint", (200,), "build_private_endpoints_list_request"),
    Operation("Workspaces_Get", "GET", WS, WORKSPACES, None, "Workspace", (200,), "build_workspaces_get_request"),
    Operation("Workspaces_CreateOrUpdate", "PUT", WS, WORKSPACES, "Workspace", "Workspace", (200, 202),
              "build_workspaces_create_or_update_request"),
    Operation("Workspaces_Update", "PATCH", WS, WORKSPACES, "WorkspaceUpdateParameters", "Workspace", (200, 202),
              "build_workspaces_update_request"),
    Operation("Workspaces_Delete", "DELETE", WS, WORKSPACES, None, None, (200, 202, 204),
              "build_workspaces_delete_request"),
    Operation("Workspaces_ListByResourceGroup", "GET",
              RG + "/providers/Microsoft.MachineLearningServices/workspaces", WORKSPACES, None,
              "list:Workspace", (200,), "build_workspaces_list_by_resource_group_request"),
    Operation("OnlineEndpoints_Get", "GET", OE, ONLINE_ENDPOINTS, None, "OnlineEndpoint", (200,),
              "build_online_endpoints_get_request"),
    Operation("OnlineEndpoints_CreateOrUpdate", "PUT", OE, ONLINE_ENDPOINTS, "OnlineEndpoint", "OnlineEndpoint",
              (200, 201), "build_online_endpoints_create_or_update_request"),
    Operation("OnlineEndpoints_Update", "PATCH", OE, ONLINE_ENDPOINTS, "PartialMinimalTrackedResourceWithIdentity",
              "OnlineEndpoint", (200, 202), "build_online_endpoints_update_request"),
    Operation("OnlineEndpoints_Delete", "DELETE", OE, ONLINE_ENDPOINTS, None, None, (200, 202, 204),
              "build_online_endpoints_delete_request"),
    Operation("OnlineEndpoints_List", "GET", WS + "/onlineEndpoints", ONLINE_ENDPOINTS, None,
              "list:OnlineEndpoint", (200,), "build_online_endpoints_list_request"),
    Operation("OnlineEndpoints_ListKeys", "POST", OE + "/listKeys", ONLINE_ENDPOINTS, None, "EndpointAuthKeys",
              (200,), "build_online_endpoints_list_keys_request"),
    Operation("OnlineEndpoints_GetToken", "POST", OE + "/token", ONLINE_ENDPOINTS, None, "EndpointAuthToken",
              (200,), "build_online_endpoints_get_token_request"),
)

GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# ARM common-types path parameters (the only constraints the SDKs' operation modules do not drop).
PATH_CONSTRAINTS = {
    "subscriptionId": (GUID, 36, 36),
    "resourceGroupName": (re.compile(r"^[-\w\._\(\)]+$"), 1, 90),
}
# Every segment of a resource name: no slashes (they would change the path shape) and not empty.
NAME_SEGMENT = re.compile(r"^[^/?#]+$")


def _template_regex(template: str) -> re.Pattern:
    out, pos = [], 0
    for m in re.finditer(r"\{(\w+)\}", template):
        out.append(re.escape(template[pos:m.start()]))
        out.append(f"(?P<{m.group(1)}>[^/]+)")
        pos = m.end()
    out.append(re.escape(template[pos:]))
    # ARM matches the fixed segments of a path case-insensitively.
    return re.compile("^" + "".join(out) + "/?$", re.IGNORECASE)


_OP_PATTERNS = [(op, _template_regex(op.template)) for op in OPERATIONS]


def match_path(path: str) -> list[tuple[Operation, dict[str, str]]]:
    """All operations whose path template matches `path` (any method)."""
    found = []
    for op, rx in _OP_PATTERNS:
        m = rx.match(path)
        if m:
            found.append((op, m.groupdict()))
    return found


def find_operation(method: str, path: str) -> tuple[Operation | None, dict[str, str], list[str]]:
    """The operation for a request line, its path parameters, and the reasons it matches none."""
    candidates = match_path(path)
    if not candidates:
        return None, {}, [f"no operation of the pinned APIs has the path shape {path}"]
    for op, params in candidates:
        if op.method == method:
            return op, params, []
    allowed = sorted({op.method for op, _ in candidates})
    return None, candidates[0][1], [f"{method} is not an operation on {path} (the API allows {', '.join(allowed)})"]


# ---- model introspection ---------------------------------------------------------------------


@dataclass
class Prop:
    wire: str
    attr: str
    tp: typing.Any  # resolved annotation, Optional stripped
    optional: bool
    visibility: frozenset[str] | None
    discriminator: bool = False


@dataclass
class ModelSchema:
    cls: type
    props: dict[str, Prop] = field(default_factory=dict)
    discriminator: str | None = None  # wire name
    subtypes: dict[str, type] = field(default_factory=dict)


_SCHEMAS: dict[type, ModelSchema] = {}
_MODULES: dict[str, typing.Any] = {}


def import_quietly(name: str):
    """Import a module of the SDKs. azure-ai-ml's package import sets up its marshmallow schemas,
    which warn about marshmallow 4; none of that concerns the REST models used here."""
    if name not in _MODULES:
        import importlib
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _MODULES[name] = importlib.import_module(name)
    return _MODULES[name]


def models_module(package: str):
    return import_quietly(MODEL_MODULES[package])


def model_class(package: str, name: str) -> type:
    mod = models_module(package)
    try:
        return getattr(mod, name)
    except AttributeError:
        raise KeyError(f"{MODEL_MODULES[package]} has no model {name}") from None


def _is_rest_field(value) -> bool:
    return type(value).__name__ == "_RestField" and hasattr(value, "_visibility")


def _is_model(tp) -> bool:
    """A generated model class (a subclass of the emitter's `model_base.Model`)."""
    return isinstance(tp, type) and any(
        k.__name__ == "Model" and k.__module__.endswith("model_base") for k in tp.__mro__[1:]
    )


def _strip_optional(tp) -> tuple[typing.Any, bool]:
    if typing.get_origin(tp) is typing.Union:
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != len(typing.get_args(tp)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True
    return tp, False


def schema_of(cls: type) -> ModelSchema:
    if cls in _SCHEMAS:
        return _SCHEMAS[cls]
    module = sys.modules[cls.__module__]
    package_models = sys.modules[cls.__module__.rsplit(".", 1)[0]]
    hints = typing.get_type_hints(cls, globalns=vars(module), localns={"_models": package_models})
    schema = ModelSchema(cls)
    _SCHEMAS[cls] = schema
    for klass in reversed(cls.__mro__):
        for attr, value in vars(klass).items():
            if attr.startswith("_") or not _is_rest_field(value):
                continue
            tp, optional = _strip_optional(hints.get(attr, typing.Any))
            wire = value._rest_name_input or attr
            vis = frozenset(value._visibility) if value._visibility is not None else None
            prop = Prop(wire, attr, tp, optional, vis, bool(value._is_discriminator))
            # A subclass may redeclare a property (e.g. a narrower discriminator literal).
            for key in [k for k, p in schema.props.items() if p.attr == attr]:
                del schema.props[key]
            schema.props[wire] = prop
            if prop.discriminator:
                schema.discriminator = wire
    mapping = getattr(cls, "__mapping__", None)
    if isinstance(mapping, dict) and "__mapping__" in vars(cls):
        schema.subtypes = dict(mapping)
    return schema


# ---- walking a body ---------------------------------------------------------------------------

DURATION = re.compile(r"^-?P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?W)?(\d+(\.\d+)?D)?"
                      r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$")


def _json_type(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


class Walker:
    """Collects the reasons a JSON value does not fit a model."""

    def __init__(self, direction: str, write_visibility: frozenset[str] = frozenset()):
        assert direction in ("request", "response")
        self.direction = direction
        self.write = write_visibility
        self.reasons: list[str] = []

    def fail(self, path: str, msg: str) -> None:
        self.reasons.append(f"{path}: {msg}")

    def value(self, path: str, tp, value) -> None:
        origin = typing.get_origin(tp)
        if tp is typing.Any or tp is object:
            return
        if value is None:
            # null is how ARM writes "not set"; a required property is checked by the caller.
            return
        if origin is typing.Literal:
            if value not in typing.get_args(tp):
                self.fail(path, f"{value!r} is not {' or '.join(map(repr, typing.get_args(tp)))}")
            return
        if origin is typing.Union:
            args = typing.get_args(tp)
            enums = [a for a in args if isinstance(a, type) and issubclass(a, enum.Enum)]
            if enums and all(a is str or a in enums for a in args):
                if not isinstance(value, str):
                    self.fail(path, f"expected a string (enum {enums[0].__name__}), got {_json_type(value)}")
                    return
                allowed = [m.value for e in enums for m in e]
                if value not in allowed:
                    self.fail(path, f"{value!r} is not a value of {enums[0].__name__} ({', '.join(allowed)})")
                return
            # Any other union: fine when one branch takes the value.
            for a in args:
                trial = Walker(self.direction, self.write)
                trial.value(path, a, value)
                if not trial.reasons:
                    return
            self.fail(path, f"{_json_type(value)} fits none of {tp}")
            return
        if origin in (list, typing.List):
            if not isinstance(value, list):
                self.fail(path, f"expected an array, got {_json_type(value)}")
                return
            (item_tp,) = typing.get_args(tp) or (typing.Any,)
            for i, item in enumerate(value):
                self.value(f"{path}[{i}]", item_tp, item)
            return
        if origin in (dict, typing.Dict):
            if not isinstance(value, dict):
                self.fail(path, f"expected an object, got {_json_type(value)}")
                return
            args = typing.get_args(tp)
            item_tp = args[1] if len(args) == 2 else typing.Any
            for k, item in value.items():
                self.value(f"{path}[{json.dumps(k)}]", item_tp, item)
            return
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            allowed = [m.value for m in tp]
            if value not in allowed:
                self.fail(path, f"{value!r} is not a value of {tp.__name__} ({', '.join(map(str, allowed))})")
            return
        if tp is bool:
            if not isinstance(value, bool):
                self.fail(path, f"expected a boolean, got {_json_type(value)}")
            return
        if tp is int:
            if isinstance(value, bool) or not isinstance(value, int):
                self.fail(path, f"expected an integer, got {_json_type(value)}")
            return
        if tp is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                self.fail(path, f"expected a number, got {_json_type(value)}")
            return
        if tp is str:
            if not isinstance(value, str):
                self.fail(path, f"expected a string, got {_json_type(value)}")
            return
        if tp is datetime.datetime:
            if not isinstance(value, str):
                self.fail(path, f"expected an RFC 3339 date-time string, got {_json_type(value)}")
                return
            try:
                datetime.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            except ValueError:
                self.fail(path, f"{value!r} is not an RFC 3339 date-time")
            return
        if tp is datetime.timedelta:
            if not isinstance(value, str) or not DURATION.match(value):
                self.fail(path, f"{value!r} is not an ISO 8601 duration")
            return
        if tp in (bytes, bytearray):
            if not isinstance(value, str):
                self.fail(path, f"expected a base64 string, got {_json_type(value)}")
                return
            try:
                base64.b64decode(value + "=" * (-len(value) % 4), validate=False)
            except ValueError:
                self.fail(path, f"{value!r} is not base64")
            return
        if isinstance(tp, type) and _is_model(tp):
            self.model(path, tp, value)
            return
        self.fail(path, f"the validator does not know the type {tp!r}")

    def model(self, path: str, cls: type, value) -> None:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object ({cls.__name__}), got {_json_type(value)}")
            return
        schema = schema_of(cls)
        if schema.discriminator and schema.subtypes:
            kind = value.get(schema.discriminator)
            sub = schema.subtypes.get(kind)
            if sub is not None and sub is not cls:
                self.model(path, sub, value)
                return
        for key, item in value.items():
            prop = schema.props.get(key)
            where = f"{path}.{key}"
            if prop is None:
                self.fail(where, f"unknown property (not in {cls.__name__})")
                continue
            vis = prop.visibility
            if vis is not None:
                if self.direction == "request" and not (vis & self.write):
                    what = "read-only" if vis <= {"read", "query"} else f"not writable here (visibility {sorted(vis)})"
                    self.fail(where, f"{what} property of {cls.__name__} sent in a request")
                    continue
                if self.direction == "response" and "read" not in vis:
                    self.fail(where, f"property of {cls.__name__} the service never returns (visibility {sorted(vis)})")
                    continue
            if item is None and not prop.optional:
                self.fail(where, "required, must not be null")
                continue
            self.value(where, prop.tp, item)
        for prop in schema.props.values():
            if prop.optional or prop.wire in value:
                continue
            vis = prop.visibility
            if self.direction == "request" and vis is not None and not (vis & self.write):
                continue
            if self.direction == "response" and vis is not None and "read" not in vis:
                continue
            self.fail(f"{path}.{prop.wire}", f"required property of {cls.__name__} is missing")


# ---- the checks the server runs -----------------------------------------------------------------

ASYNC_STATUS_FIELDS = {
    # ARM's asynchronous-operation status body (Azure-AsyncOperation); see the RPC's
    # "Asynchronous operations" chapter. status is required.
    "id": str, "name": str, "resourceId": str, "status": str, "startTime": str, "endTime": str,
    "percentComplete": (int, float), "properties": dict, "error": dict,
}
ASYNC_STATUSES = ("InProgress", "Succeeded", "Failed", "Canceled")


def check_body(package: str, model: str, body, direction: str, write=frozenset()) -> list[str]:
    w = Walker(direction, write)
    if model.startswith("list:"):
        if not isinstance(body, dict):
            return [f"$: expected an object with value/nextLink, got {_json_type(body)}"]
        for key in body:
            if key not in ("value", "nextLink"):
                w.fail(f"$.{key}", "unknown property of a list page (value, nextLink)")
        if not isinstance(body.get("value"), list):
            w.fail("$.value", "required array is missing")
        else:
            cls = model_class(package, model[5:])
            for i, item in enumerate(body["value"]):
                w.model(f"$.value[{i}]", cls, item)
        if body.get("nextLink") is not None and not isinstance(body["nextLink"], str):
            w.fail("$.nextLink", "expected a string")
        return w.reasons
    w.model("$", model_class(package, model), body)
    return w.reasons


def check_async_status(body) -> list[str]:
    reasons = []
    if not isinstance(body, dict):
        return [f"$: expected an object, got {_json_type(body)}"]
    for key, value in body.items():
        want = ASYNC_STATUS_FIELDS.get(key)
        if want is None:
            reasons.append(f"$.{key}: unknown property of an asynchronous operation status")
        elif value is not None and not isinstance(value, want):
            reasons.append(f"$.{key}: wrong JSON type {_json_type(value)}")
    if body.get("status") not in ASYNC_STATUSES:
        reasons.append(f"$.status: {body.get('status')!r} is not one of {', '.join(ASYNC_STATUSES)}")
    if body.get("status") == "Failed" and not isinstance(body.get("error"), dict):
        reasons.append("$.error: a failed operation must say why")
    return reasons


def check_path_params(params: dict[str, str]) -> list[str]:
    reasons = []
    for name, raw in params.items():
        if not NAME_SEGMENT.match(raw):
            reasons.append(f"path parameter {name} is empty or malformed")
            continue
        rule = PATH_CONSTRAINTS.get(name)
        if rule:
            rx, lo, hi = rule
            if not (lo <= len(raw) <= hi) or not rx.match(raw):
                reasons.append(f"path parameter {name}={raw!r} breaks the API's constraint "
                               f"({lo}-{hi} characters matching {rx.pattern})")
    return reasons


@dataclass
class RequestCheck:
    op: Operation | None
    params: dict[str, str]
    reasons: list[str]
    body: typing.Any = None


def check_request(method: str, path: str, query: dict[str, list[str]], headers: dict[str, str], raw: bytes,
                  api_versions: dict[str, str]) -> RequestCheck:
    """Everything the published definitions say about one request, before any semantics."""
    op, params, reasons = find_operation(method, path)
    if op is None:
        return RequestCheck(None, params, reasons)
    reasons = check_path_params(params)
    want = api_versions[op.rtype]
    got = query.get("api-version", [])
    if not got:
        reasons.append(f"missing api-version (the pinned one for {op.rtype} is {want})")
    elif len(got) > 1 or got[0] != want:
        reasons.append(f"api-version {','.join(got)} is not the pinned {want} for {op.rtype}")
    body = None
    if op.request_model is None:
        if raw.strip():
            reasons.append(f"{op.op_id} takes no request body")
    else:
        ctype = headers.get("content-type", "")
        if ctype.split(";")[0].strip().lower() != "application/json":
            reasons.append(f"Content-Type must be application/json, got {ctype!r}")
        try:
            body = json.loads(raw.decode("utf-8")) if raw.strip() else None
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            reasons.append(f"body is not JSON: {e}")
        else:
            if body is None:
                reasons.append(f"{op.op_id} needs a {op.request_model} body")
            else:
                reasons += check_body(op.package, op.request_model, body, "request", op.write_visibility)
    return RequestCheck(op, params, reasons, body)


def check_response(op: Operation | None, status: int, body, async_status: bool = False) -> list[str]:
    """What the definitions say about one response of ours (server self-check)."""
    if async_status:
        return check_async_status(body)
    if op is None:
        return []
    if status >= 400:
        if body is None:
            return [] if op.method == "HEAD" else ["error response without an ARM error body"]
        return check_body(op.package, ERROR_MODEL[op.package], body, "response")
    reasons = []
    if status not in op.statuses:
        reasons.append(f"status {status} is not one {op.op_id} documents ({', '.join(map(str, op.statuses))})")
    if body is not None and status in (200, 201) and op.response_model:
        reasons += check_body(op.package, op.response_model, body, "response")
    elif body is not None and op.response_model is None:
        reasons.append(f"{op.op_id} answers {status} without a body")
    return reasons


def main(argv=None) -> int:
    """`python validate.py PACKAGE MODEL [request|response] < body.json`: check one body."""
    import argparse

    p = argparse.ArgumentParser(description=main.__doc__)
    p.add_argument("package", choices=sorted(MODEL_MODULES))
    p.add_argument("model")
    p.add_argument("direction", nargs="?", default="request", choices=["request", "response"])
    p.add_argument("--patch", action="store_true", help="check a request as a PATCH body")
    a = p.parse_args(argv)
    write = frozenset({"update"}) if a.patch else frozenset({"create", "update"})
    reasons = check_body(a.package, a.model, json.load(sys.stdin), a.direction, write)
    for r in reasons:
        print(r)
    return 1 if reasons else 0


if __name__ == "__main__":
    sys.exit(main())
