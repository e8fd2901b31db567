//! zerotrust: a Pulumi resource provider for keys, certificate authorities and mTLS identities.
//!
//! Layers, each a folder importing only the ones before it (tests/layers.rs checks):
//! `protocol` (generated gRPC code) -> `codec` (property values) -> `model` (schema specs,
//! validation, diff, check failures) -> `typed` (Value, Secret, the Resource and Function traits,
//! `Ctx`) -> `server` (registry, package description, gRPC service) -> `modules` (the zerotrust
//! package: its configuration, backend clients and resources). Only `modules` knows it is
//! zerotrust; `pki` is the library of key and certificate functions the modules build on.

pub mod codec;
pub mod model;
pub mod modules;
pub mod pki;
pub mod protocol;
pub mod server;
pub mod typed;

#[cfg(test)]
mod testing;
