"""Three ML services, three CAs, one trust bundle.

The trainer's identity comes from a local root CA (the tls module), the feature store's from an
OpenBao/Vault PKI role, the inference service's from an ACM Private CA. Each ServiceIdentity
delivers a kubernetes.io/tls Secret into the namespace; one TrustBundle publishes the three roots
as a ConfigMap, so every service verifies the others whatever CA they came from. An `outsider`
identity from a fourth CA, deliberately left out of the bundle, is what verify.py must see
refused.

Backends come from the environment: KUBECONFIG, VAULT_ADDR/VAULT_TOKEN, and the AWS settings
(AWS_ENDPOINT_URL for a local moto). See README.md.
"""

import pulumi
import pulumi_zerotrust as zerotrust
from pulumi_zerotrust import tls, vault
from pulumi_zerotrust.aws import acmpca
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.meta import v1 as meta
from pulumi_zerotrust.vault import pkisecret

config = pulumi.Config()
namespace = config.get("namespace") or "ml"
trust_domain = config.get("trustDomain") or "cluster.local"
stack = pulumi.get_stack()

ns = core.Namespace("namespace", metadata=meta.ObjectMetaArgs(name=namespace))


def local_root(name: str):
    key = tls.PrivateKey(f"{name}-key", algorithm="ECDSA", ecdsa_curve="P256")
    cert = tls.SelfSignedCert(
        name,
        private_key_pem=key.private_key_pem,
        is_ca_certificate=True,
        validity_period_hours=24 * 365,
        allowed_uses=["cert_signing", "crl_signing"],
        subject=tls.SelfSignedCertSubjectArgs(common_name=name, organization="ml-identities"),
    )
    return key, cert


# 1. A local root CA, for the trainer.
root_key, root = local_root("local-root")

# 2. An OpenBao (or Vault) PKI mount with its own root and a role for the services' names.
pki = vault.Mount("pki", path=f"pki-ml-{stack}", type="pki", max_lease_ttl_seconds=8760 * 3600)
bao_root = pkisecret.SecretBackendRootCert(
    "bao-root", backend=pki.path, type="internal", common_name="bao-root", ttl="8760h",
    key_type="ec", key_bits=256,
)
role = pkisecret.SecretBackendRole(
    "services",
    backend=pki.path,
    name="services",
    allowed_domains=[f"{namespace}.svc"],
    allow_subdomains=True,
    allowed_uri_sans=[f"spiffe://{trust_domain}/ns/{namespace}/sa/*"],
    key_type="any",
    max_ttl="720h",
    opts=pulumi.ResourceOptions(depends_on=[bao_root]),
)

# 3. An ACM Private CA: a root that signs its own certificate and is then activated with it.
pca = acmpca.CertificateAuthority(
    "pca-root",
    type="ROOT",
    certificate_authority_configuration=acmpca.CertificateAuthorityCertificateAuthorityConfigurationArgs(
        key_algorithm="EC_prime256v1",
        signing_algorithm="SHA256WITHECDSA",
        subject=acmpca.CertificateAuthorityCertificateAuthorityConfigurationSubjectArgs(
            common_name="pca-root"),
    ),
    permanent_deletion_time_in_days=7,
)
pca_cert = acmpca.Certificate(
    "pca-root-cert",
    certificate_authority_arn=pca.arn,
    certificate_signing_request=pca.certificate_signing_request,
    signing_algorithm="SHA256WITHECDSA",
    template_arn="arn:aws:acm-pca:::template/RootCACertificate/V1",
    validity=acmpca.CertificateValidityArgs(type="YEARS", value="1"),
)
pca_active = acmpca.CertificateAuthorityCertificate(
    "pca-root-activation", certificate_authority_arn=pca.arn, certificate=pca_cert.certificate)


def identity(name: str, issuer, depends_on=()):
    return zerotrust.ServiceIdentity(
        name,
        service=zerotrust.ServiceIdentityServiceArgs(
            name=name, namespace=namespace, trust_domain=trust_domain,
            dns_names=[f"{name}.{namespace}.svc"],
        ),
        issuer=issuer,
        validity_hours=72,
        delivery=zerotrust.ServiceIdentityDeliveryArgs(namespace=namespace),
        opts=pulumi.ResourceOptions(depends_on=[ns, *depends_on]),
    )


trainer = identity("trainer", zerotrust.ServiceIdentityIssuerArgs(
    tls=zerotrust.ServiceIdentityTlsIssuerArgs(
        ca_cert_pem=root.cert_pem, ca_private_key_pem=root_key.private_key_pem)))
feature_store = identity("feature-store", zerotrust.ServiceIdentityIssuerArgs(
    vault=zerotrust.ServiceIdentityVaultIssuerArgs(backend=pki.path, role=role.name)),
    depends_on=[role])
inference = identity("inference", zerotrust.ServiceIdentityIssuerArgs(
    acmpca=zerotrust.ServiceIdentityAcmPcaIssuerArgs(certificate_authority_arn=pca.arn)),
    depends_on=[pca_active])

bundle = zerotrust.TrustBundle(
    "ml-trust",
    ca_certificates=[root.cert_pem, bao_root.certificate, pca_cert.certificate],
    delivery=zerotrust.TrustBundleDeliveryArgs(namespaces=[namespace]),
    opts=pulumi.ResourceOptions(depends_on=[ns]),
)

# A fourth CA, outside the bundle: its identity must be refused by every service.
outsider_key, outsider_root = local_root("outsider-root")
outsider = zerotrust.ServiceIdentity(
    "outsider",
    service=zerotrust.ServiceIdentityServiceArgs(
        name="outsider", namespace=namespace, trust_domain=trust_domain,
        dns_names=[f"outsider.{namespace}.svc"]),
    issuer=zerotrust.ServiceIdentityIssuerArgs(tls=zerotrust.ServiceIdentityTlsIssuerArgs(
        ca_cert_pem=outsider_root.cert_pem, ca_private_key_pem=outsider_key.private_key_pem)),
)

services = {"trainer": trainer, "feature-store": feature_store, "inference": inference,
            "outsider": outsider}
pulumi.export("identities", {
    name: {"chain": i.chain_pem, "key": i.private_key_pem, "spiffeId": i.spiffe_id,
           "dnsName": f"{name}.{namespace}.svc", "checksum": i.checksum, "secret": i.secret}
    for name, i in services.items()
})
pulumi.export("bundle", bundle.bundle_pem)
pulumi.export("bundleConfigMaps", bundle.config_maps)
