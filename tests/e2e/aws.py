"""The AWS test backend for the e2e tests: moto on loopback (scripts/moto-up.sh, run by
tools/moto/launcher.py). Start it, reset it, SIGKILL and restart it in the middle of a
`pulumi up`, and boto3 clients pointed at it, for checking what exists independently of
the provider under test.

moto keeps its state in $ZT_MOTO_DIR/state.pickle, written before each state-changing
request is answered, so after `kill()` and `restart()` the same ARNs, hosted-zone ids, CA
keys and certificates are there again, as a real cloud would keep them.
"""

import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import boto3
from botocore.config import Config

from conftest import ROOT

MOTO_UP = ROOT / "scripts" / "moto-up.sh"


def moto_dir() -> Path:
    return Path(os.environ.get("ZT_MOTO_DIR", ROOT / ".cache" / "moto"))


def read_env() -> dict:
    """The variables of the env file of the running backend, without starting anything."""
    env = {}
    for line in (moto_dir() / "env").read_text().splitlines():
        line = line.strip()
        if line.startswith("export "):
            line = line[len("export "):]
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            env[key] = value.strip().strip("'\"")
    return env


def moto_env() -> dict:
    """Start (or reuse) moto and return its environment variables: AWS_ENDPOINT_URL, the fake
    credentials, AWS_REGION/AWS_DEFAULT_REGION, ZT_MOTO_URL and the rest of the env file."""
    subprocess.run(["bash", str(MOTO_UP)], check=True, timeout=600)
    return read_env()


def is_up(env: dict | None = None) -> bool:
    url = (env or read_env())["ZT_MOTO_URL"]
    try:
        with urllib.request.urlopen(f"{url}/moto-api/", timeout=5) as resp:
            return resp.status == 200
    except (OSError, urllib.error.URLError):
        return False


def reset(env: dict | None = None) -> None:
    """Empty moto: every service, every account, and the saved state with them."""
    url = (env or read_env())["ZT_MOTO_URL"]
    req = urllib.request.Request(f"{url}/moto-api/reset", data=b"", method="POST")
    with urllib.request.urlopen(req, timeout=30) as resp:
        assert resp.status == 200, resp.read()


def _pid() -> int:
    pid = int((moto_dir() / "moto.pid").read_text().strip())
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    assert "launcher.py" in cmdline and str(moto_dir()) in cmdline, f"pid {pid} is not our moto: {cmdline}"
    return pid


def _gone(pid: int) -> bool:
    """The process no longer runs (a zombie nobody has reaped yet counts as gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return True


def kill() -> None:
    """SIGKILL the running moto, as a crash would: no chance to save anything at that moment.
    Returns once the process is gone."""
    pid = _pid()
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 30
    while not _gone(pid):
        assert time.time() < deadline, f"moto (pid {pid}) still runs 30s after SIGKILL"
        time.sleep(0.05)


def restart() -> dict:
    """Start moto again after `kill()`: same port, the saved state loaded. Returns its env,
    which is the same as before the kill."""
    subprocess.run(["bash", str(MOTO_UP), "--restart"], check=True, timeout=600)
    return read_env()


def kill_when(condition, timeout: float = 120, interval: float = 0.05) -> None:
    """Poll `condition()` (e.g. "the CA exists in moto", "the pulumi process printed X") and
    SIGKILL moto as soon as it is true; for killing moto in the middle of a `pulumi up` that
    runs in the background. Exceptions from `condition` count as false."""
    deadline = time.time() + timeout
    while True:
        try:
            if condition():
                break
        except Exception:
            pass
        assert time.time() < deadline, f"condition not met within {timeout}s; moto not killed"
        time.sleep(interval)
    kill()


def kill_and_restart(during=None) -> dict:
    """SIGKILL moto, call `during()` while it is down, start it again with its state."""
    kill()
    if during is not None:
        during()
    return restart()


def client(service: str, env: dict | None = None):
    """A boto3 client for `service` at moto, with the fake credentials and no retries (moto
    answers unimplemented operations with HTTP 500, which retries would only slow down)."""
    env = env or read_env()
    return boto3.session.Session().client(
        service,
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        config=Config(retries={"max_attempts": 1, "mode": "standard"}, connect_timeout=5, read_timeout=30),
    )


def acmpca(env: dict | None = None):
    return client("acm-pca", env)


def route53(env: dict | None = None):
    return client("route53", env)
