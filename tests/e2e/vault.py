"""The Vault PKI test backend for the e2e tests: OpenBao 2.7.2 on loopback (scripts/bao-up.sh).
Start it, reset it, SIGKILL and restart it in the middle of a `pulumi up`, seal and unseal it,
and a small HTTP client for checking what exists independently of the provider under test.

OpenBao runs as a real server (raft storage under $ZT_BAO_DIR/data, one unseal key), not
`-dev`, so after `kill()` and `restart()` the same mounts, issuers, keys, roles and issued
certificates are there, and the root and unprivileged tokens still work.

The env (`bao_env()`, `read_env()`): VAULT_ADDR and ZT_BAO_URL (plain HTTP), VAULT_TOKEN and
ZT_BAO_ROOT_TOKEN (root), ZT_BAO_UNPRIVILEGED_TOKEN (a valid token with no capability on any
secrets engine), ZT_BAO_TLS_ADDR (the same server over HTTPS) and ZT_BAO_CA_FILE (the CA
that listener's certificate chains to), ZT_BAO_VERSION, ZT_BAO_DIR.
"""

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from conftest import ROOT

BAO_UP = ROOT / "scripts" / "bao-up.sh"

# Mounts every server has and reset() keeps; they cannot be unmounted anyway.
BUILTIN_MOUNTS = {"sys/", "identity/", "cubbyhole/"}
BUILTIN_AUTH = {"token/"}
# The unprivileged token's policy is made by tools/bao/bootstrap.py; reset() keeps it.
BUILTIN_POLICIES = {"root", "default", "zt-unprivileged"}


def bao_dir() -> Path:
    """$ZT_BAO_DIR, else $ZT_CACHE/bao, as in tools/bao/bao-env.sh."""
    if os.environ.get("ZT_BAO_DIR"):
        return Path(os.environ["ZT_BAO_DIR"])
    return Path(os.environ.get("ZT_CACHE") or ROOT / ".cache") / "bao"


def read_env() -> dict:
    """The variables of the env file of the running backend, without starting anything."""
    env = {}
    for line in (bao_dir() / "env").read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):]
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value.strip().strip("'\"")
    return env


def bao_env() -> dict:
    """Start (or reuse) OpenBao and return its environment variables (see the module doc)."""
    subprocess.run(["bash", str(BAO_UP)], check=True, timeout=600)
    return read_env()


class VaultError(Exception):
    """A non-2xx answer: `status` is the HTTP status, `errors` Vault's "errors" list."""

    def __init__(self, method: str, path: str, status: int, errors):
        super().__init__(f"{method} /v1/{path}: HTTP {status}: {errors}")
        self.status, self.errors = status, errors


class Client:
    """A tiny Vault HTTP client (urllib). Paths are relative to /v1/ ("pki/roles/web").

    get(path)          the decoded answer, or None on 404
    list(path)         the "keys" of a LIST, [] when there are none (Vault answers 404 then)
    post(path, body)   the decoded answer ({} for 204); put() is the same with PUT
    delete(path)       the HTTP status (204 normally)
    request(...)       (status, decoded body) for any method, raising nothing
    Every other non-2xx answer raises VaultError.
    """

    def __init__(self, url: str, token: str | None, cafile: str | None = None, timeout: float = 30):
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout
        self._ssl = ssl.create_default_context(cafile=cafile) if url.startswith("https:") else None

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        path = path.lstrip("/")
        if path.startswith("v1/"):
            path = path[3:]
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(f"{self.url}/v1/{path}", data=data, method=method)
        tok = token if token is not None else self.token
        if tok:
            req.add_header("X-Vault-Token", tok)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._ssl) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            status, raw = err.code, err.read()
        try:
            decoded = json.loads(raw) if raw else {}
        except ValueError:
            decoded = {"raw": raw.decode(errors="replace")}
        return status, decoded

    def _checked(self, method: str, path: str, body=None, allow=()):
        status, decoded = self.request(method, path, body)
        if status >= 400 and status not in allow:
            raise VaultError(method, path, status, decoded.get("errors", decoded))
        return status, decoded

    def get(self, path: str):
        status, decoded = self._checked("GET", path, allow=(404,))
        return None if status == 404 else decoded

    def list(self, path: str) -> list:
        status, decoded = self._checked("LIST", path, allow=(404,))
        return [] if status == 404 else decoded["data"]["keys"]

    def post(self, path: str, body: dict | None = None):
        return self._checked("POST", path, body or {})[1]

    def put(self, path: str, body: dict | None = None):
        return self._checked("PUT", path, body or {})[1]

    def delete(self, path: str) -> int:
        return self._checked("DELETE", path)[0]


