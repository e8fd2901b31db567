"""The Vault PKI examples through the real CLI against OpenBao on loopback (tests/e2e/vault.py)."""

import json
import os
import subprocess
import threading

import pytest

import vault

SEED = "seed-003-vault-pki"
TWO_TIER = "vault-intermediate"
BAD_INPUT = "../tests/e2e/programs/vault-bad-input"
ROLE = "zerotrust:vault/pkiSecret:SecretBackendRole"
ROOT = "zerotrust:vault/pkiSecret:SecretBackendRootCert"
MOUNT = "zerotrust:vault:Mount"


@pytest.fixture(scope="module")
def bao():
    env = vault.bao_env()
    os.environ.update(env)
    return env


@pytest.fixture
def api(bao):
    vault.reset(bao)
    return vault.client(env=bao)


def steps(preview: dict) -> dict:
    return {s["urn"].split("::")[-1]: s["op"] for s in preview.get("steps", [])}


def mounts(api) -> set:
    """Secrets mounts other than the built-in ones."""
    data = api.get("sys/mounts")
    data = data.get("data", data)
    return {
        path.rstrip("/")
        for path, info in data.items()
        if isinstance(info, dict) and info.get("type") not in ("system", "identity", "cubbyhole")
    }


def openssl_verify(tmp_path, root: str, leaf: str, untrusted: str | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "root.pem").write_text(root)
    (tmp_path / "leaf.pem").write_text(leaf)
    cmd = ["openssl", "verify", "-CAfile", str(tmp_path / "root.pem")]
    if untrusted:
        (tmp_path / "untrusted.pem").write_text(untrusted)
        cmd += ["-untrusted", str(tmp_path / "untrusted.pem")]
    return subprocess.run(cmd + [str(tmp_path / "leaf.pem")], capture_output=True, text=True)


def no_secrets_in(text: str, bao: dict) -> None:
    assert "PRIVATE KEY" not in text, "a private key in plaintext"
    assert bao["ZT_BAO_ROOT_TOKEN"] not in text, "the Vault token in plaintext"


def test_seed_003_lifecycle(stack_factory, api, bao, tmp_path):
    stack = stack_factory(SEED)
    up = stack.pulumi("up", "--yes", "--skip-preview", "--logtostderr", "--logflow", "-v=9")
    outputs = stack.outputs(secrets=True)
    assert "pki" in mounts(api)

    # The issued certificate chains to the root, and its key is a secret everywhere.
    result = openssl_verify(tmp_path, outputs["root_certificate"], outputs["certificate"])
    assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr
    assert "PRIVATE KEY" in outputs["private_key"]
    no_secrets_in(json.dumps(stack.export()), bao)
    no_secrets_in(up.stdout + up.stderr, bao)
    assert stack.outputs()["private_key"] == "[secret]"

    stack.pulumi("preview", "--expect-no-changes")

    # A role TTL change updates in place.
    stack.pulumi("config", "set", "roleMaxTtl", "240h")
    assert steps(stack.preview_json())["aiSystemRole"] == "update"
    stack.up()
    assert api.get("pki/roles/ai-system")["data"]["max_ttl"] == 240 * 3600

    # A role deleted out of band: refresh drops it, the next up puts it back.
    api.delete("pki/roles/ai-system")
    stack.pulumi("refresh", "--yes")
    assert not [r for r in stack.export()["deployment"]["resources"] if r["type"] == ROLE]
    stack.up()
    assert api.get("pki/roles/ai-system")["data"]["allowed_domains"] == ["ai-system.example.com"]
    stack.pulumi("preview", "--expect-no-changes")

    # The root's common name replaces the root (and the certificate it issued).
    old_root = api.get("pki/issuer/ai-system-root")["data"]["issuer_id"]
    stack.pulumi("config", "set", "rootCommonName", "ai-system-root-2")
    ops = steps(stack.preview_json())
    assert ops["rootCert"] == "replace", ops
    stack.up()
    issuers = api.list("pki/issuers")
    assert old_root not in issuers and len(issuers) == 1, issuers

    # Destroy revokes what was issued and unmounts.
    serial = stack.outputs()["serial_number"]
    cert_urn = next(r["urn"] for r in stack.export()["deployment"]["resources"] if r["urn"].endswith("::aiSystemCert"))
    stack.pulumi("destroy", "--yes", "--skip-preview", "--target", cert_urn)
    assert api.get(f"pki/cert/{serial}")["data"]["revocation_time"] > 0
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert "pki" not in mounts(api)


def test_two_tier_chain_verifies(stack_factory, api, tmp_path):
    stack = stack_factory(TWO_TIER)
    stack.up()
    out = stack.outputs(secrets=True)
    result = openssl_verify(tmp_path, out["root_pem"], out["leaf_pem"], untrusted=out["intermediate_pem"])
    assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr
    # Issued by the intermediate, not the root.
    result = openssl_verify(tmp_path, out["root_pem"], out["leaf_pem"])
    assert result.returncode != 0
    stack.pulumi("preview", "--expect-no-changes")
    serial = out["leaf_serial"]
    stack.pulumi("destroy", "--yes", "--skip-preview", "--target",
                 next(r["urn"] for r in stack.export()["deployment"]["resources"] if r["urn"].endswith("::trainer")))
    assert api.get(f"{out['int_mount']}/cert/{serial}")["data"]["revocation_time"] > 0
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not {out["int_mount"], out["root_mount"]} & mounts(api)


