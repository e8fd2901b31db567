"""moto's server, as zerotrust's tests run it: moto 5.2.5 plus three test-only additions.

Started by scripts/moto-up.sh with the test venv's python:

    python tools/moto/launcher.py --host 127.0.0.1 --port PORT --state DIR/state.pickle

It serves exactly the WSGI app that `moto_server` serves (moto's DomainDispatcherApplication
and request handler), with these additions. None of them is part of the zerotrust provider; they
only make the test backend behave more like AWS.

1. State that survives SIGKILL. moto keeps everything in memory. A real cloud keeps a resource
   once it has answered the create call, so the e2e tests kill moto in the middle of a
   `pulumi up` and expect to find the same resources after a restart. Nothing can be saved
   when SIGKILL arrives, so the state is saved *before* each answer leaves instead: every
   request is handled under one lock, and after any request that may change state (every
   method except GET/HEAD/OPTIONS; AWS's query and JSON protocols use POST for reads too)
   the in-use moto backends are pickled and written to --state (temp file + rename, so a
   kill never leaves half a file). Writes are skipped when the pickle did not change. The
   answer is only handed to the HTTP server after the write, so whatever a client saw
   succeed is on disk. On start the file, when present, is loaded back into moto's
   backends, so ARNs, hosted-zone ids, CA keys and issued certificates stay the same.
   `POST /moto-api/reset` empties moto's backends and is itself a POST, so the snapshot
   written after it is empty: reset clears the persisted state too.
   Limits: a request cut off by the kill is lost or kept depending on whether the kill
   came before or after its snapshot (like a lost response from a real cloud); requests are
   served one at a time; no fsync, so a machine crash (not a process kill) can lose the last
   writes; the snapshot is tied to the moto version that wrote it (a different one refuses
   to start); a service whose backend cannot be pickled is not persisted (logged once); the
   recorder endpoints (/moto-api/recorder/...) are not serialised with the rest, so that a
   replay, which calls this server, cannot deadlock.

2. SubordinateCACertificate_PathLen{0,1,2,3}/V1 in ACM PCA. moto 5.2.5's
   CertificateAuthority._x509_extensions (moto/acmpca/models.py) knows only
   RootCACertificate/V1 and EndEntityCertificate/V1 (or no template); every other template
   gets no extension but the CSR's SAN. A subordinate CA issued by a moto root is therefore
   not a CA (no BasicConstraints, no KeyUsage), and leaves it signs do not verify. This
   launcher adds what AWS documents for those four templates: BasicConstraints CA:TRUE with
   the template's path length (critical); KeyUsage digitalSignature, keyCertSign, cRLSign
   (critical); the issuing CA's key identifier as AKI; an SKI derived from the CSR's key.
   The CSR's SAN is still passed through as moto does. Other templates are left as moto
   has them.

3. ACM PCA permissions. moto 5.2.5 answers CreatePermission, ListPermissions and
   DeletePermission with HTTP 500 (not implemented). This launcher keeps, per CA, the
   permissions AWS would: one per principal, with the actions and source account asked for,
   the time it was made and a resource policy derived from it. As AWS does, a CA that does not
   exist is ResourceNotFoundException, a DELETED CA InvalidStateException, a second
   permission for one principal PermissionAlreadyExistsException, and deleting a permission
   that is not there ResourceNotFoundException. Pagination is one page.
"""

import argparse
import hashlib
import importlib
import logging
import os
import pickle
import re
import signal
import sys
import threading

log = logging.getLogger("zerotrust.moto")

# Bumped when the layout of the snapshot file changes.
SNAPSHOT_FORMAT = 1

# Methods that never change moto's state; everything else is followed by a snapshot.
READ_ONLY_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


# ---- 2. the ACM PCA template correction ------------------------------------------------------

SUBORDINATE_TEMPLATE = re.compile(
    r"^arn:aws[a-z-]*:acm-pca:::template/SubordinateCACertificate_PathLen([0-3])/V1$"
)


