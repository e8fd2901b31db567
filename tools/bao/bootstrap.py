"""Bring a freshly started OpenBao server of scripts/bao-up.sh to "ready": stdlib only.

    python tools/bao/bootstrap.py --dir DIR --url http://127.0.0.1:PORT --pid PID [--timeout S]

Steps, each only when needed, so the same call serves a first start and every restart:

1. Wait until the listener answers GET /v1/sys/health (any status); fail at once if PID died.
2. Not initialized (501): PUT /v1/sys/init with one key share and threshold 1, and save the
   answer (unseal key, root token) to DIR/init.json, mode 0600, written atomically.
   Initialized but no DIR/init.json: fail (the keys are lost; scripts/bao-up.sh starts clean).
3. Sealed (503): PUT /v1/sys/unseal with the saved key. This is all a restart needs.
4. Wait for 200 (active). With raft storage a single node first runs an election; until
   it wins, health says 429 (standby).
5. Make sure the "unprivileged" test token exists: ACL policy `zt-unprivileged` (it only
   lets the token list mounts through `sys/mounts`; nothing on any secrets engine, pki
   included) plus the `default` policy, in an orphan token saved to DIR/unprivileged-token
   (0600). A token that is gone or has less than a day left is replaced.

Messages go to stderr; the exit status is 0 only when the server is active and both tokens
work.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

POLICY_NAME = "zt-unprivileged"
POLICY = """\
# zerotrust tests: a valid token for "permission denied" cases. Besides the default policy
# (token self-lookup, cubbyhole, ...) it may only list the mounts; it has no capability on
# any secrets engine path (pki/... or any other mount).
path "sys/mounts" {
  capabilities = ["read"]
}
"""


def say(msg: str) -> None:
    print(f"[zerotrust] {msg}", file=sys.stderr, flush=True)


def call(url: str, method: str, path: str, token: str | None = None, body: dict | None = None,
         timeout: float = 10):
    """(status, decoded JSON or None). Connection errors raise OSError."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(f"{url}/v1/{path}", data=data, method=method)
    if token:
        req.add_header("X-Vault-Token", token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as err:
        status, raw = err.code, err.read()
    try:
        return status, (json.loads(raw) if raw else None)
    except ValueError:
        return status, {"raw": raw.decode(errors="replace")}


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def health(url: str) -> int | None:
    try:
        # Short: while polling, a port someone else holds must not stall us.
        return call(url, "GET", "sys/health", timeout=2)[0]
    except OSError:
        return None


def wait_for(url: str, pid: int, deadline: float, want) -> int:
    """Poll the health status until want(status) holds; fail if the server exits or time runs out."""
    while True:
        status = health(url)
        if status is not None and want(status):
            return status
        if not alive(pid):
            raise SystemExit(f"bao (pid {pid}) exited (last health status {status})")
        if time.monotonic() > deadline:
            raise SystemExit(f"bao at {url} not ready in time (last health status {status})")
        time.sleep(0.05)


def write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def ensure_unprivileged(url: str, root: str, dir_: Path) -> None:
    status, body = call(url, "PUT", f"sys/policies/acl/{POLICY_NAME}", root, {"policy": POLICY})
    if status not in (200, 204):
        raise SystemExit(f"writing policy {POLICY_NAME}: HTTP {status} {body}")
    token_file = dir_ / "unprivileged-token"
    if token_file.exists():
        token = token_file.read_text().strip()
        status, body = call(url, "POST", "auth/token/lookup", root, {"token": token})
        if status == 200 and body["data"].get("ttl", 0) > 86400:
            return
        say("the unprivileged token is gone or about to expire; making a new one")
    status, body = call(url, "POST", "auth/token/create-orphan", root, {
        "policies": [POLICY_NAME],
        "display_name": POLICY_NAME,
        "ttl": "768h",
        "renewable": True,
    })
    if status != 200:
        raise SystemExit(f"creating the unprivileged token: HTTP {status} {body}")
    write_private(token_file, body["auth"]["client_token"] + "\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", required=True, type=Path)
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", required=True, type=int)
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    url, dir_ = args.url.rstrip("/"), args.dir
    deadline = time.monotonic() + args.timeout
    init_file = dir_ / "init.json"

    status = wait_for(url, args.pid, deadline, lambda s: True)
    if status == 501:
        if init_file.exists():
            raise SystemExit(f"bao's storage is empty but {init_file} exists: the data was lost")
        status, body = call(url, "PUT", "sys/init", None, {"secret_shares": 1, "secret_threshold": 1})
        if status != 200:
            raise SystemExit(f"sys/init: HTTP {status} {body}")
        saved = {"unseal_key": body["keys_base64"][0], "root_token": body["root_token"]}
        write_private(init_file, json.dumps(saved, indent=2) + "\n")
        say("initialized bao (1 key share); unseal key and root token in " + str(init_file))
        status = health(url)
    if not init_file.exists():
        raise SystemExit(f"bao is initialized but {init_file} is missing: cannot unseal")
    saved = json.loads(init_file.read_text())
    if status == 503:
        status, body = call(url, "PUT", "sys/unseal", None, {"key": saved["unseal_key"]})
        if status != 200 or body.get("sealed"):
            raise SystemExit(f"sys/unseal: HTTP {status} {body}")
    wait_for(url, args.pid, deadline, lambda s: s == 200)

    status, body = call(url, "GET", "auth/token/lookup-self", saved["root_token"])
    if status != 200:
        raise SystemExit(f"the saved root token does not work: HTTP {status} {body}")
    ensure_unprivileged(url, saved["root_token"], dir_)


if __name__ == "__main__":
    try:
        main()
    except SystemExit as exc:
        if isinstance(exc.code, str):
            say(exc.code)
            sys.exit(1)
        raise
