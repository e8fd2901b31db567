"""Seed 001, corrected: TLS material for an AI pipeline endpoint, kept in Kubernetes.

An RSA key, a CSR and a one-year self-signed server certificate for
`domainName` are made with the zerotrust tls module (the pulumi-tls v5 API).
Certificate and key then go into a `kubernetes.io/tls` Secret inside a
Namespace of their own, which is what the seed set out to do. README.md lists
every change from the seed and the reason for it.
"""

import pulumi
from pulumi_zerotrust import tls
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.meta import v1 as meta

config = pulumi.Config()
namespace_name = config.get("namespace") or "ai-pipeline"
domain_name = config.get("domainName") or "ai-pipeline.example.com"
team = config.get("team") or "ml-platform"

# Labels shared by every Kubernetes object here; `team` comes from config, so
# changing it is an in-place metadata update, never a replacement.
labels = {
    "app.kubernetes.io/managed-by": "pulumi",
    "team": team,
}


def secret_name_for(domain: str) -> str:
    """A readable, valid Secret name derived from the domain.

    Object names must be lower case; a wildcard domain's `*` is not allowed
    at all. Dots would be legal, but a name like `a.example.com-tls` reads as
    a hostname, so they become dashes.
    """
    base = domain.strip().lower().replace("*", "wildcard").replace(".", "-")
    return f"{base}-tls"


# --- TLS material (seed step 1) -------------------------------------------

private_key = tls.PrivateKey("private-key", algorithm="RSA", rsa_bits=2048)

# The CSR is what a real CA would sign later ("in production, use a
# recognised CA"); the self-signed certificate below does not consume it.
csr = tls.CertRequest(
    "csr",
    private_key_pem=private_key.private_key_pem,
    subject=tls.CertRequestSubjectArgs(common_name=domain_name),
    dns_names=[domain_name],
)

certificate = tls.SelfSignedCert(
    "certificate",
    private_key_pem=private_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name=domain_name),
    dns_names=[domain_name],  # clients check the SAN, not the common name
    allowed_uses=["key_encipherment", "digital_signature", "server_auth"],
    validity_period_hours=365 * 24,
    # An `up` during the last 30 days issues a fresh certificate, and the
    # Secret is then updated in place with it.
    early_renewal_hours=30 * 24,
)

# --- Kubernetes (seed step 2) ---------------------------------------------

namespace = core.Namespace(
    "namespace",
    metadata=meta.ObjectMetaArgs(name=namespace_name, labels=labels),
)

tls_secret = core.Secret(
    "tls-secret",
    metadata=meta.ObjectMetaArgs(
        name=secret_name_for(domain_name),
        # Taken from the Namespace resource, so the Secret is created after
        # it and deleted before it.
        namespace=namespace.metadata.name,
        labels=labels,
    ),
    type="kubernetes.io/tls",
    # Plain PEM text goes in string_data; `data` would need base64. The
    # provider keeps both maps secret in state and outputs.
    string_data={
        "tls.crt": certificate.cert_pem,
        "tls.key": private_key.private_key_pem,
    },
)

pulumi.export("namespace", namespace.metadata.name)
pulumi.export("secret_name", tls_secret.metadata.name)
pulumi.export("domain_name", domain_name)
pulumi.export("cert_pem", certificate.cert_pem)
pulumi.export("cert_request_pem", csr.cert_request_pem)
# The private key is deliberately not exported: it lives only in the Secret
# (and, encrypted, in Pulumi state).