def test_bad_input_and_vault_refusals(stack_factory, api, bao):
    stack = stack_factory(BAD_INPUT)
    stack.pulumi("config", "set", "stage", "check")
    proc = stack.pulumi("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    for expected in ("property ttl", "\"30 days\" is not a duration", "property keyType", 'unknown value "dsa"'):
        assert expected in out, f"{expected!r} missing from:\n{out}"

    # What Check cannot know (the role forbids IP SANs): Vault's own refusal, naming the
    # resource and the request.
    stack.pulumi("config", "set", "stage", "issue")
    stack.pulumi("config", "set", "ipSan", "10.0.0.1")
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "zerotrust:vault/pkiSecret:SecretBackendCert" in out and "POST /v1/bad-input-pki/issue/ai-system" in out, out
    assert "HTTP 400" in out and "IP Subject Alternative Names are not allowed" in out, out

    # A name outside the role, once the role exists: Check refuses it with the property path.
    stack.pulumi("config", "rm", "ipSan")
    stack.pulumi("config", "set", "commonName", "node.evil.example.com")
    proc = stack.pulumi("preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "property commonName" in out and "is not allowed by the role" in out, out
    stack.pulumi("config", "set", "commonName", "node.ai-system.example.com")
    stack.up()

    # A token without rights: a clear authentication error.
    stack.pulumi("config", "set", "commonName", "other.ai-system.example.com")
    stack.pulumi("config", "set", "--secret", "--path", "zerotrust:vault.token", bao["ZT_BAO_UNPRIVILEGED_TOKEN"])
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "permission denied (HTTP 403)" in out and "Vault token" in out, out
    assert bao["ZT_BAO_UNPRIVILEGED_TOKEN"] not in out
    stack.pulumi("config", "rm", "--path", "zerotrust:vault.token")


def test_openbao_killed_mid_up_loses_nothing(stack_factory, api):
    stack = stack_factory(TWO_TIER)
    cmd = ["pulumi", "up", "--yes", "--skip-preview", "--stack", stack.name, "--non-interactive"]
    proc = subprocess.Popen(cmd, cwd=stack.dir, env=stack.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    vault.kill_when(lambda: any("root " in l and "created" in l for l in lines) or proc.poll() is not None)
    # Usually the kill lands mid-up and the up fails; on a fast run the up may finish first.
    # Either way, what follows must hold, so the outcome of the race is not asserted.
    proc.wait(timeout=300)
    reader.join(10)
    vault.restart()

    stack.up()
    stack.pulumi("refresh", "--yes")
    stack.pulumi("preview", "--expect-no-changes")
    resources = stack.export()["deployment"]["resources"]
    in_state = {r["outputs"]["path"] for r in resources if r["type"] == MOUNT}
    assert in_state == mounts(api), (in_state, mounts(api))
    root_mount = stack.outputs()["root_mount"]
    [root] = [r for r in resources if r["type"] == ROOT]
    assert api.list(f"{root_mount}/issuers") == [root["outputs"]["issuerId"]]
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not mounts(api)


def test_openbao_root_signs_an_acm_pca_subordinate(stack_factory, api, tmp_path):
    import aws

    moto = aws.moto_env()
    os.environ.update(moto)
    aws.reset(moto)
    stack = stack_factory("cross-backend-pki")
    stack.up()
    out = stack.outputs()
    # The leaf from ACM PCA chains to the OpenBao root through the subordinate.
    result = openssl_verify(tmp_path, out["root_pem"], out["leaf_pem"], untrusted=out["subordinate_pem"])
    assert result.returncode == 0 and ": OK" in result.stdout, result.stdout + result.stderr
    status = aws.acmpca(moto).describe_certificate_authority(CertificateAuthorityArn=out["subordinate_arn"])
    assert status["CertificateAuthority"]["Status"] == "ACTIVE"
    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert "org-root-pki" not in mounts(api)


def test_tls_listener_needs_the_configured_ca(stack_factory, api, bao):
    stack = stack_factory(BAD_INPUT)
    stack.pulumi("config", "set", "--path", "zerotrust:vault.address", bao["ZT_BAO_TLS_ADDR"])
    # Without the CA the server's certificate is not trusted...
    proc = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert proc.returncode != 0
    assert "could not reach Vault" in proc.stdout + proc.stderr, proc.stdout + proc.stderr
    # ...with caCertFile it is.
    stack.pulumi("config", "set", "--path", "zerotrust:vault.caCertFile", bao["ZT_BAO_CA_FILE"])
    stack.up()
    assert "bad-input-pki" in mounts(api)


def test_explicit_providers_take_typed_backend_settings(stack_factory, api, bao):
    import aws

    moto = aws.moto_env()
    aws.reset(moto)
    stack = stack_factory("../tests/e2e/programs/explicit-backends")
    # Nothing from the environment: the settings objects alone must reach both backends.
    for var in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "VAULT_ADDR", "VAULT_TOKEN"):
        stack.env.pop(var, None)
    stack.pulumi("config", "set", "awsEndpoint", moto["AWS_ENDPOINT_URL"])
    stack.pulumi("config", "set", "vaultAddress", bao["ZT_BAO_URL"])
    stack.pulumi("config", "set", "--secret", "vaultToken", bao["ZT_BAO_ROOT_TOKEN"])
    stack.pulumi("config", "set", "zoneName", "explicit.example.com")
    stack.pulumi("config", "set", "mountPath", "explicit-pki")
    stack.up()
    zones = aws.route53(moto).list_hosted_zones()["HostedZones"]
    assert [z["Name"] for z in zones] == ["explicit.example.com."]
    assert "explicit-pki" in mounts(api)
    # The settings objects hold secrets, so they are secrets in state as a whole, even when the
    # program gave a secret field as plain text.
    exported = json.dumps(stack.export())
    assert bao["ZT_BAO_ROOT_TOKEN"] not in exported
    assert "zt-plain-secret-key-4711" not in exported
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not aws.route53(moto).list_hosted_zones()["HostedZones"]
