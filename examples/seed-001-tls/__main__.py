"""Seed 001, TLS part only: a key, a CSR and a self-signed certificate for
the AI pipeline's public endpoint, written against the pulumi-tls v5 API as
exposed by `pulumi_zerotrust.tls`. See README.md for what changed and why.
(The seed's Kubernetes Secret and Route 53 record are out of scope here.)
"""

import pulumi
from pulumi_zerotrust import tls

domain_name = pulumi.Config().get("domainName") or "ai-pipeline.example.com"

# RSA-2048, as in the seed.
private_key = tls.PrivateKey("private-key", algorithm="RSA", rsa_bits=2048)

# A CSR for the same identity. A self-signed certificate does not consume it;
# it is what you would hand to a real CA later (the seed's "in production"
# advice), so it is exported rather than wired into SelfSignedCert.
csr = tls.CertRequest(
    "csr",
    private_key_pem=private_key.private_key_pem,
    subject=tls.CertRequestSubjectArgs(common_name=domain_name),
    dns_names=[domain_name],
)

# The certificate is signed by its own key. Clients match the hostname
# against the DNS SAN, not the common name, so dns_names is what matters.
certificate = tls.SelfSignedCert(
    "certificate",
    private_key_pem=private_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name=domain_name),
    dns_names=[domain_name],
    allowed_uses=["key_encipherment", "digital_signature", "server_auth"],
    validity_period_hours=8760,  # one year
)

pulumi.export("cert_pem", certificate.cert_pem)
pulumi.export("key_algorithm", certificate.key_algorithm)  # computed: "RSA"
pulumi.export("private_key_pem", pulumi.Output.secret(private_key.private_key_pem))
pulumi.export("cert_request_pem", csr.cert_request_pem)
