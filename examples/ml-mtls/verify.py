#!/usr/bin/env python3
"""End-to-end check of the ml-mtls stack with real TLS connections.

Usage:
    python verify.py                      # reads `pulumi stack output` here
    python verify.py --stack dev          # same, for a named stack
    python verify.py --outputs out.json   # reads outputs from a JSON file

A TLS server on 127.0.0.1 (ephemeral port) plays the `inference` service: it
presents the inference leaf plus the intermediate and demands a client
certificate that chains to `trust_bundle`. Clients then connect with:

  * each service's own certificate     -> must be accepted, and the server
                                          must see that service's SPIFFE ID;
  * the rogue trainer (unrelated CA)   -> must be refused by the server;
  * a valid cert but the wrong server
    name (trainer.<ns>.svc...)         -> must be refused by the client;
  * the expired trainer certificate    -> must be refused by the server;
  * no client certificate at all       -> must be refused by the server;
  * a genuine trainer certificate listed
    in the intermediate's CRL            -> must be refused by the server, which
                                          loads the stack's `crl` (when the
                                          program exports one);
  * with --java, a Java 17 client whose identity is the trainer's PKCS#12
    keystore (`trainer_p12`)             -> must be accepted as the trainer.

Everything runs once over TLS 1.3 and once over TLS 1.2. In TLS 1.3 the
client's handshake finishes before the server has judged the client
certificate, so a refusal only shows up on the client's first read. The
server therefore sends a greeting after a successful handshake; a case
counts as "accepted" only if the client reads that greeting, and as
"refused" only if the client got an ssl error / reset / EOF *and* the
server (for server-side refusals) logged a failed handshake for that very
connection. Timeouts are inconclusive and count as failures.

Key material is written to a private temporary directory (files 0600) and
removed afterwards; private keys are never printed.
"""

import argparse
import base64
import json
import os
import queue
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import threading

TIMEOUT = 10.0  # seconds, for every socket operation and every wait
HERE = os.path.dirname(os.path.abspath(__file__))
VERSIONS = {"1.3": ssl.TLSVersion.TLSv1_3, "1.2": ssl.TLSVersion.TLSv1_2}


# --------------------------------------------------------------------------
# Stack outputs


