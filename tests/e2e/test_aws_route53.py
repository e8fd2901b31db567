"""The Route 53 example (examples/seed-001-dns) through the real CLI against moto on loopback
(tests/e2e/aws.py), checked independently with boto3.

moto applies every change at once (always INSYNC), so the INSYNC waiter is covered by the unit
tests in src/modules/aws/route53/mod.rs instead.
"""

import os

import pytest

import aws

EXAMPLE = "seed-001-dns"
IMPORT_PROGRAM = "../tests/e2e/programs/route53-import"
ZONE = "ai-pipeline.example.com"
ZONE_TOKEN = "zerotrust:aws/route53:Zone"
RECORD_TOKEN = "zerotrust:aws/route53:Record"


@pytest.fixture(scope="module")
def moto():
    env = aws.moto_env()
    os.environ.update(env)
    return env


@pytest.fixture
def r53(moto):
    aws.reset(moto)
    return aws.route53(moto)


def zones(r53) -> dict:
    """Zone id -> name (without the trailing dot) of every hosted zone moto has."""
    found = {}
    for page in r53.get_paginator("list_hosted_zones").paginate():
        for zone in page["HostedZones"]:
            found[zone["Id"].split("/")[-1]] = zone["Name"].rstrip(".")
    return found


def record_sets(r53, zone_id: str) -> list:
    return r53.list_resource_record_sets(HostedZoneId=zone_id, MaxItems="300")["ResourceRecordSets"]


def find(r53, zone_id: str, name: str, rtype: str, set_id: str | None = None) -> dict | None:
    for s in record_sets(r53, zone_id):
        if s["Name"].rstrip(".") == name and s["Type"] == rtype and s.get("SetIdentifier") == set_id:
            return s
    return None


def tags(r53, zone_id: str) -> dict:
    tag_set = r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zone_id)["ResourceTagSet"]
    return {t["Key"]: t["Value"] for t in tag_set.get("Tags", [])}


def steps(stack) -> dict:
    """Logical name -> operation of a `pulumi preview --json`."""
    return {s["urn"].split("::")[-1]: s["op"] for s in stack.preview_json().get("steps", [])}


def in_state(stack, token: str) -> list:
    return [r["urn"].split("::")[-1] for r in stack.export()["deployment"].get("resources", []) if r["type"] == token]


def test_seed_001_dns_lifecycle(stack_factory, r53):
    stack = stack_factory(EXAMPLE)
    stack.up()
    out = stack.outputs()
    zone_id = out["zone_id"]
    assert zones(r53) == {zone_id: ZONE}
    assert out["fqdn"] == ZONE and out["api_fqdn"] == f"api.{ZONE}"
    assert out["name_servers"] and out["name_servers"] == sorted(out["name_servers"])
    assert tags(r53, zone_id) == {"team": "ml-platform", "app": "ai-pipeline"}
    alias = find(r53, zone_id, ZONE, "A")
    assert alias["AliasTarget"]["HostedZoneId"] == "Z35SXDOTRQ7X7K" and "TTL" not in alias
    assert alias["AliasTarget"]["EvaluateTargetHealth"] is True
    blue = find(r53, zone_id, f"inference.{ZONE}", "A", "inference-blue")
    green = find(r53, zone_id, f"inference.{ZONE}", "A", "inference-green")
    assert (blue["Weight"], green["Weight"]) == (90, 10)
    assert sorted(r["Value"] for r in blue["ResourceRecords"]) == ["192.0.2.10", "192.0.2.11"]
    api = find(r53, zone_id, f"api.{ZONE}", "A")
    assert int(api["TTL"]) == 300 and api["ResourceRecords"] == [{"Value": "192.0.2.30"}]
    ids = {r["urn"].split("::")[-1]: r["id"] for r in stack.export()["deployment"]["resources"] if "id" in r}
    assert ids["ai-pipeline-zone"] == zone_id
    assert ids["api-record"] == f"{zone_id}_api.{ZONE}_A"
    assert ids["inference-blue"] == f"{zone_id}_inference.{ZONE}_A_inference-blue"

    # Nothing to do right after an up, and a refresh finds nothing to change.
    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("refresh", "--yes", "--expect-no-changes")

    # A tag change updates the zone in place: same zone id, new tags in Route 53.
    stack.pulumi("config", "set", "team", "inference")
    ops = steps(stack)
    assert ops.get("ai-pipeline-zone") == "update", ops
    assert all(op == "same" for name, op in ops.items() if name != "ai-pipeline-zone"), ops
    up = stack.up()
    assert "ai-pipeline-zone" in up.stdout and "replac" not in up.stdout, up.stdout
    assert stack.outputs()["zone_id"] == zone_id
    assert tags(r53, zone_id) == {"team": "inference", "app": "ai-pipeline"}
    stack.pulumi("preview", "--expect-no-changes")

    # A record deleted outside Pulumi: refresh drops it from state, the next up recreates it.
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "DELETE", "ResourceRecordSet": api}]},
    )
    assert find(r53, zone_id, f"api.{ZONE}", "A") is None
    stack.pulumi("refresh", "--yes")
    assert "api-record" not in in_state(stack, RECORD_TOKEN)
    assert "inference-blue" in in_state(stack, RECORD_TOKEN)
    assert steps(stack).get("api-record") == "create"
    stack.up()
    api = find(r53, zone_id, f"api.{ZONE}", "A")
    assert api and api["ResourceRecords"] == [{"Value": "192.0.2.30"}]
    stack.pulumi("preview", "--expect-no-changes")

    # A record name outside the zone fails the preview and the update at the `name` property,
    # and nothing in Route 53 changes.
    stack.pulumi("config", "set", "apiRecordName", "api.other-zone.com")
    for command in (["preview"], ["up", "--yes", "--skip-preview"]):
        failed = stack.pulumi(*command, check=False)
        text = failed.stdout + failed.stderr
        assert failed.returncode != 0, text
        assert "api-record" in text and "property name" in text, text
        assert "outside the zone" in text, text
    assert find(r53, zone_id, f"api.{ZONE}", "A")["ResourceRecords"] == [{"Value": "192.0.2.30"}]
    assert find(r53, zone_id, f"api.other-zone.com", "A") is None
    stack.pulumi("config", "rm", "apiRecordName")
    stack.pulumi("preview", "--expect-no-changes")

    # Destroy leaves no hosted zone and no record.
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert zones(r53) == {}
    assert stack.export()["deployment"].get("resources", []) == []


