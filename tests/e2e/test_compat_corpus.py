"""The compatibility corpus (tools/compat/corpus.py): upstream's own docstring examples, imports
changed to pulumi_zerotrust, each run with `pulumi preview`, then `up` and `destroy` against the
local servers (moto, OpenBao, the kube-apiserver; tls needs none). The table per module is
printed at the end of the run. A failure must be one listed below with its reason (each also in
docs/known-limitations.md or a defect of upstream's example); a listed one that passes must be
taken off the list."""

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import aws
import pytest
import vault
from conftest import ROOT
from kube import cluster_env

sys.path.insert(0, str(ROOT / "tools" / "compat"))
import corpus  # noqa: E402

# What fails today: a text the error must contain (so a listed example failing for another
# reason is still caught), and why it fails.
EXPECTED_FAILURES = {
    "aws-acmpca-certificate-0": (
        "'subject'", "upstream's example gives tls.CertRequest `subject` as a list (the "
        "pulumi-tls v4 shape); pulumi-tls v5, which zerotrust mirrors, takes one object"),
    "vault-pkisecret-secret_backend_crl_config-0": (
        "mounts/%s", "upstream's example mounts at path \"%s\" (a placeholder left in its "
        "docs), which OpenBao, like Vault, rejects with HTTP 400"),
    "aws-route53-record-5": (
        "RecordType", "no `route53.RecordType` enum class (see docs/known-limitations.md)"),
    "aws-route53-zone-1": (
        "RecordType", "no `route53.RecordType` enum class (see docs/known-limitations.md)"),
}

TABLE: list[str] = []


@pytest.fixture(scope="module")
def backends():
    """The local servers, each provider setting taken from the environment as a user's would."""
    env = {}
    env.update(aws.moto_env())
    aws.reset(env)
    env.update(vault.bao_env())
    env.update(cluster_env())
    os.environ.update(env)
    return env


def pulumi(work: Path, env: dict, *args: str) -> str | None:
    """None when the command succeeds, else its last error lines."""
    run = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=600)
    if run.returncode == 0:
        return None
    lines = [x.strip() for x in (run.stdout + run.stderr).splitlines() if x.strip()]
    errors = [x for x in lines if "error" in x.lower()]
    return f"{args[0]}: " + " | ".join((errors or lines)[-3:])[:300]


def run_example(example, root: Path, files: Path) -> str | None:
    """preview, up and destroy; None when all three succeed, else what failed first (a failed
    up is still destroyed, so nothing it made is left on the servers)."""
    work = corpus.write_project(example, root / example.name, ROOT / "target" / "debug", files)
    state = work / "state"
    state.mkdir(exist_ok=True)
    env = dict(os.environ, PULUMI_BACKEND_URL=state.as_uri())
    env.setdefault("PULUMI_CONFIG_PASSPHRASE", "zerotrust-local")
    subprocess.run(["pulumi", "stack", "init", "corpus", "--non-interactive"], cwd=work, env=env,
                   check=True, capture_output=True, timeout=120)
    error = pulumi(work, env, "preview")
    if error:
        return error
    error = pulumi(work, env, "up", "--yes", "--skip-preview")
    destroyed = pulumi(work, env, "destroy", "--yes", "--skip-preview")
    return error or destroyed


def test_upstream_examples_run(tmp_path, backends):
    # scripts/setup.sh --test fetched them already; this only fills a cache someone emptied.
    cache = Path(os.environ.get("ZT_CACHE", ROOT / ".cache")) / "compat" / "wheels"
    wheels = corpus.fetch_wheels(cache)
    examples = corpus.examples(wheels)
    assert len(examples) >= 100, "fewer examples than upstream's docs hold: extraction broke"
    files = tmp_path / "files"
    corpus.make_fixtures(files)
    outcome = {}
    for example in examples:
        if example.skip:
            outcome[example.name] = ("skipped", example.skip)
            continue
        error = run_example(example, tmp_path, files)
        outcome[example.name] = ("passed", "") if error is None else ("failed", error)

    by_module = defaultdict(list)
    for example in examples:
        by_module[example.module.split("/")[0]].append(example)
    TABLE.append("compatibility corpus (upstream's docstring examples: preview, up, destroy):")
    for module, listed in by_module.items():
        ours = [e for e in listed if not (e.skip or "").endswith("is not mirrored by zerotrust")]
        others = sorted({e.module.split("/", 1)[1] for e in listed if e not in ours})
        counts = defaultdict(int)
        for e in ours:
            counts[outcome[e.name][0]] += 1
        line = (f"  {module}: {len(listed)} found; {len(ours)} for what zerotrust mirrors: "
                f"{counts['passed']} passed, {counts['failed']} failed, {counts['skipped']} skipped")
        if others:
            line += f"; {len(listed) - len(ours)} skipped, of {len(others)} not mirrored"
        TABLE.append(line)
        for e in ours:
            state, reason = outcome[e.name]
            if state != "passed":
                expected = EXPECTED_FAILURES.get(e.name)
                known = expected is not None and expected[0] in reason
                TABLE.append(f"    {state:<7} {e.name}: {expected[1] if known else reason}")
        if others:
            TABLE.append("    not mirrored: " + ", ".join(others))

    failed = {n for n, (state, _) in outcome.items() if state == "failed"}
    unexpected = {n: outcome[n][1] for n in failed
                  if n not in EXPECTED_FAILURES or EXPECTED_FAILURES[n][0] not in outcome[n][1]}
    assert not unexpected, f"examples that fail and are not listed: {unexpected}"
    fixed = EXPECTED_FAILURES.keys() - failed
    assert not fixed, f"listed as failing but no longer fail (take them off the list): {fixed}"