def patch_acmpca_subordinate_templates() -> None:
    """Correct a moto gap (see the module docstring, point 2). Test backend only."""
    from cryptography import x509
    from moto.acmpca.models import CertificateAuthority

    moto_extensions = CertificateAuthority._x509_extensions
    if getattr(moto_extensions, "zerotrust_patched", False):
        return

    def _x509_extensions(self, csr, template_arn):
        match = SUBORDINATE_TEMPLATE.match(template_arn or "")
        # For a template moto does not know, its own method returns just the SAN
        # passthrough; for the ones it knows, everything. Either way keep that.
        extensions = moto_extensions(self, csr, template_arn)
        if match is None:
            return extensions
        # AWS: "Authority key identifier: [Subject key identifier from CA certificate]".
        # Before the CA's own certificate is imported there is none, so derive it from
        # the CA key as moto's EndEntityCertificate/V1 branch does.
        aki = None
        ca_cert = self.certificate
        if ca_cert is not None:
            try:
                ski = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
                aki = x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ski.value)
            except x509.ExtensionNotFound:
                pass
        if aki is None:
            aki = x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key())
        ca_extensions = [
            (x509.BasicConstraints(ca=True, path_length=int(match.group(1))), True),
            (
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                True,
            ),
            (aki, False),
            (x509.SubjectKeyIdentifier.from_public_key(csr.public_key()), False),
        ]
        return ca_extensions + list(extensions)

    _x509_extensions.zerotrust_patched = True
    CertificateAuthority._x509_extensions = _x509_extensions


# ---- 3. ACM PCA permissions ------------------------------------------------------------------


def patch_acmpca_permissions() -> None:
    """Answer the ACM PCA permission calls moto lacks (see the module docstring, point 3)."""
    import json
    import time

    from moto.acmpca.exceptions import InvalidStateException
    from moto.acmpca.responses import ACMPCAResponse
    from moto.core.exceptions import JsonRESTError

    if getattr(ACMPCAResponse, "zerotrust_permissions", False):
        return

    def live_ca(response, arn):
        # describe_certificate_authority raises ResourceNotFoundException for an unknown ARN.
        ca = response.acmpca_backend.describe_certificate_authority(arn)
        if ca.status == "DELETED":
            raise InvalidStateException(arn)
        # Kept on the CA object, so the snapshot (point 1) carries them.
        if not hasattr(ca, "zerotrust_permissions"):
            ca.zerotrust_permissions = {}
        return ca

    def derived_policy(ca, principal, actions, source_account):
        statement = {
            "Sid": "acm-pca-permission",
            "Effect": "Allow",
            "Principal": {"Service": principal},
            "Action": [f"acm-pca:{a}" for a in actions],
            "Resource": ca.arn,
        }
        if source_account:
            statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
        return json.dumps({"Version": "2012-10-17", "Statement": [statement]})

    def create_permission(self):
        params = json.loads(self.body)
        ca = live_ca(self, params.get("CertificateAuthorityArn"))
        principal = params.get("Principal")
        if principal in ca.zerotrust_permissions:
            raise JsonRESTError(
                "PermissionAlreadyExistsException",
                f"The principal {principal} already has a permission on {ca.arn}",
            )
        actions = list(params.get("Actions") or [])
        source_account = params.get("SourceAccount")
        record = {
            "CertificateAuthorityArn": ca.arn,
            "CreatedAt": time.time(),
            "Principal": principal,
            "Actions": actions,
            "Policy": derived_policy(ca, principal, actions, source_account),
        }
        if source_account:
            record["SourceAccount"] = source_account
        ca.zerotrust_permissions[principal] = record
        return "{}"

    def list_permissions(self):
        params = json.loads(self.body)
        ca = live_ca(self, params.get("CertificateAuthorityArn"))
        return json.dumps({"Permissions": list(ca.zerotrust_permissions.values())})

    def delete_permission(self):
        params = json.loads(self.body)
        ca = live_ca(self, params.get("CertificateAuthorityArn"))
        principal = params.get("Principal")
        if ca.zerotrust_permissions.pop(principal, None) is None:
            raise JsonRESTError(
                "ResourceNotFoundException",
                f"No permission for {principal} on {ca.arn}",
            )
        return "{}"

    ACMPCAResponse.create_permission = create_permission
    ACMPCAResponse.list_permissions = list_permissions
    ACMPCAResponse.delete_permission = delete_permission
    ACMPCAResponse.zerotrust_permissions = True


# ---- 1. persistence --------------------------------------------------------------------------


def _service_key(backend_dict) -> tuple:
    cls = backend_dict.backend
    return (cls.__module__, cls.__qualname__, backend_dict.service_name)


def _collect(backend_dicts) -> dict:
    """{service key: {account id: {region: backend object}}} for the given BackendDicts."""
    return {
        _service_key(bd): {account: dict(regions.items()) for account, regions in bd.items()}
        for bd in backend_dicts
    }


