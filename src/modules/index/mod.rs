//! The package's own higher-level resources (`zerotrust:index:*`), made of the other modules'
//! resources.

pub mod ca_bundle;
pub mod service_identity;
pub mod trust_bundle;

use super::Registry;

pub fn register(registry: Registry) -> Registry {
    registry
        .resource(ca_bundle::CaBundle)
        .component(service_identity::ServiceIdentity)
        .component(trust_bundle::TrustBundle)
}
