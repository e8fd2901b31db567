"""One trust anchor across two backends: the root CA lives in Vault/OpenBao, the issuing CA in
AWS Certificate Manager Private CA. Services on AWS get certificates from ACM PCA, yet every
certificate chains to the same root that on-premises services already trust.
"""

import pulumi
from pulumi_zerotrust import tls, vault
from pulumi_zerotrust.aws import acmpca
from pulumi_zerotrust.vault import pkisecret

config = pulumi.Config()
mount_path = config.get("mountPath") or "org-root-pki"

root_mount = vault.Mount(
    "root-mount",
    path=mount_path,
    type="pki",
    description="Organisation root CA",
    max_lease_ttl_seconds=10 * 365 * 24 * 3600,
)

root = pkisecret.SecretBackendRootCert(
    "root",
    backend=root_mount.path,
    type="internal",
    common_name="Example ML Root CA",
    organization="Example ML",
    ttl="87600h",
    key_type="ec",
    key_bits=384,
)

subordinate = acmpca.CertificateAuthority(
    "aws-issuing-ca",
    type="SUBORDINATE",
    certificate_authority_configuration={
        "key_algorithm": "RSA_2048",
        "signing_algorithm": "SHA256WITHRSA",
        "subject": {"common_name": "Example ML AWS Issuing CA", "organization": "Example ML"},
    },
    permanent_deletion_time_in_days=7,
)

# The root signs the subordinate's CSR as it is: ACM PCA builds the issuer name of what it
# issues from its configured subject, so the signed certificate must carry exactly that subject.
signed = pkisecret.SecretBackendRootSignIntermediate(
    "aws-issuing-ca-signed",
    backend=root_mount.path,
    csr=subordinate.certificate_signing_request,
    common_name="Example ML AWS Issuing CA",
    use_csr_values=True,
    max_path_length=0,
    ttl="43800h",
    revoke=True,
    opts=pulumi.ResourceOptions(depends_on=[root]),
)

activation = acmpca.CertificateAuthorityCertificate(
    "aws-issuing-ca-activation",
    certificate_authority_arn=subordinate.arn,
    certificate=signed.certificate,
    certificate_chain=root.certificate,
)

key = tls.PrivateKey("inference-key", algorithm="ECDSA", ecdsa_curve="P256")
csr = tls.CertRequest(
    "inference-csr",
    private_key_pem=key.private_key_pem,
    subject={"common_name": "inference.ml.example.com"},
    dns_names=["inference.ml.example.com"],
)
leaf = acmpca.Certificate(
    "inference-cert",
    certificate_authority_arn=subordinate.arn,
    certificate_signing_request=csr.cert_request_pem,
    signing_algorithm="SHA256WITHRSA",
    validity={"type": "DAYS", "value": "30"},
    opts=pulumi.ResourceOptions(depends_on=[activation]),
)

pulumi.export("root_pem", root.certificate)
pulumi.export("subordinate_pem", signed.certificate)
pulumi.export("leaf_pem", leaf.certificate)
pulumi.export("subordinate_arn", subordinate.arn)
