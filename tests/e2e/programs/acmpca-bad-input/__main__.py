"""Bad aws/acmpca inputs. Config `stage`:
- `check-ca`: a CA Check must refuse: an unknown key algorithm and a bad deletion window.
- `check` (default): a certificate Check must refuse: a malformed CSR, an invalid CA ARN, a
  bad validity. (The engine stops at the first resource that fails, so one per stage.)
- `aws`: well-formed inputs AWS refuses: a certificate from a CA that does not exist.
"""

import pulumi
from pulumi_zerotrust.aws import acmpca

stage = pulumi.Config().get("stage") or "check"
missing_ca = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/00000000-0000-0000-0000-000000000000"

if stage == "check-ca":
    acmpca.CertificateAuthority(
        "bad-ca",
        type="ROOT",
        certificate_authority_configuration={
            "key_algorithm": "RSA_1024",
            "signing_algorithm": "SHA256WITHRSA",
            "subject": {"common_name": "bad.example.com"},
        },
        permanent_deletion_time_in_days=90,
    )
elif stage == "check":
    acmpca.Certificate(
        "bad-cert",
        certificate_authority_arn="arn:aws:acm-pca:us-east-1:123456789012:certificate/nope",
        certificate_signing_request="-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n",
        signing_algorithm="SHA256WITHRSA",
        validity={"type": "WEEKS", "value": "2"},
    )
elif stage == "aws":
    from pulumi_zerotrust import tls

    key = tls.PrivateKey("key", algorithm="ECDSA")
    csr = tls.CertRequest("csr", private_key_pem=key.private_key_pem, subject={"common_name": "svc.example.com"})
    acmpca.Certificate(
        "orphan-cert",
        certificate_authority_arn=missing_ca,
        certificate_signing_request=csr.cert_request_pem,
        signing_algorithm="SHA256WITHRSA",
        validity={"type": "DAYS", "value": "30"},
    )
