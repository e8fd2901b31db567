"""The tls examples through the real CLI: up, no-op preview, replace, refresh, destroy, secrets."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import EXAMPLES

PLAINTEXT_KEY = re.compile(r"-----BEGIN ([A-Z]+ )?PRIVATE KEY-----")


def openssl(*args: str, stdin: str | None = None) -> str:
    proc = subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"openssl {' '.join(args)}: {proc.stderr}"
    return proc.stdout


def cert_text(pem: str) -> str:
    return openssl("x509", "-noout", "-text", stdin=pem)


def resources_by_type(export: dict, token: str) -> list:
    return [r for r in export["deployment"].get("resources", []) if r["type"] == token]


def operations(preview: dict) -> dict:
    """URN name -> operation, from `pulumi preview --json`."""
    return {s["urn"].rsplit("::", 1)[-1]: s["op"] for s in preview.get("steps", [])}


def service_output(outputs: dict, service: str, suffix: str):
    for key in (f"{service}_{suffix}", f"{service.replace('-', '_')}_{suffix}"):
        if key in outputs:
            return outputs[key]
    raise KeyError(f"no output for {service} {suffix}: {sorted(outputs)}")


# The same program in every language Pulumi users here can run; each must behave the same.
ML_MTLS = [
    "ml-mtls",
    *(pytest.param(f"ml-mtls-{lang}", marks=pytest.mark.languages) for lang in ("ts", "go", "yaml")),
]


@pytest.mark.parametrize("example", ML_MTLS)
def test_ml_mtls_lifecycle(stack_factory, tmp_path, example):
    stack = stack_factory(example)

    # A fresh stack's preview cannot know generated values: they print as unknown.
    fresh = stack.pulumi("preview", "--diff")
    unknown = r"(\[unknown\]|output<string>)"
    assert re.search(r"trust_bundle\s*:\s*" + unknown, fresh.stdout), fresh.stdout
    assert re.search(r"trainer_cert\s*:\s*" + unknown, fresh.stdout), fresh.stdout

    stack.up()
    outputs = stack.outputs(secrets=True)
    services = outputs["services"]
    assert len(services) >= 3

    # Private keys are secret outputs, read back as secrets, and encrypted in state.
    masked = stack.outputs()
    key_outputs = [k for k in masked if k.endswith("_key")]
    # The Python program also exports a revoked identity, a CRL and a PKCS#12 keystore.
    full = example == "ml-mtls"
    assert len(key_outputs) == len(services) + (3 if full else 2), masked
    assert all(masked[k] == "[secret]" for k in key_outputs), masked
    exported = json.dumps(stack.export())
    assert not PLAINTEXT_KEY.search(exported), "a private key is stored in plaintext"
    assert "ciphertext" in exported

    # The certificates are what they claim, checked with openssl.
    files = tmp_path / "pem"
    files.mkdir()
    (files / "root.pem").write_text(outputs["trust_bundle"])
    (files / "inter.pem").write_text(outputs["chain"])
    for svc in services:
        leaf = service_output(outputs, svc, "cert")
        (files / f"{svc}.pem").write_text(leaf)
        verified = openssl(
            "verify", "-CAfile", str(files / "root.pem"), "-untrusted", str(files / "inter.pem"),
            "-purpose", "sslclient", str(files / f"{svc}.pem"),
        )
        assert verified.strip().endswith("OK"), verified
        text = cert_text(leaf)
        assert "TLS Web Server Authentication, TLS Web Client Authentication" in text, text
        assert "Digital Signature, Key Encipherment" in text
        assert f"URI:spiffe://cluster.local/ns/ml/sa/{svc}" in text
        assert f"DNS:{svc}.ml.svc.cluster.local" in text
        assert "CA:FALSE" in text
    root = cert_text(outputs["trust_bundle"])
    assert "CA:TRUE" in root and "Certificate Sign, CRL Sign" in root
    inter = cert_text(outputs["chain"])
    assert "CA:TRUE, pathlen:0" in inter
    assert "X509v3 Authority Key Identifier" in inter

    # The verify step: a real TLS server requiring client certificates.
    out_file = tmp_path / "outputs.json"
    out_file.write_text(json.dumps(outputs))
    verify = subprocess.run(
        [sys.executable, str(EXAMPLES / "ml-mtls" / "verify.py"), "--outputs", str(out_file),
         *(["--java"] if full else [])],
        capture_output=True, text=True, timeout=600,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert re.search(r"^\d+ passed, 0 failed$", verify.stdout, re.M), verify.stdout
    if full:
        assert masked["trainer_p12"] == "[secret]" and masked["trainer_p12_password"] == "[secret]"
        assert outputs["crl_number"] == 1
        for version in ("1.3", "1.2"):
            for case in ("revoked client cert refused by server with the CRL",
                         "Java client with the trainer PKCS#12 keystore accepted"):
                assert f"PASS [TLS {version}] {case}" in verify.stdout, verify.stdout

    # Nothing changed, nothing to do; refresh finds no drift.
    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("refresh", "--yes", "--expect-no-changes")
    stack.pulumi("preview", "--expect-no-changes")

    # Changing what the certificates say replaces them, as pulumi-tls does; the keys stay.
    stack.pulumi("config", "set", "namespace", "ml-prod")
    ops = operations(stack.preview_json())
    replaced = {name for name, op in ops.items() if op == "replace"}
    assert any("trainer" in n for n in replaced), ops
    assert not any(op == "replace" for n, op in ops.items() if n.endswith("-key")), ops
    stack.up()
    after = stack.outputs(secrets=True)
    assert service_output(after, "trainer", "cert") != service_output(outputs, "trainer", "cert")
    assert "URI:spiffe://cluster.local/ns/ml-prod/sa/trainer" in cert_text(
        service_output(after, "trainer", "cert")
    )
    if full:
        # The revoked certificate was replaced too: the CRL lists the new serial, signed anew.
        assert after["crl_number"] == 2
        assert after["trainer_p12"] != outputs["trainer_p12"]
    stack.pulumi("preview", "--expect-no-changes")

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert stack.export()["deployment"].get("resources") in (None, [])


def test_seed_001_tls(stack_factory):
    stack = stack_factory("seed-001-tls")
    stack.up()
    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("refresh", "--yes", "--expect-no-changes")
    exported = json.dumps(stack.export())
    assert not PLAINTEXT_KEY.search(exported)
    outputs = stack.outputs(secrets=True)
    pems = [v for v in outputs.values() if isinstance(v, str) and "BEGIN CERTIFICATE" in v]
    assert pems, outputs
    text = cert_text(pems[0])
    assert "Subject:" in text
    stack.pulumi("destroy", "--yes", "--skip-preview")


def test_attach_mode_with_the_real_engine(stack_factory):
    """PULUMI_DEBUG_PROVIDERS: the engine uses an already running provider instead of starting one."""
    from conftest import ROOT

    binary = ROOT / "target" / "debug" / "pulumi-resource-zerotrust"
    provider = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(provider.stdout.readline().strip())
        stack = stack_factory("seed-001-tls")
        stack.env["PULUMI_DEBUG_PROVIDERS"] = f"zerotrust:{port}"
        stack.up()
        stack.pulumi("preview", "--expect-no-changes")
        stack.pulumi("destroy", "--yes", "--skip-preview")
        # The engine talked to our process: it is still serving after the engine is done.
        assert provider.poll() is None
    finally:
        provider.terminate()
        provider.wait(timeout=10)
