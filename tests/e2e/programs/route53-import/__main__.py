"""Import a zone and one weighted record made by examples/seed-001-dns, declared the way
`pulumi import` would write them. With the `import` option the engine reads the resource, runs
Check and Diff against these inputs, and fails the update if anything differs."""

import pulumi
from pulumi_zerotrust.aws import route53

config = pulumi.Config()
zone_id = config.require("zoneId")
zone_name = config.require("zoneName")
team = config.require("team")

zone = route53.Zone(
    "imported-zone",
    name=zone_name,
    comment="AI pipeline endpoints",
    tags={"team": team, "app": "ai-pipeline"},
    opts=pulumi.ResourceOptions(import_=zone_id),
)

record = route53.Record(
    "imported-record",
    zone_id=zone_id,
    name=f"inference.{zone_name}",
    type="A",
    ttl=60,
    records=["192.0.2.10", "192.0.2.11"],
    set_identifier="inference-blue",
    weighted_routing_policies=[route53.RecordWeightedRoutingPolicyArgs(weight=90)],
    opts=pulumi.ResourceOptions(import_=f"{zone_id}_inference.{zone_name}_A_inference-blue"),
)

pulumi.export("record_id", record.id)
