//! `schema.json` is generated from the Rust types and checked in; this fails when it is stale.

#[test]
fn checked_in_schema_matches_the_types() {
    let generated = format!("{}\n", zerotrust::modules::provider().schema_text());
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.json");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == generated,
        "schema.json is stale: run `bash scripts/gen.sh` and commit the result"
    );
}

#[test]
fn schema_version_is_the_crate_version() {
    let schema: serde_json::Value =
        serde_json::from_str(zerotrust::modules::provider().schema_text()).unwrap();
    assert_eq!(schema["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(schema["language"]["python"]["respectSchemaVersion"], true);
}
