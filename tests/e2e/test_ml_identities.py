"""examples/ml-identities (and its TypeScript sibling) through the real CLI against kube-apiserver, OpenBao and moto: three
services, three CAs, one TrustBundle, proved by verify.py's real mTLS handshakes."""

import base64
import json
import os
import subprocess
import sys
import uuid

import pytest

import aws
import vault
from conftest import EXAMPLES
from kube import Kube, cluster_env


@pytest.mark.parametrize("example", [
    "ml-identities",
    pytest.param("ml-identities-ts", marks=pytest.mark.languages),
])
def test_three_issuers_one_bundle_every_pair_verifies(stack_factory, tmp_path, example):
    kube_env = cluster_env()
    os.environ.update(kube_env)
    os.environ.update(vault.bao_env())
    os.environ.update(aws.moto_env())
    cluster = Kube(kube_env["KUBECONFIG"])
    stack = stack_factory(example)
    ns = f"ml-{uuid.uuid4().hex[:6]}"
    stack.pulumi("config", "set", "namespace", ns)
    stack.pulumi("preview")
    stack.up()
    out = stack.outputs(secrets=True)
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(out))
    verified = subprocess.run([sys.executable, str(EXAMPLES / "ml-identities" / "verify.py"),
                               "--outputs", str(outputs)], capture_output=True, text=True,
                              timeout=300)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.count("accepted") == 6 and verified.stdout.count("refused") == 3, \
        verified.stdout
    assert "0 failure(s)" in verified.stdout

    bundle = cluster.get(f"/api/v1/namespaces/{ns}/configmaps/ml-trust")["data"]["ca.crt"]
    assert bundle == out["bundle"] and bundle.count("BEGIN CERTIFICATE") == 3
    for name in ("trainer", "feature-store", "inference"):
        secret = cluster.get(f"/api/v1/namespaces/{ns}/secrets/{name}-tls")
        chain = base64.b64decode(secret["data"]["tls.crt"]).decode()
        assert chain == out["identities"][name]["chain"]
        assert out["identities"][name]["spiffeId"] == f"spiffe://cluster.local/ns/{ns}/sa/{name}"
    assert "PRIVATE KEY" not in json.dumps(stack.export())

    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert not cluster.exists(f"/api/v1/namespaces/{ns}/configmaps/ml-trust")
