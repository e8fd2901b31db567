// Seed 001, corrected, in TypeScript: TLS material for an AI pipeline endpoint, kept in Kubernetes.
// An RSA key, a CSR and a one-year self-signed server certificate for `domainName` (the zerotrust
// tls module, pulumi-tls's API), then certificate and key in a `kubernetes.io/tls` Secret inside a
// Namespace of their own. The same program as examples/seed-001-tls-secret (Python), whose README
// lists every change from the seed and why.
import * as pulumi from "@pulumi/pulumi";
import * as zerotrust from "@zerotrust/pulumi";

const config = new pulumi.Config();
const namespaceName = config.get("namespace") ?? "ai-pipeline";
const domainName = config.get("domainName") ?? "ai-pipeline.example.com";
const team = config.get("team") ?? "ml-platform";

// Labels shared by every Kubernetes object here; `team` comes from config, so changing it is an
// in-place metadata update, never a replacement.
const labels = {
    "app.kubernetes.io/managed-by": "pulumi",
    team,
};

// A readable, valid Secret name from the domain: object names are lower case, a wildcard's `*`
// is not allowed, and dashes read better than dots.
function secretNameFor(domain: string): string {
    return `${domain.trim().toLowerCase().replace(/\*/g, "wildcard").replace(/\./g, "-")}-tls`;
}

// --- TLS material (seed step 1) ---

const privateKey = new zerotrust.tls.PrivateKey("private-key", { algorithm: "RSA", rsaBits: 2048 });

// What a real CA would sign later; the self-signed certificate below does not consume it.
const csr = new zerotrust.tls.CertRequest("csr", {
    privateKeyPem: privateKey.privateKeyPem,
    subject: { commonName: domainName },
    dnsNames: [domainName],
});

const certificate = new zerotrust.tls.SelfSignedCert("certificate", {
    privateKeyPem: privateKey.privateKeyPem,
    subject: { commonName: domainName },
    dnsNames: [domainName], // clients check the SAN, not the common name
    allowedUses: ["key_encipherment", "digital_signature", "server_auth"],
    validityPeriodHours: 365 * 24,
    // An `up` in the last 30 days issues a fresh certificate; the Secret is updated in place.
    earlyRenewalHours: 30 * 24,
});

// --- Kubernetes (seed step 2) ---

const ns = new zerotrust.kubernetes.core.v1.Namespace("namespace", {
    metadata: { name: namespaceName, labels },
});

const tlsSecret = new zerotrust.kubernetes.core.v1.Secret("tls-secret", {
    metadata: {
        name: secretNameFor(domainName),
        // From the Namespace resource, so the Secret is created after it and deleted before it.
        namespace: ns.metadata.apply((m) => m?.name ?? namespaceName),
        labels,
    },
    type: "kubernetes.io/tls",
    // Plain PEM text goes in stringData; `data` would need base64. Both stay secret in state.
    stringData: {
        "tls.crt": certificate.certPem,
        "tls.key": privateKey.privateKeyPem,
    },
});

export const namespace = ns.metadata.apply((m) => m?.name);
export const secret_name = tlsSecret.metadata.apply((m) => m?.name);
export const domain_name = domainName;
export const cert_pem = certificate.certPem;
export const cert_request_pem = csr.certRequestPem;
// The private key is deliberately not exported: it lives only in the Secret (and, encrypted, in
// Pulumi state).
