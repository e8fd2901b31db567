//! Compiles the project's protocol definitions in `proto/` into Rust (prost messages and tonic
//! services) and records a `FileDescriptorSet` of them in `OUT_DIR`, which `src/proto.rs` embeds
//! so that `tests/proto_descriptors.rs` can compare our definitions with the engine's.
//!
//! protoc comes from `protoc-bin-vendored`, together with its well-known-type includes, so no
//! system protoc is needed.

use std::io;
use std::path::PathBuf;

/// The files we compile; their imports (alias, plugin, source, callback, google/protobuf/*)
/// follow from these.
const PROTOS: &[&str] = &[
    "proto/pulumi/provider.proto",
    "proto/pulumi/engine.proto",
    "proto/pulumi/resource.proto",
    "proto/pulumi/errors.proto",
    "proto/google/rpc/status.proto",
];

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed=proto");
    println!("cargo:rerun-if-changed=build.rs");

    let protoc = protoc_bin_vendored::protoc_bin_path().map_err(io::Error::other)?;
    let wkt_include = protoc_bin_vendored::include_path().map_err(io::Error::other)?;

    let out_dir = PathBuf::from(
        std::env::var_os("OUT_DIR").ok_or_else(|| io::Error::other("OUT_DIR is not set"))?,
    );

    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc);

    let wkt_include = wkt_include.to_string_lossy().into_owned();
    tonic_prost_build::configure()
        // Servers: ResourceProvider (the provider itself); Engine and ResourceMonitor (the fake
        // engines of the tests).
        .build_server(true)
        // Clients: Engine (for Log), ResourceMonitor (for Construct) and ResourceProvider (for
        // tests that drive the provider).
        .build_client(true)
        .file_descriptor_set_path(out_dir.join("descriptor_set.bin"))
        .compile_with_config(config, PROTOS, &["proto", wkt_include.as_str()])
}
