"""Config `stage`:
- `check`: inputs Check must refuse, each at its property path; config `bad` picks one resource
  (the engine stops at the first refusal): `group`, an invalid resource group name; `endpoint`,
  an online endpoint name with an underscore and an unknown authMode; `subnet`, a private
  endpoint whose subnet belongs to another network than the one it names.
- `arm` (default): valid inputs ARM refuses: a private endpoint in a subnet that does not exist
  (ARM's `InvalidResourceReference`).
"""

import pulumi
from pulumi_zerotrust import azure

config = pulumi.Config()
stage = config.get("stage") or "arm"
sub = config.require("subscriptionId")
rg_id = f"/subscriptions/{sub}/resourceGroups/zt-bad-input"
net = f"{rg_id}/providers/Microsoft.Network/virtualNetworks"
workspace_id = f"{rg_id}/providers/Microsoft.MachineLearningServices/workspaces/ws"

bad = config.get("bad") or "group"

if stage == "check" and bad == "group":
    azure.resources.ResourceGroup("bad-group", resource_group_name="bad/name.", location="westus")
elif stage == "check" and bad == "endpoint":
    azure.machinelearningservices.OnlineEndpoint(
        "bad-endpoint",
        resource_group_name="zt-bad-input",
        workspace_name="ws",
        endpoint_name="online_endpoint",
        location="westus",
        online_endpoint_properties=azure.machinelearningservices.OnlineEndpointPropertiesArgs(
            auth_mode="Password",
        ),
    )
elif stage == "check":
    azure.network.PrivateEndpoint(
        "bad-private-endpoint",
        resource_group_name="zt-bad-input",
        location="westus",
        subnet=azure.network.SubnetArgs(id=f"{net}/other-vnet/subnets/endpoints"),
        virtual_network_id=f"{net}/ml-vnet",
        private_link_service_connections=[
            azure.network.PrivateLinkServiceConnectionArgs(
                name="ws", private_link_service_id=workspace_id, group_ids=["amlworkspace"]
            )
        ],
    )
else:
    group = azure.resources.ResourceGroup(
        "group", resource_group_name="zt-bad-input", location="westus"
    )
    azure.network.PrivateEndpoint(
        "orphan-endpoint",
        resource_group_name=group.name,
        private_endpoint_name="orphan-pe",
        subnet=azure.network.SubnetArgs(id=f"{net}/missing-vnet/subnets/endpoints"),
        private_link_service_connections=[
            azure.network.PrivateLinkServiceConnectionArgs(
                name="ws", private_link_service_id=workspace_id, group_ids=["amlworkspace"]
            )
        ],
    )
