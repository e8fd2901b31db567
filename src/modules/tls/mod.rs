//! The `tls` module: pulumi-tls v5 shapes over rcgen on aws-lc-rs.

pub mod cert_request;
pub mod common;
mod functions;
pub mod issuing;
pub mod locally_signed_cert;
pub mod pkcs12_bundle;
pub mod private_key;
pub mod revocation_list;
mod self_signed_cert;

pub use cert_request::CertRequest;
pub use functions::{GetCertificate, GetPublicKey};
pub use locally_signed_cert::LocallySignedCert;
pub use private_key::PrivateKey;
pub use revocation_list::CertificateRevocationList;
pub use self_signed_cert::SelfSignedCert;

use crate::modules::Registry;

pub fn register(registry: Registry) -> Registry {
    registry
        .resource(PrivateKey)
        .resource(CertRequest)
        .resource(SelfSignedCert)
        .resource(LocallySignedCert)
        .resource(pkcs12_bundle::Pkcs12Bundle)
        .resource(CertificateRevocationList)
        .function(GetPublicKey)
        .function(GetCertificate)
}
