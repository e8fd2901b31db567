"""Test program: explicit providers address clusters (here one cluster through two different
settings), each with its own default namespace, so resources without a namespace land apart."""

import pulumi
import pulumi_zerotrust as zerotrust
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.meta import v1 as meta

config = pulumi.Config()
path = config.require("kubeconfigPath")
first_ns = config.require("firstNamespace")
second_ns = config.require("secondNamespace")
with open(path) as f:
    content = f.read()

by_path = zerotrust.Provider("by-path", kubeconfig=path, namespace=first_ns)
by_content = zerotrust.Provider("by-content", kubeconfig=content, namespace=second_ns)

namespaces = [
    core.Namespace(f"ns-{i}", metadata=meta.ObjectMetaArgs(name=name),
                   opts=pulumi.ResourceOptions(provider=by_path))
    for i, name in enumerate([first_ns, second_ns])
]
for provider, label in [(by_path, "path"), (by_content, "content")]:
    core.ConfigMap(
        f"bundle-from-{label}",
        metadata=meta.ObjectMetaArgs(name="trust-bundle", labels={"configured-by": label}),
        data={"source": label},
        # A short delete budget, so a test can show how a stuck finalizer is reported.
        opts=pulumi.ResourceOptions(
            provider=provider,
            depends_on=namespaces,
            custom_timeouts=pulumi.CustomTimeouts(delete="8s"),
        ),
    )
