"""The compatibility corpus: the Python examples in the upstream SDKs' own docstrings
(`## Example Usage`), for the resources and functions zerotrust mirrors, made into Pulumi
projects that use pulumi_zerotrust instead.

The upstream wheels are downloaded from PyPI into a cache at run time and read there; nothing of
them is kept in the repository. Each example is either runnable here or skipped with a reason
found in its text: it uses a module zerotrust does not build, or it is a fragment that refers to
names it never defines (upstream's docs have a few of those, which fail with upstream too).
"""

import ast
import builtins
import re
import subprocess
import sys
import textwrap
import zipfile
from dataclasses import dataclass
from pathlib import Path

# The upstream packages and versions the corpus is read from.
WHEELS = {
    "pulumi-tls": "5.6.2",
    "pulumi-aws": "7.51.1",
    "pulumi-vault": "7.14.0",
    "pulumi-kubernetes": "4.34.2",
}

# Per upstream package: the module alias its examples use, and the files of what we mirror.
SOURCES = {
    "pulumi_tls": ("tls", [
        "private_key", "cert_request", "self_signed_cert", "locally_signed_cert",
        "get_certificate", "get_public_key",
    ]),
    "pulumi_aws": ("aws", [
        "acmpca/certificate", "acmpca/certificate_authority",
        "acmpca/certificate_authority_certificate", "acmpca/permission", "acmpca/policy",
        "route53/record", "route53/zone",
    ]),
    "pulumi_vault": ("vault", ["mount"] + [f"pkisecret/secret_backend_{n}" for n in (
        "cert", "config_urls", "crl_config", "intermediate_cert_request",
        "intermediate_set_signed", "role", "root_cert", "root_sign_intermediate", "sign")]),
    "pulumi_kubernetes": ("kubernetes", [
        "core/v1/Namespace", "core/v1/Secret", "core/v1/ConfigMap",
        "networking/v1/NetworkPolicy", "networking/v1/Ingress",
    ]),
}

# The upstream modules whose every resource and function counts in the corpus, mirrored or not
# (the table shows what we leave out); for kubernetes, only the kinds we serve.
WHOLE_MODULES = {"pulumi_tls": [""], "pulumi_aws": ["acmpca", "route53"], "pulumi_vault": ["pkisecret"]}

# Modules of an upstream package that zerotrust builds; any other use is a skip.
BUILT = {"aws": {"acmpca", "route53"}}

# `pulumi_std.file(input=...)` as upstream's examples call it, served from the project's files/.
STD_SHIM = '''"""The one pulumi-std function the examples use, served from files/ next to this module."""
from pathlib import Path
from types import SimpleNamespace


def file(input):
    return SimpleNamespace(result=(Path(__file__).parent / "files" / Path(input).name).read_text())
'''


@dataclass
class Example:
    name: str
    module: str  # e.g. "aws/acmpca/certificate"
    code: str
    skip: str | None


def fetch_wheels(cache: Path) -> Path:
    """Download the upstream wheels once into `cache`; later runs reuse them."""
    cache.mkdir(parents=True, exist_ok=True)
    for package, version in WHEELS.items():
        stem = package.replace("-", "_")
        if not list(cache.glob(f"{stem}-{version}-*.whl")):
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                 f"{package}=={version}", "--dest", str(cache)],
                check=True, timeout=600)
    return cache


