"""The compatibility corpus (tools/compat/corpus.py): upstream's own docstring examples, imports
changed to pulumi_zerotrust, each run with `pulumi preview`. The table per module is printed at
the end of the run. A failure must be one listed below with its reason (each also in
docs/known-limitations.md or a defect of upstream's example); a listed one that passes must be
taken off the list."""

import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools" / "compat"))
import corpus  # noqa: E402

# What fails today, and why.
EXPECTED_FAILURES = {
    "aws-acmpca-certificate-0": "upstream's example gives tls.CertRequest `subject` as a list "
    "(the pulumi-tls v4 shape); pulumi-tls v5, which zerotrust mirrors, takes one object",
    "aws-route53-record-5": "no `route53.RecordType` enum class (see docs/known-limitations.md)",
    "aws-route53-zone-1": "no `route53.RecordType` enum class (see docs/known-limitations.md)",
}

TABLE: list[str] = []


def preview(example, root: Path, files: Path) -> str | None:
    """None when `pulumi preview` succeeds, else the last error lines."""
    work = corpus.write_project(example, root / example.name, ROOT / "target" / "debug", files)
    state = work / "state"
    state.mkdir(exist_ok=True)
    env = dict(os.environ, PULUMI_BACKEND_URL=state.as_uri())
    env.setdefault("PULUMI_CONFIG_PASSPHRASE", "zerotrust-local")
    subprocess.run(["pulumi", "stack", "init", "corpus", "--non-interactive"], cwd=work, env=env,
                   check=True, capture_output=True, timeout=120)
    run = subprocess.run(["pulumi", "preview", "--non-interactive"], cwd=work, env=env,
                         capture_output=True, text=True, timeout=300)
    if run.returncode == 0:
        return None
    lines = [x.strip() for x in (run.stdout + run.stderr).splitlines() if x.strip()]
    errors = [x for x in lines if "error" in x.lower() or "Error:" in x]
    return " | ".join((errors or lines)[-3:])[:300]


def test_upstream_examples_preview(tmp_path):
    wheels = corpus.fetch_wheels(ROOT / ".cache" / "compat" / "wheels")
    examples = corpus.examples(wheels)
    assert len(examples) >= 30, "fewer examples than upstream's docs hold: extraction broke"
    files = tmp_path / "files"
    corpus.make_fixtures(files)
    outcome = {}
    for example in examples:
        if example.skip:
            outcome[example.name] = ("skipped", example.skip)
            continue
        error = preview(example, tmp_path, files)
        outcome[example.name] = ("passed", "") if error is None else ("failed", error)

    by_module = defaultdict(list)
    for example in examples:
        by_module[example.module.split("/")[0]].append(example.name)
    TABLE.append("compatibility corpus (pulumi preview of upstream's docstring examples):")
    for module, names in by_module.items():
        counts = defaultdict(int)
        for name in names:
            counts[outcome[name][0]] += 1
        TABLE.append(f"  {module}: {len(names)} found, {counts['passed']} passed, "
                     f"{counts['failed']} failed, {counts['skipped']} skipped")
        for name in names:
            state, reason = outcome[name]
            if state != "passed":
                TABLE.append(f"    {state:<7} {name}: {EXPECTED_FAILURES.get(name, reason)}")

    failed = {n for n, (state, _) in outcome.items() if state == "failed"}
    unexpected = {n: outcome[n][1] for n in failed - EXPECTED_FAILURES.keys()}
    assert not unexpected, f"examples that fail and are not listed: {unexpected}"
    fixed = EXPECTED_FAILURES.keys() - failed
    assert not fixed, f"listed as failing but no longer fail (take them off the list): {fixed}"
