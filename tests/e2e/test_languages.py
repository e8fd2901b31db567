"""zerotrust from TypeScript, Go and YAML programs, through the real CLI and our language hosts.

The ml-mtls program in each language runs the full lifecycle in test_tls_examples.py; here:
Check failures reach the user as our text with the property path, whatever the language; the
generated Node.js and Go SDKs compile cleanly (tsc strict; go build and go vet); and a cloud-side
program per language runs against the local servers (TypeScript on kube-apiserver, Go on OpenBao).
"""

import base64
import json
import os
import shutil
import subprocess
import time
import uuid

import pytest

import kube
import vault
from conftest import ROOT

pytestmark = pytest.mark.languages

BAD_INPUT = {
    "ts": "../tests/e2e/programs/bad-input-ts",
    "go": "../tests/e2e/programs/bad-input-go",
    "yaml": "../tests/e2e/programs/bad-input-yaml",
}


@pytest.mark.parametrize("language", sorted(BAD_INPUT))
def test_bad_input_is_a_check_failure_in_every_language(stack_factory, language):
    stack = stack_factory(BAD_INPUT[language])
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out
    # Both mistakes, each under its property path, from our Check, in one run.
    for expected in (
        "property allowedUses[1]", 'unknown allowed use "sign_everything"',
        "property privateKeyPem", "no PEM block found",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"
    # privateKeyPem is a secret input: the refusal must not echo it.
    assert "this is not a PEM block" not in out, out
    # Not a crash of the SDK or the host: no stack trace, no panic.
    for crash in ("Traceback", "goroutine ", "    at ", "panic:"):
        assert crash not in out, f"{crash!r} in:\n{out}"


def run(cmd, cwd, timeout=900):
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(cmd)} in {cwd}:\n{proc.stdout}\n{proc.stderr}"
    return time.monotonic() - start


def test_nodejs_sdk_compiles_strict(tmp_path):
    sdk = tmp_path / "nodejs"
    shutil.copytree(ROOT / "sdk" / "nodejs", sdk, ignore=shutil.ignore_patterns("node_modules", "bin"))
    # --ignore-scripts: the postinstall would compile it; this test compiles it itself.
    run(["npm", "install", "--ignore-scripts", "--no-audit", "--no-fund"], sdk)
    run(["npx", "tsc", "--strict", "--noEmit", "-p", "."], sdk)


def test_go_sdk_builds_and_vets():
    sdk = ROOT / "sdk" / "go"
    run(["go", "build", "./..."], sdk)
    run(["go", "vet", "./..."], sdk)


def test_typescript_kube_program_up_refresh_destroy(stack_factory):
    """Seed 001's TLS Secret from TypeScript, on the local kube-apiserver."""
    env = kube.cluster_env()
    os.environ.update(env)
    cluster = kube.Kube(env["KUBECONFIG"])
    stack = stack_factory("seed-001-tls-secret-ts")
    ns = f"ts-{uuid.uuid4().hex[:6]}"
    stack.pulumi("config", "set", "namespace", ns)

    stack.up()
    outputs = stack.outputs()
    assert outputs["namespace"] == ns
    secret_path = f"/api/v1/namespaces/{ns}/secrets/{outputs['secret_name']}"
    live = cluster.get(secret_path)
    assert live["type"] == "kubernetes.io/tls"
    cert = base64.b64decode(live["data"]["tls.crt"]).decode()
    assert cert == outputs["cert_pem"]
    assert base64.b64decode(live["data"]["tls.key"]).startswith(b"-----BEGIN RSA PRIVATE KEY")
    exported = json.dumps(stack.export())
    assert "PRIVATE KEY" not in exported and "LS0tLS1CRUdJTi" not in exported

    stack.pulumi("refresh", "--yes", "--expect-no-changes")
    stack.pulumi("preview", "--expect-no-changes")

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not cluster.exists(secret_path)
    deadline = time.monotonic() + 120
    while cluster.exists(f"/api/v1/namespaces/{ns}") and time.monotonic() < deadline:
        time.sleep(1)
    assert not cluster.exists(f"/api/v1/namespaces/{ns}")


def test_go_vault_program_up_refresh_destroy(stack_factory, tmp_path):
    """Seed 003's PKI from Go, on the local OpenBao."""
    env = vault.bao_env()
    os.environ.update(env)
    vault.reset(env)
    api = vault.client(env=env)
    stack = stack_factory("seed-003-vault-pki-go")

    stack.up()
    outputs = stack.outputs(secrets=True)
    assert outputs["mount_path"] == "pki"
    assert api.get("pki/roles/ai-system")["data"]["key_type"] == "ec"
    (tmp_path / "root.pem").write_text(outputs["root_certificate"])
    (tmp_path / "leaf.pem").write_text(outputs["certificate"])
    verified = subprocess.run(
        ["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), str(tmp_path / "leaf.pem")],
        capture_output=True, text=True,
    )
    assert verified.stdout.strip().endswith("OK"), verified.stdout + verified.stderr
    assert "PRIVATE KEY" in outputs["private_key"]
    assert stack.outputs()["private_key"] == "[secret]"
    assert "PRIVATE KEY" not in json.dumps(stack.export())

    stack.pulumi("refresh", "--yes", "--expect-no-changes")
    stack.pulumi("preview", "--expect-no-changes")

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert "pki/" not in api.get("sys/mounts").get("data", {})


def test_yaml_program_builds_a_service_identity_component(stack_factory, tmp_path):
    """The ServiceIdentity component from YAML: the engine calls Construct for it, and its
    children are in state under it."""
    stack = stack_factory("../tests/e2e/programs/service-identity-yaml")
    stack.pulumi("preview")
    stack.up()
    outputs = stack.outputs()
    assert outputs["spiffeId"] == "spiffe://ml.example.com/ns/serving/sa/inference"
    (tmp_path / "root.pem").write_text(outputs["rootPem"])
    verified = subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem")],
                              input=outputs["certificatePem"], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    shown = stack.pulumi("stack", "--show-urns").stdout
    children = {"inference-key": "zerotrust:tls:PrivateKey",
                "inference-csr": "zerotrust:tls:CertRequest",
                "inference-cert": "zerotrust:tls:LocallySignedCert"}
    for child, token in children.items():
        assert f"zerotrust:index:ServiceIdentity${token}::{child}" in shown, shown
    assert "inference-secret" not in shown, "no delivery asked, no Secret"
    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("destroy", "--yes", "--skip-preview")
