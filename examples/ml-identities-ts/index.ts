// The ml-identities example (see ../ml-identities/__main__.py for the design) in TypeScript:
// three services, three CAs (a local root, an OpenBao role, an ACM Private CA), one TrustBundle,
// and an outsider from a fourth CA that ../ml-identities/verify.py must see refused.
import * as pulumi from "@pulumi/pulumi";
import * as zerotrust from "@zerotrust/pulumi";

const config = new pulumi.Config();
const namespace = config.get("namespace") ?? "ml";
const trustDomain = config.get("trustDomain") ?? "cluster.local";
const stack = pulumi.getStack();

const ns = new zerotrust.kubernetes.core.v1.Namespace("namespace", { metadata: { name: namespace } });

function localRoot(name: string) {
    const key = new zerotrust.tls.PrivateKey(`${name}-key`, { algorithm: "ECDSA", ecdsaCurve: "P256" });
    const cert = new zerotrust.tls.SelfSignedCert(name, {
        privateKeyPem: key.privateKeyPem,
        isCaCertificate: true,
        validityPeriodHours: 24 * 365,
        allowedUses: ["cert_signing", "crl_signing"],
        subject: { commonName: name, organization: "ml-identities" },
    });
    return { key, cert };
}

// 1. A local root CA, for the trainer.
const root = localRoot("local-root");

// 2. An OpenBao (or Vault) PKI mount with its own root and a role for the services' names.
const pki = new zerotrust.vault.Mount("pki", { path: `pki-ml-${stack}`, type: "pki", maxLeaseTtlSeconds: 8760 * 3600 });
const baoRoot = new zerotrust.vault.pkisecret.SecretBackendRootCert("bao-root", {
    backend: pki.path, type: "internal", commonName: "bao-root", ttl: "8760h", keyType: "ec", keyBits: 256,
});
const role = new zerotrust.vault.pkisecret.SecretBackendRole("services", {
    backend: pki.path,
    name: "services",
    allowedDomains: [`${namespace}.svc`],
    allowSubdomains: true,
    allowedUriSans: [`spiffe://${trustDomain}/ns/${namespace}/sa/*`],
    keyType: "any",
    maxTtl: "720h",
}, { dependsOn: [baoRoot] });

// 3. An ACM Private CA: a root that signs its own certificate and is then activated with it.
const pca = new zerotrust.aws.acmpca.CertificateAuthority("pca-root", {
    type: "ROOT",
    certificateAuthorityConfiguration: {
        keyAlgorithm: "EC_prime256v1",
        signingAlgorithm: "SHA256WITHECDSA",
        subject: { commonName: "pca-root" },
    },
    permanentDeletionTimeInDays: 7,
});
const pcaCert = new zerotrust.aws.acmpca.Certificate("pca-root-cert", {
    certificateAuthorityArn: pca.arn,
    certificateSigningRequest: pca.certificateSigningRequest,
    signingAlgorithm: "SHA256WITHECDSA",
    templateArn: "arn:aws:acm-pca:::template/RootCACertificate/V1",
    validity: { type: "YEARS", value: "1" },
});
const pcaActive = new zerotrust.aws.acmpca.CertificateAuthorityCertificate("pca-root-activation", {
    certificateAuthorityArn: pca.arn,
    certificate: pcaCert.certificate,
});

function identity(name: string, issuer: zerotrust.types.input.ServiceIdentityIssuerArgs,
                  dependsOn: pulumi.Resource[] = [], deliver = true) {
    return new zerotrust.ServiceIdentity(name, {
        service: { name, namespace, trustDomain, dnsNames: [`${name}.${namespace}.svc`] },
        issuer,
        validityHours: 72,
        delivery: deliver ? { namespace } : undefined,
    }, { dependsOn: [ns, ...dependsOn] });
}

const trainer = identity("trainer", {
    tls: { caCertPem: root.cert.certPem, caPrivateKeyPem: root.key.privateKeyPem },
});
const featureStore = identity("feature-store", { vault: { backend: pki.path, role: role.name } }, [role]);
const inference = identity("inference", { acmpca: { certificateAuthorityArn: pca.arn } }, [pcaActive]);

const trust = new zerotrust.TrustBundle("ml-trust", {
    caCertificates: [root.cert.certPem, baoRoot.certificate, pcaCert.certificate],
    delivery: { namespaces: [namespace] },
}, { dependsOn: [ns] });

// A fourth CA, outside the bundle: its identity must be refused by every service.
const outsiderRoot = localRoot("outsider-root");
const outsider = identity("outsider", {
    tls: { caCertPem: outsiderRoot.cert.certPem, caPrivateKeyPem: outsiderRoot.key.privateKeyPem },
}, [], false);

const services: Record<string, zerotrust.ServiceIdentity> = {
    trainer, "feature-store": featureStore, inference, outsider,
};
export const identities = Object.fromEntries(Object.entries(services).map(([name, i]) => [name, {
    chain: i.chainPem,
    key: i.privateKeyPem,
    spiffeId: i.spiffeId,
    dnsName: `${name}.${namespace}.svc`,
    checksum: i.checksum,
    secret: i.secret,
}]));
export const bundle = trust.bundlePem;
export const bundleConfigMaps = trust.configMaps;
