"""sdk/python is generated from schema.json by `pulumi package gen-sdk` and checked in."""

import filecmp
import json
import subprocess
import tomllib

from conftest import ROOT


def tree(root):
    return sorted(
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p)
    )


def test_checked_in_sdk_matches_schema(tmp_path):
    subprocess.run(
        ["pulumi", "package", "gen-sdk", str(ROOT / "schema.json"), "--language", "python",
         "--out", str(tmp_path)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    fresh, checked_in = tmp_path / "python", ROOT / "sdk" / "python"
    assert tree(fresh) == tree(checked_in), "sdk/python is stale: run scripts/gen.sh"
    stale = [str(p) for p in tree(fresh) if not filecmp.cmp(fresh / p, checked_in / p, shallow=False)]
    assert not stale, f"sdk/python is stale ({stale}): run scripts/gen.sh"


def test_versions_agree():
    crate = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    schema = json.loads((ROOT / "schema.json").read_text())
    plugin = json.loads((ROOT / "sdk/python/pulumi_zerotrust/pulumi-plugin.json").read_text())
    assert schema["version"] == crate
    assert plugin["version"] == crate
    assert plugin["name"] == "zerotrust" and plugin["resource"] is True
