"""A CA constrained to ml.internal (except admin.ml.internal), 10.0.0.0/8 and the
cluster.local trust domain; one leaf inside; a CRL of that CA.

Config:
  revokeTrainer  true: list the trainer certificate in the CRL (keyCompromise)
  extraName      a DNS name for a second leaf (to ask for one outside the constraints)
  extraIssuer    constrained (default) or open: which CA signs that second leaf
  malformed      ca, crl or p12: add a resource of that kind whose inputs Check must refuse
"""

import pulumi
from pulumi_zerotrust import tls

config = pulumi.Config()
USES_CA = ["cert_signing", "crl_signing", "digital_signature"]
USES_LEAF = ["digital_signature", "server_auth", "client_auth"]

ca_key = tls.PrivateKey("ca-key", algorithm="ECDSA")
ca = tls.SelfSignedCert(
    "ca",
    private_key_pem=ca_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name="ml constrained CA"),
    is_ca_certificate=True,
    set_subject_key_id=True,
    allowed_uses=USES_CA,
    validity_period_hours=24,
    name_constraints=tls.NameConstraintsArgs(
        permitted_dns_domains=["ml.internal"],
        excluded_dns_domains=["admin.ml.internal"],
        permitted_ip_ranges=["10.0.0.0/8"],
        permitted_uri_domains=["cluster.local"],
    ),
)


open_key = tls.PrivateKey("open-ca-key", algorithm="ECDSA")
open_ca = tls.SelfSignedCert(
    "open-ca",
    private_key_pem=open_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name="unconstrained CA"),
    is_ca_certificate=True,
    allowed_uses=USES_CA,
    validity_period_hours=24,
)


def leaf(name, dns, issuer=(ca, ca_key)):
    key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA")
    csr = tls.CertRequest(
        f"{name}-csr",
        private_key_pem=key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(common_name=name),
        dns_names=[dns],
        ip_addresses=["10.0.0.7"],
        uris=[f"spiffe://cluster.local/ns/ml/sa/{name}"],
    )
    cert = tls.LocallySignedCert(
        f"{name}-cert",
        cert_request_pem=csr.cert_request_pem,
        ca_cert_pem=issuer[0].cert_pem,
        ca_private_key_pem=issuer[1].private_key_pem,
        allowed_uses=USES_LEAF,
        validity_period_hours=12,
        backdate_minutes=5,
        crl_distribution_points=["http://pki.ml.internal/ca.crl"],
        ocsp_servers=["http://ocsp.ml.internal"],
        issuing_certificate_urls=["http://pki.ml.internal/ca.crt"],
    )
    return key, cert


trainer_key, trainer = leaf("trainer", "trainer.ml.internal")

revoked = []
if config.get_bool("revokeTrainer"):
    revoked.append(tls.RevokedCertificateArgs(
        serial_number=trainer.id, reason="keyCompromise"))
crl = tls.CertificateRevocationList(
    "crl",
    ca_cert_pem=ca.cert_pem,
    ca_private_key_pem=ca_key.private_key_pem,
    revoked_certificates=revoked,
    validity_hours=48,
)

extra = config.get("extraName")
if extra:
    open_issuer = config.get("extraIssuer") == "open"
    leaf("extra", extra, (open_ca, open_key) if open_issuer else (ca, ca_key))

malformed = config.get("malformed")
if malformed == "ca":
    tls.SelfSignedCert(
        "bad-ca",
        private_key_pem=ca_key.private_key_pem,
        subject=tls.SelfSignedCertSubjectArgs(common_name="bad"),
        is_ca_certificate=True,
        allowed_uses=USES_CA,
        validity_period_hours=24,
        name_constraints=tls.NameConstraintsArgs(
            permitted_dns_domains=["ok.internal", "*.ml.internal"],
            permitted_ip_ranges=["10.1.2.3/8"],
            permitted_uri_domains=["spiffe://cluster.local"],
        ),
    )
if malformed == "crl":
    tls.CertificateRevocationList(
        "bad-crl",
        ca_cert_pem=ca.cert_pem,
        ca_private_key_pem=ca_key.private_key_pem,
        revoked_certificates=[
            tls.RevokedCertificateArgs(serial_number="255"),
            tls.RevokedCertificateArgs(serial_number="00:ff"),
        ],
        this_update="2026-12-02T00:00:00Z",
        next_update="2026-12-01T00:00:00Z",
    )
if malformed == "p12":
    tls.Pkcs12Bundle(
        "bad-p12",
        cert_pem=trainer.cert_pem,
        private_key_pem=trainer_key.private_key_pem,
        password=pulumi.Output.secret(""),
        encryption="legacy",
    )

pulumi.export("ca_cert", ca.cert_pem)
pulumi.export("trainer_cert", trainer.cert_pem)
pulumi.export("trainer_serial", trainer.id)
pulumi.export("crl", crl.crl_pem)
pulumi.export("crl_number", crl.crl_number)
