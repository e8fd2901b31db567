//! Generated protocol code; see `build.rs`.
//!
//! The definitions live in `proto/` (our own `.proto` files for the `pulumirpc` protocol of the
//! Pulumi engine and for `google.rpc.Status`). `tests/proto_descriptors.rs` checks them against
//! the descriptors the engine ships. Well-known types map to `prost_types` (`Struct`, `Value`,
//! `Any`), and `google.protobuf.Empty` maps to `()`.

/// The engine's provider protocol: the `ResourceProvider` service we serve, the `Engine` service
/// we call for logging, the `ResourceMonitor` a component registers its children with, and
/// their messages.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    clippy::nursery,
    rustdoc::all,
    unreachable_pub
)]
pub mod pulumirpc {
    tonic::include_proto!("pulumirpc");
}

/// Google's shared protocol types.
pub mod google {
    /// The gRPC error model; its `Status` carries typed error details such as
    /// `pulumirpc::ErrorResourceInitFailed`.
    #[allow(
        missing_docs,
        clippy::all,
        clippy::pedantic,
        clippy::nursery,
        rustdoc::all,
        unreachable_pub
    )]
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

/// The encoded `google.protobuf.FileDescriptorSet` of every file `build.rs` compiled (ours and
/// the well-known types they import), as protoc produced it.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/descriptor_set.bin"));
