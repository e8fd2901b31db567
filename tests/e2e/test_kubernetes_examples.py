"""The Kubernetes examples through the real CLI against a real kube-apiserver on loopback."""

import base64
import json
import os
import re
import subprocess
import time
import uuid

import pytest

from kube import Kube, cluster_env, restart_apiserver_after

PEM_B64 = "LS0tLS1CRUdJTi"  # base64 of "-----BEGIN", as Secret data carries PEM


@pytest.fixture(scope="module")
def cluster():
    env = cluster_env()
    os.environ.update(env)
    return Kube(env["KUBECONFIG"])


def unique_namespace(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def wait_gone(kube: Kube, path: str, seconds: int = 120) -> bool:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not kube.exists(path):
            return True
        time.sleep(1)
    return False


def no_plaintext_secrets(text: str, *needles: str) -> None:
    assert "PRIVATE KEY" not in text, "a private key in plaintext"
    assert PEM_B64 not in text, "base64 PEM (Secret data) in plaintext"
    for needle in needles:
        assert needle not in text


def test_seed_001_tls_secret_lifecycle(stack_factory, cluster):
    stack = stack_factory("seed-001-tls-secret")
    ns = unique_namespace("ai")
    stack.pulumi("config", "set", "namespace", ns)
    up = stack.pulumi("up", "--yes", "--skip-preview", "--logtostderr", "--logflow", "-v=9")
    outputs = stack.outputs()
    secret = outputs["secret_name"]
    secret_path = f"/api/v1/namespaces/{ns}/secrets/{secret}"
    live = cluster.get(secret_path)
    assert live["type"] == "kubernetes.io/tls"
    assert base64.b64decode(live["data"]["tls.crt"]).startswith(b"-----BEGIN CERTIFICATE")
    assert any(f["manager"] == "zerotrust" for f in live["metadata"]["managedFields"])

    # Secret data stays out of state and out of the provider's logs.
    no_plaintext_secrets(json.dumps(stack.export()))
    no_plaintext_secrets(up.stderr)

    stack.pulumi("preview", "--expect-no-changes")

    # A label change updates in place: same uid afterwards.
    uid = live["metadata"]["uid"]
    stack.pulumi("config", "set", "team", "inference")
    ops = {s["urn"].rsplit("::", 1)[-1]: s["op"] for s in stack.preview_json()["steps"]}
    assert ops.get("tls-secret") == "update" and ops.get("namespace") == "update", ops
    stack.up()
    live = cluster.get(secret_path)
    assert live["metadata"]["labels"]["team"] == "inference"
    assert live["metadata"]["uid"] == uid

    # Out-of-band edit: refresh shows the drift, the next up restores the label.
    cluster.patch_merge(secret_path, {"metadata": {"labels": {"team": "intruder"}}})
    refresh = stack.pulumi("refresh", "--yes", "--diff")
    assert "intruder" in refresh.stdout, refresh.stdout
    stack.up()
    assert cluster.get(secret_path)["metadata"]["labels"]["team"] == "inference"
    stack.pulumi("preview", "--expect-no-changes")

    # Out-of-band delete: refresh drops it from state, up recreates it.
    cluster.delete(secret_path)
    assert wait_gone(cluster, secret_path)
    stack.pulumi("refresh", "--yes")
    types = [r["type"] for r in stack.export()["deployment"]["resources"]]
    assert "zerotrust:kubernetes/core/v1:Secret" not in types
    stack.up()
    assert cluster.exists(secret_path)

    # An immutable field (the name, from the domain) replaces the Secret.
    stack.pulumi("config", "set", "domainName", "renamed.example.com")
    ops = {s["urn"].rsplit("::", 1)[-1]: s["op"] for s in stack.preview_json()["steps"]}
    assert ops.get("tls-secret") == "replace", ops
    stack.up()
    assert wait_gone(cluster, secret_path)
    assert cluster.exists(f"/api/v1/namespaces/{ns}/secrets/{stack.outputs()['secret_name']}")

    # Import of an existing Secret by namespace/name.
    cluster.create(
        f"/api/v1/namespaces/{ns}/secrets",
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "preexisting"},
         "type": "Opaque", "data": {"token": base64.b64encode(b"s3cr3t-value").decode()}},
    )
    stack.pulumi(
        "import", "zerotrust:kubernetes/core/v1:Secret", "imported", f"{ns}/preexisting",
        "--yes", "--generate-code=false",
    )
    exported = stack.export()
    imported = [r for r in exported["deployment"]["resources"] if r["urn"].endswith("::imported")]
    assert imported and imported[0]["id"] == f"{ns}/preexisting"
    no_plaintext_secrets(json.dumps(exported), base64.b64encode(b"s3cr3t-value").decode())
    # The imported object is not in the program: remove it from state, then delete it ourselves.
    stack.pulumi("state", "delete", imported[0]["urn"], "--yes", "--force")  # imports are protected
    cluster.delete(f"/api/v1/namespaces/{ns}/secrets/preexisting")

    # Destroy leaves nothing behind, the namespace included.
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert wait_gone(cluster, f"/api/v1/namespaces/{ns}")


