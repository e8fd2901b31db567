"""A small client for the test cluster's API, for out-of-band edits and for checking what
exists, independent of the provider under test."""

import base64
import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import yaml

from conftest import ROOT


def cluster_env() -> dict:
    """Start (or reuse) the local apiserver and return its environment variables."""
    subprocess.run(["bash", str(ROOT / "scripts" / "kube-up.sh")], check=True, timeout=900)
    kube_dir = Path(os.environ.get("ZT_KUBE_DIR", ROOT / ".cache" / "kube"))
    env = {}
    for line in (kube_dir / "env").read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):]
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value.strip().strip("'\"")
    return env


class Kube:
    def __init__(self, kubeconfig: str):
        config = yaml.safe_load(Path(kubeconfig).read_text())
        cluster = config["clusters"][0]["cluster"]
        user = config["users"][0]["user"]
        self.server = cluster["server"].rstrip("/")
        self.token = user["token"]
        self.ctx = ssl.create_default_context()
        ca = cluster.get("certificate-authority-data")
        if ca:
            self.ctx.load_verify_locations(cadata=base64.b64decode(ca).decode())
        elif cluster.get("certificate-authority"):
            self.ctx.load_verify_locations(cafile=cluster["certificate-authority"])

    def request(self, method: str, path: str, body=None, content_type="application/json"):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.server + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as resp:
                return resp.status, json.loads(resp.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def get(self, path: str):
        status, body = self.request("GET", path)
        return body if status == 200 else None

    def exists(self, path: str) -> bool:
        return self.get(path) is not None

    def patch_merge(self, path: str, patch: dict):
        status, body = self.request("PATCH", path, patch, "application/merge-patch+json")
        assert status == 200, body
        return body

    def delete(self, path: str):
        status, body = self.request("DELETE", path)
        assert status in (200, 202), body

    def create(self, path: str, obj: dict):
        status, body = self.request("POST", path, obj)
        assert status == 201, body
        return body


def restart_apiserver_after(kube: Kube, stop, wait_seconds: int = 60) -> None:
    """Kill the running kube-apiserver, call `stop()` while it is down, then start it again with
    the same command line (etcd keeps the data), and wait until it is ready."""
    kube_dir = Path(os.environ.get("ZT_KUBE_DIR", ROOT / ".cache" / "kube"))
    pid_file = kube_dir / "kube-apiserver.pid"
    pid = int(pid_file.read_text().strip())
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    os.kill(pid, 9)
    deadline = time.time() + 30
    while Path(f"/proc/{pid}").exists() and time.time() < deadline:
        time.sleep(0.1)
    stop()
    log = open(kube_dir / "logs" / "kube-apiserver.log", "ab")
    proc = subprocess.Popen([a.decode() for a in argv], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    pid_file.write_text(f"{proc.pid}\n")
    deadline = time.time() + wait_seconds
    while time.time() < deadline:
        try:
            # A list answers only once storage is reachable again.
            status, _ = kube.request("GET", "/api/v1/namespaces?limit=1")
            if status == 200:
                return
        except (OSError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError("kube-apiserver did not come back")