def load_outputs(args):
    if args.outputs:
        with open(args.outputs, encoding="utf-8") as f:
            return json.load(f)
    cmd = ["pulumi", "stack", "output", "--json", "--show-secrets"]
    if args.stack:
        cmd += ["--stack", args.stack]
    try:
        proc = subprocess.run(cmd, cwd=HERE, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        sys.exit(f"error: could not run {' '.join(cmd)}: {exc}")
    if proc.returncode != 0:
        # stderr of `pulumi stack output` does not contain secret values.
        sys.exit(f"error: {' '.join(cmd)} failed:\n{proc.stderr.strip()}")
    return json.loads(proc.stdout)


def require(outputs, *names):
    """First present output among `names` (first name is the canonical one)."""
    for name in names:
        value = outputs.get(name)
        if isinstance(value, str) and value.strip():
            return value
    sys.exit(f"error: stack output {names[0]!r} is missing or empty")


class Material:
    """Writes PEM files into a private temp dir and hands out their paths."""

    def __init__(self, outputs):
        self.outputs = outputs
        services = outputs.get("services")
        if not isinstance(services, list) or not services:
            sys.exit("error: stack output 'services' is missing or empty")
        self.services = [str(s) for s in services]
        # Collect (and so validate) everything before anything touches disk.
        chain = require(outputs, "chain")
        wanted = {}  # identity -> (leaf, key, issuer chain)
        for svc in self.services:
            alt = svc.replace("-", "_")
            wanted[svc] = (
                require(outputs, f"{svc}_cert", f"{alt}_cert"),
                require(outputs, f"{svc}_key", f"{alt}_key"),
                chain,
            )
        wanted["expired"] = (require(outputs, "expired_cert"), require(outputs, "expired_key"), chain)
        wanted["rogue"] = (
            require(outputs, "rogue_cert"),
            require(outputs, "rogue_key"),
            require(outputs, "rogue_ca_cert"),
        )
        # Revocation and the PKCS#12 keystore are exported by the Python program only.
        crl = outputs.get("crl")
        if crl:
            wanted["revoked"] = (require(outputs, "revoked_cert"), require(outputs, "revoked_key"), chain)
        p12 = outputs.get("trainer_p12")
        bundle = require(outputs, "trust_bundle")

        self.dir = tempfile.mkdtemp(prefix="ml-mtls-verify-")  # mode 0700
        try:
            self.trust_bundle = self._write("trust_bundle.pem", bundle)
            self.identities = {name: self._identity(name, *parts) for name, parts in wanted.items()}
            self.crl = self._write("intermediate.crl.pem", crl) if crl else None
            self.p12 = None
            if p12:
                self.p12 = (
                    self._write_bytes("trainer.p12", base64.b64decode(p12)),
                    self._write("trainer.p12.password", require(outputs, "trainer_p12_password")),
                )
        except BaseException:
            self.cleanup()
            raise

    def _write(self, name, text):
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text if text.endswith("\n") else text + "\n")
        return path

    def _write_bytes(self, name, data):
        path = os.path.join(self.dir, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        return path

    def _identity(self, name, leaf, key, chain):
        # Leaf first, then the issuing CA, as a TLS peer must send them.
        full = leaf.rstrip("\n") + "\n" + chain
        return self._write(f"{name}.chain.pem", full), self._write(f"{name}.key.pem", key)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


# --------------------------------------------------------------------------
# The mTLS server


def spiffe_uris(peercert):
    return [v for (k, v) in (peercert or {}).get("subjectAltName", ()) if k == "URI"]


class MtlsServer:
    """Accepts connections one at a time; logs one event per connection."""

    def __init__(self, material, server_name, version):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ctx.maximum_version = version
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(cafile=material.trust_bundle)
        if material.crl:
            # The CRL of the leaves' issuer; every client leaf is checked against it.
            ctx.load_verify_locations(cafile=material.crl)
            ctx.verify_flags |= ssl.VERIFY_CRL_CHECK_LEAF
        ctx.load_cert_chain(*material.identities[server_name])
        self.ctx = ctx
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.2)  # lets the accept loop notice `stop`
        self.port = self.sock.getsockname()[1]
        self.events = queue.Queue()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()

    def _loop(self):
        while not self.stop.is_set():
            try:
                conn, addr = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            self._handle(conn, addr[1])

    def _handle(self, conn, client_port):
        conn.settimeout(TIMEOUT)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                uris = spiffe_uris(tls.getpeercert())
                tls.sendall(("hello " + (uris[0] if uris else "-") + "\n").encode())
                try:  # wait for the client to finish, so our close is clean
                    tls.recv(1)
                except (ssl.SSLError, OSError):
                    pass
            self.events.put((client_port, "accepted", uris))
        except (ssl.SSLError, OSError) as exc:
            self.events.put((client_port, "refused", describe(exc)))
        except Exception as exc:  # a bug here must not kill the server thread
            self.events.put((client_port, "error", describe(exc)))
        finally:
            conn.close()

    def event_for(self, client_port):
        """The server's verdict for one client connection, or None on timeout."""
        while True:
            try:
                port, verdict, detail = self.events.get(timeout=TIMEOUT)
            except queue.Empty:
                return None
            if port == client_port:
                return verdict, detail

    def next_event(self):
        """The next verdict, whichever client it is for, or None on timeout."""
        try:
            return self.events.get(timeout=TIMEOUT)
        except queue.Empty:
            return None

    def close(self):
        self.stop.set()
        self.thread.join(TIMEOUT)
        self.sock.close()


def describe(exc):
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"certificate verify failed: {exc.verify_message}"
    if isinstance(exc, ssl.SSLError):
        return exc.reason or str(exc)
    return type(exc).__name__ + (f": {exc}" if str(exc) else "")


# --------------------------------------------------------------------------
# The client side


