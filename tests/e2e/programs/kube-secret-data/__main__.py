"""Test program: a Namespace and one Opaque Secret. Config `stringData` and `data` are JSON maps
of plain strings (the program base64-encodes `data`), marked secret, so the test can change
which keys the Secret holds and in which field, one `up` at a time."""

import base64
import json

import pulumi
from pulumi_zerotrust.kubernetes.core import v1 as core
from pulumi_zerotrust.kubernetes.meta import v1 as meta

config = pulumi.Config()
namespace = config.require("namespace")


def secret_map(key):
    raw = config.get_secret(key)
    return raw.apply(lambda text: json.loads(text) if text else None) if raw else None


ns = core.Namespace("namespace", metadata=meta.ObjectMetaArgs(name=namespace))
string_data = secret_map("stringData")
data = secret_map("data")
core.Secret(
    "creds",
    metadata=meta.ObjectMetaArgs(name="creds", namespace=ns.metadata.name),
    type="Opaque",
    string_data=string_data,
    data=data.apply(
        lambda m: {k: base64.b64encode(v.encode()).decode() for k, v in m.items()} if m else None
    ) if data else None,
)
