"""ServiceIdentity, a component built through Construct, through the real CLI: its children are
ordinary resources in state, the delivered Secret is repaired by `up --refresh`, destroy takes
everything away, and bad inputs are refused at preview with their property paths."""

import base64
import json
import os
import subprocess
import uuid

import pytest

import aws
import vault
from kube import Kube, cluster_env

PROGRAM = "../tests/e2e/programs/service-identity"
COMPONENT = "zerotrust:index:ServiceIdentity"


@pytest.fixture(scope="module")
def cluster():
    env = cluster_env()
    os.environ.update(env)
    return Kube(env["KUBECONFIG"])


@pytest.fixture
def bao_api():
    env = vault.bao_env()
    os.environ.update(env)
    vault.reset(env)
    return vault.client(env=env)


def vault_ca(api, allowed_domains: str, uri_sans: str) -> str:
    """A root CA mounted at `pki` and the role `services`; the root certificate, PEM."""
    api.post("sys/mounts/pki", {"type": "pki", "config": {"max_lease_ttl": "8760h"}})
    root = api.post("pki/root/generate/internal", {"common_name": "bao-root", "ttl": "8760h"})
    api.post("pki/roles/services", {
        "allowed_domains": allowed_domains, "allow_subdomains": True, "allow_bare_domains": True,
        "allowed_uri_sans": uri_sans, "max_ttl": "720h", "key_type": "any",
    })
    return root["data"]["certificate"]