def docstrings(source: str):
    """Every class and function docstring of a module, unescaped as Python reads them."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield doc


def python_blocks(doc: str):
    start = doc.find("## Example Usage")
    if start < 0:
        return
    for block in re.findall(r"```python\n(.*?)```", doc[start:], re.S):
        yield textwrap.dedent(block)


def undefined_names(code: str) -> list[str]:
    """Names the example reads but never binds (imports, assignments, defs, loop targets)."""
    tree = ast.parse(code)
    bound = set(dir(builtins))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            bound.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(read - bound)


def skip_reason(code: str) -> str | None:
    try:
        missing = undefined_names(code)
    except SyntaxError as e:
        return f"upstream's example is not valid Python ({e.msg})"
    if missing:
        return "a fragment: upstream's example uses names it never defines (" + ", ".join(missing) + ")"
    for alias, built in BUILT.items():
        used = sorted(set(re.findall(rf"\b{alias}\.([A-Za-z0-9_]+)", code)) - built)
        if used:
            return f"uses {alias}.{used[0]}, which zerotrust does not build"
    return None


def rewrite(code: str) -> str:
    """Only the imports change: `import pulumi_aws as aws` -> `from pulumi_zerotrust import aws`."""
    for package, (alias, _) in SOURCES.items():
        code = re.sub(rf"^import {package} as {alias}$", f"from pulumi_zerotrust import {alias}",
                      code, flags=re.M)
    return code


def module_files(z: zipfile.ZipFile, package: str, module: str) -> list[str]:
    """The resource and function files of one upstream module (no types, enums or config)."""
    prefix = f"{package}/{module}/" if module else f"{package}/"
    names = []
    for name in z.namelist():
        rest = name[len(prefix):] if name.startswith(prefix) else ""
        if rest.endswith(".py") and "/" not in rest and not rest.startswith("_") \
                and rest not in ("outputs.py", "provider.py"):
            names.append(name[len(package) + 1:-3])
    return sorted(names)


def examples(wheels: Path) -> list[Example]:
    found = []
    for package, (alias, mirrored) in SOURCES.items():
        [wheel] = wheels.glob(f"{package}-{WHEELS[package.replace('_', '-')]}-*.whl")
        with zipfile.ZipFile(wheel) as z:
            files = list(mirrored)
            for module in WHOLE_MODULES.get(package, []):
                files += [f for f in module_files(z, package, module) if f not in files]
            for file in files:
                source = z.read(f"{package}/{file}.py").decode()
                seen = []
                for doc in docstrings(source):
                    for code in python_blocks(doc):
                        if code not in seen:
                            seen.append(code)
                for i, code in enumerate(seen):
                    module = f"{alias}/{file}"
                    name = f"{module.replace('/', '-').lower()}-{i}"
                    skip = skip_reason(code) if file in mirrored else \
                        f"{module} is not mirrored by zerotrust"
                    found.append(Example(name, module, rewrite(code), skip))
    return found


def make_fixtures(files: Path) -> None:
    """The files upstream's examples read with std.file: keys, a CSR, a CA and an SSH key."""
    files.mkdir(parents=True, exist_ok=True)

    def run(*args):
        subprocess.run(args, check=True, capture_output=True, timeout=60)

    for key in ("private_key.pem", "ca_private_key.pem"):
        run("openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-out", str(files / key))
    run("openssl", "req", "-new", "-key", str(files / "private_key.pem"), "-subj",
        "/CN=example.com", "-out", str(files / "cert_request.pem"))
    run("openssl", "req", "-x509", "-new", "-key", str(files / "ca_private_key.pem"), "-subj",
        "/CN=Example CA", "-days", "1", "-out", str(files / "ca_cert.pem"))
    (files / "example.pem").write_text((files / "ca_cert.pem").read_text())
    run("ssh-keygen", "-q", "-t", "rsa", "-b", "2048", "-N", "", "-f",
        str(files / "id_rsa_rfc4716"))


def write_project(example: Example, where: Path, plugin_dir: Path, files: Path) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    (where / "Pulumi.yaml").write_text(
        f"name: corpus-{example.name}\nruntime: python\n"
        f"plugins:\n  providers:\n    - name: zerotrust\n      path: {plugin_dir}\n")
    (where / "__main__.py").write_text(example.code)
    (where / "pulumi_std.py").write_text(STD_SHIM)
    link = where / "files"
    if not link.exists():
        link.symlink_to(files)
    return where


if __name__ == "__main__":
    # `corpus.py fetch DIR`: download the upstream wheels into DIR (what scripts/setup.sh does).
    if len(sys.argv) != 3 or sys.argv[1] != "fetch":
        raise SystemExit("usage: corpus.py fetch DIR")
    fetch_wheels(Path(sys.argv[2]))
