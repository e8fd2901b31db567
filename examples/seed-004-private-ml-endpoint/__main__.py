"""Seed 004: the bare bones of a zero-trust architecture for serving ML models on Azure: a
Machine Learning workspace reachable only through a private endpoint in our own subnet, and an
online endpoint closed to public networks. Written against pulumi-azure-native's API as exposed
by `pulumi_zerotrust.azure`: moving from `pulumi_azure_native` is a change of import. See
README.md for what was corrected.
"""

import pulumi
from pulumi_zerotrust import azure as azure_native

config = pulumi.Config()
location = config.get("location") or "westus"
environment = config.get("environment") or "dev"
auth_mode = config.get("authMode") or "AMLToken"
storage_account_name = config.get("storageAccountName") or "ztmlstore"
key_vault_name = config.get("keyVaultName") or "zt-ml-kv"
application_insights_name = config.get("applicationInsightsName") or "zt-ml-insights"
tags = {"environment": environment, "workload": "ml-serving"}

# A resource group in the chosen region ("West US" by default, as the seed meant).
resource_group = azure_native.resources.ResourceGroup(
    "zero_trust_rg",
    location=location,
    tags=tags,
)

# The network the private endpoint lives in, and the subnet its address comes from. Network
# policies apply to the private endpoint too (NSGs and route tables), as zero trust wants.
vnet = azure_native.network.VirtualNetwork(
    "ml_vnet",
    resource_group_name=resource_group.name,
    location=resource_group.location,
    address_space=azure_native.network.AddressSpaceArgs(address_prefixes=["10.20.0.0/16"]),
    tags=tags,
)
endpoint_subnet = azure_native.network.Subnet(
    "private_endpoints",
    resource_group_name=resource_group.name,
    virtual_network_name=vnet.name,
    address_prefix="10.20.1.0/24",
    private_endpoint_network_policies="Enabled",
)


def resource_id(provider_type: str, name: str) -> pulumi.Output[str]:
    """The id of an existing resource in the resource group."""
    return pulumi.Output.concat(resource_group.id, "/providers/", provider_type, "/", name)


# The Azure Machine Learning workspace where the ML models will be hosted. A workspace needs a
# storage account and a key vault (and usually Application Insights); they are existing
# resources, named in the stack's config. Public network access is off: the workspace is only
# reachable through the private endpoint below.
aml_workspace = azure_native.machinelearningservices.Workspace(
    "aml_workspace",
    resource_group_name=resource_group.name,
    location=resource_group.location,
    sku=azure_native.machinelearningservices.SkuArgs(name="Basic", tier="Basic"),
    identity=azure_native.machinelearningservices.ManagedServiceIdentityArgs(type="SystemAssigned"),
    storage_account=resource_id("Microsoft.Storage/storageAccounts", storage_account_name),
    key_vault=resource_id("Microsoft.KeyVault/vaults", key_vault_name),
    application_insights=resource_id("Microsoft.Insights/components", application_insights_name),
    public_network_access="Disabled",
    tags=tags,
)

# A private endpoint for the workspace in our subnet: the workspace's private link sub-resource
# is "amlworkspace".
private_endpoint = azure_native.network.PrivateEndpoint(
    "private_endpoint",
    resource_group_name=resource_group.name,
    location=resource_group.location,
    private_link_service_connections=[
        azure_native.network.PrivateLinkServiceConnectionArgs(
            name="aml-workspace",
            group_ids=["amlworkspace"],
            private_link_service_id=aml_workspace.id,
        )
    ],
    subnet=azure_native.network.SubnetArgs(id=endpoint_subnet.id),
    # zerotrust only: Check refuses a subnet that is not in this network.
    virtual_network_id=vnet.id,
    tags=tags,
)

# The online endpoint serving the model, closed to public networks; callers authenticate with
# Azure Machine Learning tokens (or keys, which are then secret outputs).
online_endpoint = azure_native.machinelearningservices.OnlineEndpoint(
    "online_endpoint",
    resource_group_name=resource_group.name,
    location=resource_group.location,
    workspace_name=aml_workspace.name,
    online_endpoint_properties=azure_native.machinelearningservices.OnlineEndpointPropertiesArgs(
        auth_mode=auth_mode,
        description="Private scoring endpoint",
        public_network_access="Disabled",
    ),
    tags=tags,
    opts=pulumi.ResourceOptions(depends_on=[private_endpoint]),
)

# Export the IDs of the online endpoint and private endpoint, so you know how to connect.
pulumi.export("online_endpoint_id", online_endpoint.id)
pulumi.export("private_endpoint_id", private_endpoint.id)
pulumi.export("workspace_id", aml_workspace.id)
pulumi.export("resource_group_name", resource_group.name)
pulumi.export("scoring_uri", online_endpoint.online_endpoint_properties.scoring_uri)
pulumi.export("private_endpoint_nic", private_endpoint.network_interfaces[0].id)
# Only with authMode Key; a secret, like the outputs it comes from.
pulumi.export("endpoint_primary_key", online_endpoint.primary_key)
