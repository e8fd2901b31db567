"""Test program: a root CA from the tls module and a ServiceIdentity for `trainer`, delivered
into the namespace in config. Config `issuers` is a comma-separated list of issuers to give
(`tls` by default; `vault` adds the Vault role `services` of `pki`, `acmpca` the ACM PCA CA whose
ARN is config `caArn`), and `serviceNamespace` the
service's namespace, so a test can provoke the component's input checks."""

import pulumi
import pulumi_zerotrust as zerotrust
from pulumi_zerotrust import tls
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.meta import v1 as meta

config = pulumi.Config()
namespace = config.require("namespace")
service_namespace = config.get("serviceNamespace") or namespace
issuers = (config.get("issuers") or "tls").split(",")

ca_key = tls.PrivateKey("ca-key", algorithm="ECDSA", ecdsa_curve="P256")
ca = tls.SelfSignedCert(
    "ca",
    private_key_pem=ca_key.private_key_pem,
    is_ca_certificate=True,
    validity_period_hours=24 * 365,
    allowed_uses=["cert_signing", "crl_signing"],
    subject=tls.SelfSignedCertSubjectArgs(common_name="ml-root", organization="zerotrust tests"),
)
ns = core.Namespace("namespace", metadata=meta.ObjectMetaArgs(name=namespace))

issuer = {}
if "tls" in issuers:
    issuer["tls"] = zerotrust.ServiceIdentityTlsIssuerArgs(
        ca_cert_pem=ca.cert_pem, ca_private_key_pem=ca_key.private_key_pem
    )
if "vault" in issuers:
    issuer["vault"] = zerotrust.ServiceIdentityVaultIssuerArgs(backend="pki", role="services")
if "acmpca" in issuers:
    issuer["acmpca"] = zerotrust.ServiceIdentityAcmPcaIssuerArgs(
        certificate_authority_arn=config.require("caArn")
    )

identity = zerotrust.ServiceIdentity(
    "trainer",
    service=zerotrust.ServiceIdentityServiceArgs(
        name="trainer",
        namespace=service_namespace,
        trust_domain="cluster.local",
        dns_names=[f"trainer.{namespace}.svc", f"trainer.{namespace}.svc.cluster.local"],
    ),
    issuer=zerotrust.ServiceIdentityIssuerArgs(**issuer),
    validity_hours=48,
    delivery=zerotrust.ServiceIdentityDeliveryArgs(namespace=namespace),
    opts=pulumi.ResourceOptions(depends_on=[ns]),
)

pulumi.export("spiffe_id", identity.spiffe_id)
pulumi.export("secret", identity.secret)
pulumi.export("checksum", identity.checksum)
pulumi.export("certificate_pem", identity.certificate_pem)
pulumi.export("chain_pem", identity.chain_pem)
pulumi.export("ca_cert_pem", identity.ca_cert_pem)
pulumi.export("root_pem", ca.cert_pem)
pulumi.export("serial_number", identity.serial_number)
pulumi.export("not_after", identity.not_after)
pulumi.export("private_key_pem", identity.private_key_pem)
