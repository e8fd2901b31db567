//! `aws/acmpca:Policy`: a resource-based policy on a certificate authority.

use crate::modules::aws::client::call;
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

pub struct Policy;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyInputs {
    /// ARN of the certificate authority the policy is attached to.
    #[schemars(transform = replace_on_changes)]
    pub resource_arn: Value<String>,
    /// The policy document, JSON.
    pub policy: Value<String>,
}

/// Two policy texts are the same policy when their JSON is equal.
pub fn same_policy(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<Json>(a),
        serde_json::from_str::<Json>(b),
    ) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

impl Resource<ProviderConfig> for Policy {
    type Inputs = PolicyInputs;
    type Outputs = PolicyInputs;
    const TOKEN: &'static str = "zerotrust:aws/acmpca:Policy";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/policy.md");
    const UPDATABLE: bool = true;

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        super::check_ca_arn(&inputs.resource_arn, "resourceArn", failures);
        if let Value::Known(p) = &inputs.policy {
            match serde_json::from_str::<Json>(p) {
                Ok(Json::Object(doc)) if doc.contains_key("Statement") => {}
                Ok(_) => failures.at(
                    "policy",
                    "must be a JSON policy document with a `Statement`",
                ),
                Err(e) => failures.at("policy", format!("not JSON: {e}")),
            }
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs: inputs,
            });
        }
        let id = put(ctx, &inputs).await?;
        Ok(Created {
            id,
            outputs: inputs,
        })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        let aws = ctx.config().aws().await?;
        let live = match call(ctx, &aws.retry, "GetPolicy", || {
            aws.acmpca.get_policy().resource_arn(&id).send()
        })
        .await
        {
            Ok(out) => out.policy().unwrap_or_default().to_string(),
            Err(e) if e.is("ResourceNotFoundException") => return Ok(ReadOutcome::Gone),
            Err(e) => return Err(e.into()),
        };
        let policy = match inputs.as_ref().map(|i| &i.policy) {
            Some(Value::Known(old)) if same_policy(old, &live) => old.clone(),
            _ => live,
        };
        let found = PolicyInputs {
            resource_arn: Value::Known(id.clone()),
            policy: Value::Known(policy),
        };
        Ok(ReadOutcome::Found {
            id,
            inputs: found.clone(),
            outputs: found,
        })
    }

    async fn update(
        &self,
        ctx: &Ctx,
        _id: String,
        _olds: Self::Outputs,
        news: Self::Inputs,
    ) -> Result<Self::Outputs, ResourceError> {
        put(ctx, &news).await?;
        Ok(news)
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        _outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let aws = ctx.config().aws().await?;
        match call(ctx, &aws.retry, "DeletePolicy", || {
            aws.acmpca.delete_policy().resource_arn(&id).send()
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

async fn put(ctx: &Ctx, inputs: &PolicyInputs) -> Result<String, ResourceError> {
    let (Value::Known(arn), Value::Known(policy)) = (&inputs.resource_arn, &inputs.policy) else {
        return Err(ResourceError::Internal(
            "inputs unknown outside preview".into(),
        ));
    };
    let aws = ctx.config().aws().await?;
    call(ctx, &aws.retry, "PutPolicy", || {
        aws.acmpca
            .put_policy()
            .resource_arn(arn)
            .policy(policy)
            .send()
    })
    .await?;
    Ok(arn.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_compare_as_json() {
        assert!(same_policy(r#"{"a": [1, 2]}"#, r#"{ "a":[1,2] }"#));
        assert!(!same_policy(r#"{"a": [1, 2]}"#, r#"{"a": [2, 1]}"#));
    }
}
