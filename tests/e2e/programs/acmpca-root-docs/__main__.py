"""Test program: a root CA as the AWS documentation writes one, with `certificate_chain` passed
on from the issued certificate although a root certificate has no chain ("" there). Config
`chain` picks how the chain is given: `output` (as the docs do), `empty` ("") or `absent`."""

import pulumi
from pulumi_zerotrust.aws import acmpca

chain = pulumi.Config().get("chain") or "output"

root = acmpca.CertificateAuthority(
    "root",
    type="ROOT",
    certificate_authority_configuration=acmpca.CertificateAuthorityCertificateAuthorityConfigurationArgs(
        key_algorithm="RSA_4096",
        signing_algorithm="SHA512WITHRSA",
        subject=acmpca.CertificateAuthorityCertificateAuthorityConfigurationSubjectArgs(
            common_name="example.com",
        ),
    ),
    permanent_deletion_time_in_days=7,
)

root_cert = acmpca.Certificate(
    "root-cert",
    certificate_authority_arn=root.arn,
    certificate_signing_request=root.certificate_signing_request,
    signing_algorithm="SHA512WITHRSA",
    template_arn="arn:aws:acm-pca:::template/RootCACertificate/V1",
    validity=acmpca.CertificateValidityArgs(type="YEARS", value="1"),
)

chains = {"output": root_cert.certificate_chain, "empty": "", "absent": None}
root_activation = acmpca.CertificateAuthorityCertificate(
    "root-activation",
    certificate_authority_arn=root.arn,
    certificate=root_cert.certificate,
    certificate_chain=chains[chain],
)

pulumi.export("root_arn", root.arn)
pulumi.export("chain_output", root_cert.certificate_chain)
