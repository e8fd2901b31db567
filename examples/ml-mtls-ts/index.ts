// The ml-mtls example (see ../ml-mtls/__main__.py for the design) in TypeScript:
// a root CA, an intermediate with path length 0, one mTLS leaf per service, and
// two identities verify.py must see refused (an expired one, a rogue CA's one).
import * as pulumi from "@pulumi/pulumi";
import * as zerotrust from "@zerotrust/pulumi";

const tls = zerotrust.tls;
const config = new pulumi.Config();
const trustDomain = config.get("trustDomain") ?? "cluster.local";
const namespace = config.get("namespace") ?? "ml";

const services = ["feature-store", "trainer", "inference"];
const org = "zerotrust ml-mtls example";
// One certificate per service serves both directions of mTLS.
const leafUses = ["digital_signature", "key_encipherment", "server_auth", "client_auth"];
const leafHours = 30 * 24;
const caUses = ["cert_signing", "crl_signing"];

const spiffeId = (service: string) => `spiffe://${trustDomain}/ns/${namespace}/sa/${service}`;
const dnsNames = (service: string) => [
    service,
    `${service}.${namespace}`,
    `${service}.${namespace}.svc`,
    `${service}.${namespace}.svc.${trustDomain}`,
];

function ecKey(name: string, curve = "P256"): zerotrust.tls.PrivateKey {
    return new tls.PrivateKey(name, { algorithm: "ECDSA", ecdsaCurve: curve });
}

type IssueArgs = Omit<
    zerotrust.tls.LocallySignedCertArgs,
    "certRequestPem" | "caCertPem" | "caPrivateKeyPem" | "allowedUses" | "validityPeriodHours"
> & { dns?: string[]; uris?: string[] };

/** CSR + CA signature. SANs live in the CSR; the signer copies them. */
function issue(
    name: string,
    key: zerotrust.tls.PrivateKey,
    caCertPem: pulumi.Input<string>,
    caKey: zerotrust.tls.PrivateKey,
    commonName: string,
    uses: string[],
    hours: number,
    { dns, uris, ...extra }: IssueArgs = {},
    opts?: pulumi.CustomResourceOptions,
): zerotrust.tls.LocallySignedCert {
    const csr = new tls.CertRequest(`${name}-csr`, {
        privateKeyPem: key.privateKeyPem,
        subject: { commonName, organization: org },
        dnsNames: dns,
        uris,
    });
    return new tls.LocallySignedCert(
        `${name}-cert`,
        {
            certRequestPem: csr.certRequestPem,
            caCertPem,
            caPrivateKeyPem: caKey.privateKeyPem,
            allowedUses: uses,
            validityPeriodHours: hours,
            ...extra,
        },
        opts,
    );
}

// Root CA: long-lived, P-384, used for nothing but signing the intermediate.
const rootKey = ecKey("root-ca-key", "P384");
const rootCa = new tls.SelfSignedCert("root-ca", {
    privateKeyPem: rootKey.privateKeyPem,
    subject: { commonName: `${namespace} root CA`, organization: org },
    isCaCertificate: true,
    allowedUses: caUses,
    setSubjectKeyId: true,
    validityPeriodHours: 10 * 365 * 24,
});

// Intermediate CA: maxPathLength 0, so a leaked intermediate key cannot mint sub-CAs.
const intermediateKey = ecKey("intermediate-ca-key", "P384");
const intermediateCa = issue(
    "intermediate-ca", intermediateKey, rootCa.certPem, rootKey,
    `${namespace} intermediate CA`, caUses, 3 * 365 * 24,
    { isCaCertificate: true, maxPathLength: 0, setSubjectKeyId: true },
);

// Workload identities, exported as <service>_cert and <service>_key.
const identities: Record<string, pulumi.Output<string>> = {};
for (const svc of services) {
    const key = ecKey(`${svc}-key`);
    const cert = issue(
        svc, key, intermediateCa.certPem, intermediateKey,
        `${svc}.${namespace}.svc.${trustDomain}`, leafUses, leafHours,
        {
            dns: dnsNames(svc),
            uris: [spiffeId(svc)],
            earlyRenewalHours: 24 * 7, // the next `pulumi up` in the last week rotates it
            backdateMinutes: 5, // tolerate small clock skew between nodes
            setSubjectKeyId: true,
        },
    );
    const id = svc.replace(/-/g, "_");
    identities[`${id}_cert`] = cert.certPem;
    identities[`${id}_key`] = pulumi.secret(key.privateKeyPem);
}

// Negative case 1: a genuine trainer identity with zero validity, expired when created.
const expiredKey = ecKey("expired-trainer-key");
const expired = issue(
    "expired-trainer", expiredKey, intermediateCa.certPem, intermediateKey,
    `trainer.${namespace}.svc.${trustDomain}`, ["digital_signature", "client_auth"], 0,
    { uris: [spiffeId("trainer")], backdateMinutes: 5 },
    // Expired on purpose: do not renew it on every `up`.
    { ignoreChanges: ["readyForRenewal"] },
);

// Negative case 2: same SPIFFE ID as trainer, signed by an unrelated CA.
const rogueCaKey = ecKey("rogue-ca-key");
const rogueCa = new tls.SelfSignedCert("rogue-ca", {
    privateKeyPem: rogueCaKey.privateKeyPem,
    subject: { commonName: `${namespace} root CA`, organization: "not us" },
    isCaCertificate: true,
    allowedUses: caUses,
    validityPeriodHours: leafHours,
});
const rogueKey = ecKey("rogue-trainer-key");
const rogue = issue(
    "rogue-trainer", rogueKey, rogueCa.certPem, rogueCaKey,
    `trainer.${namespace}.svc.${trustDomain}`, ["digital_signature", "client_auth"], leafHours,
    { uris: [spiffeId("trainer")] },
);

export = {
    ...identities,
    root_ca_cert: rootCa.certPem,
    intermediate_ca_cert: intermediateCa.certPem,
    trust_bundle: rootCa.certPem, // what every peer trusts
    chain: intermediateCa.certPem, // sent after each leaf
    expired_cert: expired.certPem,
    expired_key: pulumi.secret(expiredKey.privateKeyPem),
    rogue_cert: rogue.certPem,
    rogue_key: pulumi.secret(rogueKey.privateKeyPem),
    rogue_ca_cert: rogueCa.certPem,
    services,
    trust_domain: trustDomain,
    namespace,
};
