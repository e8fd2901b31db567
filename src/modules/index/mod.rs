//! The package's own higher-level resources (`zerotrust:index:*`), made of the other modules'
//! resources.

pub mod service_identity;

use super::Registry;

pub fn register(registry: Registry) -> Registry {
    registry.component(service_identity::ServiceIdentity)
}
