"""CA rotation without an outage, through the real CLI: a TrustBundle keeps the retired root for
its overlap, identities are reissued by the new root, a client still holding a certificate from
the old root is accepted during the overlap, and refused once the first `up` after it has dropped
the old root. Handshakes are real mTLS handshakes (Python's ssl, OpenSSL underneath)."""

import os
import socket
import ssl
import threading
import time
import uuid

import pytest

from kube import Kube, cluster_env

PROGRAM = "../tests/e2e/programs/trust-rotation"
OVERLAP_SECONDS = 45


@pytest.fixture(scope="module")
def cluster():
    env = cluster_env()
    os.environ.update(env)
    return Kube(env["KUBECONFIG"])


def mtls_accepted(tmp_path, server: tuple, client: tuple, trust: str, hostname: str) -> bool:
    """Whether a server holding `server` (chain, key) and trusting `trust` accepts a client
    holding `client` (chain, key); the client trusts `trust` too."""
    files = {}
    for label, text in (("server.crt", server[0]), ("server.key", server[1]),
                        ("client.crt", client[0]), ("client.key", client[1])):
        path = tmp_path / f"{uuid.uuid4().hex[:6]}-{label}"
        path.write_text(text)
        files[label] = str(path)
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(files["server.crt"], files["server.key"])
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_verify_locations(cadata=trust)
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_cert_chain(files["client.crt"], files["client.key"])
    client_ctx.load_verify_locations(cadata=trust)

    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    outcome = {}

    def serve():
        conn, _ = listener.accept()
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                outcome["server"] = True
                tls.sendall(b"ok")
        except (ssl.SSLError, OSError) as err:
            outcome["server"] = False
            outcome["error"] = str(err)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname=hostname) as tls:
                tls.recv(2)
    except (ssl.SSLError, OSError):
        pass
    thread.join(timeout=10)
    listener.close()
    return outcome.get("server", False)


def test_rotating_the_root_keeps_old_clients_trusted_for_the_overlap(stack_factory, cluster,
                                                                     tmp_path):
    stack = stack_factory(PROGRAM)
    ns = f"rot-{uuid.uuid4().hex[:6]}"
    host = f"server.{ns}.svc"
    stack.pulumi("config", "set", "namespace", ns)
    stack.pulumi("config", "set", "overlap", f"{OVERLAP_SECONDS}s")
    stack.up()
    before = stack.outputs(secrets=True)
    assert before["retired_count"] == 0
    assert before["bundle_pem"].count("BEGIN CERTIFICATE") == 1
    assert before["config_maps"] == [f"{ns}/trust"]
    live = cluster.get(f"/api/v1/namespaces/{ns}/configmaps/trust")
    assert live["data"]["ca.crt"] == before["bundle_pem"]
    old_client = (before["client_chain"], before["client_key"])
    assert mtls_accepted(tmp_path, (before["server_chain"], before["server_key"]), old_client,
                         before["bundle_pem"], host)
    stack.pulumi("preview", "--expect-no-changes")

    # Rotate: the new root reissues both identities; the bundle holds both roots.
    stack.pulumi("config", "set", "root", "b")
    stack.up()
    rotated_at = time.monotonic()
    during = stack.outputs(secrets=True)
    assert during["retired_count"] == 1
    assert during["bundle_pem"].count("BEGIN CERTIFICATE") == 2
    assert before["root_pem"].strip() in during["bundle_pem"]
    assert during["root_pem"].strip() in during["bundle_pem"]
    assert during["server_checksum"] != before["server_checksum"], "the server was reissued"
    assert during["client_checksum"] != before["client_checksum"], "the client was reissued"
    assert during["bundle_checksum"] != before["bundle_checksum"]
    live = cluster.get(f"/api/v1/namespaces/{ns}/configmaps/trust")
    assert live["data"]["ca.crt"] == during["bundle_pem"]
    server = (during["server_chain"], during["server_key"])
    new_client = (during["client_chain"], during["client_key"])
    assert mtls_accepted(tmp_path, server, new_client, during["bundle_pem"], host)
    assert mtls_accepted(tmp_path, server, old_client, during["bundle_pem"], host), \
        "a client from the old root is accepted during the overlap"
    stack.pulumi("preview", "--expect-no-changes")

    # After the overlap, the first preview shows the old root leaving; `up` drops it.
    time.sleep(max(0.0, OVERLAP_SECONDS + 2 - (time.monotonic() - rotated_at)))
    preview = stack.pulumi("preview", "--diff")
    assert "trust-bundle" in preview.stdout and "retired" in preview.stdout, preview.stdout
    assert "ml-root-a" in preview.stdout, "the diff names the CA that leaves"
    stack.up()
    after = stack.outputs(secrets=True)
    assert after["retired_count"] == 0
    assert after["bundle_pem"].count("BEGIN CERTIFICATE") == 1
    assert before["root_pem"].strip() not in after["bundle_pem"]
    live = cluster.get(f"/api/v1/namespaces/{ns}/configmaps/trust")
    assert live["data"]["ca.crt"] == after["bundle_pem"]
    assert mtls_accepted(tmp_path, server, new_client, after["bundle_pem"], host)
    assert not mtls_accepted(tmp_path, server, old_client, after["bundle_pem"], host), \
        "a client from the retired root is refused once the overlap is over"
    stack.pulumi("preview", "--expect-no-changes")

    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not cluster.exists(f"/api/v1/namespaces/{ns}/configmaps/trust")
