//! The provider model, above the wire values and below any Rust type: the package schema as
//! property specs, validation of values against them, the structural diff, provider
//! configuration normalisation, and the failures a Check reports.

pub mod config;
pub mod diff;
pub mod empty;
mod failure;
pub mod schema;
pub mod validate;

pub use failure::{CheckFailure, Failures};
