"""sdk/python, sdk/nodejs and sdk/go are generated from schema.json by scripts/gen.sh and checked in."""

import filecmp
import json
import shutil
import subprocess
import tomllib

import pytest

from conftest import ROOT

# Build products and caches that live next to the generated sources but are not generated.
IGNORED = {"__pycache__", "node_modules", "bin"}


def tree(root):
    return sorted(
        p.relative_to(root)
        for p in root.rglob("*")
        if p.is_file()
        and not IGNORED.intersection(p.relative_to(root).parts)
        and ".egg-info" not in str(p)
    )


@pytest.fixture(scope="module")
def fresh_sdks(tmp_path_factory):
    out = tmp_path_factory.mktemp("sdk")
    subprocess.run(["bash", str(ROOT / "scripts" / "gen.sh"), "--out", str(out)],
                   check=True, capture_output=True, text=True, timeout=600)
    return out


def differences(fresh, checked_in):
    """Files only on one side, or whose bytes differ."""
    fresh_files, checked_files = set(tree(fresh)), set(tree(checked_in))
    changed = [
        str(p) for p in sorted(fresh_files & checked_files)
        if not filecmp.cmp(fresh / p, checked_in / p, shallow=False)
    ]
    return {
        "missing": sorted(map(str, fresh_files - checked_files)),
        "extra": sorted(map(str, checked_files - fresh_files)),
        "changed": changed,
    }


LANGUAGES = [
    "python",
    pytest.param("nodejs", marks=pytest.mark.languages),
    pytest.param("go", marks=pytest.mark.languages),
]


@pytest.mark.parametrize("language", LANGUAGES)
def test_checked_in_sdk_matches_schema(fresh_sdks, language):
    found = differences(fresh_sdks / language, ROOT / "sdk" / language)
    assert not any(found.values()), f"sdk/{language} is stale ({found}): run scripts/gen.sh"


@pytest.mark.parametrize("language", LANGUAGES)
def test_staleness_check_sees_every_kind_of_drift(fresh_sdks, tmp_path, language):
    """The check above must fail for an edited, a missing and an extra file in each SDK."""
    fresh = fresh_sdks / language
    files = tree(fresh)
    edited, removed = files[0], files[-1]
    drifted = tmp_path / language
    shutil.copytree(fresh, drifted)
    with open(drifted / edited, "a") as f:
        f.write("\n")
    (drifted / removed).unlink()
    (drifted / "hand-written.txt").write_text("not generated\n")
    found = differences(fresh, drifted)
    assert found == {"missing": [str(removed)], "extra": ["hand-written.txt"], "changed": [str(edited)]}


def test_versions_agree():
    crate = tomllib.loads((ROOT / "Cargo.toml").read_text())["package"]["version"]
    schema = json.loads((ROOT / "schema.json").read_text())
    plugin = json.loads((ROOT / "sdk/python/pulumi_zerotrust/pulumi-plugin.json").read_text())
    assert schema["version"] == crate
    assert plugin["version"] == crate
    assert plugin["name"] == "zerotrust" and plugin["resource"] is True
    node = json.loads((ROOT / "sdk/nodejs/package.json").read_text())
    assert node["version"] == crate and node["pulumi"]["version"] == crate
    go_plugin = json.loads((ROOT / "sdk/go/zerotrust/pulumi-plugin.json").read_text())
    assert go_plugin["version"] == crate
