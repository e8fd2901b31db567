"""Two-tier PKI on Vault (or OpenBao): the root CA lives in its own mount and only signs the
intermediate; services get their certificates from the intermediate's role. Offline-root
practice without leaving Vault: the root mount can be locked down by policy once signed.
"""

import pulumi
from pulumi_zerotrust import vault
from pulumi_zerotrust.vault import pkisecret

config = pulumi.Config()
prefix = config.get("prefix") or "ml"

root_mount = vault.Mount(
    "root-mount",
    path=f"{prefix}-root-pki",
    type="pki",
    description="Root CA of the ML platform",
    max_lease_ttl_seconds=10 * 365 * 24 * 3600,
)

root = pkisecret.SecretBackendRootCert(
    "root",
    backend=root_mount.path,
    type="internal",
    common_name="ML platform root CA",
    ttl="87600h",
    key_type="ec",
    key_bits=384,
    organization="Example ML",
)

int_mount = vault.Mount(
    "intermediate-mount",
    path=f"{prefix}-int-pki",
    type="pki",
    description="Issuing CA for ML services",
    max_lease_ttl_seconds=5 * 365 * 24 * 3600,
)

csr = pkisecret.SecretBackendIntermediateCertRequest(
    "intermediate-csr",
    backend=int_mount.path,
    type="internal",
    common_name="ML services issuing CA",
    key_type="ec",
    key_bits=256,
    organization="Example ML",
)

signed = pkisecret.SecretBackendRootSignIntermediate(
    "intermediate-signed",
    backend=root_mount.path,
    csr=csr.csr,
    common_name="ML services issuing CA",
    ttl="43800h",
    max_path_length=0,
    use_csr_values=True,
    opts=pulumi.ResourceOptions(depends_on=[root]),
)

installed = pkisecret.SecretBackendIntermediateSetSigned(
    "intermediate-installed",
    backend=int_mount.path,
    certificate=signed.certificate,
)

pkisecret.SecretBackendConfigUrls(
    "intermediate-urls",
    backend=int_mount.path,
    issuing_certificates=[int_mount.path.apply(lambda p: f"http://127.0.0.1:8200/v1/{p}/ca")],
    crl_distribution_points=[int_mount.path.apply(lambda p: f"http://127.0.0.1:8200/v1/{p}/crl")],
)

role = pkisecret.SecretBackendRole(
    "services",
    backend=int_mount.path,
    name="services",
    allowed_domains=["svc.ml.example.com"],
    allow_subdomains=True,
    allowed_uri_sans=["spiffe://ml.example.com/*"],
    max_ttl="72h",
    key_type="ec",
    key_bits=256,
    opts=pulumi.ResourceOptions(depends_on=[installed]),
)

leaf = pkisecret.SecretBackendCert(
    "trainer",
    backend=int_mount.path,
    name=role.name,
    common_name="trainer.svc.ml.example.com",
    uri_sans=["spiffe://ml.example.com/ns/ml/sa/trainer"],
    ttl="24h",
    revoke=True,
)

pulumi.export("root_pem", root.certificate)
pulumi.export("intermediate_pem", signed.certificate)
pulumi.export("leaf_pem", leaf.certificate)
pulumi.export("leaf_chain", leaf.ca_chain)
pulumi.export("leaf_key", leaf.private_key)
pulumi.export("leaf_serial", leaf.serial_number)
pulumi.export("int_mount", int_mount.path)
pulumi.export("root_mount", root_mount.path)
