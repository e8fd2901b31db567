#!/usr/bin/env python3
"""Proves the ml-identities stack with real mTLS handshakes on 127.0.0.1.

Usage:
    python verify.py                      # reads `pulumi stack output` here
    python verify.py --stack dev          # same, for a named stack
    python verify.py --outputs out.json   # reads outputs from a JSON file

For every ordered pair of the three services (trainer, feature-store, inference), a server
presenting the first one's chain and trusting only the published bundle must accept a client
presenting the second one's chain, and the client (trusting the same bundle) must accept the
server under its DNS name. Then the `outsider`, whose CA is not in the bundle, must be refused by
every server. A case counts as accepted only when the client reads the server's greeting after
the handshake (under TLS 1.3 a refused client certificate only shows on that read), and as
refused only when the server's handshake failed. Keys go to a private temporary directory that is
removed afterwards; nothing secret is printed.
"""

import argparse
import json
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

SERVICES = ("trainer", "feature-store", "inference")
GREETING = b"hello\n"


def load_outputs(args) -> dict:
    if args.outputs:
        return json.loads(Path(args.outputs).read_text())
    cmd = ["pulumi", "stack", "output", "--json", "--show-secrets"]
    if args.stack:
        cmd += ["--stack", args.stack]
    return json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)


def context(server_side: bool, chain: str, key: str, bundle: str, workdir: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER if server_side else ssl.PROTOCOL_TLS_CLIENT)
    with tempfile.NamedTemporaryFile("w", dir=workdir, delete=False, suffix=".pem") as f:
        f.write(chain + key)
    ctx.load_cert_chain(f.name)
    ctx.load_verify_locations(cadata=bundle)
    ctx.verify_mode = ssl.CERT_REQUIRED
    return ctx


def handshake(server: dict, client: dict, bundle: str, workdir: Path) -> tuple:
    """(server accepted the client, client read the greeting)."""
    server_ctx = context(True, server["chain"], server["key"], bundle, workdir)
    client_ctx = context(False, client["chain"], client["key"], bundle, workdir)
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(10)
    port = listener.getsockname()[1]
    result = {"server": False}

    def serve():
        try:
            conn, _ = listener.accept()
            conn.settimeout(10)
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                result["server"] = True
                tls.sendall(GREETING)
        except (ssl.SSLError, OSError):
            result["server"] = False

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    read = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
            with client_ctx.wrap_socket(raw, server_hostname=server["dnsName"]) as tls:
                read = tls.recv(len(GREETING))
    except (ssl.SSLError, OSError):
        pass
    thread.join(timeout=15)
    listener.close()
    return result["server"], read == GREETING


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack")
    parser.add_argument("--outputs")
    args = parser.parse_args()
    outputs = load_outputs(args)
    identities, bundle = outputs["identities"], outputs["bundle"]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        workdir.chmod(0o700)
        for server in SERVICES:
            for client in SERVICES:
                if server == client:
                    continue
                accepted, greeted = handshake(identities[server], identities[client], bundle,
                                              workdir)
                ok = accepted and greeted
                failures += not ok
                print(f"{'ok  ' if ok else 'FAIL'} {client} -> {server}: "
                      f"{'accepted' if ok else 'not accepted'}")
            accepted, greeted = handshake(identities[server], identities["outsider"], bundle,
                                          workdir)
            ok = not accepted and not greeted
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} outsider -> {server}: "
                  f"{'refused' if ok else 'NOT refused'}")
    print(f"{failures} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