def client(token: str | None = None, env: dict | None = None, tls: bool = False) -> Client:
    """A client for the running backend: the root token unless `token` is given; over the TLS
    listener (trusting ZT_BAO_CA_FILE) with `tls=True`."""
    env = env or read_env()
    if tls:
        return Client(env["ZT_BAO_TLS_ADDR"], token or env["ZT_BAO_ROOT_TOKEN"], cafile=env["ZT_BAO_CA_FILE"])
    return Client(env["ZT_BAO_URL"], token or env["ZT_BAO_ROOT_TOKEN"])


def unprivileged(env: dict | None = None) -> Client:
    env = env or read_env()
    return client(env["ZT_BAO_UNPRIVILEGED_TOKEN"], env)


# Root-token shortcuts on the running backend's env file.
def get(path: str):
    return client().get(path)


def post(path: str, body: dict | None = None):
    return client().post(path, body)


def list(path: str) -> list:  # noqa: A001 - mirrors the Vault verb
    return client().list(path)


def delete(path: str) -> int:
    return client().delete(path)


def health(env: dict | None = None) -> int | None:
    """The status of GET /v1/sys/health: 200 active, 429 standby, 501 not initialized, 503
    sealed; None when nothing answers."""
    try:
        return client(env=env).request("GET", "sys/health")[0]
    except OSError:
        return None


def is_up(env: dict | None = None) -> bool:
    return health(env) == 200


def reset(env: dict | None = None) -> None:
    """Isolation between tests without a restart: disable every secrets engine except sys/,
    identity/ and cubbyhole/ (their data goes with them: issuers, keys, roles, certificates),
    every auth method except token/, and every ACL policy except root, default and
    zt-unprivileged. Tokens are kept (the root and unprivileged tokens included)."""
    c = client(env=env)
    for path in c.get("sys/mounts")["data"]:
        if path not in BUILTIN_MOUNTS:
            c.delete(f"sys/mounts/{path.rstrip('/')}")
    for path in c.get("sys/auth")["data"]:
        if path not in BUILTIN_AUTH:
            c.delete(f"sys/auth/{path.rstrip('/')}")
    for name in c.list("sys/policies/acl"):
        if name not in BUILTIN_POLICIES:
            c.delete(f"sys/policies/acl/{name}")


def _pid() -> int:
    pid = int((bao_dir() / "bao.pid").read_text().strip())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert "bao" in cmdline and f"-config={bao_dir().resolve()}/bao.hcl" in cmdline, \
        f"pid {pid} is not our bao: {cmdline}"
    return pid


def _gone(pid: int) -> bool:
    """The process no longer runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def kill() -> None:
    """SIGKILL the running OpenBao, as a crash would. Returns once the process is gone."""
    pid = _pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 30
    while not _gone(pid):
        assert time.time() < deadline, f"bao (pid {pid}) still runs 30s after SIGKILL"
        time.sleep(0.05)


def restart() -> dict:
    """Start OpenBao again after `kill()`: same ports, same storage, unsealed with the saved
    key. Returns its env, which is the same as before the kill (tokens included)."""
    subprocess.run(["bash", str(BAO_UP), "--restart"], check=True, timeout=600)
    return read_env()


def kill_when(condition, timeout: float = 120, interval: float = 0.05) -> None:
    """Poll `condition()` (e.g. "the issuer exists", "the pulumi process printed X") and
    SIGKILL OpenBao as soon as it is true; for killing it in the middle of a `pulumi up` that
    runs in the background. Exceptions from `condition` count as false."""
    deadline = time.time() + timeout
    while True:
        try:
            if condition():
                break
        except Exception:
            pass
        assert time.time() < deadline, f"condition not met within {timeout}s; bao not killed"
        time.sleep(interval)
    kill()


def kill_and_restart(during=None) -> dict:
    """SIGKILL OpenBao, call `during()` while it is down, start it again with its storage."""
    kill()
    if during is not None:
        during()
    return restart()


def seal(env: dict | None = None) -> None:
    """Seal the server (it keeps running and answers 503 "Vault is sealed" to everything but
    sys/health, sys/seal-status and sys/unseal) until `unseal()`."""
    client(env=env).put("sys/seal")


def unseal(env: dict | None = None, timeout: float = 30) -> None:
    """Unseal with the saved key and wait until the server is active again."""
    key = json.loads((bao_dir() / "init.json").read_text())["unseal_key"]
    client(env=env).put("sys/unseal", {"key": key})
    deadline = time.time() + timeout
    while not is_up(env):
        assert time.time() < deadline, f"bao not active {timeout}s after unseal"
        time.sleep(0.05)
