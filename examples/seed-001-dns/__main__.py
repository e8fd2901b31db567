"""Seed 001, DNS part: the Route 53 records that point the AI pipeline's domain at its load
balancer, on `pulumi_zerotrust.aws.route53` (pulumi-aws v7 shapes: moving from
`pulumi_aws.route53` is a change of import).

The seed wrote one alias record into a hosted zone whose id it made up. Here the program owns
the zone, so the record's `zone_id` comes from the zone resource, and the alias points at a
real load balancer name with the hosted zone id that belongs to that load balancer's region.
Next to it: a weighted blue/green pair for the inference endpoint and a plain A record with a
TTL. The seed's TLS and Kubernetes parts live in examples/seed-001-tls and
examples/seed-001-tls-secret. See README.md.
"""

import pulumi
from pulumi_zerotrust.aws import route53

config = pulumi.Config()
zone_name = config.get("zoneName") or "ai-pipeline.example.com"
# In a cluster this is the hostname the AWS Load Balancer Controller writes into the Ingress
# status (ingress.status.load_balancer.ingress[0].hostname).
alb_dns_name = config.get("albDnsName") or "ai-pipeline-alb-1234567890.us-east-1.elb.amazonaws.com"
# Alias targets name the load balancer's *canonical* hosted zone, which AWS fixes per region
# and load balancer kind: Z35SXDOTRQ7X7K is the one of Application and Classic Load Balancers
# in us-east-1. A load balancer in another region, or a Network Load Balancer, needs its own
# (AWS General Reference, "Elastic Load Balancing endpoints and quotas").
alb_zone_id = config.get("albZoneId") or "Z35SXDOTRQ7X7K"
api_record_name = config.get("apiRecordName") or "api"
team = config.get("team") or "ml-platform"
force_destroy = config.get_bool("forceDestroy") or False

zone = route53.Zone(
    "ai-pipeline-zone",
    name=zone_name,
    comment="AI pipeline endpoints",
    tags={"team": team, "app": "ai-pipeline"},
    # Records made outside this program keep the zone from being deleted unless this is set.
    force_destroy=force_destroy,
)

# The seed's record: the domain itself, as an alias of the load balancer. An alias (unlike a
# CNAME) may sit at the zone apex, costs no extra query, and takes the target's TTL.
dns_record = route53.Record(
    "dns-record",
    zone_id=zone.zone_id,
    name=zone.name,
    type="A",
    aliases=[
        route53.RecordAliasArgs(
            name=alb_dns_name,
            zone_id=alb_zone_id,
            evaluate_target_health=True,
        )
    ],
)

# Blue/green for the inference endpoint: 90% of answers name the current fleet, 10% the new
# one. Records of one weighted group share name and type and differ by set_identifier.
inference_fleets = {
    "inference-blue": (90, ["192.0.2.10", "192.0.2.11"]),
    "inference-green": (10, ["192.0.2.20"]),
}
inference_records = [
    route53.Record(
        set_identifier,
        zone_id=zone.zone_id,
        name="inference",  # relative to the zone: inference.<zoneName>
        type="A",
        ttl=60,
        records=addresses,
        set_identifier=set_identifier,
        weighted_routing_policies=[route53.RecordWeightedRoutingPolicyArgs(weight=weight)],
    )
    for set_identifier, (weight, addresses) in inference_fleets.items()
]

# A plain record with a TTL, for the pipeline's API.
api_record = route53.Record(
    "api-record",
    zone_id=zone.zone_id,
    name=api_record_name,
    type="A",
    ttl=300,
    records=["192.0.2.30"],
)

pulumi.export("zone_id", zone.zone_id)
pulumi.export("fqdn", dns_record.fqdn)
pulumi.export("name_servers", zone.name_servers)
pulumi.export("inference_fqdn", inference_records[0].fqdn)
pulumi.export("api_fqdn", api_record.fqdn)