class Snapshots:
    """Writes moto's in-use backends to one file and loads them back."""

    def __init__(self, path: str):
        self.path = path
        self.last_digest = None
        self.unpicklable = set()

    def _dumps(self) -> bytes:
        import moto
        from moto.core.base_backend import BackendDict
        from moto.moto_api._internal import mock_random

        in_use = list(BackendDict._instances)
        services = _collect(in_use)
        try:
            blob = pickle.dumps(services, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:
            # One service holds something pickle cannot take. Keep the others, each in a
            # pickle of its own (objects shared between services are then copied).
            blob = None
        payload = {
            "format": SNAPSHOT_FORMAT,
            "moto": moto.__version__,
            # The id generator's state, so ids after a restart continue the same sequence
            # (this also keeps a `/moto-api/seed` in force across a restart).
            "random": mock_random.getstate(),
        }
        if blob is not None:
            payload["services"] = blob
        else:
            parts = {}
            for bd in in_use:
                key = _service_key(bd)
                try:
                    parts[key] = pickle.dumps(_collect([bd])[key], protocol=pickle.HIGHEST_PROTOCOL)
                except Exception as e:
                    if key not in self.unpicklable:
                        self.unpicklable.add(key)
                        log.warning("not persisting %s: its state cannot be pickled (%s)", key[2], e)
            payload["parts"] = parts
        return pickle.dumps(payload, protocol=pickle.HIGHEST_PROTOCOL)

    def save(self) -> None:
        data = self._dumps()
        digest = hashlib.sha256(data).digest()
        if digest == self.last_digest:
            return
        tmp = f"{self.path}.tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, self.path)
        self.last_digest = digest

    def load(self) -> int:
        """Put the saved state into moto's backends; returns how many backends were restored."""
        import moto
        from moto.core.base_backend import BackendDict
        from moto.moto_api._internal import mock_random

        try:
            with open(self.path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return 0
        payload = pickle.loads(data)
        if payload.get("format") != SNAPSHOT_FORMAT or payload.get("moto") != moto.__version__:
            raise SystemExit(
                f"{self.path} was written by moto {payload.get('moto')} (format "
                f"{payload.get('format')}), this is moto {moto.__version__}: start clean "
                "(scripts/moto-down.sh) instead of restarting"
            )
        if "services" in payload:
            services = pickle.loads(payload["services"])
        else:
            services = {key: pickle.loads(blob) for key, blob in payload["parts"].items()}
        restored = 0
        for (module_name, class_name, service_name), accounts in services.items():
            module = importlib.import_module(module_name)
            matches = [
                value
                for value in vars(module).values()
                if isinstance(value, BackendDict)
                and value.service_name == service_name
                and value.backend.__qualname__ == class_name
            ]
            if len(matches) != 1:
                raise SystemExit(f"cannot find moto's backends for {service_name} in {module_name}")
            backend_dict = matches[0]
            for account, regions in accounts.items():
                # Indexing creates the account's (empty) backend map and marks the
                # BackendDict as in use, so reset and later snapshots see it.
                account_backends = backend_dict[account]
                for region, backend in regions.items():
                    dict.__setitem__(account_backends, region, backend)
                    restored += 1
        mock_random.setstate(payload["random"])
        self.last_digest = hashlib.sha256(self._dumps()).digest()
        return restored


class PersistingApp:
    """WSGI middleware: one request at a time, and a snapshot before each answer leaves."""

    def __init__(self, app, snapshots: Snapshots):
        self.app = app
        self.snapshots = snapshots
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/moto-api/recorder/"):
            return self.app(environ, start_response)
        read_only = environ.get("REQUEST_METHOD", "GET").upper() in READ_ONLY_METHODS
        with self.lock:
            try:
                # The body is produced in full while the lock is held. Nothing reaches
                # the client before this method returns: werkzeug sends the status line
                # and headers with the first body chunk it takes from our result.
                result = self.app(environ, start_response)
                try:
                    body = b"".join(result)
                finally:
                    close = getattr(result, "close", None)
                    if close is not None:
                        close()
            finally:
                # Also after a failed request: it may have changed state before failing.
                if not read_only:
                    self.snapshots.save()
        return [body]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state", required=True, help="snapshot file, loaded at start when present")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # moto builds some URLs (e.g. for Lambda) from MOTO_PORT, as its own server sets it.
    os.environ.setdefault("MOTO_PORT", str(args.port))

    import werkzeug.serving
    from werkzeug.serving import run_simple

    # The log is a file: no ANSI colours in it (a private switch of werkzeug; skipped if gone).
    if hasattr(werkzeug.serving, "_log_add_style"):
        werkzeug.serving._log_add_style = False

    import moto
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    patch_acmpca_subordinate_templates()
    patch_acmpca_permissions()
    snapshots = Snapshots(args.state)
    restored = snapshots.load()
    log.info(
        "moto %s on %s:%d, state %s (%d backends restored)",
        moto.__version__, args.host, args.port, args.state, restored,
    )

    # As moto_server: SIGTERM/SIGINT end the process normally.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True
    run_simple(
        args.host,
        args.port,
        PersistingApp(app, snapshots),
        threaded=True,
        request_handler=MotoRequestHandler,
    )


if __name__ == "__main__":
    main()
