"""The Vault PKI test backend itself (scripts/bao-up.sh, tools/bao/bootstrap.py, vault.py): the
behaviour the provider's Vault tests rely on. A restart after SIGKILL keeps mounts, issuers,
keys, roles and certificates, and every certificate whose issue call was answered; reset()
clears the secrets engines; the unprivileged token is refused on pki paths; the TLS listener
is trusted through ZT_BAO_CA_FILE; seal/unseal work."""

import ssl
import subprocess
import threading
import urllib.error

import pytest

from vault import (Client, VaultError, bao_env, client, health, is_up, kill, kill_and_restart,
                   kill_when, reset, restart, seal, unprivileged, unseal)


@pytest.fixture(scope="module")
def bao():
    return bao_env()


@pytest.fixture
def vault(bao):
    reset(bao)
    yield bao
    if not is_up(bao):
        # A test that failed between kill() and restart(), or left it sealed.
        restart()
    reset(bao)


def mount_pki(c: Client, path: str = "pki") -> None:
    # Without max_lease_ttl the system maximum (768h) would cap the CA's lifetime.
    c.post(f"sys/mounts/{path}", {"type": "pki", "config": {"max_lease_ttl": "87600h"}})


def make_root(c: Client, path: str = "pki", name: str = "root-1") -> dict:
    return c.post(f"{path}/root/generate/internal", {
        "common_name": f"zerotrust {name}", "key_type": "ec", "key_bits": 256,
        "ttl": "8760h", "issuer_name": name, "key_name": f"{name}-key",
    })["data"]


def make_role(c: Client, path: str = "pki", role: str = "web") -> None:
    c.post(f"{path}/roles/{role}", {"allowed_domains": ["svc.test"], "allow_subdomains": True,
                                    "max_ttl": "72h", "key_type": "ec", "key_bits": 256})


def issue(c: Client, cn: str, path: str = "pki", role: str = "web") -> dict:
    return c.post(f"{path}/issue/{role}", {"common_name": cn, "ttl": "1h"})["data"]


def openssl_verify(tmp_path, root_pem: str, leaf_pem: str) -> subprocess.CompletedProcess:
    (tmp_path / "root.pem").write_text(root_pem)
    (tmp_path / "leaf.pem").write_text(leaf_pem)
    return subprocess.run(["openssl", "verify", "-CAfile", str(tmp_path / "root.pem"), str(tmp_path / "leaf.pem")],
                          capture_output=True, text=True)


def test_restart_after_sigkill_keeps_mounts_issuer_role_and_certificates(vault, tmp_path):
    c = client(env=vault)
    mount_pki(c)
    root = make_root(c)
    make_role(c)
    leaves = [issue(c, f"svc-{i}.svc.test") for i in range(3)]
    mount_before = c.get("sys/mounts/pki")["data"]
    issuers_before = c.list("pki/issuers")
    keys_before = c.list("pki/keys")
    certs_before = sorted(c.list("pki/certs"))
    role_before = c.get("pki/roles/web")["data"]
    assert issuers_before == [root["issuer_id"]]
    assert len(certs_before) == 4  # the root and three leaves

    def down():
        assert health(vault) is None, "bao still answers after SIGKILL"

    env = kill_and_restart(during=down)
    assert env == vault, "the restart changed the address, the tokens or the CA file"

    c = client(env=env)
    mount_after = c.get("sys/mounts/pki")["data"]
    assert (mount_after["uuid"], mount_after["accessor"], mount_after["type"]) == \
        (mount_before["uuid"], mount_before["accessor"], "pki")
    assert mount_after["config"]["max_lease_ttl"] == 87600 * 3600
    assert c.list("pki/issuers") == issuers_before
    assert c.list("pki/keys") == keys_before
    issuer = c.get(f"pki/issuer/{root['issuer_id']}")["data"]
    assert (issuer["issuer_name"], issuer["key_id"]) == ("root-1", root["key_id"])
    assert issuer["certificate"].strip() == root["certificate"].strip()
    assert c.get("pki/config/issuers")["data"]["default"] == root["issuer_id"]
    assert c.get("pki/roles/web")["data"] == role_before
    assert sorted(c.list("pki/certs")) == certs_before
    for leaf in leaves:
        stored = c.get(f"pki/cert/{leaf['serial_number']}")["data"]
        assert stored["certificate"].strip() == leaf["certificate"].strip()

    # The root's private key survived: a certificate issued now chains to the root from before.
    after = issue(c, "after.svc.test")
    result = openssl_verify(tmp_path, root["certificate"], after["certificate"])
    assert result.returncode == 0, result.stdout + result.stderr
    # So did the tokens.
    with pytest.raises(VaultError) as err:
        unprivileged(env).get("pki/roles/web")
    assert err.value.status == 403


