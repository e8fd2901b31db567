"""scripts/bench.sh stays runnable: its smoke mode runs every part with a tiny N through the real
CLI. Nothing here judges a timing; the assertions are about what was measured and how."""

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_script_runs_every_part(tmp_path):
    rows_file = tmp_path / "rows.jsonl"
    env = dict(os.environ, ZT_BENCH_JSON=str(rows_file))
    run = subprocess.run(["bash", str(ROOT / "scripts" / "bench.sh"), "--smoke"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "start-up to port line: median" in out
    for alg in ("RSA-2048", "P256", "Ed25519"):
        assert f"zerotrust {alg}" in out and f"openssl   {alg}" in out, alg

    rows = [json.loads(line) for line in rows_file.read_text().splitlines()]
    cases = {(r["suite"], r["kind"], r["checkpoints"], r["phase"]) for r in rows}
    expected = {("tls", k, c, p) for k in ("empty", "keys", "floor", "ecdsa")
                for c in ("off", "on") for p in ("up", "destroy")}
    expected |= {("rsa", "rsa", "off", p) for p in ("up", "destroy")}
    expected |= {(s, k, "off", p) for s in ("kube", "vault") for k in ("keys", s)
                 for p in ("up", "destroy")}
    assert cases == expected

    for r in rows:
        assert r["wall_s"] > 0
        if r["count"] > 0:
            # The /proc sampler found the engine's provider process and read its memory.
            assert r["provider_instances"] >= 1, r
            assert r["provider_rss_mib"] > 1, r
        if r["count"] > 0 and r["phase"] == "up":
            # It also found the program side (language host and program), whose CPU is its own
            # column, so the engine's share excludes it.
            assert r["program_cpu_s"] > 0, r
    rsa = next(r for r in rows if r["suite"] == "rsa" and r["phase"] == "up")
    assert rsa["parallel"] == 16
    # The summary compares each program with the floors of the same run.
    line = next(x for x in out.splitlines() if x.startswith("tls up N=4 checkpoints off: ecdsa"))
    assert "; floor " in line and "; keys " in line and "; empty program " in line, line
    kube = next(x for x in out.splitlines() if x.startswith("kube up N=3 checkpoints off: kube"))
    assert "; keys " in kube and "backend CPU" in kube, kube
