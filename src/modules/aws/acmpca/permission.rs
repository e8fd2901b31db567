//! `aws/acmpca:Permission`: lets an AWS service principal use a certificate authority.
//!
//! moto 5.2.5 has no ACM PCA permission API; this resource is tested against a scripted fake of
//! AWS's API (tests/aws_fake.rs) and, through the conformance suite, against the permission
//! calls the test launcher adds to moto (tools/moto/launcher.py).

use super::check_ca_arn;
use crate::codec::PropertyPath;
use crate::modules::aws::client::call;
use crate::modules::{Ctx, ProviderConfig};
use crate::typed::EmptyInputs;
use crate::typed::replace_on_changes;
use crate::typed::{CheckCtx, Created, Failures, ReadOutcome, Resource, ResourceError, Value};
use aws_sdk_acmpca::types as pca;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub struct Permission;

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionInputs {
    /// ARN of the certificate authority.
    #[schemars(transform = replace_on_changes)]
    pub certificate_authority_arn: Value<String>,
    /// What the principal may do: `IssueCertificate`, `GetCertificate` and/or `ListPermissions`.
    #[schemars(transform = replace_on_changes)]
    pub actions: Value<Vec<String>>,
    /// The AWS service receiving the permission; only `acm.amazonaws.com`.
    #[schemars(transform = replace_on_changes)]
    pub principal: Value<String>,
    /// The account the calls come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(transform = replace_on_changes)]
    pub source_account: Option<Value<String>>,
}

#[derive(Clone, Debug, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct PermissionOutputs {
    /// ARN of the certificate authority.
    pub certificate_authority_arn: Value<String>,
    /// What the principal may do.
    pub actions: Value<Vec<String>>,
    /// The AWS service receiving the permission.
    pub principal: Value<String>,
    /// The account the calls come from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_account: Option<Value<String>>,
    /// The policy AWS derived from the permission, JSON.
    pub policy: Value<String>,
}

const ACTIONS: [&str; 3] = ["IssueCertificate", "GetCertificate", "ListPermissions"];
const PRINCIPAL: &str = "acm.amazonaws.com";

/// `<ca arn>,<principal>`: what `pulumi import` takes.
pub fn permission_id(ca_arn: &str, principal: &str) -> String {
    format!("{ca_arn},{principal}")
}

pub fn parse_permission_id(id: &str) -> Option<(&str, &str)> {
    id.rsplit_once(',')
        .filter(|(a, p)| !a.is_empty() && !p.is_empty())
}

impl Resource<ProviderConfig> for Permission {
    type Inputs = PermissionInputs;
    type Outputs = PermissionOutputs;
    const TOKEN: &'static str = "zerotrust:aws/acmpca:Permission";
    const EMPTY_INPUTS: EmptyInputs = EmptyInputs::Absent;
    const DESCRIPTION: &'static str = include_str!("docs/permission.md");

