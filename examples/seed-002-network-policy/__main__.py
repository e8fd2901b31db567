"""Seed 002, corrected: a NetworkPolicy and a TLS Ingress for federated learning.

The federated-learning pods (label `role: federated-learning`) may only talk
to each other on TCP 443, plus two things the seed's policy forgot: the
ingress controller may reach them (otherwise the Ingress below could never
deliver a request) and they may resolve names through cluster DNS. The
Ingress terminates TLS for `host` with a certificate from the zerotrust tls
module, stored in the `kubernetes.io/tls` Secret that the seed referred to
but never created. README.md lists every change from the seed and why.
"""

import pulumi
from pulumi_zerotrust import tls
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.meta import v1 as meta
from pulumi_zerotrust.kubernetes.networking import v1 as networking

config = pulumi.Config()
namespace_name = config.get("namespace") or "ml-serving"
host = config.get("host") or "federated.example.com"
team = config.get("team") or "ml-platform"
ingress_controller_namespace = config.get("ingressControllerNamespace") or "ingress-nginx"
ingress_class_name = config.get("ingressClassName") or None  # None: cluster default

# Names from the seed, kept so that existing manifests and docs still match.
APP = "federated-learning"
SERVICE_NAME = "federated-learning-service"
TLS_SECRET_NAME = "federated-learning-tls"
# The workload serves HTTPS on 443 (seed). A NetworkPolicy port is the pod's
# port, so this assumes the Service's targetPort is 443 as well.
HTTPS_PORT = 443

labels = {
    "app.kubernetes.io/managed-by": "pulumi",
    "app.kubernetes.io/part-of": APP,
    "team": team,
}
workload = meta.LabelSelectorArgs(match_labels={"role": APP})


def tcp(port):
    return networking.NetworkPolicyPortArgs(protocol="TCP", port=port)


namespace = core.Namespace(
    "namespace",
    metadata=meta.ObjectMetaArgs(name=namespace_name, labels=labels),
)


def in_namespace(name):
    # Namespace name read from the Namespace resource: creates the ordering
    # (Namespace first on create, last on delete).
    return meta.ObjectMetaArgs(name=name, namespace=namespace.metadata.name, labels=labels)


# --- NetworkPolicy ---------------------------------------------------------

secure_network_policy = networking.NetworkPolicy(
    "secure-network-policy",
    metadata=in_namespace(f"{APP}-network-policy"),
    spec=networking.NetworkPolicySpecArgs(
        pod_selector=workload,
        policy_types=["Ingress", "Egress"],
        ingress=[
            # From the seed: federated-learning peers, HTTPS only.
            networking.NetworkPolicyIngressRuleArgs(
                from_=[networking.NetworkPolicyPeerArgs(pod_selector=workload)],
                ports=[tcp(HTTPS_PORT)],
            ),
            # Added: the ingress controller, which forwards the Ingress's
            # traffic from its own namespace.
            networking.NetworkPolicyIngressRuleArgs(
                from_=[
                    networking.NetworkPolicyPeerArgs(
                        namespace_selector=meta.LabelSelectorArgs(
                            match_labels={"kubernetes.io/metadata.name": ingress_controller_namespace}
                        )
                    )
                ],
                ports=[tcp(HTTPS_PORT)],
            ),
        ],
        egress=[
            # From the seed: federated-learning peers, HTTPS only.
            networking.NetworkPolicyEgressRuleArgs(
                to=[networking.NetworkPolicyPeerArgs(pod_selector=workload)],
                ports=[tcp(HTTPS_PORT)],
            ),
            # Added: DNS. With Egress in policy_types and no such rule the
            # pods could not even resolve their peers' Service names.
            networking.NetworkPolicyEgressRuleArgs(
                to=[
                    networking.NetworkPolicyPeerArgs(
                        namespace_selector=meta.LabelSelectorArgs(
                            match_labels={"kubernetes.io/metadata.name": "kube-system"}
                        ),
                        pod_selector=meta.LabelSelectorArgs(match_labels={"k8s-app": "kube-dns"}),
                    )
                ],
                ports=[
                    networking.NetworkPolicyPortArgs(protocol="UDP", port=53),
                    networking.NetworkPolicyPortArgs(protocol="TCP", port=53),
                ],
            ),
        ],
    ),
)

# --- Certificate and Secret for the Ingress --------------------------------

tls_key = tls.PrivateKey("ingress-tls-key", algorithm="RSA", rsa_bits=2048)

tls_cert = tls.SelfSignedCert(
    "ingress-tls-cert",
    private_key_pem=tls_key.private_key_pem,
    subject=tls.SelfSignedCertSubjectArgs(common_name=host),
    dns_names=[host],
    allowed_uses=["key_encipherment", "digital_signature", "server_auth"],
    validity_period_hours=365 * 24,
    early_renewal_hours=30 * 24,  # an `up` in the last 30 days rotates it
)

tls_secret = core.Secret(
    "ingress-tls-secret",
    metadata=in_namespace(TLS_SECRET_NAME),
    type="kubernetes.io/tls",
    string_data={"tls.crt": tls_cert.cert_pem, "tls.key": tls_key.private_key_pem},
)

# --- Ingress ---------------------------------------------------------------

secure_ingress = networking.Ingress(
    "secure-ingress",
    metadata=in_namespace(f"{APP}-ingress"),
    spec=networking.IngressSpecArgs(
        ingress_class_name=ingress_class_name,
        rules=[
            networking.IngressRuleArgs(
                host=host,
                http=networking.HTTPIngressRuleValueArgs(
                    paths=[
                        networking.HTTPIngressPathArgs(
                            path="/",
                            path_type="Prefix",
                            backend=networking.IngressBackendArgs(
                                service=networking.IngressServiceBackendArgs(
                                    name=SERVICE_NAME,
                                    port=networking.ServiceBackendPortArgs(number=HTTPS_PORT),
                                ),
                            ),
                        )
                    ],
                ),
            )
        ],
        tls=[
            networking.IngressTLSArgs(
                hosts=[host],
                # From the Secret resource: the Ingress waits for it to exist.
                secret_name=tls_secret.metadata.name,
            )
        ],
    ),
)

pulumi.export("namespace", namespace.metadata.name)
pulumi.export("network_policy_name", secure_network_policy.metadata.name)
pulumi.export("ingress_name", secure_ingress.metadata.name)
pulumi.export("tls_secret_name", tls_secret.metadata.name)
pulumi.export("federated_learning_url", f"https://{host}/")
pulumi.export("cert_pem", tls_cert.cert_pem)
