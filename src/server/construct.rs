//! The resource-monitor side of Construct: how a component and its children are registered with
//! the engine. The engine runs a resource monitor for the deployment and names its address in
//! the ConstructRequest; the component registers itself there (as a plain, non-remote
//! component under the program's parent), then each child as a custom resource under the
//! component, and finally the component's outputs.

use crate::codec::{self, PropertyMap};
use crate::model::schema::package_of;
use crate::protocol::pulumirpc::{self as pb, resource_monitor_client::ResourceMonitorClient};
use crate::typed::ResourceError;
use crate::typed::component::{ChildRegistered, ChildRequest, Registrar};
use futures::future::BoxFuture;
use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use tonic::transport::Channel;

use super::service::MAX_MESSAGE;

pub(super) type Monitor = ResourceMonitorClient<Channel>;

/// A client of the resource monitor at `endpoint` (`host:port`, as the engine gives it).
pub(super) async fn connect(endpoint: &str) -> Result<Monitor, tonic::Status> {
    let uri = if endpoint.contains("://") {
        endpoint.to_string()
    } else {
        format!("http://{endpoint}")
    };
    let channel = Channel::from_shared(uri)
        .map_err(|e| tonic::Status::invalid_argument(format!("monitor address {endpoint}: {e}")))?
        .tcp_nodelay(true)
        .connect()
        .await
        .map_err(|e| {
            tonic::Status::unavailable(format!(
                "cannot reach the resource monitor at {endpoint}: {e}"
            ))
        })?;
    Ok(ResourceMonitorClient::new(channel)
        .max_decoding_message_size(MAX_MESSAGE)
        .max_encoding_message_size(MAX_MESSAGE))
}

/// The registration of the component itself: everything the program asked of it, passed on.
pub(super) fn component_request(req: &pb::ConstructRequest) -> pb::RegisterResourceRequest {
    pb::RegisterResourceRequest {
        r#type: req.r#type.clone(),
        name: req.name.clone(),
        parent: req.parent.clone(),
        custom: false,
        remote: false,
        object: Some(codec::encode_map(&PropertyMap::new())),
        protect: req.protect,
        dependencies: req.dependencies.clone(),
        providers: req.providers.clone(),
        aliases: req.aliases.clone(),
        alias_specs: true,
        accept_secrets: true,
        accept_resources: true,
        retain_on_delete: req.retain_on_delete,
        deleted_with: req.deleted_with.clone(),
        ignore_changes: req.ignore_changes.clone(),
        replace_on_changes: req.replace_on_changes.clone(),
        additional_secret_outputs: req.additional_secret_outputs.clone(),
        ..Default::default()
    }
}

/// Registers children under one component, with what they inherit from it.
pub(super) struct MonitorRegistrar {
    monitor: Monitor,
    /// The component's URN.
    parent: String,
    /// Provider references by package, from the component's `providers`.
    providers: HashMap<String, String>,
    /// The provider version to ask for when no provider reference is given.
    version: String,
    /// What the component's inputs depend on, and its own dependsOn: every child waits for them.
    dependencies: Vec<String>,
    protect: Option<bool>,
    retain_on_delete: Option<bool>,
    custom_timeouts: Option<pb::register_resource_request::CustomTimeouts>,
    children: Mutex<Vec<String>>,
}

impl MonitorRegistrar {
    pub(super) fn new(
        monitor: Monitor,
        parent: String,
        version: &str,
        req: &pb::ConstructRequest,
    ) -> Self {
        let dependencies: BTreeSet<String> = req
            .dependencies
            .iter()
            .chain(req.input_dependencies.values().flat_map(|d| d.urns.iter()))
            .cloned()
            .collect();
        let custom_timeouts =
            req.custom_timeouts
                .as_ref()
                .map(|t| pb::register_resource_request::CustomTimeouts {
                    create: t.create.clone(),
                    update: t.update.clone(),
                    delete: t.delete.clone(),
                    read: t.read.clone(),
                });
        MonitorRegistrar {
            monitor,
            parent,
            providers: req.providers.clone(),
            version: version.to_string(),
            dependencies: dependencies.into_iter().collect(),
            // Children are protected and retained with their component, as the SDKs do.
            protect: req.protect,
            retain_on_delete: req.retain_on_delete,
            custom_timeouts,
            children: Mutex::new(Vec::new()),
        }
    }

    /// The URNs of the children registered so far.
    pub(super) fn children(&self) -> Vec<String> {
        self.children.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub(super) fn child_request(&self, child: &ChildRequest) -> pb::RegisterResourceRequest {
        let mut dependencies = self.dependencies.clone();
        for urn in &child.options.depends_on {
            if !dependencies.contains(urn) {
                dependencies.push(urn.clone());
            }
        }
        let provider = self
            .providers
            .get(package_of(child.token))
            .cloned()
            .unwrap_or_default();
        pb::RegisterResourceRequest {
            r#type: child.token.to_string(),
            name: child.name.clone(),
            parent: self.parent.clone(),
            custom: true,
            object: Some(codec::encode_map(&child.inputs)),
            protect: self.protect,
            dependencies,
            version: if provider.is_empty() {
                self.version.clone()
            } else {
                String::new()
            },
            provider,
            delete_before_replace: child.options.delete_before_replace,
            delete_before_replace_defined: child.options.delete_before_replace,
            additional_secret_outputs: child.options.additional_secret_outputs.clone(),
            custom_timeouts: self.custom_timeouts.clone(),
            retain_on_delete: self.retain_on_delete,
            accept_secrets: true,
            accept_resources: true,
            supports_partial_values: true,
            alias_specs: true,
            ..Default::default()
        }
    }
}

impl Registrar for MonitorRegistrar {
    fn register(
        &self,
        child: ChildRequest,
    ) -> BoxFuture<'_, Result<ChildRegistered, ResourceError>> {
        Box::pin(async move {
            let request = self.child_request(&child);
            let what = format!("registering child {} '{}'", child.token, child.name);
            let response = self
                .monitor
                .clone()
                .register_resource(request)
                .await
                .map_err(|status| ResourceError::backend(&what, status.message()))?
                .into_inner();
            let outputs = codec::decode_struct(response.object.as_ref())
                .map_err(|e| ResourceError::backend(&what, format!("undecodable outputs: {e}")))?;
            if let Ok(mut children) = self.children.lock() {
                children.push(response.urn.clone());
            }
            Ok(ChildRegistered {
                urn: response.urn,
                id: response.id,
                outputs,
            })
        })
    }
}

/// Every output depends on every child: the outputs are made from theirs.
pub(super) fn state_dependencies(
    outputs: &PropertyMap,
    children: &[String],
) -> HashMap<String, pb::construct_response::PropertyDependencies> {
    outputs
        .keys()
        .map(|key| {
            (
                key.clone(),
                pb::construct_response::PropertyDependencies {
                    urns: children.to_vec(),
                },
            )
        })
        .collect()
}