    fn check(
        &self,
        _ctx: &CheckCtx<'_, Self::Inputs>,
        mut inputs: Self::Inputs,
        failures: &mut Failures,
    ) -> Self::Inputs {
        check_ca_arn(
            &inputs.certificate_authority_arn,
            "certificateAuthorityArn",
            failures,
        );
        if let Value::Known(actions) = &mut inputs.actions {
            if actions.is_empty() {
                failures.at("actions", "name at least one action");
            }
            for (i, a) in actions.iter().enumerate() {
                if !ACTIONS.contains(&a.as_str()) {
                    failures.add(
                        PropertyPath::root().key("actions").index(i),
                        format!(
                            "unknown action {a:?}; expected one of {}",
                            ACTIONS.join(", ")
                        ),
                    );
                }
            }
            actions.sort();
            actions.dedup();
        }
        if let Value::Known(p) = &inputs.principal
            && p != PRINCIPAL
        {
            failures.at(
                "principal",
                format!("only {PRINCIPAL} can be granted permissions, got {p:?}"),
            );
        }
        if let Some(Value::Known(account)) = &inputs.source_account
            && (account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()))
        {
            failures.at(
                "sourceAccount",
                format!("{account:?} is not a 12-digit account id"),
            );
        }
        inputs
    }

    async fn create(
        &self,
        ctx: &Ctx,
        inputs: Self::Inputs,
    ) -> Result<Created<Self::Outputs>, ResourceError> {
        let mut outputs = PermissionOutputs {
            certificate_authority_arn: inputs.certificate_authority_arn.clone(),
            actions: inputs.actions.clone(),
            principal: inputs.principal.clone(),
            source_account: inputs.source_account.clone(),
            policy: Value::Unknown,
        };
        if ctx.preview() {
            return Ok(Created {
                id: String::new(),
                outputs,
            });
        }
        let (Value::Known(arn), Value::Known(actions), Value::Known(principal)) = (
            &inputs.certificate_authority_arn,
            &inputs.actions,
            &inputs.principal,
        ) else {
            return Err(ResourceError::Internal(
                "inputs unknown outside preview".into(),
            ));
        };
        let source = inputs
            .source_account
            .as_ref()
            .and_then(Value::known)
            .cloned();
        let aws = ctx.config().aws().await?;
        call(ctx, &aws.retry, "CreatePermission", || {
            aws.acmpca
                .create_permission()
                .certificate_authority_arn(arn)
                .principal(principal)
                .set_actions(Some(
                    actions
                        .iter()
                        .map(|a| pca::ActionType::from(a.as_str()))
                        .collect(),
                ))
                .set_source_account(source.clone())
                .send()
        })
        .await?;
        let id = permission_id(arn, principal);
        let policy = match find(ctx, &id).await {
            Ok(Some(found)) => found.policy,
            Ok(None) => Value::Known(String::new()),
            Err(e) => {
                outputs.policy = Value::Known(String::new());
                return Err(ResourceError::InitFailed {
                    id,
                    outputs: serde_json::to_value(&outputs).unwrap_or_default(),
                    reasons: vec![e.to_string()],
                });
            }
        };
        outputs.policy = policy;
        Ok(Created { id, outputs })
    }

    async fn read(
        &self,
        ctx: &Ctx,
        id: String,
        _inputs: Option<Self::Inputs>,
        _outputs: Option<Self::Outputs>,
    ) -> Result<ReadOutcome<Self::Inputs, Self::Outputs>, ResourceError> {
        Ok(match find(ctx, &id).await? {
            None => ReadOutcome::Gone,
            Some(outputs) => ReadOutcome::Found {
                id,
                inputs: PermissionInputs {
                    certificate_authority_arn: outputs.certificate_authority_arn.clone(),
                    actions: outputs.actions.clone(),
                    principal: outputs.principal.clone(),
                    source_account: outputs.source_account.clone(),
                },
                outputs,
            },
        })
    }

    async fn delete(
        &self,
        ctx: &Ctx,
        id: String,
        outputs: Self::Outputs,
    ) -> Result<(), ResourceError> {
        let Some((arn, principal)) = parse_permission_id(&id) else {
            return Ok(());
        };
        let source = outputs.source_account.and_then(Value::into_known);
        let aws = ctx.config().aws().await?;
        match call(ctx, &aws.retry, "DeletePermission", || {
            aws.acmpca
                .delete_permission()
                .certificate_authority_arn(arn)
                .principal(principal)
                .set_source_account(source.clone())
                .send()
        })
        .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.is("ResourceNotFoundException") => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

/// The permission `id` names, from ListPermissions (paged).
async fn find(ctx: &Ctx, id: &str) -> Result<Option<PermissionOutputs>, ResourceError> {
    let Some((arn, principal)) = parse_permission_id(id) else {
        return Err(ResourceError::InvalidInput {
            property: PropertyPath::root().key("id"),
            reason: format!("{id:?} is not `<certificate authority arn>,<principal>`"),
        });
    };
    let aws = ctx.config().aws().await?;
    let mut next: Option<String> = None;
    loop {
        let page = match call(ctx, &aws.retry, "ListPermissions", || {
            aws.acmpca
                .list_permissions()
                .certificate_authority_arn(arn)
                .set_next_token(next.clone())
                .send()
        })
        .await
        {
            Ok(page) => page,
            Err(e) if e.is("ResourceNotFoundException") => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        if let Some(p) = page
            .permissions()
            .iter()
            .find(|p| p.principal() == Some(principal))
        {
            let mut actions: Vec<String> =
                p.actions().iter().map(|a| a.as_str().to_string()).collect();
            actions.sort();
            return Ok(Some(PermissionOutputs {
                certificate_authority_arn: Value::Known(arn.to_string()),
                actions: Value::Known(actions),
                principal: Value::Known(principal.to_string()),
                source_account: p.source_account().map(|s| Value::Known(s.to_string())),
                policy: Value::Known(p.policy().unwrap_or_default().to_string()),
            }));
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => next = Some(t.to_string()),
            _ => return Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip() {
        let arn = "arn:aws:acm-pca:us-east-1:123456789012:certificate-authority/abc";
        let id = permission_id(arn, PRINCIPAL);
        assert_eq!(parse_permission_id(&id), Some((arn, PRINCIPAL)));
        assert_eq!(parse_permission_id("no-comma"), None);
    }
}