def openssl(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run(["openssl", *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


def urns(stack) -> list:
    shown = stack.pulumi("stack", "--show-urns").stdout
    return [line.split("URN:", 1)[1].strip() for line in shown.splitlines() if "URN:" in line]


def test_an_identity_is_a_component_whose_children_the_engine_manages(stack_factory, cluster, tmp_path):
    stack = stack_factory(PROGRAM)
    ns = f"ml-{uuid.uuid4().hex[:6]}"
    stack.pulumi("config", "set", "namespace", ns)
    # The first preview builds the component with the CA not known yet: every child is planned.
    planned = {s["urn"].rsplit("::", 1)[1]: s["op"] for s in stack.preview_json()["steps"]}
    for child in ("trainer", "trainer-key", "trainer-csr", "trainer-cert", "trainer-secret"):
        assert planned.get(child) == "create", planned
    stack.up()
    out = stack.outputs(secrets=True)
    assert out["spiffe_id"] == f"spiffe://cluster.local/ns/{ns}/sa/trainer"
    assert out["secret"] == f"{ns}/trainer-tls"

    # The children are ordinary resources under the component, each in state.
    listed = urns(stack)
    component = next(u for u in listed if u.endswith(f"{COMPONENT}::trainer"))
    children = {u.rsplit("::", 1)[1]: u for u in listed if f"{COMPONENT}$" in u}
    assert set(children) == {"trainer-key", "trainer-csr", "trainer-cert", "trainer-secret"}, listed
    assert children["trainer-cert"].split("::")[2].endswith("$zerotrust:tls:LocallySignedCert")
    resources = stack.export()["deployment"]["resources"]
    parents = {r["urn"]: r.get("parent") for r in resources}
    assert all(parents[u] == component for u in children.values()), parents

    # Nothing secret in state in plaintext: the key, nor the Secret's data.
    text = json.dumps(stack.export())
    assert "PRIVATE KEY" not in text
    assert "LS0tLS1CRUdJTi" not in text

    # The certificate chains to the root, carries the SPIFFE ID, and the Secret holds it.
    root = tmp_path / "root.pem"
    root.write_text(out["root_pem"])
    verified = openssl("verify", "-CAfile", str(root), stdin=out["certificate_pem"])
    assert verified.returncode == 0, verified.stderr
    text = openssl("x509", "-noout", "-text", stdin=out["certificate_pem"]).stdout
    assert f"URI:spiffe://cluster.local/ns/{ns}/sa/trainer" in text, text
    assert f"DNS:trainer.{ns}.svc" in text, text
    serial = openssl("x509", "-noout", "-serial", stdin=out["certificate_pem"]).stdout
    assert serial.strip().split("=")[1].lower() == out["serial_number"].replace(":", "").lower()
    path = f"/api/v1/namespaces/{ns}/secrets/trainer-tls"
    live = cluster.get(path)
    assert live["type"] == "kubernetes.io/tls"
    files = {k: base64.b64decode(v).decode() for k, v in live["data"].items()}
    assert files["tls.crt"] == out["chain_pem"]
    assert files["tls.key"] == out["private_key_pem"]
    assert files["ca.crt"].strip() == out["root_pem"].strip()

    stack.pulumi("preview", "--expect-no-changes")

    # The Secret deleted out of band comes back with `up --refresh`; the material is the same.
    cluster.delete(path)
    assert not cluster.exists(path)
    stack.pulumi("up", "--yes", "--skip-preview", "--refresh")
    files_again = {k: base64.b64decode(v).decode() for k, v in cluster.get(path)["data"].items()}
    assert files_again == files
    assert stack.outputs()["checksum"] == out["checksum"]
    stack.pulumi("preview", "--expect-no-changes")

    # A new certificate (as renewal makes one): made before the old one goes, the Secret follows,
    # and the checksum changes because the delivered files did; the key stays.
    replaced = stack.pulumi("up", "--yes", "--skip-preview", "--replace", children["trainer-cert"],
                            "--json")
    events = [e.get("resOutputsEvent", {}).get("metadata", {}) for e in
              (json.loads(line) for line in replaced.stdout.splitlines() if line.startswith("{"))]
    ops = [(m.get("op"), m.get("urn", "").rsplit("::", 1)[-1]) for m in events if m]
    assert ops.index(("create-replacement", "trainer-cert")) < ops.index(("delete-replaced", "trainer-cert")), ops
    renewed = stack.outputs(secrets=True)
    assert renewed["checksum"] != out["checksum"]
    assert renewed["serial_number"] != out["serial_number"]
    assert renewed["private_key_pem"] == out["private_key_pem"]
    files = {k: base64.b64decode(v).decode() for k, v in cluster.get(path)["data"].items()}
    assert files["tls.crt"] == renewed["chain_pem"]
    stack.pulumi("preview", "--expect-no-changes")

    # Destroy removes the component's children, the Secret included.
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not cluster.exists(path)
    left = [r["urn"] for r in stack.export()["deployment"].get("resources") or []]
    assert not [u for u in left if COMPONENT in u], left


def test_bad_inputs_are_refused_at_preview_with_their_paths(stack_factory, cluster):
    stack = stack_factory(PROGRAM)
    stack.pulumi("config", "set", "namespace", f"ml-{uuid.uuid4().hex[:6]}")
    stack.pulumi("config", "set", "serviceNamespace", "Not_A_Label")
    stack.pulumi("config", "set", "issuers", "tls,vault")
    preview = stack.pulumi("preview", check=False)
    assert preview.returncode != 0
    said = preview.stdout + preview.stderr
    assert "issuer" in said and "exactly one issuer (tls, vault or acmpca); 2 given" in said, said
    assert "service.namespace" in said and "'Not_A_Label' is not a DNS label" in said, said

    stack.pulumi("config", "set", "issuers", "none")
    stack.pulumi("config", "set", "serviceNamespace", "ml")
    preview = stack.pulumi("preview", check=False)
    said = preview.stdout + preview.stderr
    assert preview.returncode != 0
    assert "0 given" in said, said
    assert "service.namespace" not in said, said


def test_a_vault_role_issues_and_names_it_would_refuse_fail_the_preview(stack_factory, cluster,
                                                                          bao_api, tmp_path):
    ns = f"ml-{uuid.uuid4().hex[:6]}"
    root = vault_ca(bao_api, "example.com", "spiffe://cluster.local/ns/*")
    stack = stack_factory(PROGRAM)
    stack.pulumi("config", "set", "namespace", ns)
    stack.pulumi("config", "set", "issuers", "vault")
    preview = stack.pulumi("preview", check=False)
    said = preview.stdout + preview.stderr
    assert preview.returncode != 0, said
    assert "service.dnsNames[0]" in said and f"trainer.{ns}.svc" in said, said
    assert "role services of pki" in said, said

    bao_api.post("pki/roles/services", {
        "allowed_domains": "svc,svc.cluster.local", "allow_subdomains": True,
        "allowed_uri_sans": "spiffe://cluster.local/ns/*", "max_ttl": "720h", "key_type": "any",
    })
    stack.up()
    out = stack.outputs(secrets=True)
    (tmp_path / "root.pem").write_text(root)
    verified = openssl("verify", "-CAfile", str(tmp_path / "root.pem"), stdin=out["certificate_pem"])
    assert verified.returncode == 0, verified.stderr
    assert out["ca_cert_pem"].strip() == root.strip()
    listed = urns(stack)
    cert = next(u for u in listed if u.endswith("::trainer-cert"))
    assert "zerotrust:vault/pkiSecret:SecretBackendSign" in cert, cert
    serial = out["serial_number"]
    stack.pulumi("preview", "--expect-no-changes")

    # Destroy revokes the certificate the role signed.
    stack.pulumi("destroy", "--yes", "--skip-preview")
    revoked = bao_api.get(f"pki/cert/{serial}")["data"].get("revocation_time", 0)
    assert revoked > 0, "the identity's certificate is revoked on destroy"


def test_an_acm_private_ca_issues(stack_factory, cluster, tmp_path):
    env = aws.moto_env()
    os.environ.update(env)
    pca = aws.acmpca(env)
    arn = pca.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "EC_prime256v1", "SigningAlgorithm": "SHA256WITHECDSA",
            "Subject": {"CommonName": "pca-root"}},
        CertificateAuthorityType="ROOT")["CertificateAuthorityArn"]
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    root_arn = pca.issue_certificate(
        CertificateAuthorityArn=arn, Csr=csr, SigningAlgorithm="SHA256WITHECDSA",
        TemplateArn="arn:aws:acm-pca:::template/RootCACertificate/V1",
        Validity={"Type": "YEARS", "Value": 1})["CertificateArn"]
    root = pca.get_certificate(CertificateAuthorityArn=arn, CertificateArn=root_arn)["Certificate"]
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=root)

    stack = stack_factory(PROGRAM)
    stack.pulumi("config", "set", "namespace", f"ml-{uuid.uuid4().hex[:6]}")
    stack.pulumi("config", "set", "issuers", "acmpca")
    stack.pulumi("config", "set", "caArn", arn)
    stack.up()
    out = stack.outputs(secrets=True)
    (tmp_path / "root.pem").write_text(root)
    verified = openssl("verify", "-CAfile", str(tmp_path / "root.pem"), stdin=out["certificate_pem"])
    assert verified.returncode == 0, verified.stderr
    assert out["ca_cert_pem"].strip() == root.strip()
    cert = next(u for u in urns(stack) if u.endswith("::trainer-cert"))
    assert "zerotrust:aws/acmpca:Certificate" in cert, cert
    stack.pulumi("preview", "--expect-no-changes")
