"""A small stateful Azure Resource Manager server for zerotrust's tests.

No Azure emulator exists for ARM's control plane, so the tests run this one. It serves exactly
the resource types the provider manages (see README.md beside this file), on loopback, over plain
HTTP, and checks every request it gets and every response it gives against Microsoft's published
definitions of those APIs (tools/arm/validate.py). A request those definitions reject is answered
with HTTP 400 and the ARM error code `ZeroTrustSpecViolation`, and counted.

    python tools/arm/server.py PORT --token TOKEN [--port-file F] [--state F] [--lro-polls N]

PORT 0 picks a free port. The server prints "listening on http://127.0.0.1:PORT" once it accepts
connections. With --state, every change is written to that JSON file before the answer leaves
(temp file + rename), and the file is loaded at start, so a server killed with SIGKILL and started
again has the same resources, operations, counters and violations. The exchange log goes to the
file next to it (STATE.log.jsonl), one JSON object a line.

Admin API (no auth; loopback only): GET /_zt/health, GET /_zt/log[?since=SEQ], GET /_zt/violations,
GET /_zt/stats, GET /_zt/resources, POST /_zt/reset[?all=1], POST /_zt/fail.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import hashlib
import ipaddress
import json
import os
import re
import secrets
import signal
import sys
import threading
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import validate as V  # noqa: E402

STATE_FORMAT = 1
# Requests carrying this header are deliberately invalid (the server's own tests): they are
# rejected like any other but counted apart from the provider's.
EXPECT_VIOLATION_HEADER = "x-zt-expect-violation"
SERVICE_PRINCIPAL = "zerotrust-arm-test"

NS = {
    V.RESOURCE_GROUPS: "Microsoft.Resources",
    V.VIRTUAL_NETWORKS: "Microsoft.Network",
    V.SUBNETS: "Microsoft.Network",
    V.PRIVATE_ENDPOINTS: "Microsoft.Network",
    V.WORKSPACES: "Microsoft.MachineLearningServices",
    V.ONLINE_ENDPOINTS: "Microsoft.MachineLearningServices",
}
PARENT_TYPE = {V.SUBNETS: V.VIRTUAL_NETWORKS, V.ONLINE_ENDPOINTS: V.WORKSPACES}
# Referenced by a workspace by id only; the server checks the id's shape, not that they exist.
WORKSPACE_REFERENCES = {
    "storageAccount": "Microsoft.Storage/storageAccounts",
    "keyVault": "Microsoft.KeyVault/vaults",
    "applicationInsights": "Microsoft.Insights/components",
    "containerRegistry": "Microsoft.ContainerRegistry/registries",
}
ARM_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/(?P<ns>[^/]+)/(?P<rest>.+)$",
    re.IGNORECASE,
)


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ArmError(Exception):
    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message}}


class Reply:
    def __init__(self, status: int, body=None, headers: dict | None = None):
        self.status, self.body, self.headers = status, body, dict(headers or {})


def parse_id(rid: str) -> dict | None:
    """subscription, resource group, and the (type, name) chain of an ARM resource id."""
    m = ARM_ID.match(rid or "")
    if not m:
        return None
    parts = m.group("rest").split("/")
    if len(parts) % 2:
        return None
    types, names = parts[0::2], parts[1::2]
    rtype = m.group("ns") + "/" + "/".join(types)
    return {"sub": m.group("sub"), "rg": m.group("rg"), "type": rtype, "names": names}


class State:
    """Resources, operations, fault rules and counters; JSON-serialisable as a whole."""

    def __init__(self):
        self.resources: dict[str, dict] = {}
        self.operations: dict[str, dict] = {}
        self.fail_rules: list[dict] = []
        self.counters = {"requests": 0, "rejected": 0, "rejected_expected": 0, "response_violations": 0}
        self.violations: list[dict] = []
        self.seq = 0

    def to_json(self) -> dict:
        return {
            "format": STATE_FORMAT, "resources": self.resources, "operations": self.operations,
            "fail_rules": self.fail_rules, "counters": self.counters, "violations": self.violations,
            "seq": self.seq,
        }

    @classmethod
    def from_json(cls, data: dict) -> "State":
        if data.get("format") != STATE_FORMAT:
            raise SystemExit(f"state file has format {data.get('format')}, this server writes {STATE_FORMAT}")
        s = cls()
        s.resources, s.operations, s.fail_rules = data["resources"], data["operations"], data["fail_rules"]
        s.counters.update(data["counters"])
        s.violations, s.seq = data["violations"], data["seq"]
        return s


class ArmServer:
    def __init__(self, token: str, state_path: str | None, lro_polls: int, tenant: str):
        self.token = token
        self.state_path = Path(state_path) if state_path else None
        self.log_path = Path(f"{state_path}.log.jsonl") if state_path else None
        self.lro_polls = max(0, lro_polls)
        self.tenant = tenant
        self.api_versions = V.load_api_versions()
        self.lock = threading.Lock()
        self.state = State()
        self.log: list[dict] = []
        self._last_digest = None
        self.load()

    # ---- persistence ---------------------------------------------------------------------

    def load(self) -> None:
        if self.state_path and self.state_path.exists():
            self.state = State.from_json(json.loads(self.state_path.read_text()))
            self._last_digest = hashlib.sha256(self.state_path.read_bytes()).digest()
        if self.log_path and self.log_path.exists():
            for line in self.log_path.read_text().splitlines():
                try:
                    self.log.append(json.loads(line))
                except json.JSONDecodeError:
                    pass  # a line cut off by a kill

    def save(self) -> None:
        if not self.state_path:
            return
        data = json.dumps(self.state.to_json(), sort_keys=True).encode()
        digest = hashlib.sha256(data).digest()
        if digest == self._last_digest:
            return
        tmp = self.state_path.with_name(self.state_path.name + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.state_path)
        self._last_digest = digest

    def append_log(self, entry: dict) -> None:
        self.log.append(entry)
        if self.log_path:
            with self.log_path.open("a") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    # ---- one exchange ----------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes, base_url: str) -> Reply:
        url = urllib.parse.urlsplit(target)
        path = urllib.parse.unquote(url.path)
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if path.startswith("/_zt/"):
            with self.lock:
                return self.admin(method, path, query, raw)
        with self.lock:
            self.state.seq += 1
            self.state.counters["requests"] += 1
            seq = self.state.seq
            expected = headers.get(EXPECT_VIOLATION_HEADER, "") not in ("", "0")
            ctx = {"op": None, "request_violations": [], "async_status": False}
            response_violations: list[str] = []
            try:
                reply = self.dispatch(method, path, query, headers, raw, base_url, ctx)
            except ArmError as e:
                reply = Reply(e.status, e.body(), e.headers)
            except Exception as e:  # a bug of ours: answer like ARM's 500, and say so in the log
                reply = Reply(500, {"error": {"code": "InternalServerError", "message": f"test server bug: {e!r}"}})
                response_violations = [f"the test server failed: {e!r}"]
            op, request_violations = ctx["op"], ctx["request_violations"]
            if request_violations:
                key = "rejected_expected" if expected else "rejected"
                self.state.counters[key] += 1
                self.state.violations.append({
                    "seq": seq, "kind": "request", "expected": expected,
                    "request": f"{method} {target}", "reasons": request_violations,
                })
            elif not reply.headers.pop("_zt_injected", False):
                response_violations += V.check_response(op, reply.status, reply.body, ctx["async_status"])
                if response_violations:
                    self.state.counters["response_violations"] += 1
                    self.state.violations.append({
                        "seq": seq, "kind": "response", "expected": False,
                        "request": f"{method} {target}", "status": reply.status, "reasons": response_violations,
                    })
            reply.headers.setdefault("x-ms-request-id", str(uuid.uuid4()))
            reply.headers.setdefault("x-ms-correlation-request-id", headers.get("x-ms-correlation-request-id")
                                     or str(uuid.uuid4()))
            self.append_log({
                "seq": seq, "time": now(), "method": method, "path": path, "query": url.query,
                "operation": op.op_id if op else None,
                "request_headers": {k: ("<redacted>" if k == "authorization" else v) for k, v in headers.items()},
                "request_body": _text(raw), "status": reply.status, "response_headers": reply.headers,
                "response_body": reply.body, "violations": request_violations or response_violations,
                "expected_violation": expected,
            })
            self.save()
            return reply

    def dispatch(self, method, path, query, headers, raw, base_url, ctx: dict) -> Reply:
        """Answer one ARM request; `ctx` gets the operation, the request's violations, and
        whether the answer is an asynchronous-operation status."""
        self.authenticate(headers)
        status_reply = self.async_status(method, path, query, base_url)
        if status_reply is not None:
            reply, ctx["async_status"] = status_reply
            return reply
        check = V.check_request(method, path, query, headers, raw, self.api_versions)
        ctx["op"] = check.op
        if check.reasons:
            ctx["request_violations"] = check.reasons
            message = "Rejected by Microsoft's API definitions: " + "; ".join(check.reasons)
            return Reply(400, {"error": {"code": "ZeroTrustSpecViolation", "message": message}})
        injected = self.injected_failure(method, path)
        if injected is not None:
            return injected
        return self.semantics(check.op, check.params, check.body, base_url)

    def authenticate(self, headers) -> None:
        auth = headers.get("authorization")
        challenge = {"WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/common", '
                                         'error="invalid_token", error_description="The authentication failed"'}
        if not auth:
            raise ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.",
                           challenge)
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ArmError(401, "AuthenticationFailed",
                           "Authentication failed. The 'Authorization' header is provided in an invalid format.",
                           challenge)
        if not secrets.compare_digest(token.strip(), self.token):
            raise ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.", challenge)

    def injected_failure(self, method: str, path: str) -> Reply | None:
        for rule in self.state.fail_rules:
            if rule["count"] <= 0:
                continue
            if rule.get("method") and rule["method"].upper() != method:
                continue
            if not re.search(rule["path"], path):
                continue
            if rule.get("lro_error") or rule.get("lro_polls"):
                continue  # applies when the operation runs, see start_operation()
            rule["count"] -= 1
            body = rule.get("body")
            if body is None:
                body = {"error": {"code": rule.get("code", "InternalServerError"),
                                  "message": rule.get("message", "Injected failure (zerotrust test)")}}
            headers = dict(rule.get("headers") or {})
            headers["_zt_injected"] = True
            self.state.fail_rules = [r for r in self.state.fail_rules if r["count"] > 0]
            return Reply(int(rule.get("status", 500)), body, headers)
        return None

    def take_lro_rule(self, method: str, path: str) -> dict | None:
        """The first rule that shapes the operation this request starts: `lro_error` makes it
        fail, `lro_polls` keeps it in progress for that many polls (a slow operation)."""
        for rule in self.state.fail_rules:
            if rule["count"] > 0 and (rule.get("lro_error") or rule.get("lro_polls")) and \
                    (not rule.get("method") or rule["method"].upper() == method) and re.search(rule["path"], path):
                rule["count"] -= 1
                self.state.fail_rules = [r for r in self.state.fail_rules if r["count"] > 0]
                return rule
        return None

    def start_operation(self, kind: str, method: str, record: dict, path: str, base_url: str) -> dict:
        rule = self.take_lro_rule(method, path) or {}
        op_id, headers = self.new_operation(kind, record, base_url, rule.get("lro_error"))
        if rule.get("lro_polls"):
            self.state.operations[op_id]["polls_left"] = int(rule["lro_polls"])
        return headers

    # ---- admin API ------------------------------------------------------------------------

    def admin(self, method, path, query, raw) -> Reply:
        name = path[len("/_zt/"):].strip("/")
        if method == "GET" and name == "health":
            return Reply(200, {"status": "ok"})
        if method == "GET" and name == "log":
            since = int(query.get("since", ["0"])[0])
            return Reply(200, {"exchanges": [e for e in self.log if e["seq"] > since]})
        if method == "GET" and name == "violations":
            return Reply(200, {"violations": self.state.violations})
        if method == "GET" and name == "stats":
            stats = dict(self.state.counters)
            stats["resources"] = len(self.state.resources)
            stats["operations_in_progress"] = sum(
                1 for o in self.state.operations.values() if o["status"] == "InProgress")
            return Reply(200, stats)
        if method == "GET" and name == "resources":
            return Reply(200, {"resources": {r["id"]: r for r in self.state.resources.values()}})
        if method == "POST" and name == "reset":
            self.state.resources.clear()
            self.state.operations.clear()
            self.state.fail_rules.clear()
            if query.get("all", ["0"])[0] not in ("0", ""):
                fresh = State()
                fresh.seq = self.state.seq
                self.state = fresh
                self.log.clear()
                if self.log_path and self.log_path.exists():
                    self.log_path.unlink()
            self.save()
            return Reply(200, {"status": "reset"})
        if method == "POST" and name == "fail":
            try:
                rule = json.loads(raw or b"{}")
                re.compile(rule["path"])
            except (json.JSONDecodeError, KeyError, re.error, TypeError) as e:
                return Reply(400, {"error": {"code": "BadRequest", "message": f"fail rule: {e}"}})
            rule.setdefault("count", 1)
            rule["id"] = str(uuid.uuid4())
            self.state.fail_rules.append(rule)
            self.save()
            return Reply(200, rule)
        return Reply(404, {"error": {"code": "NotFound", "message": f"no admin endpoint {method} {path}"}})

    # ---- asynchronous operations -------------------------------------------------------------

    def new_operation(self, kind: str, record: dict, base_url: str, error: dict | None = None) -> tuple[str, dict]:
        op_id = str(uuid.uuid4())
        ns = NS[record["rtype"]]
        if record["rtype"] == V.RESOURCE_GROUPS:
            status_path = f"/subscriptions/{record['sub']}/operationresults/{op_id}"
            result_path = status_path
        else:
            loc = record["body"].get("location") or "global"
            prefix = f"/subscriptions/{record['sub']}/providers/{ns}/locations/{loc}"
            status_path = f"{prefix}/operationStatuses/{op_id}"
            result_path = f"{prefix}/operationResults/{op_id}"
        api = self.api_versions[record["rtype"]]
        self.state.operations[op_id] = {
            "id": op_id, "kind": kind, "key": record["id"].lower(), "rtype": record["rtype"], "api": api,
            "polls_left": self.lro_polls, "status": "InProgress", "start": now(), "end": None,
            "error": error, "status_path": status_path.lower(), "result_path": result_path.lower(),
        }
        record["op"] = op_id
        headers = {"Location": f"{base_url}{result_path}?api-version={api}", "Retry-After": "1"}
        if record["rtype"] != V.RESOURCE_GROUPS:
            headers["Azure-AsyncOperation"] = f"{base_url}{status_path}?api-version={api}"
        if self.lro_polls == 0:
            self.finish(self.state.operations[op_id])
        return op_id, headers

    def advance(self, op: dict) -> None:
        if op["status"] != "InProgress":
            return
        op["polls_left"] -= 1
        if op["polls_left"] <= 0:
            self.finish(op)

    def finish(self, op: dict) -> None:
        record = self.state.resources.get(op["key"])
        op["end"] = now()
        if op["kind"] == "delete" and op["error"] is None and record is not None:
            blocker = self.delete_blocker(record, cascade=True)
            if blocker:
                op["error"] = blocker
        if op["error"] is not None:
            op["status"] = "Failed"
            if record is not None:
                self.set_state(record, "Failed" if op["kind"] == "put" else "Succeeded")
                record["op"] = None
            return
        op["status"] = "Succeeded"
        if record is None:
            return
        if op["kind"] == "put":
            self.set_state(record, "Succeeded")
            record["op"] = None
        else:
            self.remove_tree(record)

    def async_status(self, method, path, query, base_url):
        lowered = path.lower()
        for op in self.state.operations.values():
            if lowered not in (op["status_path"], op["result_path"]):
                continue
            if method != "GET":
                raise ArmError(405, "MethodNotAllowed", f"{method} is not supported on operation URLs")
            got = query.get("api-version", [])
            if got != [op["api"]]:
                raise ArmError(400, "InvalidApiVersionParameter",
                               f"The operation URL needs api-version={op['api']} (got {got}).")
            self.advance(op)
            record = self.state.resources.get(op["key"])
            if lowered == op["status_path"] and op["rtype"] != V.RESOURCE_GROUPS:
                body = {"id": path, "name": op["id"], "status": op["status"], "startTime": op["start"]}
                if op["end"]:
                    body["endTime"] = op["end"]
                if op["status"] == "Failed":
                    body["error"] = op["error"]
                return Reply(200, body, {"Retry-After": "1"} if op["status"] == "InProgress" else {}), True
            # The Location URL: 202 while running, then the result.
            if op["status"] == "InProgress":
                return Reply(202, None, {"Location": f"{base_url}{path}?api-version={op['api']}",
                                         "Retry-After": "1"}), False
            if op["status"] == "Failed":
                return Reply(400, {"error": op["error"]}), False
            if op["kind"] == "put" and record is not None:
                return Reply(200, self.render(record)), False
            return Reply(204 if op["kind"] == "delete" else 200, None), False
        return None

    # ---- resources -------------------------------------------------------------------------

    def rid(self, rtype: str, p: dict) -> str:
        rg = f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
        if rtype == V.RESOURCE_GROUPS:
            return rg
        if rtype == V.VIRTUAL_NETWORKS:
            return f"{rg}/providers/Microsoft.Network/virtualNetworks/{p['virtualNetworkName']}"
        if rtype == V.SUBNETS:
            return self.rid(V.VIRTUAL_NETWORKS, p) + f"/subnets/{p['subnetName']}"
        if rtype == V.PRIVATE_ENDPOINTS:
            return f"{rg}/providers/Microsoft.Network/privateEndpoints/{p['privateEndpointName']}"
        if rtype == V.WORKSPACES:
            return f"{rg}/providers/Microsoft.MachineLearningServices/workspaces/{p['workspaceName']}"
        if rtype == V.ONLINE_ENDPOINTS:
            return self.rid(V.WORKSPACES, p) + f"/onlineEndpoints/{p['endpointName']}"
        raise KeyError(rtype)

    def get(self, rid: str) -> dict | None:
        return self.state.resources.get(rid.lower())

    def set_state(self, record: dict, state: str) -> None:
        record["body"].setdefault("properties", {})["provisioningState"] = state

    def require_rg(self, p: dict, for_write: bool = False) -> dict:
        rg = self.get(self.rid(V.RESOURCE_GROUPS, p))
        if rg is None:
            raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{p['resourceGroupName']}' could not be found.")
        if for_write and rg["body"]["properties"].get("provisioningState") == "Deleting":
            raise ArmError(409, "ResourceGroupBeingDeleted",
                           f"The resource group '{p['resourceGroupName']}' is in deprovisioning state and cannot "
                           "perform this operation.")
        return rg

    def require_parent(self, rtype: str, p: dict) -> dict | None:
        parent_type = PARENT_TYPE.get(rtype)
        if parent_type is None:
            return None
        parent = self.get(self.rid(parent_type, p))
        if parent is None:
            name = p.get("virtualNetworkName") or p.get("workspaceName")
            raise ArmError(404, "ParentResourceNotFound",
                           f"Failed to perform the requested operation on nested resource type "
                           f"'{rtype.split('/')[-1]}'. Parent resource '{name}' not found.")
        return parent

    def not_found(self, rtype: str, p: dict, name: str) -> ArmError:
        if rtype == V.RESOURCE_GROUPS:
            return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")
        return ArmError(404, "ResourceNotFound",
                        f"The Resource '{rtype}/{name}' under resource group '{p['resourceGroupName']}' was not found. "
                        "For more details please go to https://aka.ms/ARMResourceNotFoundFix")

    def children(self, record: dict) -> list[dict]:
        prefix = record["id"].lower() + "/"
        return [r for k, r in self.state.resources.items() if k.startswith(prefix)]

    def subnet_users(self, subnet_key: str) -> list[dict]:
        return [r for r in self.state.resources.values() if r["rtype"] == V.PRIVATE_ENDPOINTS
                and (r["body"].get("properties", {}).get("subnet") or {}).get("id", "").lower() == subnet_key]

    def in_use_error(self, subnet: dict, pe: dict) -> dict:
        nic = pe["extra"]["nic_id"]
        return {"code": "InUseSubnetCannotBeDeleted",
                "message": f"Subnet {subnet['name']} is in use by {nic}/ipConfigurations/privateEndpointIpConfig."
                           f"{pe['extra']['ipconfig_guid']} and cannot be deleted. In order to delete the subnet, "
                           "delete all the resources within the subnet. See aka.ms/deletesubnet."}

    def delete_blocker(self, record: dict, cascade: bool) -> dict | None:
        """Why deleting `record` (and, with cascade, what it contains) must fail, if it must."""
        doomed = {record["id"].lower()} | {c["id"].lower() for c in self.children(record)}
        subnets = [record] if record["rtype"] == V.SUBNETS else [
            c for c in self.children(record) if c["rtype"] == V.SUBNETS]
        for subnet in subnets:
            for pe in self.subnet_users(subnet["id"].lower()):
                if not cascade or pe["id"].lower() not in doomed:
                    return self.in_use_error(subnet, pe)
        return None

    def remove_tree(self, record: dict) -> None:
        prefix = record["id"].lower()
        for key in [k for k in self.state.resources if k == prefix or k.startswith(prefix + "/")]:
            del self.state.resources[key]

    def new_record(self, rtype: str, rid: str, p: dict, body: dict) -> dict:
        return {"id": rid, "rtype": rtype, "name": rid.rsplit("/", 1)[1], "sub": p["subscriptionId"],
                "body": body, "secrets": {}, "extra": {}, "op": None, "created": now()}

    # ---- rendering (what GET returns) --------------------------------------------------------

    def system_data(self, record: dict) -> dict:
        return {"createdBy": SERVICE_PRINCIPAL, "createdByType": "Application", "createdAt": record["created"],
                "lastModifiedBy": SERVICE_PRINCIPAL, "lastModifiedByType": "Application",
                "lastModifiedAt": record.get("modified", record["created"])}

    def render(self, record: dict) -> dict:
        body = json.loads(json.dumps(record["body"]))
        rtype = record["rtype"]
        out = {"id": record["id"], "name": record["name"], "type": rtype}
        if rtype in (V.VIRTUAL_NETWORKS, V.SUBNETS, V.PRIVATE_ENDPOINTS):
            out["etag"] = f'W/"{record["extra"]["etag"]}"'
        if rtype in (V.RESOURCE_GROUPS, V.WORKSPACES, V.ONLINE_ENDPOINTS):
            out["systemData"] = self.system_data(record)
        out.update(body)
        props = out.setdefault("properties", {})
        if rtype == V.VIRTUAL_NETWORKS:
            props["subnets"] = [self.render(c) for c in self.children(record) if c["rtype"] == V.SUBNETS]
        elif rtype == V.SUBNETS:
            users = self.subnet_users(record["id"].lower())
            if users:
                props["privateEndpoints"] = [{"id": pe["id"]} for pe in users]
                props["ipConfigurations"] = [
                    {"id": f"{pe['extra']['nic_id']}/ipConfigurations/privateEndpointIpConfig."
                           f"{pe['extra']['ipconfig_guid']}"} for pe in users]
        elif rtype == V.PRIVATE_ENDPOINTS:
            for field in ("privateLinkServiceConnections", "manualPrivateLinkServiceConnections"):
                for conn in props.get(field, []):
                    target = conn.get("properties", {}).get("privateLinkServiceId", "")
                    info = parse_id(target)
                    if info and info["type"].lower() == V.WORKSPACES.lower() and self.get(target) is None:
                        conn["properties"]["privateLinkServiceConnectionState"] = {
                            "status": "Disconnected", "description": "The private link resource was deleted.",
                            "actionsRequired": "None"}
        elif rtype == V.WORKSPACES:
            conns = []
            for pe in self.state.resources.values():
                if pe["rtype"] != V.PRIVATE_ENDPOINTS:
                    continue
                for conn in pe["body"]["properties"].get("privateLinkServiceConnections", []) + \
                        pe["body"]["properties"].get("manualPrivateLinkServiceConnections", []):
                    if conn.get("properties", {}).get("privateLinkServiceId", "").lower() != record["id"].lower():
                        continue
                    state = conn["properties"].get("privateLinkServiceConnectionState", {})
                    conns.append({
                        "id": f"{record['id']}/privateEndpointConnections/{pe['name']}.{pe['extra']['ipconfig_guid']}",
                        "name": f"{pe['name']}.{pe['extra']['ipconfig_guid']}",
                        "type": "Microsoft.MachineLearningServices/workspaces/privateEndpointConnections",
                        "location": record["body"].get("location"),
                        "properties": {
                            "privateEndpoint": {"id": pe["id"],
                                                "subnetArmId": pe["body"]["properties"]["subnet"]["id"]},
                            "privateLinkServiceConnectionState": {
                                "status": state.get("status", "Approved"),
                                "description": state.get("description", ""),
                                "actionsRequired": state.get("actionsRequired", "None")},
                            "provisioningState": "Succeeded",
                        }})
            props["privateEndpointConnections"] = conns
            props["privateLinkCount"] = len(conns)
        return out

    # ---- operations' semantics --------------------------------------------------------------

    def semantics(self, op: V.Operation, p: dict, body, base_url: str) -> Reply:
        rtype = op.rtype
        kind = op.op_id.split("_", 1)[1]
        if kind in ("ListKeys", "GetToken"):
            return self.endpoint_secret(op, p)
        if kind.startswith("List"):
            return self.list(op, p)
        if kind == "CheckExistence":
            return Reply(204 if self.get(self.rid(rtype, p)) else 404)
        if kind == "Get":
            record = self.get(self.rid(rtype, p))
            # A read counts as a poll of the operation running on the resource, as a client
            # that polls the resource itself would see it finish.
            if record is not None and record.get("op") in self.state.operations:
                self.advance(self.state.operations[record["op"]])
            self.require_rg(p)
            self.require_parent(rtype, p)
            record = self.get(self.rid(rtype, p))
            if record is None:
                raise self.not_found(rtype, p, self.rid(rtype, p).rsplit("/", 1)[1])
            return Reply(200, self.render(record))
        if kind == "CreateOrUpdate":
            return self.put(op, p, body, base_url)
        if kind in ("Update", "UpdateTags"):
            return self.patch(op, p, body)
        if kind == "Delete":
            return self.delete(op, p, base_url)
        raise ArmError(400, "UnsupportedOperation", f"{op.op_id} is not implemented by the test server")

    def list(self, op: V.Operation, p: dict) -> Reply:
        rtype = op.rtype
        if rtype == V.RESOURCE_GROUPS:
            prefix = f"/subscriptions/{p['subscriptionId']}/resourcegroups/"
            items = [r for k, r in self.state.resources.items() if r["rtype"] == rtype and k.startswith(prefix)]
        else:
            self.require_rg(p)
            parent = self.require_parent(rtype, p)
            scope = (parent["id"] if parent else self.rid(V.RESOURCE_GROUPS, p)).lower() + "/"
            items = [r for k, r in self.state.resources.items() if r["rtype"] == rtype and k.startswith(scope)]
        return Reply(200, {"value": [self.render(r) for r in sorted(items, key=lambda r: r["id"].lower())]})

    def put(self, op: V.Operation, p: dict, body: dict, base_url: str) -> Reply:
        rtype = op.rtype
        rid = self.rid(rtype, p)
        existing = self.get(rid)
        location = body.get("location")
        if rtype == V.RESOURCE_GROUPS:
            if existing is not None:
                if existing["body"]["properties"].get("provisioningState") == "Deleting":
                    raise ArmError(409, "ResourceGroupBeingDeleted",
                                   f"The resource group '{existing['name']}' is in deprovisioning state and cannot "
                                   "perform this operation.")
                if _norm_loc(existing["body"]["location"]) != _norm_loc(location):
                    raise ArmError(409, "InvalidResourceGroupLocation",
                                   f"Invalid resource group location '{location}'. The Resource group already exists "
                                   f"in location '{existing['body']['location']}'.")
            stored = {"location": location, "properties": {"provisioningState": "Succeeded"}}
            for key in ("tags", "managedBy"):
                if key in body:
                    stored[key] = body[key]
            if existing is None:
                record = self.new_record(rtype, rid, p, stored)
                self.state.resources[rid.lower()] = record
                return Reply(201, self.render(record))
            existing["body"] = stored
            existing["modified"] = now()
            return Reply(200, self.render(existing))

        self.require_rg(p, for_write=True)
        parent = self.require_parent(rtype, p)
        if rtype in (V.VIRTUAL_NETWORKS, V.PRIVATE_ENDPOINTS, V.WORKSPACES, V.ONLINE_ENDPOINTS) and not location:
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if existing is not None and location and existing["body"].get("location") and \
                _norm_loc(existing["body"]["location"]) != _norm_loc(location):
            raise ArmError(409, "InvalidResourceLocation",
                           f"The resource '{existing['name']}' already exists in location "
                           f"'{existing['body']['location']}' in resource group '{p['resourceGroupName']}'. "
                           f"A resource with the same name cannot be created in location '{location}'. "
                           "Please select a new resource name.")
        creating = existing is None
        record = existing or self.new_record(rtype, rid, p, {})
        stored = json.loads(json.dumps(body))
        stored.pop("id", None)
        stored.pop("name", None)
        stored.setdefault("properties", {})
        if rtype == V.VIRTUAL_NETWORKS:
            subnets = stored["properties"].pop("subnets", None) or []
            self.put_vnet(record, stored, subnets, p)
        elif rtype == V.SUBNETS:
            self.check_subnet(parent, record["name"], stored["properties"], p)
            stored["properties"].setdefault("privateEndpointNetworkPolicies", "Disabled")
            stored["properties"].setdefault("privateLinkServiceNetworkPolicies", "Enabled")
        elif rtype == V.PRIVATE_ENDPOINTS:
            self.put_private_endpoint(record, stored, p)
        elif rtype == V.WORKSPACES:
            self.put_workspace(record, stored, creating)
        elif rtype == V.ONLINE_ENDPOINTS:
            self.put_online_endpoint(record, stored, creating, parent)
        record["body"] = stored
        record["modified"] = now()
        record["extra"]["etag"] = str(uuid.uuid4())
        if parent is not None:
            parent["extra"]["etag"] = str(uuid.uuid4())
        self.state.resources[rid.lower()] = record
        if rtype == V.VIRTUAL_NETWORKS:
            for sub in self.children(record):
                sub["extra"]["etag"] = str(uuid.uuid4())
        self.set_state(record, ("Creating" if creating else "Updating")
                       if rtype in (V.WORKSPACES, V.ONLINE_ENDPOINTS) else "Updating")
        headers = self.start_operation("put", "PUT", record, urllib.parse.urlsplit(rid).path, base_url)
        if rtype == V.ONLINE_ENDPOINTS:
            headers.pop("Location", None)  # OnlineEndpoints_CreateOrUpdate documents Azure-AsyncOperation only
            headers["x-ms-async-operation-timeout"] = "PT1H"
        if rtype == V.WORKSPACES and creating:
            return Reply(202, None, headers)
        if rtype in (V.VIRTUAL_NETWORKS, V.SUBNETS, V.PRIVATE_ENDPOINTS):
            headers.pop("Location", None)  # Network's PUTs document Azure-AsyncOperation only
        return Reply(201 if creating else 200, self.render(record), headers)

    def put_vnet(self, record: dict, stored: dict, subnets: list, p: dict) -> None:
        prefixes = (stored["properties"].get("addressSpace") or {}).get("addressPrefixes") or []
        nets = []
        for prefix in prefixes:
            try:
                nets.append(ipaddress.ip_network(prefix, strict=True))
            except ValueError:
                raise ArmError(400, "InvalidAddressPrefixFormat",
                               f"Address prefix {prefix} of resource {record['id']} is not formatted correctly.")
        if not nets:
            raise ArmError(400, "VnetAddressSpaceMustHaveAtLeastOneAddressPrefix",
                           f"Virtual network {record['id']} must have at least one address prefix in its address space.")
        record["extra"].setdefault("resourceGuid", str(uuid.uuid4()))
        stored["properties"]["resourceGuid"] = record["extra"]["resourceGuid"]
        stored["properties"].setdefault("enableDdosProtection", False)
        stored["properties"].setdefault("privateEndpointVNetPolicies", "Disabled")
        stored["properties"].setdefault("virtualNetworkPeerings", [])
        # A PUT replaces the subnet list: inline subnets are created or updated, and the subnets
        # it leaves out are deleted, which fails when one is in use.
        wanted = {}
        for sub in subnets:
            name = sub.get("name")
            if not name:
                raise ArmError(400, "InvalidRequestFormat", "Each subnet of a virtual network needs a name.")
            wanted[name.lower()] = sub
        vnet_view = {"body": stored, "id": record["id"], "name": record["name"]}
        existing_subnets = {c["name"].lower(): c for c in self.children(record) if c["rtype"] == V.SUBNETS}
        for key, sub in existing_subnets.items():
            if key not in wanted:
                users = self.subnet_users(sub["id"].lower())
                if users:
                    raise ArmError(400, "InUseSubnetCannotBeDeleted", self.in_use_error(sub, users[0])["message"])
        checked = []
        for key, sub in wanted.items():
            props = json.loads(json.dumps(sub.get("properties") or {}))
            self.check_subnet(vnet_view, sub["name"], props, p, siblings=checked)
            checked.append((sub["name"], props))
        for key, sub in existing_subnets.items():
            if key not in wanted:
                del self.state.resources[sub["id"].lower()]
        for key, sub in wanted.items():
            props = dict(sub.get("properties") or {})
            props.setdefault("privateEndpointNetworkPolicies", "Disabled")
            props.setdefault("privateLinkServiceNetworkPolicies", "Enabled")
            props["provisioningState"] = "Succeeded"
            rid = record["id"] + "/subnets/" + (existing_subnets[key]["name"] if key in existing_subnets else sub["name"])
            child = existing_subnets.get(key) or self.new_record(V.SUBNETS, rid, p, {})
            child["body"] = {"properties": props}
            child["extra"]["etag"] = str(uuid.uuid4())
            child["modified"] = now()
            self.state.resources[rid.lower()] = child

    def check_subnet(self, vnet: dict, name: str, props: dict, p: dict, siblings=None) -> None:
        prefixes = list(props.get("addressPrefixes") or [])
        if props.get("addressPrefix"):
            prefixes.insert(0, props["addressPrefix"])
        if not prefixes:
            raise ArmError(400, "NetcfgInvalidSubnet",
                           f"Subnet '{name}' is not valid in virtual network '{vnet['name']}': it has no address "
                           "prefix.")
        vnet_nets = [ipaddress.ip_network(x, strict=False)
                     for x in (vnet["body"]["properties"].get("addressSpace") or {}).get("addressPrefixes", [])]
        if siblings is None:
            siblings = [(c["name"], c["body"]["properties"]) for c in self.children_of_id(vnet["id"])
                        if c["name"].lower() != name.lower()]
        for prefix in prefixes:
            try:
                net = ipaddress.ip_network(prefix, strict=True)
            except ValueError:
                raise ArmError(400, "InvalidAddressPrefixFormat",
                               f"Address prefix {prefix} of subnet '{name}' is not formatted correctly.")
            if not any(net.version == v.version and net.subnet_of(v) for v in vnet_nets):
                raise ArmError(400, "NetcfgSubnetRangeOutsideVnet",
                               f"Subnet '{name}' is not valid because its IP address range is outside the IP address "
                               f"range of virtual network '{vnet['name']}'.")
            for other_name, other in siblings:
                others = list(other.get("addressPrefixes") or []) + ([other["addressPrefix"]]
                                                                     if other.get("addressPrefix") else [])
                for o in others:
                    onet = ipaddress.ip_network(o, strict=False)
                    if onet.version == net.version and net.overlaps(onet):
                        raise ArmError(400, "NetcfgSubnetRangesOverlap",
                                       f"Subnet '{name}' is not valid because its IP address range overlaps with "
                                       f"that of an existing subnet '{other_name}' in virtual network "
                                       f"'{vnet['name']}'.")

    def children_of_id(self, rid: str) -> list[dict]:
        prefix = rid.lower() + "/"
        return [r for k, r in self.state.resources.items() if k.startswith(prefix)]

    def put_private_endpoint(self, record: dict, stored: dict, p: dict) -> None:
        props = stored["properties"]
        subnet_id = (props.get("subnet") or {}).get("id")
        if not subnet_id:
            raise ArmError(400, "InvalidRequestFormat",
                           f"Private endpoint {record['id']} must reference a subnet (properties.subnet.id).")
        info = parse_id(subnet_id)
        if info is None or info["type"].lower() != V.SUBNETS.lower():
            raise ArmError(400, "LinkedInvalidPropertyId",
                           f"Property id '{subnet_id}' at path 'properties.subnet.id' is invalid. Expect fully "
                           "qualified resource Id that start with '/subscriptions/{subscriptionId}' or "
                           "'/providers/{resourceProviderNamespace}/'.")
        if info["sub"].lower() != p["subscriptionId"].lower():
            raise ArmError(400, "InvalidResourceReference",
                           f"Subnet {subnet_id} referenced by private endpoint {record['id']} is in subscription "
                           f"{info['sub']}; a private endpoint must be in the subscription of its virtual network.")
        subnet = self.get(subnet_id)
        if subnet is None:
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {subnet_id} referenced by resource {record['id']} was not found. Please make "
                           "sure that the referenced resource exists, and that both resources are in the same "
                           "region.")
        vnet = self.get(subnet_id.rsplit("/subnets/", 1)[0])
        if vnet and _norm_loc(vnet["body"].get("location")) != _norm_loc(stored.get("location")):
            raise ArmError(400, "InvalidResourceReference",
                           f"Resource {subnet_id} referenced by resource {record['id']} is in region "
                           f"{vnet['body'].get('location')}; both resources must be in the same region.")
        props["subnet"] = {"id": subnet["id"]}
        extra = record["extra"]
        extra.setdefault("ipconfig_guid", str(uuid.uuid4()))
        nic_name = props.get("customNetworkInterfaceName") or f"{record['name']}.nic.{uuid.uuid4()}"
        rg = f"/subscriptions/{p['subscriptionId']}/resourceGroups/{p['resourceGroupName']}"
        extra.setdefault("nic_id", f"{rg}/providers/Microsoft.Network/networkInterfaces/{nic_name}")
        props["networkInterfaces"] = [{"id": extra["nic_id"]}]
        props.setdefault("customDnsConfigs", [])
        for field, status, description in (("privateLinkServiceConnections", "Approved", "Auto-Approved"),
                                           ("manualPrivateLinkServiceConnections", "Pending", "Awaiting approval")):
            for conn in props.get(field) or []:
                cname = conn.get("name")
                if not cname:
                    raise ArmError(400, "InvalidRequestFormat", f"Each of {field} needs a name.")
                cprops = conn.setdefault("properties", {})
                target = cprops.get("privateLinkServiceId")
                tinfo = parse_id(target or "")
                if tinfo is None:
                    raise ArmError(400, "LinkedInvalidPropertyId",
                                   f"Property id '{target}' at path 'properties.{field}[].properties."
                                   "privateLinkServiceId' is invalid.")
                if tinfo["type"].lower() == V.WORKSPACES.lower() and self.get(target) is None:
                    raise ArmError(400, "PrivateLinkServiceNotFound",
                                   f"The private link resource {target} referenced by private endpoint "
                                   f"{record['id']} was not found.")
                conn["id"] = f"{record['id']}/{field}/{cname}"
                conn["type"] = f"Microsoft.Network/privateEndpoints/{field}"
                conn["etag"] = f'W/"{uuid.uuid4()}"'
                cprops["provisioningState"] = "Succeeded"
                cprops.setdefault("privateLinkServiceConnectionState", {
                    "status": status, "description": description, "actionsRequired": "None"})

    def put_workspace(self, record: dict, stored: dict, creating: bool) -> None:
        props = stored["properties"]
        for key, rtype in WORKSPACE_REFERENCES.items():
            value = props.get(key)
            if value is None:
                continue
            info = parse_id(value)
            if info is None or info["type"].lower() != rtype.lower():
                raise ArmError(400, "ValidationError",
                               f"properties.{key} must be the ARM id of a {rtype} resource, got '{value}'.")
        extra = record["extra"]
        extra.setdefault("workspaceId", str(uuid.uuid4()))
        loc = stored.get("location", "")
        props["workspaceId"] = extra["workspaceId"]
        props["tenantId"] = self.tenant
        props["discoveryUrl"] = props.get("discoveryUrl") or f"https://{loc}.api.azureml.ms/discovery"
        props["mlFlowTrackingUri"] = (f"azureml://{loc}.api.azureml.ms/mlflow/v1.0{record['id']}")
        props["storageHnsEnabled"] = False
        props.setdefault("publicNetworkAccess", "Enabled")
        self.fill_identity(record, stored)

    def put_online_endpoint(self, record: dict, stored: dict, creating: bool, workspace: dict) -> None:
        props = stored["properties"]
        keys = props.pop("keys", None)
        if creating or keys:
            record["secrets"] = {
                "primaryKey": (keys or {}).get("primaryKey") or base64.b64encode(secrets.token_bytes(24)).decode(),
                "secondaryKey": (keys or {}).get("secondaryKey") or base64.b64encode(secrets.token_bytes(24)).decode(),
            }
        loc = stored.get("location", "")
        props["scoringUri"] = f"https://{record['name']}.{loc}.inference.ml.azure.com/score"
        props["swaggerUri"] = f"https://{record['name']}.{loc}.inference.ml.azure.com/swagger.json"
        props.setdefault("publicNetworkAccess", "Enabled")
        props.setdefault("traffic", {})
        self.fill_identity(record, stored)

    def fill_identity(self, record: dict, stored: dict) -> None:
        identity = stored.get("identity")
        if not identity:
            return
        if "SystemAssigned" in identity.get("type", ""):
            record["extra"].setdefault("principalId", str(uuid.uuid4()))
            identity["principalId"] = record["extra"]["principalId"]
            identity["tenantId"] = self.tenant
        else:
            identity.pop("principalId", None)
            identity.pop("tenantId", None)
        for uid, value in (identity.get("userAssignedIdentities") or {}).items():
            seed = hashlib.sha256(uid.lower().encode()).hexdigest()
            identity["userAssignedIdentities"][uid] = {
                "principalId": str(uuid.UUID(seed[:32])), "clientId": str(uuid.UUID(seed[32:64]))}

    def patch(self, op: V.Operation, p: dict, body: dict) -> Reply:
        rtype = op.rtype
        self.require_rg(p, for_write=rtype != V.RESOURCE_GROUPS)
        self.require_parent(rtype, p)
        record = self.get(self.rid(rtype, p))
        if record is None:
            if rtype == V.RESOURCE_GROUPS:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{p['resourceGroupName']}' could not "
                                                             "be found.")
            raise self.not_found(rtype, p, self.rid(rtype, p).rsplit("/", 1)[1])
        stored = record["body"]
        if "tags" in body:
            if body["tags"] is None:
                stored.pop("tags", None)
            else:
                stored["tags"] = dict(body["tags"])
        if rtype == V.RESOURCE_GROUPS and "managedBy" in body:
            stored["managedBy"] = body["managedBy"]
        if rtype in (V.WORKSPACES, V.ONLINE_ENDPOINTS) and body.get("identity") is not None:
            identity = dict(stored.get("identity") or {})
            identity.update({k: v for k, v in body["identity"].items() if v is not None})
            stored["identity"] = identity
            self.fill_identity(record, stored)
        if rtype == V.WORKSPACES:
            if body.get("sku") is not None:
                stored["sku"] = body["sku"]
            for key, value in (body.get("properties") or {}).items():
                stored["properties"][key] = value
            self.put_workspace(record, stored, creating=False)
        if rtype in (V.VIRTUAL_NETWORKS, V.PRIVATE_ENDPOINTS, V.SUBNETS):
            record["extra"]["etag"] = str(uuid.uuid4())
        record["modified"] = now()
        return Reply(200, self.render(record))

    def delete(self, op: V.Operation, p: dict, base_url: str) -> Reply:
        rtype = op.rtype
        rid = self.rid(rtype, p)
        if rtype == V.RESOURCE_GROUPS:
            record = self.get(rid)
            if record is None:
                raise ArmError(404, "ResourceGroupNotFound", f"Resource group '{p['resourceGroupName']}' could not "
                                                             "be found.")
            if record["body"]["properties"].get("provisioningState") == "Deleting":
                op_id = record.get("op")
                o = self.state.operations.get(op_id)
                return Reply(202, None, {"Location": f"{base_url}{o['result_path']}?api-version={o['api']}",
                                         "Retry-After": "1"} if o else {})
            self.set_state(record, "Deleting")
            headers = self.start_operation("delete", "DELETE", record, rid, base_url)
            return Reply(202, None, headers)
        self.require_rg(p)
        if PARENT_TYPE.get(rtype) and self.get(self.rid(PARENT_TYPE[rtype], p)) is None:
            return Reply(204)
        record = self.get(rid)
        if record is None:
            return Reply(204)
        blocker = self.delete_blocker(record, cascade=False)
        if blocker:
            raise ArmError(400, blocker["code"], blocker["message"])
        self.set_state(record, "Deleting")
        # Location (what the SDKs read) plus Azure-AsyncOperation, as these services send both.
        headers = self.start_operation("delete", "DELETE", record, rid, base_url)
        return Reply(202, None, headers)

    def endpoint_secret(self, op: V.Operation, p: dict) -> Reply:
        self.require_rg(p)
        self.require_parent(op.rtype, p)
        record = self.get(self.rid(op.rtype, p))
        if record is None:
            raise self.not_found(op.rtype, p, p["endpointName"])
        mode = record["body"]["properties"].get("authMode")
        if op.op_id.endswith("ListKeys"):
            if mode != "Key":
                raise ArmError(400, "UserError",
                               f"Keys are only available for endpoints with authMode Key; endpoint "
                               f"'{record['name']}' uses {mode}.")
            return Reply(200, dict(record["secrets"]))
        if mode == "Key":
            raise ArmError(400, "UserError",
                           f"Tokens are only available for endpoints with authMode AMLToken or AADToken; endpoint "
                           f"'{record['name']}' uses Key.")
        issued = int(datetime.datetime.now(datetime.timezone.utc).timestamp())
        return Reply(200, {"accessToken": secrets.token_urlsafe(32), "tokenType": "Bearer",
                           "expiryTimeUtc": issued + 3600, "refreshAfterTimeUtc": issued + 1800})


def _norm_loc(loc) -> str:
    return (loc or "").replace(" ", "").lower()


def _text(raw: bytes):
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return raw.decode("utf-8", "replace")


def make_handler(server: ArmServer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "zerotrust-arm-test/1"

        def log_message(self, fmt, *args):  # the exchange log has everything; keep stderr quiet
            pass

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                chunks = []
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return b"".join(chunks)
                    chunks.append(self.rfile.read(size))
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _serve(self):
            raw = self._body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            host = self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}"
            reply = server.handle(self.command, self.path, headers, raw, f"http://{host}")
            data = b"" if reply.body is None else json.dumps(reply.body).encode()
            self.send_response(reply.status)
            for k, v in reply.headers.items():
                self.send_header(k, str(v))
            if reply.body is not None:
                self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    return Handler


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("port", type=int, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", required=True, help="the bearer token every ARM request must carry")
    parser.add_argument("--port-file", help="write the port here once listening")
    parser.add_argument("--state", help="JSON state file: loaded at start, written after each change")
    parser.add_argument("--lro-polls", type=int, default=2,
                        help="polls after which a long-running operation completes (0: at once)")
    parser.add_argument("--tenant", default="5b3fe9a4-0c2e-4f37-9a55-7e8d0a2c1f00",
                        help="tenant id reported for managed identities")
    args = parser.parse_args(argv)

    app = ArmServer(args.token, args.state, args.lro_polls, args.tenant)
    httpd = ThreadingHTTPServer((args.host, args.port), make_handler(app))
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        Path(tmp).write_text(f"{port}\n")
        os.replace(tmp, args.port_file)

    def stop(*_):
        threading.Thread(target=httpd.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"listening on http://{args.host}:{port}", flush=True)
    httpd.serve_forever()
    httpd.server_close()


if __name__ == "__main__":
    main()
