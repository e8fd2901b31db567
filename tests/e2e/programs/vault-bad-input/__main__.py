"""Config `stage`:
- `check`: a role Check must refuse (TTL syntax, unknown key type).
- `issue` (default): a mount, root, role for `*.ai-system.example.com` and a certificate whose
  common name is config `commonName` (and IP SAN config `ipSan`): a name outside the role is
  refused by Check once the role exists; an IP SAN the role forbids is refused by Vault itself.
"""

import pulumi
from pulumi_zerotrust import vault
from pulumi_zerotrust.vault import pkisecret

config = pulumi.Config()
stage = config.get("stage") or "issue"
mount = config.get("mountPath") or "bad-input-pki"

if stage == "check":
    pkisecret.SecretBackendRole(
        "bad-role",
        backend="pki",
        name="bad",
        ttl="30 days",
        key_type="dsa",
        allowed_domains=["example.com"],
    )
else:
    pki = vault.Mount("pki", path=mount, type="pki", max_lease_ttl_seconds=87600 * 3600)
    root = pkisecret.SecretBackendRootCert(
        "root", backend=pki.path, type="internal", common_name="bad-input-root", ttl="8760h"
    )
    role = pkisecret.SecretBackendRole(
        "role",
        backend=pki.path,
        name="ai-system",
        allowed_domains=["ai-system.example.com"],
        allow_subdomains=True,
        max_ttl="72h",
        allow_ip_sans=False,
        opts=pulumi.ResourceOptions(depends_on=[root]),
    )
    pkisecret.SecretBackendCert(
        "cert",
        backend=pki.path,
        name=role.name,
        common_name=config.get("commonName") or "node.ai-system.example.com",
        ip_sans=[config.get("ipSan")] if config.get("ipSan") else None,
        ttl="24h",
    )
