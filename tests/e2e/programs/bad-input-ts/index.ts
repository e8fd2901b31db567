// Two mistakes in one resource, which Check must report together, each with its property path:
// a key usage that is not one of the allowed values, and a private key that is not PEM. (The
// engine stops at the first resource that fails, so both live in one resource.)
import * as zerotrust from "@zerotrust/pulumi";

new zerotrust.tls.SelfSignedCert("bad-input", {
    privateKeyPem: "this is not a PEM block",
    allowedUses: ["server_auth", "sign_everything"],
    validityPeriodHours: 24,
    subject: { commonName: "bad.example" },
});
