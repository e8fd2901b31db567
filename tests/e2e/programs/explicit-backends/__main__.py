"""Test program: backend settings passed to explicit providers as typed objects (the Python SDK's
`AwsSettingsArgs`, `AwsEndpointsArgs`, `VaultSettingsArgs`), so nothing comes from the
environment. Config: awsEndpoint, vaultAddress, vaultToken (secret), zoneName, mountPath."""

import pulumi
import pulumi_zerotrust as zerotrust
from pulumi_zerotrust import vault
from pulumi_zerotrust.aws import route53

config = pulumi.Config()

aws = zerotrust.Provider(
    "aws",
    aws=zerotrust.AwsSettingsArgs(
        region="us-east-1",
        access_key="test",
        secret_key="zt-plain-secret-key-4711",  # given as plain text on purpose: state must still hide it
        endpoints=zerotrust.AwsEndpointsArgs(route53=config.require("awsEndpoint")),
    ),
)
bao = zerotrust.Provider(
    "bao",
    vault=zerotrust.VaultSettingsArgs(
        address=config.require("vaultAddress"),
        token=config.require_secret("vaultToken"),
    ),
)

zone = route53.Zone("zone", name=config.require("zoneName"), opts=pulumi.ResourceOptions(provider=aws))
mount = vault.Mount("mount", path=config.require("mountPath"), type="pki", opts=pulumi.ResourceOptions(provider=bao))

pulumi.export("zone_id", zone.zone_id)
pulumi.export("mount_path", mount.path)