def test_seed_002_network_policy_and_ingress(stack_factory, cluster):
    stack = stack_factory("seed-002-network-policy")
    ns = unique_namespace("serving")
    stack.pulumi("config", "set", "namespace", ns)
    stack.up()
    out = stack.outputs()
    netpol = cluster.get(f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/{out['network_policy_name']}")
    ingress = cluster.get(f"/apis/networking.k8s.io/v1/namespaces/{ns}/ingresses/{out['ingress_name']}")
    assert netpol["spec"]["policyTypes"]
    assert ingress["spec"]["tls"][0]["secretName"] == out["tls_secret_name"]
    stack.pulumi("preview", "--expect-no-changes")
    uid = netpol["metadata"]["uid"]
    stack.pulumi("config", "set", "team", "serving")
    ops = {s["urn"].rsplit("::", 1)[-1]: s["op"] for s in stack.preview_json()["steps"]}
    assert ops.get("secure-network-policy") == "update" and ops.get("secure-ingress") == "update", ops
    stack.up()
    netpol = cluster.get(f"/apis/networking.k8s.io/v1/namespaces/{ns}/networkpolicies/{out['network_policy_name']}")
    assert netpol["metadata"]["labels"]["team"] == "serving" and netpol["metadata"]["uid"] == uid
    stack.pulumi("refresh", "--yes", "--expect-no-changes")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert wait_gone(cluster, f"/api/v1/namespaces/{ns}")


def test_seed_000_mesh_mtls_policies(stack_factory, cluster):
    stack = stack_factory("seed-000-mesh-mtls")
    ns = unique_namespace("mesh")
    stack.pulumi("config", "set", "namespace", ns)
    stack.up()
    peer = cluster.get(f"/apis/security.istio.io/v1/namespaces/{ns}/peerauthentications")
    assert [p["spec"]["mtls"]["mode"] for p in peer["items"]] == ["STRICT"]
    rules = cluster.get(f"/apis/networking.istio.io/v1/namespaces/{ns}/destinationrules")["items"]
    assert rules[0]["spec"]["trafficPolicy"]["tls"]["mode"] == "MUTUAL"
    assert rules[0]["spec"]["trafficPolicy"]["tls"]["subjectAltNames"][0].startswith("spiffe://")
    no_plaintext_secrets(json.dumps(stack.export()))
    stack.pulumi("preview", "--expect-no-changes")
    stack.pulumi("config", "set", "team", "mesh-ops")
    ops = {s["urn"].rsplit("::", 1)[-1]: s["op"] for s in stack.preview_json()["steps"]}
    assert ops.get("namespace-mtls-strict") == "update" and ops.get("backend-mtls") == "update", ops
    stack.up()
    peer = cluster.get(f"/apis/security.istio.io/v1/namespaces/{ns}/peerauthentications")["items"][0]
    assert peer["metadata"]["labels"]["team"] == "mesh-ops"
    stack.pulumi("refresh", "--yes", "--expect-no-changes")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert wait_gone(cluster, f"/api/v1/namespaces/{ns}")


def test_apiserver_errors_name_the_resource_and_reason(stack_factory, cluster):
    """The server's own validation (not ours) rejects the object; the error says who and why."""
    stack = stack_factory("seed-002-network-policy")
    ns = unique_namespace("bad")
    stack.pulumi("config", "set", "namespace", ns)
    # An ingress class name the server refuses (not a DNS subdomain) but Check lets through.
    stack.pulumi("config", "set", "ingressClassName", "Not_A_Class")
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    text = failed.stdout + failed.stderr
    assert "Ingress" in text and "Invalid" in text, text
    stack.pulumi("config", "rm", "ingressClassName")
    stack.up()
    stack.pulumi("destroy", "--yes", "--skip-preview")


def test_apiserver_down_loses_nothing(stack_factory, cluster):
    """With the API server unreachable the up fails cleanly; once it is back, a rerun converges
    and state and cluster agree."""
    stack = stack_factory("seed-001-tls-secret")
    ns = unique_namespace("outage")
    stack.pulumi("config", "set", "namespace", ns)
    good = stack.env["KUBECONFIG"]
    # Point the provider at a dead endpoint: same cluster identity, nothing listening.
    dead = subprocess.run(["mktemp"], capture_output=True, text=True).stdout.strip()
    text = open(good).read()
    text = re.sub(r"server: https://127\.0\.0\.1:\d+", "server: https://127.0.0.1:9", text)
    open(dead, "w").write(text)
    stack.env["KUBECONFIG"] = dead
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    assert not cluster.exists(f"/api/v1/namespaces/{ns}")
    stack.env["KUBECONFIG"] = good
    # The worst case of an outage: the namespace was created but the answer never came back.
    # Our URN annotation lets the rerun adopt it instead of failing with AlreadyExists.
    urn = f"urn:pulumi:{stack.name}::seed-001-tls-secret::zerotrust:kubernetes/core/v1:Namespace::namespace"
    cluster.create("/api/v1/namespaces", {
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": ns, "annotations": {"zerotrust.dev/urn": urn}},
    })
    uid = cluster.get(f"/api/v1/namespaces/{ns}")["metadata"]["uid"]
    rerun = stack.up()
    assert "adopting" in rerun.stdout, rerun.stdout
    assert cluster.get(f"/api/v1/namespaces/{ns}")["metadata"]["uid"] == uid
    stack.pulumi("preview", "--expect-no-changes")
    assert cluster.exists(f"/api/v1/namespaces/{ns}")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert wait_gone(cluster, f"/api/v1/namespaces/{ns}")


def test_explicit_providers_from_path_and_content(stack_factory, cluster):
    stack = stack_factory("../tests/e2e/programs/explicit-providers")
    first, second = unique_namespace("first"), unique_namespace("second")
    stack.pulumi("config", "set", "kubeconfigPath", stack.env["KUBECONFIG"])
    stack.pulumi("config", "set", "firstNamespace", first)
    stack.pulumi("config", "set", "secondNamespace", second)
    stack.up()
    for ns, label in [(first, "path"), (second, "content")]:
        cm = cluster.get(f"/api/v1/namespaces/{ns}/configmaps/trust-bundle")
        assert cm and cm["data"]["source"] == label, (ns, cm)
    # The kubeconfig content holds a token: it must be secret in state.
    assert stack.env.get("ZT_KUBE_TOKEN", "zerotrust-test-token") not in json.dumps(stack.export())
    stack.pulumi("preview", "--expect-no-changes")

    # A finalizer nobody removes holds the object: destroy stops after the resource's delete
    # timeout and names the finalizer, then succeeds once it is gone.
    held = f"/api/v1/namespaces/{first}/configmaps/trust-bundle"
    cluster.patch_merge(held, {"metadata": {"finalizers": ["example.com/hold"]}})
    stuck = stack.pulumi("destroy", "--yes", "--skip-preview", check=False)
    assert stuck.returncode != 0
    assert "example.com/hold" in stuck.stdout + stuck.stderr, stuck.stdout
    cluster.patch_merge(held, {"metadata": {"finalizers": None}})
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert wait_gone(cluster, f"/api/v1/namespaces/{first}")
    assert wait_gone(cluster, f"/api/v1/namespaces/{second}")


def test_conflict_and_forbidden_errors_name_resource_and_reason(stack_factory, cluster):
    stack = stack_factory("seed-001-tls-secret")
    ns = unique_namespace("taken")
    # Someone else already owns the namespace: create must refuse rather than adopt it.
    cluster.create("/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    stack.pulumi("config", "set", "namespace", ns)
    failed = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert failed.returncode != 0
    assert re.search(rf"create Namespace {ns}.*AlreadyExists", failed.stdout + failed.stderr), failed.stdout
    cluster.delete(f"/api/v1/namespaces/{ns}")
    assert wait_gone(cluster, f"/api/v1/namespaces/{ns}")

    # An identity without RBAC grants: the server's Forbidden comes back with who and what.
    token = os.environ["ZT_KUBE_UNPRIVILEGED_TOKEN"]
    text = open(stack.env["KUBECONFIG"]).read()
    text = re.sub(r"token: .*", f"token: {token}", text)
    weak = subprocess.run(["mktemp"], capture_output=True, text=True).stdout.strip()
    open(weak, "w").write(text)
    stack.env["KUBECONFIG"] = weak
    denied = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert denied.returncode != 0
    assert re.search(r"Namespace.*Forbidden \(403\)", denied.stdout + denied.stderr), denied.stdout
    assert token not in denied.stdout + denied.stderr


def test_apiserver_killed_mid_up_loses_nothing(stack_factory, cluster):
    """The API server is killed while `pulumi up` runs (as soon as the first object exists) and
    restarted with its data; a rerun then converges, and state and cluster agree."""
    stack = stack_factory("seed-001-tls-secret")
    ns = unique_namespace("killed")
    stack.pulumi("config", "set", "namespace", ns)
    cmd = ["pulumi", "up", "--yes", "--skip-preview", "--stack", stack.name, "--non-interactive"]
    running = subprocess.Popen(cmd, cwd=stack.dir, env=stack.env, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 120
    while not cluster.exists(f"/api/v1/namespaces/{ns}") and time.time() < deadline:
        time.sleep(0.05)
    first_run = {}

    def while_down():
        first_run["out"], _ = running.communicate(timeout=300)
        first_run["rc"] = running.returncode

    restart_apiserver_after(cluster, while_down)
    print(f"first up exited {first_run['rc']} with the API server killed mid-run")
    # Wherever the kill landed, the rerun must converge with nothing lost or duplicated.
    stack.up()
    stack.pulumi("preview", "--expect-no-changes")
    state = {r["urn"].rsplit("::", 1)[-1]: r for r in stack.export()["deployment"]["resources"]}
    secret_id = state["tls-secret"]["id"]
    assert cluster.exists(f"/api/v1/namespaces/{secret_id.split('/')[0]}/secrets/{secret_id.split('/')[1]}")
    assert state["namespace"]["id"] == ns and cluster.exists(f"/api/v1/namespaces/{ns}")
    stack.pulumi("destroy", "--yes", "--skip-preview")
    assert wait_gone(cluster, f"/api/v1/namespaces/{ns}")


def test_cancel_ends_a_delete_held_by_a_finalizer_within_a_second(cluster):
    """A Delete waiting for an object a finalizer holds stops at the engine's Cancel, at once,
    and says it was cancelled (driven over gRPC the way the engine does, with its stubs)."""
    import grpc
    from google.protobuf import empty_pb2, struct_pb2
    from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

    from conftest import ROOT

    token = "zerotrust:kubernetes/core/v1:ConfigMap"
    name = unique_namespace("held")
    urn = f"urn:pulumi:dev::cancel::{token}::{name}"
    binary = ROOT / "target" / "debug" / "pulumi-resource-zerotrust"
    proc = subprocess.Popen([str(binary)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        port = int(proc.stdout.readline().strip())
        stub = provider_pb2_grpc.ResourceProviderStub(grpc.insecure_channel(f"127.0.0.1:{port}"))

        def props(value: dict) -> struct_pb2.Struct:
            s = struct_pb2.Struct()
            s.update(value)
            return s

        stub.Configure(provider_pb2.ConfigureRequest(
            args=props({"kubeconfig": os.environ["KUBECONFIG"]}),
            acceptSecrets=True, acceptResources=True))
        inputs = {"metadata": {"name": name, "namespace": "default"}, "data": {"model": "v1"}}
        checked = stub.Check(provider_pb2.CheckRequest(
            urn=urn, type=token, name=name, olds=props({}), news=props(inputs)))
        assert not checked.failures, checked.failures
        created = stub.Create(provider_pb2.CreateRequest(
            urn=urn, type=token, name=name, properties=checked.inputs, timeout=300))
        path = f"/api/v1/namespaces/default/configmaps/{name}"
        # Something else (a controller, say) holds the object with a finalizer.
        cluster.patch_merge(path, {"metadata": {"finalizers": ["zerotrust.test/hold"]}})

        deleting = stub.Delete.future(provider_pb2.DeleteRequest(
            urn=urn, type=token, name=name, id=created.id, properties=created.properties,
            timeout=300))
        time.sleep(1.5)
        assert not deleting.done(), "the finalizer holds the object, so Delete waits"
        cancelled_at = time.monotonic()
        stub.Cancel(empty_pb2.Empty())
        with pytest.raises(grpc.RpcError) as failed:
            deleting.result(timeout=10)
        took = time.monotonic() - cancelled_at
        assert took < 1.0, f"Delete went on {took:.2f}s after Cancel"
        assert failed.value.code() == grpc.StatusCode.CANCELLED, failed.value
        assert "operation cancelled" in failed.value.details(), failed.value.details()
        assert name in failed.value.details()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if cluster.exists(f"/api/v1/namespaces/default/configmaps/{name}"):
            cluster.patch_merge(f"/api/v1/namespaces/default/configmaps/{name}",
                                {"metadata": {"finalizers": None}})


def test_secret_keys_dropped_from_string_data_or_data_leave_the_cluster(stack_factory, cluster):
    """A key the program drops is gone from the API server after `up`, whether it was written
    as stringData or data, and when the Secret moves from one to the other; a key added out of
    band shows in refresh; no value reaches state in plaintext."""
    stack = stack_factory("../tests/e2e/programs/kube-secret-data")
    ns = unique_namespace("creds")
    stack.pulumi("config", "set", "namespace", ns)
    path = f"/api/v1/namespaces/{ns}/secrets/creds"
    values = {"a": "alpha-7f3c", "b": "bravo-91ad", "c": "charlie-5e0b", "d": "delta-c24f",
              "e": "echo-0a6d", "oob": "intruder-b7e1"}

    def set_keys(field: str, keys: str) -> None:
        other = "data" if field == "stringData" else "stringData"
        stack.pulumi("config", "rm", other)
        stack.pulumi("config", "set", "--secret", field, json.dumps({k: values[k] for k in keys}))

    def live_data() -> dict:
        live = cluster.get(path)
        return {k: base64.b64decode(v).decode() for k, v in (live.get("data") or {}).items()}

    def no_values_in_state() -> None:
        text = json.dumps(stack.export())
        for value in values.values():
            assert value not in text, "a Secret value in plaintext in state"
            assert base64.b64encode(value.encode()).decode() not in text, "base64 value in state"

    steps = [("stringData", "ab"), ("stringData", "a"), ("data", "cd"), ("data", "d"),
             ("stringData", "e")]
    for i, (field, keys) in enumerate(steps):
        set_keys(field, keys)
        stack.up()
        want = {k: values[k] for k in keys}
        if i >= 2:  # added out of band below, by another field manager: not ours to remove
            want["oob"] = values["oob"]
        assert live_data() == want, (field, keys)
        no_values_in_state()
        stack.pulumi("preview", "--expect-no-changes")
        if i == 1:
            cluster.patch_merge(path, {"data": {"oob": base64.b64encode(b"intruder-b7e1").decode()}})
            refresh = stack.pulumi("refresh", "--yes", "--diff")
            assert "data" in refresh.stdout, refresh.stdout
            exported = json.loads(stack.pulumi("stack", "export", "--show-secrets").stdout)
            creds = next(r for r in exported["deployment"]["resources"]
                         if r["urn"].endswith("::creds"))
            data = creds["outputs"]["data"]
            assert "plaintext" in data, "Secret data is a secret in state"
            assert "oob" in json.loads(data["plaintext"]), data
            no_values_in_state()
            stack.pulumi("preview", "--expect-no-changes")
    # Every key the program wrote is owned by our field manager under data, none under stringData.
    owned = [f for f in cluster.get(path)["metadata"]["managedFields"] if f["manager"] == "zerotrust"]
    fields = json.dumps([f["fieldsV1"] for f in owned])
    assert '"f:e"' in fields and "f:stringData" not in fields, fields
