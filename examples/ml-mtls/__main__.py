"""Mutual-TLS identities for a small ML system.

Three services (feature-store, trainer, inference) talk to each other over
mTLS. Every one of them gets a single key and a single certificate that works
both as a TLS server and as a TLS client, so any service can call any other.
The certificates come from a two-tier private CA:

    root CA (offline-style, 10 years, only signs the intermediate)
      `-- intermediate CA (path length 0: it may sign leaves, never more CAs)
            `-- one leaf per service (30 days, renewed a week before expiry)

Peers trust only the root (`trust_bundle`); each workload presents its leaf
followed by the intermediate (`chain`). Identity is carried the SPIFFE way,
as a URI SAN `spiffe://<trust domain>/ns/<namespace>/sa/<service>`, while the
DNS SANs make ordinary hostname verification work for in-cluster names.

Three extra identities exist only as negative test material for verify.py: an
already-expired trainer certificate, a "rogue" trainer certificate issued by
an unrelated CA, and a genuine trainer certificate whose key "leaked", listed
in the intermediate's certificate revocation list (`crl`). A correct mTLS
setup must refuse all three. For JVM services (Kafka, Spark, Trino), the
trainer identity is also exported as a PKCS#12 keystore (`trainer_p12`).
"""

import pulumi
from pulumi_zerotrust import tls

config = pulumi.Config()
trust_domain = config.get("trustDomain") or "cluster.local"
namespace = config.get("namespace") or "ml"

SERVICES = ["feature-store", "trainer", "inference"]
ORG = "zerotrust ml-mtls example"

# One certificate per service serves both directions of mTLS.
LEAF_USES = ["digital_signature", "key_encipherment", "server_auth", "client_auth"]
LEAF_HOURS = 30 * 24
CA_USES = ["cert_signing", "crl_signing"]


def spiffe_id(service):
    return f"spiffe://{trust_domain}/ns/{namespace}/sa/{service}"


def dns_names(service):
    # Every name a pod in the cluster might use to reach the service.
    return [
        service,
        f"{service}.{namespace}",
        f"{service}.{namespace}.svc",
        f"{service}.{namespace}.svc.{trust_domain}",
    ]


def ec_key(name, curve="P256"):
    return tls.PrivateKey(name, algorithm="ECDSA", ecdsa_curve=curve)


def issue(name, key, ca_cert, ca_key, common_name, uses, hours, *, dns=None, uris=None, opts=None, **extra):
    """CSR + CA signature. SANs live in the CSR; the signer copies them."""
    csr = tls.CertRequest(
        f"{name}-csr",
        private_key_pem=key.private_key_pem,
        subject=tls.CertRequestSubjectArgs(common_name=common_name, organization=ORG),
        dns_names=dns,
        uris=uris,
    )
    return tls.LocallySignedCert(
        f"{name}-cert",
        cert_request_pem=csr.cert_request_pem,
        ca_cert_pem=ca_cert.cert_pem,
        ca_private_key_pem=ca_key.private_key_pem,
        allowed_uses=uses,
        validity_period_hours=hours,
        opts=opts,
        **extra,
    )


# --- Root CA: long-lived, P-384, used for nothing but signing the intermediate.
root_key = ec_key("root-ca-key", "P384")
root_ca = tls.SelfSignedCert(
    "root-ca",
    private_key_pem=root_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name=f"{namespace} root CA", organization=ORG),
    is_ca_certificate=True,
    allowed_uses=CA_USES,
    set_subject_key_id=True,
    validity_period_hours=10 * 365 * 24,
)

# --- Intermediate CA: issues the workload certificates. max_path_length=0
# means a leaked intermediate key still cannot mint further sub-CAs.
intermediate_key = ec_key("intermediate-ca-key", "P384")
intermediate_ca = issue(
    "intermediate-ca",
    intermediate_key,
    root_ca,
    root_key,
    f"{namespace} intermediate CA",
    CA_USES,
    3 * 365 * 24,
    is_ca_certificate=True,
    max_path_length=0,
    set_subject_key_id=True,
)

# --- Workload identities.
identities = {}
for svc in SERVICES:
    key = ec_key(f"{svc}-key")
    cert = issue(
        svc,
        key,
        intermediate_ca,
        intermediate_key,
        f"{svc}.{namespace}.svc.{trust_domain}",
        LEAF_USES,
        LEAF_HOURS,
        dns=dns_names(svc),
        uris=[spiffe_id(svc)],
        early_renewal_hours=24 * 7,  # next `pulumi up` in the last week rotates it
        backdate_minutes=5,  # tolerate small clock skew between nodes
        set_subject_key_id=True,
    )
    identities[svc] = (key, cert)
    pulumi.export(f"{svc}_cert", cert.cert_pem)
    pulumi.export(f"{svc}_key", pulumi.Output.secret(key.private_key_pem))

