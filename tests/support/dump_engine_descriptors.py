"""Print the protobuf file descriptors that ship inside the PyPI `pulumi` package.

Used by tests/proto_descriptors.rs to compare our proto/ definitions with the
engine's. Output on stdout, one record per line:

    pulumi <version>
    file <proto file name> <base64 of the serialized FileDescriptorProto>

Exit status 3 (with a message on stderr) means the `pulumi` package cannot be
imported by this interpreter.
"""

import base64
import importlib
import pathlib
import sys

MISSING_PULUMI = 3


def main() -> int:
    try:
        import pulumi.runtime.proto as engine_proto
    except ImportError as err:
        print(
            f"{sys.executable} cannot import the pulumi package ({err})",
            file=sys.stderr,
        )
        return MISSING_PULUMI

    try:
        from importlib.metadata import version

        pulumi_version = version("pulumi")
    except Exception:  # noqa: BLE001 - the version is informative only
        pulumi_version = "unknown"
    print(f"pulumi {pulumi_version}")

    proto_dir = pathlib.Path(engine_proto.__file__).parent
    modules = sorted(p.stem for p in proto_dir.glob("*_pb2.py"))
    if not modules:
        print(f"no *_pb2.py modules found in {proto_dir}", file=sys.stderr)
        return 1
    for name in modules:
        module = importlib.import_module(f"{engine_proto.__name__}.{name}")
        descriptor = module.DESCRIPTOR
        encoded = base64.b64encode(descriptor.serialized_pb).decode("ascii")
        print(f"file {descriptor.name} {encoded}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
