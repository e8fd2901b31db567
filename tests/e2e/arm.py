"""The Azure ARM test backend for the e2e tests: tools/arm/server.py on loopback, one per test.

The server holds resource groups, virtual networks and subnets, private endpoints, ML workspaces
and their online endpoints, and checks every request against Microsoft's published definitions of
those APIs (tools/arm/validate.py). A request they reject gets HTTP 400 `ZeroTrustSpecViolation`
and is counted; at the end of the session conftest.py prints

    ARM requests: N, rejected by Microsoft's API definitions: M

and fails the session when M > 0. Requests a test sends on purpose to be rejected carry the
header `x-zt-expect-violation: 1` (`request(..., expect_violation=True)`) and are counted apart.

    def test_something(arm_server):
        env = arm_server.env()          # endpoint, token, subscription for the provider
        arm_server.request("GET", arm_server.rg_path("rg1"))
        arm_server.kill(); arm_server.restart()   # same port, same resources

State is saved to a JSON file in the test's temp dir before each answer leaves, so `kill()`
(SIGKILL) followed by `restart()` finds the same resources, running operations and counters.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "tools" / "arm" / "server.py"
API_VERSIONS = json.loads((ROOT / "tools" / "arm" / "api_versions.json").read_text())

TOKEN = "zerotrust-arm-test-token"
SUBSCRIPTION = "4a6b3c1d-2e5f-4a7b-8c9d-0e1f2a3b4c5d"
OTHER_SUBSCRIPTION = "9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f"
EXPECT_VIOLATION = "x-zt-expect-violation"

# What every ARM server of the session saw, added up when each one stops.
SESSION = {"servers": 0, "requests": 0, "rejected": 0, "rejected_expected": 0, "response_violations": 0,
           "rejections": []}


class ArmServer:
    """One ARM test server process, its state file and its port."""

    def __init__(self, workdir: Path, lro_polls: int = 2, python: str | None = None):
        self.dir = Path(workdir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.state_file = self.dir / "arm-state.json"
        self.port_file = self.dir / "arm-port"
        self.log_file = self.dir / "arm-server.out"
        self.lro_polls = lro_polls
        self.python = python or sys.executable
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.collected = False

    # ---- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "ArmServer":
        """Start on a free port (or, after a stop or kill, on the same port as before)."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.port_file.unlink(missing_ok=True)
        cmd = [self.python, str(SERVER), str(self.port), "--token", TOKEN, "--port-file", str(self.port_file),
               "--state", str(self.state_file), "--lro-polls", str(self.lro_polls)]
        out = self.log_file.open("a")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        out.close()
        deadline = time.time() + 30
        while not self.port_file.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"ARM server exited {self.proc.returncode}:\n{self.log_file.read_text()}")
            assert time.time() < deadline, f"ARM server did not start:\n{self.log_file.read_text()}"
            time.sleep(0.05)
        self.port = int(self.port_file.read_text().strip())
        while not self.is_up():
            assert time.time() < deadline, f"ARM server not answering:\n{self.log_file.read_text()}"
            time.sleep(0.05)
        return self

    def is_up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/_zt/health", timeout=5) as resp:
                return resp.status == 200
        except OSError:
            return False

    def stop(self) -> None:
        """SIGTERM and wait. The state file stays, so `restart()` continues from it."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def kill(self) -> None:
        """SIGKILL, as a crash: nothing is saved at that moment (everything answered already is)."""
        assert self.proc is not None and self.proc.poll() is None, "not running"
        self.proc.kill()
        self.proc.wait(timeout=30)

    def restart(self) -> "ArmServer":
        self.stop()
        return self.start()

    # ---- what the provider needs -------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict:
        """Variables pointing a client at this server (names for the provider to pick from)."""
        return {
            "ZT_ARM_ENDPOINT": self.url,
            "ZT_ARM_TOKEN": TOKEN,
            "ZT_ARM_SUBSCRIPTION_ID": SUBSCRIPTION,
            "AZURE_SUBSCRIPTION_ID": SUBSCRIPTION,
        }

    # ---- paths -------------------------------------------------------------------------------

    @staticmethod
    def rg_path(rg: str, sub: str = SUBSCRIPTION) -> str:
        return f"/subscriptions/{sub}/resourceGroups/{rg}"

    def vnet_path(self, rg: str, vnet: str) -> str:
        return f"{self.rg_path(rg)}/providers/Microsoft.Network/virtualNetworks/{vnet}"

    def subnet_path(self, rg: str, vnet: str, subnet: str) -> str:
        return f"{self.vnet_path(rg, vnet)}/subnets/{subnet}"

    def pe_path(self, rg: str, pe: str) -> str:
        return f"{self.rg_path(rg)}/providers/Microsoft.Network/privateEndpoints/{pe}"

    def workspace_path(self, rg: str, ws: str) -> str:
        return f"{self.rg_path(rg)}/providers/Microsoft.MachineLearningServices/workspaces/{ws}"

    def endpoint_path(self, rg: str, ws: str, ep: str) -> str:
        return f"{self.workspace_path(rg, ws)}/onlineEndpoints/{ep}"

    @staticmethod
    def api_version_for(path: str) -> str:
        """The pinned api-version of the resource type a path addresses."""
        lowered = path.lower().split("?")[0]
        if "/onlineendpoints" in lowered:
            return API_VERSIONS["Microsoft.MachineLearningServices/workspaces/onlineEndpoints"]
        if "/microsoft.machinelearningservices/" in lowered:
            return API_VERSIONS["Microsoft.MachineLearningServices/workspaces"]
        if "/subnets" in lowered:
            return API_VERSIONS["Microsoft.Network/virtualNetworks/subnets"]
        if "/privateendpoints" in lowered:
            return API_VERSIONS["Microsoft.Network/privateEndpoints"]
        if "/virtualnetworks" in lowered:
            return API_VERSIONS["Microsoft.Network/virtualNetworks"]
        return API_VERSIONS["Microsoft.Resources/resourceGroups"]

    # ---- HTTP --------------------------------------------------------------------------------

    def request(self, method: str, path: str, body=None, *, api_version: str | None = "pinned",
                headers: dict | None = None, token: str | None = TOKEN, expect_violation: bool = False,
                raw: bytes | None = None) -> tuple[int, dict, object]:
        """One plain HTTP request. `path` may be a full URL (e.g. an Azure-AsyncOperation header).
        Returns (status, headers with lower-case names, parsed JSON body or None)."""
        url = path if path.startswith("http") else self.url + path
        if api_version == "pinned" and "api-version=" not in url:
            api_version = self.api_version_for(path if not path.startswith("http") else url.split("/", 3)[3])
        if api_version not in (None, "pinned") and "api-version=" not in url:
            url += ("&" if "?" in url else "?") + f"api-version={api_version}"
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if token is not None:
            req.add_header("Authorization", f"Bearer {token}")
        if expect_violation:
            req.add_header(EXPECT_VIOLATION, "1")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                status, hdrs, payload = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, dict(e.headers), e.read()
        hdrs = {k.lower(): v for k, v in hdrs.items()}
        return status, hdrs, (json.loads(payload) if payload else None)

    def wait(self, headers: dict, timeout: float = 30) -> dict:
        """Poll a long-running operation from its response headers until it ends; returns the
        last Azure-AsyncOperation status body (or {"status": ...} from the Location URL)."""
        deadline = time.time() + timeout
        url = headers.get("azure-asyncoperation")
        while True:
            if url:
                status, _, body = self.request("GET", url)
                assert status == 200, (status, body)
                if body["status"] != "InProgress":
                    return body
            else:
                status, _, body = self.request("GET", headers["location"])
                if status != 202:
                    return {"status": "Succeeded" if status in (200, 204) else "Failed", "http": status, "body": body}
            assert time.time() < deadline, f"operation still running after {timeout}s"
            time.sleep(0.02)

    def _admin(self, method: str, name: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/_zt/{name}", data=data, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())

    def log(self, since: int = 0) -> list[dict]:
        return self._admin("GET", f"log?since={since}")["exchanges"]

    def violations(self) -> list[dict]:
        return self._admin("GET", "violations")["violations"]

    def stats(self) -> dict:
        return self._admin("GET", "stats")

    def resources(self) -> dict:
        return self._admin("GET", "resources")["resources"]

    def reset(self, everything: bool = False) -> None:
        """Forget every resource, operation and fault rule (`everything`: also the log and counters)."""
        self._admin("POST", "reset?all=1" if everything else "reset", {})

    def fail_next(self, path_regex: str, *, status: int = 500, count: int = 1, method: str | None = None,
                  code: str | None = None, message: str | None = None, body=None, headers: dict | None = None,
                  lro_error: dict | None = None) -> dict:
        """Make the next `count` requests whose path matches `path_regex` fail with `status` and an
        ARM error (`code`/`message`, or `body` as given). With `lro_error` ({"code", "message"}) the
        request succeeds but its long-running operation ends as Failed with that error."""
        rule = {"path": path_regex, "status": status, "count": count}
        for key, value in (("method", method), ("code", code), ("message", message), ("body", body),
                           ("headers", headers), ("lro_error", lro_error)):
            if value is not None:
                rule[key] = value
        return self._admin("POST", "fail", rule)

    # ---- the session tally ---------------------------------------------------------------------

    def final_stats(self) -> dict:
        if self.proc is not None and self.proc.poll() is None:
            try:
                return {"stats": self.stats(), "violations": self.violations()}
            except OSError:
                pass
        if self.state_file.exists():
            state = json.loads(self.state_file.read_text())
            return {"stats": state["counters"], "violations": state["violations"]}
        return {"stats": {}, "violations": []}

    def collect(self) -> None:
        """Add this server's counts to the session tally (once)."""
        if self.collected:
            return
        self.collected = True
        final = self.final_stats()
        stats = final["stats"]
        SESSION["servers"] += 1
        for key in ("requests", "rejected", "rejected_expected", "response_violations"):
            SESSION[key] += int(stats.get(key, 0))
        SESSION["rejections"] += [v for v in final["violations"] if not v.get("expected")]


