"""The benchmark's Pulumi program: `count` resources of one `kind`, set through stack config.

Kinds (each makes exactly `count` resources, half of them depending on the other half where the
kind has pairs, so the engine walks the same graph shape in every case):
  floor  the ecdsa program with ED25519 keys: the same resources, inputs and outputs, so the
         same engine and SDK work, with the cheapest key work zerotrust has (microseconds)
  keys   ED25519 keys only, the second half each taking an input from an output of one of the
         first: fewer outputs per resource, so less SDK work than the programs above (see the
         README's Benchmarks section on why that matters)
  ecdsa  P256 PrivateKey + SelfSignedCert pairs (the figure compared with pulumi-tls)
  rsa    RSA PrivateKey (rsaBits from config, default 2048) + SelfSignedCert pairs
  kube   Namespace + Secret + ConfigMap triples on the cluster in zerotrust:kubeconfig
  vault  one PKI mount, root certificate and role, then SecretBackendCerts up to `count`
"""

import pulumi
from pulumi_zerotrust import tls

config = pulumi.Config()
kind = config.require("kind")
count = config.require_int("count")
opts = pulumi.ResourceOptions


def pairs(first, second):
    for i in range(count // 2):
        a = first(i)
        second(i, a)
    if count % 2:
        first(count // 2)


if kind == "keys":
    pairs(
        lambda i: tls.PrivateKey(f"a{i}", algorithm="ED25519"),
        lambda i, a: tls.PrivateKey(f"b{i}", algorithm=a.algorithm),
    )
elif kind in ("floor", "ecdsa", "rsa"):
    bits = config.get_int("rsaBits") or 2048

    def key(i):
        if kind == "rsa":
            return tls.PrivateKey(f"k{i}", algorithm="RSA", rsa_bits=bits)
        if kind == "floor":
            return tls.PrivateKey(f"k{i}", algorithm="ED25519")
        return tls.PrivateKey(f"k{i}", algorithm="ECDSA", ecdsa_curve="P256")

    def cert(i, k):
        return tls.SelfSignedCert(
            f"c{i}",
            private_key_pem=k.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name=f"svc-{i}.bench.local"),
            dns_names=[f"svc-{i}.bench.local"],
            validity_period_hours=24,
            allowed_uses=["digital_signature", "server_auth", "client_auth"],
        )

    pairs(key, cert)
elif kind == "kube":
    from pulumi_zerotrust.kubernetes.core import v1 as core
    from pulumi_zerotrust.kubernetes.meta import v1 as meta

    for i in range((count + 2) // 3):
        ns = core.Namespace(f"ns{i}", metadata=meta.ObjectMetaArgs(name=f"bench-{i}"))
        md = meta.ObjectMetaArgs(name="svc", namespace=ns.metadata.name)
        core.Secret(f"s{i}", metadata=md, string_data={"token": f"value-{i}"})
        core.ConfigMap(f"m{i}", metadata=md, data={"endpoint": f"svc-{i}.bench.local:443"})
elif kind == "vault":
    from pulumi_zerotrust import vault
    from pulumi_zerotrust.vault import pkisecret

    mount = vault.Mount("pki", path=f"bench-{pulumi.get_stack()}", type="pki",
                        max_lease_ttl_seconds=87600 * 3600)
    root = pkisecret.SecretBackendRootCert(
        "root", backend=mount.path, type="internal", common_name="bench-root",
        ttl="8760h", key_type="ec", key_bits=256)
    role = pkisecret.SecretBackendRole(
        "role", backend=mount.path, name="svc", allowed_domains=["bench.local"],
        allow_subdomains=True, max_ttl="720h", key_type="ec", key_bits=256,
        opts=opts(depends_on=[root]))
    for i in range(max(count - 3, 0)):
        pkisecret.SecretBackendCert(
            f"cert{i}", backend=mount.path, name=role.name,
            common_name=f"svc-{i}.bench.local", ttl="24h", revoke=False)
elif kind != "empty":
    raise ValueError(f"unknown benchmark kind {kind!r}")
