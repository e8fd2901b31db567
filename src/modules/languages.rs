//! The schema's `language` section: how each SDK generator names the package and its modules.
//!
//! The Go names are derived from the module list, so a new module cannot make two Go packages
//! clash (the generator refuses a schema where several modules end in the same `v1`).

use super::{PACKAGE, VERSION};
use serde_json::{Map, Value as Json, json};
use std::collections::BTreeSet;

/// Go module holding the generated SDK (`sdk/go/go.mod`); programs require it with a `replace`
/// pointing at the checkout.
pub const GO_MODULE: &str = "zerotrust/sdk/go";
/// npm package name of the generated Node.js SDK.
pub const NODE_PACKAGE: &str = "@zerotrust/pulumi";

/// Modules whose SDK path differs from the token's, to match the upstream provider users know.
const RENAMED: &[(&str, &str)] = &[("vault/pkiSecret", "vault/pkisecret")];

fn sdk_path(module: &str) -> String {
    RENAMED
        .iter()
        .find(|(from, _)| *from == module)
        .map_or_else(|| module.to_string(), |(_, to)| to.to_string())
}

/// The Go package name of a module: its last path element, with the elements after the first
/// prepended when that last element is only a version (`kubernetes/core/v1` -> `corev1`,
/// `kubernetes/istio/networking/v1` -> `istionetworkingv1`).
pub fn go_alias(module: &str) -> String {
    let path = sdk_path(module).to_lowercase();
    let parts: Vec<&str> = path.split('/').collect();
    let last = parts.last().copied().unwrap_or_default();
    let is_version =
        last.len() > 1 && last.starts_with('v') && last[1..].bytes().all(|b| b.is_ascii_digit());
    if is_version && parts.len() > 2 {
        parts[1..].concat()
    } else {
        last.replace('-', "")
    }
}

/// The `language` section for the given modules.
pub fn language_section(modules: &BTreeSet<&str>) -> Json {
    let import_base = format!("{GO_MODULE}/{}", PACKAGE);
    let mut aliases = Map::new();
    let mut module_to_package = Map::new();
    for module in modules {
        let path = sdk_path(module);
        if path != *module {
            module_to_package.insert(module.to_string(), Json::String(path.clone()));
        }
        aliases.insert(
            format!("{import_base}/{path}"),
            Json::String(go_alias(module)),
        );
    }
    let renamed: Map<String, Json> = RENAMED
        .iter()
        .map(|(from, to)| (from.to_string(), Json::String(to.to_string())))
        .collect();
    json!({
        "python": {
            "packageName": "pulumi_zerotrust",
            "respectSchemaVersion": true,
            "pyproject": {"enabled": true},
            "requires": {"pulumi": ">=3.165.0,<4.0.0"},
            "moduleNameOverrides": renamed,
        },
        "nodejs": {
            "packageName": NODE_PACKAGE,
            "packageDescription": format!("zerotrust {VERSION}: private keys, CAs, mTLS identities and the policies that use them"),
            "respectSchemaVersion": true,
            // Generated code calls SDK functions that first appear in 3.269.
            "dependencies": {"@pulumi/pulumi": "^3.269.0"},
            "typescriptVersion": "^5.0.0",
        },
        "go": {
            "importBasePath": import_base,
            "modulePath": GO_MODULE,
            "moduleToPackage": module_to_package,
            "packageImportAliases": aliases,
            "respectSchemaVersion": true,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_aliases_read_like_upstream_and_never_clash() {
        let modules: BTreeSet<&str> = [
            "aws/acmpca",
            "kubernetes/core/v1",
            "kubernetes/meta/v1",
            "kubernetes/istio/networking/v1",
            "kubernetes/networking/v1",
            "vault/pkiSecret",
            "tls",
        ]
        .into();
        let aliases: Vec<String> = modules.iter().map(|m| go_alias(m)).collect();
        assert_eq!(
            aliases,
            [
                "acmpca",
                "corev1",
                "istionetworkingv1",
                "metav1",
                "networkingv1",
                "tls",
                "pkisecret"
            ]
        );
        let unique: BTreeSet<&String> = aliases.iter().collect();
        assert_eq!(unique.len(), aliases.len());
    }

    #[test]
    fn go_section_maps_every_module_path_to_its_alias() {
        let modules: BTreeSet<&str> = ["vault/pkiSecret", "kubernetes/core/v1"].into();
        let section = language_section(&modules);
        let aliases = &section["go"]["packageImportAliases"];
        assert_eq!(
            aliases["zerotrust/sdk/go/zerotrust/vault/pkisecret"],
            "pkisecret"
        );
        assert_eq!(
            aliases["zerotrust/sdk/go/zerotrust/kubernetes/core/v1"],
            "corev1"
        );
        assert_eq!(
            section["go"]["moduleToPackage"]["vault/pkiSecret"],
            "vault/pkisecret"
        );
        assert_eq!(section["nodejs"]["packageName"], NODE_PACKAGE);
    }
}