def test_every_answered_issue_survives_a_kill_in_the_middle(vault):
    """What a client saw succeed is on disk: certificates are issued in a loop while bao is
    SIGKILLed; each one whose answer arrived is there after the restart."""
    c = client(env=vault)
    mount_pki(c)
    make_root(c)
    make_role(c)
    issued, stop = [], threading.Event()

    def issue_loop():
        loop_client = client(env=vault)
        i = 0
        while not stop.is_set():
            try:
                issued.append(issue(loop_client, f"loop-{i}.svc.test")["serial_number"])
            except (OSError, urllib.error.URLError, VaultError):
                return
            i += 1

    worker = threading.Thread(target=issue_loop, daemon=True)
    worker.start()
    kill_when(lambda: len(issued) >= 5, timeout=60, interval=0.01)
    stop.set()
    worker.join(30)
    assert not worker.is_alive()

    env = restart()
    c = client(env=env)
    stored = set(c.list("pki/certs"))
    missing = [s for s in issued if s not in stored]
    assert not missing, f"issued before the kill but gone after the restart: {missing}"
    for serial in issued:
        assert c.get(f"pki/cert/{serial}") is not None


def test_reset_clears_secrets_mounts(vault):
    c = client(env=vault)
    mount_pki(c)
    mount_pki(c, "team/intermediate")
    c.post("sys/mounts/kv", {"type": "kv", "options": {"version": "2"}})
    make_root(c)
    c.post("sys/auth/userpass", {"type": "userpass"})
    c.put("sys/policies/acl/pki-reader", {"policy": 'path "pki/*" { capabilities = ["read"] }'})
    assert {"pki/", "team/intermediate/", "kv/"} <= set(c.get("sys/mounts")["data"])

    reset(vault)
    assert set(c.get("sys/mounts")["data"]) == {"sys/", "identity/", "cubbyhole/"}
    assert set(c.get("sys/auth")["data"]) == {"token/"}
    assert set(c.list("sys/policies/acl")) == {"root", "default", "zt-unprivileged"}
    assert c.list("pki/issuers") == []
    # The same path mounts again, empty.
    mount_pki(c)
    assert c.list("pki/issuers") == []
    # Reset keeps the tokens.
    assert unprivileged(vault).get("auth/token/lookup-self")["data"]["policies"] == ["default", "zt-unprivileged"]


def test_unprivileged_token_is_refused_on_pki_paths(vault):
    root = client(env=vault)
    mount_pki(root)
    issuer_id = make_root(root)["issuer_id"]
    make_role(root)
    other = unprivileged(vault)

    # The token itself is valid...
    assert other.get("auth/token/lookup-self")["data"]["display_name"] == "token-zt-unprivileged"
    # ...but every pki operation that needs a token is refused, reads included.
    attempts = [
        ("GET", "pki/roles/web", None),
        ("LIST", "pki/roles", None),
        ("GET", f"pki/issuer/{issuer_id}", None),
        ("GET", "pki/issuer/default", None),
        ("LIST", "pki/keys", None),
        ("LIST", "pki/certs", None),
        ("GET", "pki/config/urls", None),
        ("POST", "pki/issue/web", {"common_name": "x.svc.test"}),
        ("POST", "pki/roles/evil", {"allow_any_name": True}),
        ("POST", "pki/root/generate/internal", {"common_name": "evil"}),
        ("DELETE", "pki/roles/web", None),
        ("POST", "sys/mounts/pki2", {"type": "pki"}),
        ("DELETE", "sys/mounts/pki", None),
    ]
    for method, path, body in attempts:
        status, answer = other.request(method, path, body)
        assert status == 403, f"{method} {path} -> {status} {answer}"
        assert answer["errors"] and "permission denied" in answer["errors"][0]
    # The PKI engine's public paths answer any caller, with or without a token (as in
    # Vault): a "wrong permissions" test must not expect 403 from these.
    for method, path in [("LIST", "pki/issuers"), ("GET", f"pki/issuer/{issuer_id}/pem"),
                         ("GET", "pki/ca/pem"), ("GET", "pki/cert/ca"), ("GET", "pki/cert/ca_chain"),
                         ("GET", "pki/crl")]:
        for caller in (other, Client(vault["ZT_BAO_URL"], None)):
            status, _ = caller.request(method, path)
            assert status == 200, f"{method} {path} -> {status}"
    # Nothing changed; the root token still can.
    assert root.get("pki/roles/web") is not None
    assert root.list("pki/issuers") == [issuer_id]
    assert root.get("pki/roles/evil") is None


def test_tls_listener_is_trusted_with_the_ca_file(vault):
    tls = client(env=vault, tls=True)
    assert tls.get("sys/health")["version"] == vault["ZT_BAO_VERSION"]
    mount_pki(tls)
    assert "pki/" in client(env=vault).get("sys/mounts")["data"]
    # Without the CA file the certificate is not trusted.
    plain = Client(vault["ZT_BAO_TLS_ADDR"], vault["ZT_BAO_ROOT_TOKEN"])
    with pytest.raises(urllib.error.URLError) as err:
        plain.get("sys/health")
    assert isinstance(err.value.reason, ssl.SSLCertVerificationError)


def test_seal_and_unseal(vault):
    c = client(env=vault)
    mount_pki(c)
    seal(vault)
    assert health(vault) == 503
    status, answer = c.request("LIST", "pki/issuers")
    assert status == 503 and "sealed" in " ".join(answer["errors"]).lower()
    unseal(vault)
    assert c.list("pki/issuers") == []


def test_kill_leaves_nothing_answering_until_restart(vault):
    kill()
    assert health(vault) is None
    assert restart() == vault
    assert is_up(vault)