class Attempt:
    def __init__(self):
        self.client_port = None
        self.outcome = None  # "accepted" | "refused" | "inconclusive"
        self.detail = ""
        self.greeting = ""
        self.verify_error = None  # ssl.SSLCertVerificationError, if any


def connect(material, port, version, identity, server_hostname):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies cert + hostname
    ctx.minimum_version = ctx.maximum_version = version
    result = Attempt()
    try:
        ctx.load_verify_locations(cafile=material.trust_bundle)
        if identity:
            ctx.load_cert_chain(*material.identities[identity])
    except (ssl.SSLError, OSError) as exc:  # e.g. key does not match cert
        result.outcome, result.detail = "inconclusive", f"cannot load {identity}: {describe(exc)}"
        return result
    try:
        raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
    except OSError as exc:
        result.outcome, result.detail = "inconclusive", f"connect failed: {describe(exc)}"
        return result
    result.client_port = raw.getsockname()[1]
    try:
        with ctx.wrap_socket(raw, server_hostname=server_hostname) as tls:
            line = b""
            while not line.endswith(b"\n") and len(line) < 4096:
                chunk = tls.recv(256)  # TLS 1.3: a client-cert refusal lands here
                if not chunk:
                    break
                line += chunk
            if line.endswith(b"\n"):
                result.outcome, result.greeting = "accepted", line.decode().strip()
            else:
                result.outcome, result.detail = "refused", "connection closed without greeting"
    except socket.timeout:
        result.outcome, result.detail = "inconclusive", "timed out"
    except ssl.SSLCertVerificationError as exc:
        result.outcome, result.detail, result.verify_error = "refused", describe(exc), exc
    except (ssl.SSLError, ConnectionError, OSError) as exc:
        result.outcome, result.detail = "refused", describe(exc)
    finally:
        raw.close()
    return result


# --------------------------------------------------------------------------
# Cases


def java_connect(material, port, server_hostname):
    """Runs TlsClient.java with the trainer's PKCS#12 keystore; (ok, its output)."""
    keystore, password_file = material.p12
    cmd = ["java", os.path.join(HERE, "TlsClient.java"), "127.0.0.1", str(port), server_hostname,
           keystore, password_file, material.trust_bundle]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, describe(exc)
    return done.returncode == 0, (done.stdout + done.stderr).strip()


