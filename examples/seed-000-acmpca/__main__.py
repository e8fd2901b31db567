"""Seed 000, certificate authority part: the private CA hierarchy behind service mTLS, on ACM
Private CA, written against pulumi-aws's `aws.acmpca` API as exposed by
`pulumi_zerotrust.aws.acmpca`.

The seed created one SUBORDINATE CA and nothing to sign it, so it could never issue. Here a ROOT
CA signs its own certificate, signs the subordinate, and the subordinate issues one certificate
per service from a CSR made with the tls module (the private keys never leave Pulumi state, where
they are secrets). The seed's App Mesh part is gone (App Mesh was discontinued); the mesh policy
lives in examples/seed-000-mesh-mtls. See README.md.
"""

import json

import pulumi
from pulumi_zerotrust import tls
from pulumi_zerotrust.aws import acmpca

config = pulumi.Config()
root_key_algorithm = config.get("rootKeyAlgorithm") or "RSA_4096"
services = config.get_object("services") or ["trainer", "feature-store"]
tags = config.get_object("tags") or {"team": "ml-platform", "purpose": "service-mtls"}
domain = "ml.mydomain.com"


def signing_for(key_algorithm: str) -> str:
    return "SHA512WITHRSA" if key_algorithm.startswith("RSA") else "SHA384WITHECDSA"


root = acmpca.CertificateAuthority(
    "root-ca",
    type="ROOT",
    certificate_authority_configuration={
        "key_algorithm": root_key_algorithm,
        "signing_algorithm": signing_for(root_key_algorithm),
        "subject": {"common_name": f"root.{domain}", "organization": "Example ML"},
    },
    permanent_deletion_time_in_days=7,
    tags=tags,
)

# A root CA's own certificate is issued from its own CSR with the root template.
root_cert = acmpca.Certificate(
    "root-ca-cert",
    certificate_authority_arn=root.arn,
    certificate_signing_request=root.certificate_signing_request,
    signing_algorithm=signing_for(root_key_algorithm),
    template_arn="arn:aws:acm-pca:::template/RootCACertificate/V1",
    validity={"type": "YEARS", "value": "10"},
)

root_activation = acmpca.CertificateAuthorityCertificate(
    "root-ca-activation",
    certificate_authority_arn=root.arn,
    certificate=root_cert.certificate,
)

# The seed's CA: SUBORDINATE, RSA_4096, SHA512WITHRSA.
subordinate = acmpca.CertificateAuthority(
    "services-ca",
    type="SUBORDINATE",
    certificate_authority_configuration={
        "key_algorithm": "RSA_4096",
        "signing_algorithm": "SHA512WITHRSA",
        "subject": {"common_name": f"services.{domain}", "organization": "Example ML"},
    },
    permanent_deletion_time_in_days=7,
    tags=tags,
)

subordinate_cert = acmpca.Certificate(
    "services-ca-cert",
    certificate_authority_arn=root.arn,
    certificate_signing_request=subordinate.certificate_signing_request,
    signing_algorithm=signing_for(root_key_algorithm),
    template_arn="arn:aws:acm-pca:::template/SubordinateCACertificate_PathLen0/V1",
    validity={"type": "YEARS", "value": "5"},
    opts=pulumi.ResourceOptions(depends_on=[root_activation]),
)

subordinate_activation = acmpca.CertificateAuthorityCertificate(
    "services-ca-activation",
    certificate_authority_arn=subordinate.arn,
    certificate=subordinate_cert.certificate,
    certificate_chain=root_cert.certificate,
)

# Let the platform account's automation read certificates from the subordinate CA.
acmpca.Policy(
    "services-ca-policy",
    resource_arn=subordinate.arn,
    policy=subordinate.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Sid": "platform-read",
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                        "Action": ["acm-pca:GetCertificate", "acm-pca:DescribeCertificateAuthority"],
                        "Resource": arn,
                    }
                ],
            }
        )
    ),
    opts=pulumi.ResourceOptions(depends_on=[subordinate_activation]),
)

identities = {}
for service in services:
    key = tls.PrivateKey(f"{service}-key", algorithm="ECDSA", ecdsa_curve="P256")
    csr = tls.CertRequest(
        f"{service}-csr",
        private_key_pem=key.private_key_pem,
        subject={"common_name": f"{service}.{domain}", "organization": "Example ML"},
        dns_names=[f"{service}.{domain}"],
        uris=[f"spiffe://{domain}/ns/ml/sa/{service}"],
    )
    cert = acmpca.Certificate(
        f"{service}-cert",
        certificate_authority_arn=subordinate.arn,
        certificate_signing_request=csr.cert_request_pem,
        signing_algorithm="SHA512WITHRSA",
        template_arn="arn:aws:acm-pca:::template/EndEntityCertificate/V1",
        validity={"type": "DAYS", "value": "30"},
        opts=pulumi.ResourceOptions(depends_on=[subordinate_activation]),
    )
    identities[service] = {"cert": cert, "key": key}
    pulumi.export(f"{service}_cert_pem", cert.certificate)
    pulumi.export(f"{service}_chain_pem", cert.certificate_chain)
    pulumi.export(f"{service}_key_pem", key.private_key_pem)

pulumi.export("root_ca_arn", root.arn)
pulumi.export("root_ca_pem", root_cert.certificate)
pulumi.export("services_ca_arn", subordinate.arn)
pulumi.export("services_ca_pem", subordinate_cert.certificate)
# The seed's one export, now the CA that actually issues.
pulumi.export("certificate_authority_arn", subordinate.arn)
