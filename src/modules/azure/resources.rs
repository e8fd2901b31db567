//! `azure/resources:ResourceGroup` (pulumi-azure-native `azure-native:resources:ResourceGroup`).

use super::arm::{
    ArmResource, Location, TagWrite, known_tags, live_location, live_tags, prune, text,
};
use super::names::{self, ArmId, check_location, check_tags};
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Failures, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value as Json, json};
use std::collections::BTreeMap;

pub struct ResourceGroup;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroupInputs {
    /// The name of the resource group (1-90 letters, digits, underscores, hyphens, periods and
    /// parentheses). Generated from the resource's name when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub resource_group_name: Option<Value<String>>,
    /// The Azure region of the resource group, e.g. `westus2`. Required: zerotrust has no
    /// provider-wide default location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub location: Option<Value<String>>,
    /// The id of the resource that manages this resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub managed_by: Option<Value<String>>,
    /// The tags attached to the resource group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Value<BTreeMap<String, String>>>,
}

/// The resource group properties.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "ResourceGroupPropertiesResponse")]
pub struct ResourceGroupProperties {
    /// The provisioning state.
    pub provisioning_state: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceGroupOutputs {
    #[serde(flatten)]
    pub inputs: ResourceGroupInputs,
    /// The name of the resource group.
    pub name: Value<String>,
    /// The type of the resource group.
    #[serde(rename = "type")]
    pub resource_type: Value<String>,
    /// The resource group properties.
    pub properties: Value<ResourceGroupProperties>,
    /// The Azure API version of the resource.
    pub azure_api_version: String,
}

impl ArmResource for ResourceGroup {
    type Inputs = ResourceGroupInputs;
    type Outputs = ResourceGroupOutputs;
    const TOKEN: &'static str = "zerotrust:azure/resources:ResourceGroup";
    const DESCRIPTION: &'static str = include_str!("docs/resource_group.md");
    const API_VERSION: &'static str = super::API_RESOURCE_GROUPS;
    const TAGS: TagWrite = TagWrite::Patch;

    fn check(
        &self,
        ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        names::RESOURCE_GROUP.own_name(
            &mut inputs.resource_group_name,
            ctx.olds.map(|o| &o.resource_group_name),
            "resourceGroupName",
            ctx,
            failures,
        );
        check_location(inputs.location.as_ref(), true, failures);
        check_tags(inputs.tags.as_ref(), failures);
        inputs
    }

    fn path(inputs: &Self::Inputs) -> Option<String> {
        let name = inputs.resource_group_name.as_ref()?.known()?;
        Some(format!("/resourceGroups/{name}"))
    }

    fn location(inputs: &Self::Inputs) -> Location {
        match &inputs.location {
            Some(Value::Known(l)) => Location::Given(l.clone()),
            _ => Location::Given(String::new()),
        }
    }

    fn tags(inputs: &Self::Inputs) -> Option<BTreeMap<String, String>> {
        known_tags(&inputs.tags)
    }

    fn put_body(inputs: &Self::Inputs, location: Option<&str>, _live: Option<&Json>) -> Json {
        put_body(inputs, location)
    }

    fn inputs_of(outputs: &Self::Outputs) -> Self::Inputs {
        outputs.inputs.clone()
    }

