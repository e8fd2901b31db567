"""The AWS test backend itself (scripts/moto-up.sh, tools/moto/launcher.py): the behaviour the
provider's AWS tests rely on. Restarting after SIGKILL keeps resources and their ids; a
subordinate CA issued by a moto root chains with openssl (our correction of moto's
SubordinateCACertificate templates); ACM PCA permissions (our addition) are kept per principal;
reset empties everything, the saved state too."""

import json
import subprocess

import pytest
from cryptography import x509

from aws import acmpca, is_up, kill_and_restart, moto_env, reset, route53

TEMPLATE = "arn:aws:acm-pca:::template/"
ROOT_TEMPLATE = TEMPLATE + "RootCACertificate/V1"
SUB_TEMPLATE = TEMPLATE + "SubordinateCACertificate_PathLen0/V1"
LEAF_TEMPLATE = TEMPLATE + "EndEntityCertificate/V1"


@pytest.fixture(scope="module")
def moto():
    return moto_env()


@pytest.fixture
def aws(moto):
    reset(moto)
    yield moto
    reset(moto)


def create_ca(pca, ca_type: str, common_name: str) -> str:
    return pca.create_certificate_authority(
        CertificateAuthorityConfiguration={
            "KeyAlgorithm": "RSA_2048",
            "SigningAlgorithm": "SHA256WITHRSA",
            "Subject": {"CommonName": common_name, "Organization": "zerotrust tests"},
        },
        CertificateAuthorityType=ca_type,
    )["CertificateAuthorityArn"]


def issue(pca, ca_arn: str, csr: bytes, template: str) -> tuple[str, str, str]:
    """Issue from `ca_arn`; returns (certificate ARN, certificate PEM, chain PEM)."""
    cert_arn = pca.issue_certificate(
        CertificateAuthorityArn=ca_arn,
        Csr=csr,
        SigningAlgorithm="SHA256WITHRSA",
        TemplateArn=template,
        Validity={"Value": 30, "Type": "DAYS"},
    )["CertificateArn"]
    got = pca.get_certificate(CertificateAuthorityArn=ca_arn, CertificateArn=cert_arn)
    return cert_arn, got["Certificate"], got.get("CertificateChain", "")


def activate_root(pca, common_name: str) -> tuple[str, str]:
    """A ROOT CA, self-issued with RootCACertificate/V1 and imported: (ARN, certificate PEM)."""
    arn = create_ca(pca, "ROOT", common_name)
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=arn)["Csr"]
    _, cert, _ = issue(pca, arn, csr.encode(), ROOT_TEMPLATE)
    pca.import_certificate_authority_certificate(CertificateAuthorityArn=arn, Certificate=cert.encode())
    return arn, cert


def openssl_csr(tmp_path, name: str) -> bytes:
    subprocess.run(
        ["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(tmp_path / f"{name}.key"), "-out", str(tmp_path / f"{name}.csr"),
         "-subj", f"/CN={name}", "-addext", f"subjectAltName=DNS:{name}"],
        check=True, capture_output=True,
    )
    return (tmp_path / f"{name}.csr").read_bytes()


def openssl_verify(tmp_path, root: str, leaf: str, untrusted: str | None = None) -> subprocess.CompletedProcess:
    (tmp_path / "root.pem").write_text(root)
    (tmp_path / "leaf.pem").write_text(leaf)
    cmd = ["openssl", "verify", "-CAfile", str(tmp_path / "root.pem")]
    if untrusted is not None:
        (tmp_path / "untrusted.pem").write_text(untrusted)
        cmd += ["-untrusted", str(tmp_path / "untrusted.pem")]
    return subprocess.run(cmd + [str(tmp_path / "leaf.pem")], capture_output=True, text=True)


def assert_down(env):
    assert not is_up(env), "moto still answers after SIGKILL"