@pytest.fixture
def arm_server(tmp_path):
    """A fresh ARM test server for one test, stopped (and counted) afterwards."""
    server = ArmServer(tmp_path / "arm").start()
    try:
        yield server
    finally:
        server.collect()
        server.stop()


def _failure_lines() -> list[str]:
    if not (SESSION["rejected"] or SESSION["response_violations"]):
        return []
    lines = ["ARM requests or responses that Microsoft's API definitions reject:"]
    lines += [f"  {v['kind']}: {v['request']}: {'; '.join(v['reasons'])}" for v in SESSION["rejections"][:20]]
    return lines


def pytest_terminal_summary(terminalreporter):
    """Hook (imported into conftest.py): the session's ARM count, always printed."""
    line = f"ARM requests: {SESSION['requests']}, rejected by Microsoft's API definitions: {SESSION['rejected']}"
    if SESSION["rejected_expected"]:
        line += f" (plus {SESSION['rejected_expected']} deliberately invalid test requests)"
    terminalreporter.write_line(line)
    for failure in _failure_lines():
        terminalreporter.write_line(failure, red=True)


def pytest_sessionfinish(session, exitstatus):
    """Hook (imported into conftest.py): a rejected provider request, or a response of the
    server that the definitions reject, fails the session even when every test passed."""
    if _failure_lines() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
