//! The `tls` module: pulumi-tls v5 shapes over rcgen on aws-lc-rs.

use crate::core::Registry;

pub fn register(registry: Registry) -> Registry {
    registry
}
