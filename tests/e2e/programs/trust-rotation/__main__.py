"""Test program for CA rotation: config `root` names the root CA in use (`a` by default); changing
it replaces the root, which reissues both identities, while the TrustBundle keeps the retired
root for config `overlap`."""

import pulumi
import pulumi_zerotrust as zerotrust
from pulumi_zerotrust import tls
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.meta import v1 as meta

config = pulumi.Config()
namespace = config.require("namespace")
active = config.get("root") or "a"

root_key = tls.PrivateKey(f"root-{active}-key", algorithm="ECDSA")
root = tls.SelfSignedCert(
    f"root-{active}",
    private_key_pem=root_key.private_key_pem,
    is_ca_certificate=True,
    validity_period_hours=24 * 30,
    allowed_uses=["cert_signing"],
    subject=tls.SelfSignedCertSubjectArgs(common_name=f"ml-root-{active}"),
)
ns = core.Namespace("namespace", metadata=meta.ObjectMetaArgs(name=namespace))
issuer = zerotrust.ServiceIdentityIssuerArgs(
    tls=zerotrust.ServiceIdentityTlsIssuerArgs(
        ca_cert_pem=root.cert_pem, ca_private_key_pem=root_key.private_key_pem
    )
)


def identity(name):
    return zerotrust.ServiceIdentity(
        name,
        service=zerotrust.ServiceIdentityServiceArgs(
            name=name, namespace=namespace, trust_domain="cluster.local",
            dns_names=[f"{name}.{namespace}.svc"],
        ),
        issuer=issuer,
    )


server = identity("server")
client = identity("client")
bundle = zerotrust.TrustBundle(
    "trust",
    ca_certificates=[root.cert_pem],
    overlap=config.get("overlap") or "24h",
    delivery=zerotrust.TrustBundleDeliveryArgs(namespaces=[namespace]),
    opts=pulumi.ResourceOptions(depends_on=[ns]),
)

for name, ident in (("server", server), ("client", client)):
    pulumi.export(f"{name}_chain", ident.chain_pem)
    pulumi.export(f"{name}_key", ident.private_key_pem)
    pulumi.export(f"{name}_checksum", ident.checksum)
pulumi.export("root_pem", root.cert_pem)
pulumi.export("bundle_pem", bundle.bundle_pem)
pulumi.export("bundle_checksum", bundle.checksum)
pulumi.export("retired_count", bundle.retired_count)
pulumi.export("config_maps", bundle.config_maps)