# --- Negative case 1: a genuine trainer identity from the real intermediate,
# but with zero validity, so it is already expired when created.
expired_key = ec_key("expired-trainer-key")
expired = issue(
    "expired-trainer",
    expired_key,
    intermediate_ca,
    intermediate_key,
    f"trainer.{namespace}.svc.{trust_domain}",
    ["digital_signature", "client_auth"],
    0,
    uris=[spiffe_id("trainer")],
    backdate_minutes=5,  # puts the (empty) validity window in the past
    # It is expired on purpose: tell the provider not to renew it on every `up`.
    opts=pulumi.ResourceOptions(ignore_changes=["readyForRenewal"]),
)

# --- Negative case 2: same SPIFFE ID as trainer, signed by an unrelated CA.
# The name alone must never be enough; the chain has to end at our root.
rogue_ca_key = ec_key("rogue-ca-key")
rogue_ca = tls.SelfSignedCert(
    "rogue-ca",
    private_key_pem=rogue_ca_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name=f"{namespace} root CA", organization="not us"),
    is_ca_certificate=True,
    allowed_uses=CA_USES,
    validity_period_hours=LEAF_HOURS,
)
rogue_key = ec_key("rogue-trainer-key")
rogue = issue(
    "rogue-trainer",
    rogue_key,
    rogue_ca,
    rogue_ca_key,
    f"trainer.{namespace}.svc.{trust_domain}",
    ["digital_signature", "client_auth"],
    LEAF_HOURS,
    uris=[spiffe_id("trainer")],
)

# --- Negative case 3: a genuine trainer identity, revoked. The intermediate's
# CRL lists it; servers that load the CRL refuse it. Every change to the list
# signs it again with the next CRL number.
revoked_key = ec_key("revoked-trainer-key")
revoked = issue(
    "revoked-trainer",
    revoked_key,
    intermediate_ca,
    intermediate_key,
    f"trainer.{namespace}.svc.{trust_domain}",
    ["digital_signature", "client_auth"],
    LEAF_HOURS,
    uris=[spiffe_id("trainer")],
    backdate_minutes=5,
)
crl = tls.CertificateRevocationList(
    "intermediate-crl",
    ca_cert_pem=intermediate_ca.cert_pem,
    ca_private_key_pem=intermediate_key.private_key_pem,
    revoked_certificates=[tls.RevokedCertificateArgs(serial_number=revoked.id, reason="keyCompromise")],
)

# --- The trainer identity as a PKCS#12 keystore for JVM clients: leaf, key and
# the chain up to the root; the password is generated and kept secret.
trainer_key, trainer_cert = identities["trainer"]
trainer_p12 = tls.Pkcs12Bundle(
    "trainer-p12",
    cert_pem=trainer_cert.cert_pem,
    ca_cert_pems=[intermediate_ca.cert_pem, root_ca.cert_pem],
    private_key_pem=trainer_key.private_key_pem,
    friendly_name="trainer",
)

pulumi.export("crl", crl.crl_pem)
pulumi.export("crl_number", crl.crl_number)
pulumi.export("revoked_cert", revoked.cert_pem)
pulumi.export("revoked_key", pulumi.Output.secret(revoked_key.private_key_pem))
pulumi.export("trainer_p12", trainer_p12.pkcs12_base64)
pulumi.export("trainer_p12_password", trainer_p12.password)
pulumi.export("root_ca_cert", root_ca.cert_pem)
pulumi.export("intermediate_ca_cert", intermediate_ca.cert_pem)
pulumi.export("trust_bundle", root_ca.cert_pem)  # what every peer trusts
pulumi.export("chain", intermediate_ca.cert_pem)  # sent after each leaf
pulumi.export("expired_cert", expired.cert_pem)
pulumi.export("expired_key", pulumi.Output.secret(expired_key.private_key_pem))
pulumi.export("rogue_cert", rogue.cert_pem)
pulumi.export("rogue_key", pulumi.Output.secret(rogue_key.private_key_pem))
pulumi.export("rogue_ca_cert", rogue_ca.cert_pem)
pulumi.export("services", SERVICES)
# Lets verify.py derive the expected SPIFFE IDs and DNS names.
pulumi.export("trust_domain", trust_domain)
pulumi.export("namespace", namespace)
