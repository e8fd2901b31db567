"""The provider-protocol conformance suite (conformance/README.md): green on zerotrust, and each
of its checks shown to fail on the toy provider built with the defect that check guards against
(tests/toy). A check that no defect can fail is not a check, so that is asserted too."""

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOY_FIXTURES = ROOT / "conformance" / "fixtures" / "toy.json"

# Each defect of the toy provider, and the check that must fail because of it.
DEFECT_CHECKS = {
    "port_noise": "startup.port_line",
    "ignore_sigint": "startup.sigint",
    "handshake_fails": "startup.handshake",
    "wrong_version": "startup.plugin_info",
    "unbindable": "schema.binds",
    "undocumented": "schema.documented",
    "config_fails": "config.check_configure",
    "config_rejects_unknown": "config.unknowns_kept",
    "diff_config_noise": "config.diff_identical",
    "check_rejects_valid": "check.valid",
    "check_not_idempotent": "check.idempotent",
    "check_drops_secret": "check.secrets_kept",
    "check_drops_unknown": "check.unknowns_kept",
    "check_grpc_error": "check.invalid",
    "check_first_failure_only": "check.invalid",
    "preview_needs_known": "create.preview",
    "create_fails": "lifecycle.create",
    "drop_secret_output": "lifecycle.outputs_secret",
    "secret_unmarked": "lifecycle.outputs_secret",
    "wrong_output_type": "lifecycle.outputs_typed",
    "diff_noise": "diff.identical",
    "update_fails": "diff.update_in_place",
    "replace_unmarked": "diff.replaces_exactly",
    "read_changes": "lifecycle.read",
    "delete_fails": "lifecycle.delete",
    "read_after_delete_error": "lifecycle.read_after_delete",
    "invoke_fails": "invoke.known",
    "invoke_drops_secret": "invoke.secret_results",
    "leak_secret_log": "hygiene.no_secret_leak",
    "cancel_blocks_exit": "startup.cancel_exit",
    "configure_once": "startup.attach_twice",
    "cancel_sticks": "startup.attach_twice",
    "config_rejects_json_strings": "config.json_strings",
    "no_accept_secrets": "config.flags",
    "no_supports_preview": "config.flags",
    "panic_unguarded": "failure.panic_contained",
    "init_failure_loses_state": "failure.init_failed",
    "cancel_ignored": "failure.cancel_prompt",
}
# Checks failed by something other than a toy defect, with the test that shows it.
OTHER_FAILURES = {
    "schema.matches_checked_in": "test_a_schema_other_than_the_checked_in_one_fails",
    "fixture.valid": "test_a_misspelt_fixture_fails",
}


@pytest.fixture(scope="module")
def runner():
    built = subprocess.run(["bash", "scripts/conformance.sh", "--runner"], cwd=ROOT,
                           capture_output=True, text=True, timeout=1200)
    assert built.returncode == 0, built.stderr[-3000:]
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def toy():
    subprocess.run(["cargo", "build", "--quiet", "--example", "toy-provider"], cwd=ROOT,
                   check=True, timeout=1200)
    return ROOT / "target" / "debug" / "examples" / "toy-provider"


def run_suite(runner, provider, tmp_path, defects="", schema=None, fixtures=TOY_FIXTURES):
    report = tmp_path / f"report-{defects or 'clean'}.json"
    args = [runner, "--provider", str(provider), "--fixtures", str(fixtures),
            "--json", str(report)]
    if schema:
        args += ["--schema", str(schema)]
    env = dict(os.environ, TOY_DEFECTS=defects)
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    rows = json.loads(report.read_text()) if report.exists() else []
    return done, rows


def results(rows, result):
    return {r["check"] for r in rows if r["result"] == result}


def test_zerotrust_passes_the_suite():
    done = subprocess.run(["bash", "scripts/conformance.sh"], cwd=ROOT, capture_output=True,
                          text=True, timeout=1800)
    print(done.stdout)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    counts = re.findall(r"^(\d+) passed, (\d+) failed", done.stdout, re.M)
    assert counts and all(failed == "0" and int(passed) > 0 for passed, failed in counts), counts
    # Every backend ran: none of its checks was put aside as n/a for want of a server.
    assert "backend absent" not in done.stdout, done.stdout[-6000:]


def test_a_fixture_whose_backend_is_absent_is_not_applicable(runner, toy, tmp_path):
    fixture = json.loads(TOY_FIXTURES.read_text())
    fixture["requires"] = ["ZT_CONFORMANCE_NO_SUCH_BACKEND"]
    fixture["config"]["prefix"] = {"$env": "ZT_CONFORMANCE_NO_SUCH_BACKEND"}
    absent = tmp_path / "absent.json"
    absent.write_text(json.dumps(fixture))
    done, rows = run_suite(runner, toy, tmp_path, fixtures=absent)
    assert done.returncode == 0, done.stdout[-4000:]
    word = [r for r in rows if r["subject"] == "toy:index:Word"]
    assert word and all(r["result"] == "n/a" and "backend absent" in r["detail"] for r in word), word
    assert not results(rows, "pass") & {"config.check_configure", "failure.cancel_prompt"}


def test_the_toy_provider_without_defects_passes(runner, toy, tmp_path):
    done, rows = run_suite(runner, toy, tmp_path)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    assert rows and not results(rows, "fail")
    assert re.search(r"^\d+ passed, 0 failed", done.stdout, re.M), done.stdout[-2000:]


@pytest.mark.parametrize("defect", sorted(DEFECT_CHECKS))
def test_each_defect_fails_the_check_that_guards_against_it(runner, toy, tmp_path, defect):
    done, rows = run_suite(runner, toy, tmp_path, defects=defect)
    assert DEFECT_CHECKS[defect] in results(rows, "fail"), (defect, done.stdout[-4000:])
    assert done.returncode == 1
    assert re.search(r"^\d+ passed, [1-9]\d* failed", done.stdout, re.M), done.stdout[-2000:]


def test_a_schema_other_than_the_checked_in_one_fails(runner, toy, tmp_path):
    done, rows = run_suite(runner, toy, tmp_path, schema=ROOT / "schema.json")
    assert results(rows, "fail") == {"schema.matches_checked_in"}, done.stdout[-4000:]


def test_a_misspelt_fixture_fails(runner, toy, tmp_path):
    fixture = json.loads(TOY_FIXTURES.read_text())
    fixture["resources"]["toy:index:Word"]["inptus"] = {}
    misspelt = tmp_path / "misspelt.json"
    misspelt.write_text(json.dumps(fixture))
    done, rows = run_suite(runner, toy, tmp_path, fixtures=misspelt)
    assert "fixture.valid" in results(rows, "fail"), done.stdout[-4000:]
    assert done.returncode == 1


def test_every_check_can_be_failed(runner, toy, tmp_path):
    _, rows = run_suite(runner, toy, tmp_path)
    checks = {r["check"] for r in rows}
    covered = set(DEFECT_CHECKS.values()) | set(OTHER_FAILURES)
    assert checks - covered == set(), "checks no defect fails"
