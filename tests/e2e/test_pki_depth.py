"""Name constraints, revocation pointers and CRLs through the real CLI: the CRL's number grows
with every change and openssl refuses exactly what it lists, a certificate for a name outside
the CA's constraints is never issued, and malformed inputs are refused at preview, all at once,
each at its property path."""

import subprocess

import pytest

PROGRAM = "../tests/e2e/programs/pki-depth"


def openssl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=60)


def write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def crl_text(tmp_path, out) -> str:
    shown = openssl("crl", "-in", write(tmp_path, "crl.pem", out["crl"]), "-noout", "-text",
                    "-CAfile", write(tmp_path, "ca.pem", out["ca_cert"]))
    assert shown.returncode == 0, shown.stderr
    return shown.stdout + shown.stderr


def verify_with_crl(tmp_path, out) -> subprocess.CompletedProcess:
    return openssl("verify", "-crl_check", "-CAfile", write(tmp_path, "ca.pem", out["ca_cert"]),
                   "-CRLfile", write(tmp_path, "crl.pem", out["crl"]),
                   write(tmp_path, "leaf.pem", out["trainer_cert"]))


def test_crl_numbers_grow_and_openssl_refuses_what_is_listed(stack_factory, tmp_path):
    stack = stack_factory(PROGRAM)
    stack.up()
    first = stack.outputs()
    assert first["crl_number"] == 1
    text = crl_text(tmp_path, first)
    assert "verify OK" in text and "No Revoked Certificates" in text, text
    assert verify_with_crl(tmp_path, first).returncode == 0

    # The leaf carries the CA's constraints' counterpart pointers; the CA its constraints.
    leaf = openssl("x509", "-in", write(tmp_path, "leaf.pem", first["trainer_cert"]), "-noout", "-text")
    assert "URI:http://pki.ml.internal/ca.crl" in leaf.stdout, leaf.stdout
    assert "OCSP - URI:http://ocsp.ml.internal" in leaf.stdout, leaf.stdout
    assert "CA Issuers - URI:http://pki.ml.internal/ca.crt" in leaf.stdout, leaf.stdout
    ca = openssl("x509", "-in", write(tmp_path, "ca.pem", first["ca_cert"]), "-noout", "-text")
    assert "X509v3 Name Constraints: critical" in ca.stdout, ca.stdout
    assert "DNS:admin.ml.internal" in ca.stdout, ca.stdout

    # Revoking the trainer updates the list in place with the next number.
    stack.pulumi("config", "set", "revokeTrainer", "true")
    preview = stack.preview_json()
    ops = {s["urn"].rsplit("::", 1)[1]: s["op"] for s in preview["steps"]}
    assert ops.get("crl") == "update", ops
    stack.up()
    second = stack.outputs()
    assert second["crl_number"] == 2
    assert second["trainer_serial"] == first["trainer_serial"]
    text = crl_text(tmp_path, second)
    assert "Key Compromise" in text, text
    refused = verify_with_crl(tmp_path, second)
    assert refused.returncode != 0 and "certificate revoked" in refused.stdout + refused.stderr

    # Nothing changed: no re-signing, the number stays.
    stack.up()
    assert stack.outputs()["crl_number"] == 2

    # Lifting the revocation is another change, with another number.
    stack.pulumi("config", "set", "revokeTrainer", "false")
    stack.up()
    third = stack.outputs()
    assert third["crl_number"] == 3
    assert verify_with_crl(tmp_path, third).returncode == 0


def test_a_name_outside_the_constraints_is_never_issued(stack_factory):
    stack = stack_factory(PROGRAM)
    stack.up()
    stack.pulumi("config", "set", "extraName", "db.admin.ml.internal")
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0, text
    assert "db.admin.ml.internal" in text and "excluded DNS subtree" in text, text
    assert "certRequestPem" in text, text
    types = [r["type"] + "::" + r["urn"].rsplit("::", 1)[1]
             for r in stack.export()["deployment"]["resources"]]
    assert "zerotrust:tls:LocallySignedCert::trainer-cert" in types, types
    assert "zerotrust:tls:LocallySignedCert::extra-cert" not in types, types

    # Signed by an unconstrained CA it exists; moving it to the constrained CA is refused at
    # preview, by Check, since the request is known by then.
    stack.pulumi("config", "set", "extraIssuer", "open")
    stack.up()
    stack.pulumi("config", "set", "extraIssuer", "constrained")
    refused = stack.pulumi("preview", check=False)
    text = refused.stdout + refused.stderr
    assert refused.returncode != 0, text
    assert "property certRequestPem" in text and "db.admin.ml.internal" in text, text
    assert "excluded DNS subtree" in text, text
    stack.pulumi("config", "rm", "extraIssuer")

    # Inside the constraints, the same program issues it.
    stack.pulumi("config", "set", "extraName", "db.ml.internal")
    stack.up()
    types = [r["urn"].rsplit("::", 1)[1] for r in stack.export()["deployment"]["resources"]]
    assert "extra-cert" in types, types


@pytest.mark.parametrize("kind, paths, reasons", [
    ("ca",
     ["nameConstraints.permittedDnsDomains[1]", "nameConstraints.permittedIpRanges[0]",
      "nameConstraints.permittedUriDomains[0]"],
     ["holds a wildcard", "did you mean 10.0.0.0/8", "a URI subtree is a host"]),
    ("crl",
     ["revokedCertificates[1].serialNumber", "property nextUpdate "],
     ["already listed at revokedCertificates[0]", "must be after thisUpdate"]),
    ("p12", ["property password "], ["legacy"]),
])
def test_malformed_inputs_fail_preview_at_their_paths(stack_factory, kind, paths, reasons):
    stack = stack_factory(PROGRAM)
    stack.pulumi("config", "set", "malformed", kind)
    failed = stack.pulumi("preview", check=False)
    text = failed.stdout + failed.stderr
    assert failed.returncode != 0, text
    # Every failure of the resource at once, each at its path, with its reason.
    for expected in paths + reasons:
        assert expected in text, f"{expected!r} not reported:\n{text}"
    assert f"bad-{kind}" in text, text
    # Nothing was created.
    assert stack.export()["deployment"].get("resources") in (None, []), "preview created resources"
