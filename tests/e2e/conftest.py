"""Fixtures for end-to-end runs of the real `pulumi` CLI against the built provider.

Every test gets its own file backend and stack, so tests never see each other's state. The
environment (PATH with our pulumi and venv, passphrase, offline switches) comes from
scripts/lib.sh, which scripts/test.sh sources before running pytest.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


class Stack:
    """One stack of one example project, on a private file backend."""

    def __init__(self, example: str, backend: Path):
        self.dir = EXAMPLES / example
        self.name = f"t{uuid.uuid4().hex[:10]}"
        self.env = dict(os.environ)
        self.env["PULUMI_BACKEND_URL"] = backend.as_uri()
        self.env.setdefault("PULUMI_CONFIG_PASSPHRASE", "zerotrust-local")

    def pulumi(self, *args: str, check: bool = True, timeout: int = 300) -> subprocess.CompletedProcess:
        cmd = ["pulumi", *args, "--stack", self.name, "--non-interactive"]
        proc = subprocess.run(
            cmd, cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(cmd)} exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        return proc

    def init(self) -> "Stack":
        proc = subprocess.run(
            ["pulumi", "stack", "init", self.name, "--non-interactive"],
            cwd=self.dir, env=self.env, capture_output=True, text=True, timeout=120,
        )
        assert proc.returncode == 0, proc.stderr
        return self

    def up(self) -> subprocess.CompletedProcess:
        return self.pulumi("up", "--yes", "--skip-preview")

    def outputs(self, secrets: bool = False) -> dict:
        args = ["stack", "output", "--json"] + (["--show-secrets"] if secrets else [])
        return json.loads(self.pulumi(*args).stdout)

    def export(self) -> dict:
        return json.loads(self.pulumi("stack", "export").stdout)

    def preview_json(self) -> dict:
        return json.loads(self.pulumi("preview", "--json").stdout)

    def remove(self) -> None:
        self.pulumi("destroy", "--yes", "--skip-preview", check=False)
        self.pulumi("stack", "rm", "--yes", "--force", check=False)
        config = self.dir / f"Pulumi.{self.name}.yaml"
        if config.exists():
            config.unlink()


@pytest.fixture
def stack_factory(tmp_path):
    made = []

    def make(example: str) -> Stack:
        s = Stack(example, tmp_path / f"backend-{len(made)}")
        (tmp_path / f"backend-{len(made)}").mkdir()
        made.append(s)
        return s.init()

    yield make
    for s in made:
        s.remove()


@pytest.fixture(scope="session", autouse=True)
def toolchain():
    for tool in ("pulumi", "openssl"):
        assert shutil.which(tool), f"{tool} not on PATH: run scripts/setup.sh (or scripts/test.sh)"
    binary = ROOT / "target" / "debug" / "pulumi-resource-zerotrust"
    assert binary.exists(), "provider not built: run scripts/setup.sh"


# ---- the Azure ARM test backend (tests/e2e/arm.py): the `arm_server` fixture, and at the end of
# the session "ARM requests: N, rejected by Microsoft's API definitions: M"; M > 0 fails the run.
from arm import arm_server, pytest_sessionfinish  # noqa: E402,F401
from arm import pytest_terminal_summary as arm_summary  # noqa: E402

# ---- what the TypeScript, Go and YAML programs cost the suite. Tests of those languages carry the
# `languages` mark; their time, plus what scripts/lang-env.sh spent installing their npm and Go
# dependencies in this run (it leaves the figure in the cache), is printed at the end.
LANGUAGE_SECONDS = {"tests": 0.0, "count": 0}


def pytest_configure(config):
    config.addinivalue_line("markers", "languages: a test of a TypeScript, Go or YAML program or SDK")


def pytest_runtest_logreport(report):
    if "languages" in report.keywords:
        LANGUAGE_SECONDS["tests"] += report.duration
        if report.when == "call":
            LANGUAGE_SECONDS["count"] += 1


def pytest_terminal_summary(terminalreporter):
    arm_summary(terminalreporter)
    corpus_table = sys.modules.get("test_compat_corpus")
    for line in corpus_table.TABLE if corpus_table else []:
        terminalreporter.write_line(line)
    if not LANGUAGE_SECONDS["count"]:
        return
    setup_file = Path(os.environ.get("ZT_CACHE", ROOT / ".cache")) / "lang-env-seconds"
    try:
        setup = float(setup_file.read_text().strip())
    except (OSError, ValueError):
        setup = 0.0
    tests = LANGUAGE_SECONDS["tests"]
    terminalreporter.write_line(
        f"TypeScript, Go and YAML added {tests + setup:.0f}s to this run: "
        f"{LANGUAGE_SECONDS['count']} tests took {tests:.0f}s, "
        f"installing their npm and Go dependencies {setup:.0f}s"
    )