def forget(stack) -> None:
    """Drop the Route 53 resources from a stack's state without deleting them."""
    for resource in reversed(stack.export()["deployment"].get("resources", [])):
        if resource["type"] in (ZONE_TOKEN, RECORD_TOKEN):
            stack.pulumi("state", "delete", resource["urn"], "--yes", "--force")


def test_import_reads_back_exactly_what_the_program_declares(stack_factory, r53):
    example = stack_factory(EXAMPLE)
    example.up()
    zone_id = example.outputs()["zone_id"]

    # With the `import` option the engine reads the zone and the record, checks the declared
    # inputs and diffs them against what Read reported; any difference would be applied as an
    # update right after the import. There is none.
    importer = stack_factory(IMPORT_PROGRAM)
    for key, value in (("zoneId", zone_id), ("zoneName", ZONE), ("team", "ml-platform")):
        importer.pulumi("config", "set", key, value)
    imported = importer.up()
    assert "= 2 imported" in imported.stdout, imported.stdout
    assert "updat" not in imported.stdout and "[diff:" not in imported.stdout, imported.stdout
    assert importer.outputs()["record_id"] == f"{zone_id}_inference.{ZONE}_A_inference-blue"
    ids = {r["urn"].split("::")[-1]: r["id"] for r in importer.export()["deployment"]["resources"] if "id" in r}
    assert ids["imported-zone"] == zone_id
    importer.pulumi("preview", "--expect-no-changes")
    importer.pulumi("refresh", "--yes", "--expect-no-changes")
    # Both stacks now manage the same zone: the importer forgets it without deleting it.
    forget(importer)
    assert zones(r53) == {zone_id: ZONE}

    # The comparison is real: a tag that differs from Route 53 shows up as the one change.
    importer.pulumi("config", "set", "team", "someone-else")
    changed = importer.up()
    assert "[diff: ~tags]" in changed.stdout and "~ 1 updated" in changed.stdout, changed.stdout
    assert tags(r53, zone_id)["team"] == "someone-else"
    forget(importer)


def test_a_zone_with_foreign_records_is_kept_unless_force_destroy(stack_factory, r53):
    stack = stack_factory(EXAMPLE)
    stack.up()
    zone_id = stack.outputs()["zone_id"]
    foreign = {
        "Name": f"_verification.{ZONE}",
        "Type": "TXT",
        "TTL": 60,
        "ResourceRecords": [{"Value": '"made-outside-pulumi"'}],
    }
    r53.change_resource_record_sets(
        HostedZoneId=zone_id,
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": foreign}]},
    )

    # Route 53's refusal comes back naming the resource, the operation and AWS's code.
    failed = stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0, text
    assert "ai-pipeline-zone" in text and "DeleteHostedZone" in text and "HostedZoneNotEmpty" in text, text
    assert zone_id in zones(r53)
    assert in_state(stack, ZONE_TOKEN) == ["ai-pipeline-zone"]

    # forceDestroy is state only (an in-place update); with it the zone goes, foreign record too.
    stack.pulumi("config", "set", "forceDestroy", "true")
    assert steps(stack).get("ai-pipeline-zone") == "update"
    stack.up()
    assert find(r53, zone_id, f"_verification.{ZONE}", "TXT") is not None
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert zones(r53) == {}
