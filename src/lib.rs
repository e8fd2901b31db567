//! zerotrust: a Pulumi resource provider for keys, certificate authorities and mTLS identities.
//!
//! Layers, from the wire up: `proto` (generated) -> `codec` (property values) -> `core` (gRPC
//! service, dispatch, schema, logging) -> `typed` (resource trait, `Value`, `Secret`) ->
//! `modules` (one file per resource). `pki` holds the pure key and certificate functions the
//! `tls` module is built on.

pub mod codec;
pub mod core;
pub mod modules;
pub mod pki;
pub mod proto;
pub mod typed;

#[cfg(test)]
mod testing;
