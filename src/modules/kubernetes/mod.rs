//! The `kubernetes` modules, in pulumi-kubernetes v4 shapes and Python paths
//! (`pulumi_zerotrust.kubernetes.core.v1.Secret`, ...), plus Istio's mesh mTLS policy kinds.
//! Every kind goes through one generic resource (`object.rs`) over kube-rs.

pub mod client;
pub mod core_v1;
pub mod istio;
pub mod meta;
pub mod networking_v1;
pub mod object;

use crate::modules::Registry;
use object::KubeResource;

pub fn register(registry: Registry) -> Registry {
    registry
        .resource(KubeResource::<core_v1::Namespace>::default())
        .resource(KubeResource::<core_v1::SecretKind>::default())
        .resource(KubeResource::<core_v1::ConfigMap>::default())
        .resource(KubeResource::<networking_v1::NetworkPolicy>::default())
        .resource(KubeResource::<networking_v1::Ingress>::default())
        .resource(KubeResource::<istio::PeerAuthentication>::default())
        .resource(KubeResource::<istio::DestinationRule>::default())
}