def test_restart_after_sigkill_keeps_resources_and_ids(aws, tmp_path):
    pca, r53 = acmpca(aws), route53(aws)
    root_arn, root_pem = activate_root(pca, "restart-root")
    pending_arn = create_ca(pca, "SUBORDINATE", "restart-pending")
    leaf_arn, leaf_pem, _ = issue(pca, root_arn, openssl_csr(tmp_path, "before.svc"), LEAF_TEMPLATE)
    zone = r53.create_hosted_zone(Name="restart.example", CallerReference="restart-1")["HostedZone"]
    r53.change_resource_record_sets(
        HostedZoneId=zone["Id"],
        ChangeBatch={"Changes": [{"Action": "CREATE", "ResourceRecordSet": {
            "Name": "api.restart.example", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.10"}]}}]},
    )
    before = pca.describe_certificate_authority(CertificateAuthorityArn=root_arn)["CertificateAuthority"]

    after_env = kill_and_restart(during=lambda: assert_down(aws))
    assert after_env["AWS_ENDPOINT_URL"] == aws["AWS_ENDPOINT_URL"], "the restart moved moto to another port"

    pca, r53 = acmpca(after_env), route53(after_env)
    after = pca.describe_certificate_authority(CertificateAuthorityArn=root_arn)["CertificateAuthority"]
    assert (after["Arn"], after["Status"], after["CreatedAt"]) == (before["Arn"], "ACTIVE", before["CreatedAt"])
    pending = pca.describe_certificate_authority(CertificateAuthorityArn=pending_arn)["CertificateAuthority"]
    assert pending["Status"] == "PENDING_CERTIFICATE"
    assert pca.get_certificate_authority_certificate(CertificateAuthorityArn=root_arn)["Certificate"] == root_pem
    assert pca.get_certificate(CertificateAuthorityArn=root_arn, CertificateArn=leaf_arn)["Certificate"] == leaf_pem
    assert {ca["Arn"] for ca in pca.list_certificate_authorities()["CertificateAuthorities"]} == {root_arn, pending_arn}

    assert r53.get_hosted_zone(Id=zone["Id"])["HostedZone"]["Id"] == zone["Id"]
    records = r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    assert {"Name": "api.restart.example.", "Type": "A", "TTL": 60,
            "ResourceRecords": [{"Value": "192.0.2.10"}]} in records

    # The CA's private key survived too: a certificate issued after the restart chains to the
    # root certificate from before it.
    _, new_leaf, _ = issue(pca, root_arn, openssl_csr(tmp_path, "after.svc"), LEAF_TEMPLATE)
    result = openssl_verify(tmp_path, root_pem, new_leaf)
    assert result.returncode == 0, result.stdout + result.stderr


def test_subordinate_ca_chain_verifies_with_openssl(aws, tmp_path):
    pca = acmpca(aws)
    root_arn, root_pem = activate_root(pca, "chain-root")

    sub_arn = create_ca(pca, "SUBORDINATE", "chain-intermediate")
    sub_csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=sub_arn)["Csr"]
    _, sub_pem, sub_chain = issue(pca, root_arn, sub_csr.encode(), SUB_TEMPLATE)
    assert sub_chain.strip() == root_pem.strip()
    pca.import_certificate_authority_certificate(
        CertificateAuthorityArn=sub_arn, Certificate=sub_pem.encode(), CertificateChain=root_pem.encode()
    )
    assert pca.describe_certificate_authority(CertificateAuthorityArn=sub_arn)["CertificateAuthority"]["Status"] == "ACTIVE"

    # What AWS documents for SubordinateCACertificate_PathLen0/V1.
    root_cert, sub_cert = x509.load_pem_x509_certificate(root_pem.encode()), x509.load_pem_x509_certificate(sub_pem.encode())
    bc = sub_cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == 0
    ku = sub_cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.key_cert_sign and ku.value.crl_sign and ku.value.digital_signature
    root_ski = root_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = sub_cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    assert aki.key_identifier == root_ski.digest
    sub_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)

    _, leaf_pem, leaf_chain = issue(pca, sub_arn, openssl_csr(tmp_path, "inference.ml.svc"), LEAF_TEMPLATE)
    assert leaf_chain.strip() == sub_pem.strip()
    result = openssl_verify(tmp_path, root_pem, leaf_pem, untrusted=sub_pem)
    assert result.returncode == 0 and result.stdout.strip().endswith(": OK"), result.stdout + result.stderr
    # And the chain really needs the subordinate: the root alone does not verify the leaf.
    assert openssl_verify(tmp_path, root_pem, leaf_pem).returncode != 0


@pytest.mark.parametrize("path_len", [1, 2, 3])
def test_other_subordinate_templates_set_their_path_length(aws, path_len):
    pca = acmpca(aws)
    root_arn, _ = activate_root(pca, f"pathlen-root-{path_len}")
    sub_arn = create_ca(pca, "SUBORDINATE", f"pathlen-sub-{path_len}")
    csr = pca.get_certificate_authority_csr(CertificateAuthorityArn=sub_arn)["Csr"]
    template = TEMPLATE + f"SubordinateCACertificate_PathLen{path_len}/V1"
    _, pem, _ = issue(pca, root_arn, csr.encode(), template)
    bc = x509.load_pem_x509_certificate(pem.encode()).extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca and bc.value.path_length == path_len


def test_ca_permissions_are_kept_per_principal_and_survive_a_restart(aws):
    from botocore.exceptions import ClientError

    pca = acmpca(aws)
    ca_arn, _ = activate_root(pca, "permission-root")
    assert pca.list_permissions(CertificateAuthorityArn=ca_arn)["Permissions"] == []
    pca.create_permission(
        CertificateAuthorityArn=ca_arn, Principal="acm.amazonaws.com", SourceAccount="123456789012",
        Actions=["IssueCertificate", "GetCertificate", "ListPermissions"],
    )
    with pytest.raises(ClientError, match="PermissionAlreadyExistsException"):
        pca.create_permission(CertificateAuthorityArn=ca_arn, Principal="acm.amazonaws.com", Actions=["GetCertificate"])

    after_env = kill_and_restart(during=lambda: assert_down(aws))
    pca = acmpca(after_env)
    [permission] = pca.list_permissions(CertificateAuthorityArn=ca_arn)["Permissions"]
    assert permission["Principal"] == "acm.amazonaws.com" and permission["SourceAccount"] == "123456789012"
    assert permission["CertificateAuthorityArn"] == ca_arn
    assert sorted(permission["Actions"]) == ["GetCertificate", "IssueCertificate", "ListPermissions"]
    statement = json.loads(permission["Policy"])["Statement"][0]
    assert statement["Principal"] == {"Service": "acm.amazonaws.com"} and statement["Resource"] == ca_arn

    pca.delete_permission(CertificateAuthorityArn=ca_arn, Principal="acm.amazonaws.com", SourceAccount="123456789012")
    assert pca.list_permissions(CertificateAuthorityArn=ca_arn)["Permissions"] == []
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        pca.delete_permission(CertificateAuthorityArn=ca_arn, Principal="acm.amazonaws.com")
    missing = ca_arn.rsplit("/", 1)[0] + "/00000000-0000-4000-8000-000000000000"
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        pca.list_permissions(CertificateAuthorityArn=missing)
    pca.update_certificate_authority(CertificateAuthorityArn=ca_arn, Status="DISABLED")
    pca.delete_certificate_authority(CertificateAuthorityArn=ca_arn, PermanentDeletionTimeInDays=7)
    with pytest.raises(ClientError, match="InvalidStateException"):
        pca.create_permission(CertificateAuthorityArn=ca_arn, Principal="acm.amazonaws.com", Actions=["GetCertificate"])


def test_reset_clears_everything_including_the_saved_state(aws):
    pca, r53 = acmpca(aws), route53(aws)
    ca_arn, _ = activate_root(pca, "reset-root")
    r53.create_hosted_zone(Name="reset.example", CallerReference="reset-1")

    reset(aws)
    assert pca.list_certificate_authorities()["CertificateAuthorities"] == []
    assert r53.list_hosted_zones()["HostedZones"] == []
    with pytest.raises(pca.exceptions.ResourceNotFoundException):
        pca.describe_certificate_authority(CertificateAuthorityArn=ca_arn)

    # Nothing comes back from the saved state either.
    env = kill_and_restart()
    assert acmpca(env).list_certificate_authorities()["CertificateAuthorities"] == []
    assert route53(env).list_hosted_zones()["HostedZones"] == []