def run_cases(material, version_label, version, report, java=False):
    outputs = material.outputs
    ns_suffix = _server_dns_suffix(outputs)
    server_name = "inference"
    good_host = f"{server_name}.{ns_suffix}"
    wrong_host = f"trainer.{ns_suffix}"
    server = MtlsServer(material, server_name, version)
    try:
        tag = f"[TLS {version_label}]"

        # (a) every genuine identity is accepted and recognised.
        for svc in material.services:
            r = connect(material, server.port, version, svc, good_host)
            seen = server.event_for(r.client_port) if r.client_port else None
            want = _expected_uri(outputs, svc)
            ok = (
                r.outcome == "accepted"
                and seen is not None
                and seen[0] == "accepted"
                and want in seen[1]
                and r.greeting == f"hello {want}"
            )
            why = f"server saw {seen[1]}" if seen and seen[0] == "accepted" else _why(r, seen)
            report(ok, f"{tag} {svc} client cert accepted as {want} ({why})")

        # (b) same SPIFFE ID as trainer but from an unrelated CA.
        r = connect(material, server.port, version, "rogue", good_host)
        seen = server.event_for(r.client_port) if r.client_port else None
        ok = server_refused(r, seen) and "certificate verify failed" in str(seen[1])
        report(ok, f"{tag} rogue client cert (unrelated CA) refused by server ({_why(r, seen)})")

        # (c) valid client, but it expects a different server identity.
        r = connect(material, server.port, version, material.services[0], wrong_host)
        if r.client_port:
            server.event_for(r.client_port)  # drain; the verdict is the client's
        ok = (
            r.outcome == "refused"
            and r.verify_error is not None
            and r.verify_error.verify_code == 62  # X509_V_ERR_HOSTNAME_MISMATCH
        )
        report(ok, f"{tag} wrong server name {wrong_host} refused by client ({r.detail or r.outcome})")

        # (d) a genuine chain, but the leaf's validity has ended.
        r = connect(material, server.port, version, "expired", good_host)
        seen = server.event_for(r.client_port) if r.client_port else None
        ok = server_refused(r, seen) and "expired" in str(seen[1])
        report(ok, f"{tag} expired client cert refused by server ({_why(r, seen)})")

        # (e) CERT_REQUIRED really is required.
        r = connect(material, server.port, version, None, good_host)
        seen = server.event_for(r.client_port) if r.client_port else None
        ok = server_refused(r, seen)
        report(ok, f"{tag} client without certificate refused by server ({_why(r, seen)})")

        # (f) a genuine trainer identity, revoked in the intermediate's CRL.
        if material.crl:
            r = connect(material, server.port, version, "revoked", good_host)
            seen = server.event_for(r.client_port) if r.client_port else None
            ok = server_refused(r, seen) and "revoked" in str(seen[1])
            report(ok, f"{tag} revoked client cert refused by server with the CRL ({_why(r, seen)})")

        # (g) a JVM client whose identity is the trainer's PKCS#12 keystore.
        if java:
            if not material.p12:
                report(False, f"{tag} Java client: the stack exports no trainer_p12")
            else:
                ok, said = java_connect(material, server.port, good_host)
                seen = server.next_event()  # the only connection since the last verdict
                want = _expected_uri(outputs, "trainer")
                ok = ok and said == f"hello {want}" and seen is not None and seen[1] == "accepted" \
                    and want in seen[2]
                report(ok, f"{tag} Java client with the trainer PKCS#12 keystore accepted as {want} "
                           f"(client: {said}; server: {seen[1:] if seen else 'no verdict'})")
    finally:
        server.close()


def server_refused(attempt, seen):
    """The server rejected the client -- not the client rejecting the server."""
    return (
        attempt.outcome == "refused"
        and attempt.verify_error is None
        and seen is not None
        and seen[0] == "refused"
    )


def _why(attempt, seen):
    server_side = f"server: {seen[1]}" if seen else "server: no verdict"
    return f"client: {attempt.detail or attempt.outcome}; {server_side}"


def _server_dns_suffix(outputs):
    return f"{outputs['namespace']}.svc.{outputs['trust_domain']}"


def _expected_uri(outputs, svc):
    return f"spiffe://{outputs['trust_domain']}/ns/{outputs['namespace']}/sa/{svc}"


# --------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--outputs", metavar="FILE", help="stack outputs as JSON instead of `pulumi stack output`")
    parser.add_argument("--stack", help="stack name passed to `pulumi stack output`")
    # Only needed for outputs that predate the `trust_domain`/`namespace` exports.
    parser.add_argument("--trust-domain", default="cluster.local")
    parser.add_argument("--namespace", default="ml")
    parser.add_argument("--tls", choices=["1.2", "1.3", "both"], default="both")
    parser.add_argument("--java", action="store_true",
                        help="also connect a Java client with the trainer's PKCS#12 keystore (needs java 17)")
    args = parser.parse_args()

    outputs = load_outputs(args)
    outputs.setdefault("trust_domain", args.trust_domain)
    outputs.setdefault("namespace", args.namespace)
    material = Material(outputs)
    counts = {True: 0, False: 0}

    def report(ok, text):
        counts[ok] += 1
        print(("PASS " if ok else "FAIL ") + text, flush=True)

    try:
        labels = ["1.3", "1.2"] if args.tls == "both" else [args.tls]
        for label in labels:
            try:
                run_cases(material, label, VERSIONS[label], report, java=args.java)
            except (ssl.SSLError, OSError) as exc:  # server could not start
                report(False, f"[TLS {label}] server setup failed: {describe(exc)}")
    finally:
        material.cleanup()

    print(f"{counts[True]} passed, {counts[False]} failed")
    return 1 if counts[False] else 0


if __name__ == "__main__":
    sys.exit(main())
