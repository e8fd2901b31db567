"""Seed 003: a managed PKI for a distributed AI system on Vault's (or OpenBao's) PKI secrets
engine, written against pulumi-vault's API as exposed by `pulumi_zerotrust.vault` and
`pulumi_zerotrust.vault.pkisecret`. See README.md for what was corrected.
"""

import pulumi
from pulumi_zerotrust import vault
from pulumi_zerotrust.vault import pkisecret

config = pulumi.Config()
mount_path = config.get("mountPath") or "pki"
root_common_name = config.get("rootCommonName") or "ai-system-root"
role_max_ttl = config.get("roleMaxTtl") or "720h"
node_name = config.get("nodeName") or "node.ai-system.example.com"

pki = vault.Mount(
    "pkiSecretBackend",
    path=mount_path,
    type="pki",
    description="PKI backend to generate and manage certificates",
    default_lease_ttl_seconds=43800 * 3600,  # 5 years
    max_lease_ttl_seconds=87600 * 3600,  # 10 years: caps the root's TTL too
)

root = pkisecret.SecretBackendRootCert(
    "rootCert",
    backend=pki.path,
    type="internal",
    common_name=root_common_name,
    ttl="43800h",  # 5 years
    key_type="ec",
    key_bits=384,
    issuer_name="ai-system-root",
)

role = pkisecret.SecretBackendRole(
    "aiSystemRole",
    backend=pki.path,
    name="ai-system",
    allowed_domains=["ai-system.example.com"],
    allow_subdomains=True,
    max_ttl=role_max_ttl,
    key_type="ec",
    key_bits=256,
    server_flag=True,
    client_flag=True,
    # Issuing needs the root to exist; the seed relied on ordering it did not declare.
    opts=pulumi.ResourceOptions(depends_on=[root]),
)

issued = pkisecret.SecretBackendCert(
    "aiSystemCert",
    backend=pki.path,
    name=role.name,
    common_name=node_name,
    ttl="720h",  # 30 days
    format="pem",
    auto_renew=True,
    min_seconds_remaining=7 * 24 * 3600,
    revoke=True,
)

pulumi.export("certificate", issued.certificate)
pulumi.export("issuing_ca", issued.issuing_ca)
pulumi.export("private_key", issued.private_key)
pulumi.export("serial_number", issued.serial_number)
pulumi.export("root_certificate", root.certificate)
pulumi.export("mount_path", pki.path)