    fn outputs(inputs: &Self::Inputs, live: &Json) -> Self::Outputs {
        ResourceGroupOutputs {
            inputs: inputs.clone(),
            name: Value::Known(
                text(live, "/name")
                    .or_else(|| {
                        inputs
                            .resource_group_name
                            .as_ref()
                            .and_then(|v| v.known().cloned())
                    })
                    .unwrap_or_default(),
            ),
            resource_type: Value::Known(
                text(live, "/type").unwrap_or_else(|| "Microsoft.Resources/resourceGroups".into()),
            ),
            properties: Value::Known(ResourceGroupProperties {
                provisioning_state: text(live, "/properties/provisioningState").unwrap_or_default(),
            }),
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn preview(inputs: &Self::Inputs) -> Self::Outputs {
        ResourceGroupOutputs {
            inputs: inputs.clone(),
            name: inputs.resource_group_name.clone().unwrap_or(Value::Unknown),
            resource_type: Value::Known("Microsoft.Resources/resourceGroups".into()),
            properties: Value::Unknown,
            azure_api_version: Self::API_VERSION.to_string(),
        }
    }

    fn inputs_from_live(
        id: &ArmId,
        live: &Json,
        old: Option<&Self::Inputs>,
    ) -> Option<Self::Inputs> {
        if id.namespace.is_some() {
            return None;
        }
        let name = id.resource_group.clone()?;
        Some(ResourceGroupInputs {
            resource_group_name: Some(Value::Known(name)),
            location: live_location(live, old.map(|o| &o.location)),
            managed_by: match (
                text(live, "/managedBy"),
                old.and_then(|o| o.managed_by.clone()),
            ) {
                (Some(m), _) => Some(Value::Known(m)),
                (None, Some(Value::Unknown)) => Some(Value::Unknown),
                (None, _) => None,
            },
            tags: live_tags(live, old.map(|o| &o.tags)),
        })
    }
}

/// `PUT /subscriptions/<s>/resourceGroups/<name>`.
pub fn put_body(inputs: &ResourceGroupInputs, location: Option<&str>) -> Json {
    prune(json!({
        "location": location,
        "managedBy": super::arm::known(&inputs.managed_by),
        "tags": known_tags(&inputs.tags),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs() -> ResourceGroupInputs {
        ResourceGroupInputs {
            resource_group_name: None,
            location: Some(Value::Known("westus2".into())),
            managed_by: None,
            tags: Some(Value::Known(BTreeMap::from([(
                "env".into(),
                "test".into(),
            )]))),
        }
    }

    #[test]
    fn check_names_the_group_and_the_body_is_what_arm_takes() {
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "zero_trust_rg",
            random_seed: b"seed",
            olds: None,
        };
        let checked = ResourceGroup.check(&ctx, inputs(), &mut f);
        assert!(f.is_empty());
        let name = checked
            .resource_group_name
            .clone()
            .unwrap()
            .into_known()
            .unwrap();
        assert!(
            name.starts_with("zero_trust_rg") && name.len() == 21,
            "{name}"
        );
        assert_eq!(
            ResourceGroup::path(&checked),
            Some(format!("/resourceGroups/{name}"))
        );
        assert_eq!(
            put_body(&checked, Some("westus2")),
            json!({"location": "westus2", "tags": {"env": "test"}})
        );
        // The name stays what it was.
        let again = ResourceGroup.check(
            &CheckCtx {
                name: "zero_trust_rg",
                random_seed: b"other",
                olds: Some(&checked),
            },
            inputs(),
            &mut f,
        );
        assert_eq!(again.resource_group_name, checked.resource_group_name);
    }

    #[test]
    fn check_refuses_bad_names_and_missing_locations() {
        let mut f = Failures::default();
        let ctx = CheckCtx {
            name: "rg",
            random_seed: b"",
            olds: None,
        };
        let mut bad = inputs();
        bad.resource_group_name = Some(Value::Known("bad/name.".into()));
        bad.location = None;
        ResourceGroup.check(&ctx, bad, &mut f);
        let paths: Vec<String> = f
            .into_vec()
            .into_iter()
            .map(|x| x.property.to_string())
            .collect();
        assert_eq!(paths, vec!["resourceGroupName", "location"]);
    }

    #[test]
    fn refresh_keeps_the_programs_spelling_and_unset_tags() {
        let live = json!({"id": "/subscriptions/s/resourceGroups/rg1", "name": "rg1", "location": "westus2", "tags": {}, "properties": {"provisioningState": "Succeeded"}});
        let id = ArmId::parse("/subscriptions/s/resourceGroups/rg1").unwrap();
        let mut old = inputs();
        old.resource_group_name = Some(Value::Known("rg1".into()));
        old.location = Some(Value::Known("West US 2".into()));
        old.tags = None;
        assert_eq!(
            ResourceGroup::inputs_from_live(&id, &live, Some(&old)),
            Some(old.clone())
        );
        let imported = ResourceGroup::inputs_from_live(&id, &live, None).unwrap();
        assert_eq!(imported.location, Some(Value::Known("westus2".into())));
    }
}
