"""Seed 000, mesh half: the App Mesh virtual node's TLS settings, as Istio objects.

AWS App Mesh is discontinued (2026-09-30), so the seed's virtual node is
expressed with the Istio shapes the zerotrust provider manages:

  * listener TLS mode STRICT         -> PeerAuthentication, mtls STRICT, for
                                        the whole namespace;
  * backendDefaults.clientPolicy.tls -> DestinationRule for the backend host,
    (enforce + validation trust)        tls MUTUAL: a client certificate, the
                                        CA that must have signed the backend,
                                        and the backend's SPIFFE id as SAN.

The client certificate and the CA are made with the zerotrust tls module and
handed to Istio in a `kubernetes.io/tls` Secret (`tls.crt`, `tls.key`,
`ca.crt`), referenced by `credentialName`. README.md has the full mapping,
the corrections to the seed, and what a cluster needs for this to carry
traffic (the mesh's CA must chain to this root).
"""

import pulumi
from pulumi_zerotrust import tls
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.istio.networking import v1 as istio_networking
from pulumi_zerotrust.kubernetes.istio.security import v1 as istio_security
from pulumi_zerotrust.kubernetes.meta import v1 as meta

config = pulumi.Config()
namespace_name = config.get("namespace") or "ml-mesh"
# The seed's placeholder `my_backend_virtual_service` with the underscores,
# which DNS and Kubernetes names forbid, turned into dashes.
backend = config.get("backend") or "my-backend-virtual-service"
# The seed's virtual node, discovered as `my-service.local`.
client = config.get("client") or "my-service"
trust_domain = config.get("trustDomain") or "cluster.local"
team = config.get("team") or "ml-platform"

ORG = "zerotrust seed-000 mesh"

labels = {"app.kubernetes.io/managed-by": "pulumi", "team": team}


def spiffe_id(service_account):
    # Istio's workload identity: trust domain, namespace, service account.
    return f"spiffe://{trust_domain}/ns/{namespace_name}/sa/{service_account}"


backend_host = f"{backend}.{namespace_name}.svc.{trust_domain}"

# --- Namespace with sidecar injection ---------------------------------------

namespace = core.Namespace(
    "mesh-namespace",
    metadata=meta.ObjectMetaArgs(
        name=namespace_name,
        labels={**labels, "istio-injection": "enabled"},
    ),
)


def in_namespace(name):
    return meta.ObjectMetaArgs(name=name, namespace=namespace.metadata.name, labels=labels)


# --- Server side: the listener's "tls.mode = STRICT" ------------------------
# No selector: it covers every workload in the namespace. Istio's convention
# is to call the namespace-wide policy `default`.

peer_authentication = istio_security.PeerAuthentication(
    "namespace-mtls-strict",
    metadata=in_namespace("default"),
    spec=istio_security.PeerAuthenticationSpecArgs(
        mtls=istio_security.PeerAuthenticationMutualTlsArgs(mode="STRICT"),
    ),
)

# --- PKI: the part ACM PCA played in the seed ------------------------------
# A root CA (RSA-4096, as the seed's CA), used only to sign certificates.

root_ca_key = tls.PrivateKey("mesh-root-ca-key", algorithm="RSA", rsa_bits=4096)
root_ca = tls.SelfSignedCert(
    "mesh-root-ca",
    private_key_pem=root_ca_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name=f"{namespace_name} mesh root CA", organization=ORG),
    is_ca_certificate=True,
    allowed_uses=["cert_signing", "crl_signing"],
    set_subject_key_id=True,
    validity_period_hours=5 * 365 * 24,
)

# The client's identity: SPIFFE URI SAN, client authentication only.
client_key = tls.PrivateKey("client-key", algorithm="ECDSA", ecdsa_curve="P256")
client_csr = tls.CertRequest(
    "client-csr",
    private_key_pem=client_key.private_key_pem,
    subject=tls.CertRequestSubjectArgs(common_name=client, organization=ORG),
    uris=[spiffe_id(client)],
)
client_cert = tls.LocallySignedCert(
    "client-cert",
    cert_request_pem=client_csr.cert_request_pem,
    ca_cert_pem=root_ca.cert_pem,
    ca_private_key_pem=root_ca_key.private_key_pem,
    allowed_uses=["digital_signature", "client_auth"],
    validity_period_hours=30 * 24,
    early_renewal_hours=7 * 24,  # an `up` in the last week rotates it
    backdate_minutes=5,  # tolerate small clock skew between nodes
    set_subject_key_id=True,
)

# What `credentialName` points at. It must sit in the namespace of the proxy
# that uses it, i.e. the client's. `ca.crt` is the trust the client uses to
# verify the backend (the seed's validation.trust).
client_credential = core.Secret(
    "client-mtls-credential",
    metadata=in_namespace(f"{client}-mtls-client"),
    type="kubernetes.io/tls",
    string_data={
        "tls.crt": client_cert.cert_pem,
        "tls.key": client_key.private_key_pem,
        "ca.crt": root_ca.cert_pem,
    },
)

# --- Client side: backendDefaults.clientPolicy.tls -------------------------

destination_rule = istio_networking.DestinationRule(
    "backend-mtls",
    metadata=in_namespace(f"{backend}-mtls"),
    spec=istio_networking.DestinationRuleSpecArgs(
        host=backend_host,
        # Istio reads credentialName at a sidecar only when the rule has a
        # workloadSelector; without it the Secret is used by gateways only.
        workload_selector=istio_networking.WorkloadSelectorArgs(match_labels={"app": client}),
        traffic_policy=istio_networking.TrafficPolicyArgs(
            # The seed has a single port (8080), so one policy for the host
            # covers it; no portLevelSettings are needed.
            tls=istio_networking.ClientTLSSettingsArgs(
                mode="MUTUAL",
                credential_name=client_credential.metadata.name,
                subject_alt_names=[spiffe_id(backend)],
            ),
        ),
    ),
)

pulumi.export("namespace", namespace.metadata.name)
pulumi.export("peer_authentication_name", peer_authentication.metadata.name)
pulumi.export("destination_rule_name", destination_rule.metadata.name)
pulumi.export("credential_secret_name", client_credential.metadata.name)
pulumi.export("backend_host", backend_host)
pulumi.export("backend_spiffe_id", spiffe_id(backend))
pulumi.export("client_spiffe_id", spiffe_id(client))
pulumi.export("ca_cert_pem", root_ca.cert_pem)
pulumi.export("client_cert_pem", client_cert.cert_pem)
# No private key is exported; the client key exists only in the Secret.
