//! The one mapping from AWS answers to finding reasons.
//!
//! Route53 and STS answer an unknown key id with 403 `InvalidClientTokenId`,
//! a wrong secret with 403 `SignatureDoesNotMatch`, an expired session with
//! 403 `ExpiredToken`, a missing permission with 403 `AccessDenied` ("User:
//! ARN is not authorized to perform: ACTION on resource: ARN"), and
//! throttling with HTTP 400 `Throttling`.

use crate::client::{ApiFailure, FailureKind};
use acme_token_core::{Evidence, Finding, Reason, Stage};

/// Provider name used in findings.
pub(crate) const PROVIDER: &str = "route53";

/// The AWS operation a failure belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    GetCallerIdentity,
    AssumeRole,
    AssumeRoleWithWebIdentity,
    ListHostedZonesByName,
    GetHostedZone,
    ChangeResourceRecordSets,
    GetChange,
    ListResourceRecordSets,
}

impl Call {
    /// IAM action of the call.
    pub(crate) fn action(self) -> &'static str {
        match self {
            Call::GetCallerIdentity => "sts:GetCallerIdentity",
            Call::AssumeRole => "sts:AssumeRole",
            Call::AssumeRoleWithWebIdentity => "sts:AssumeRoleWithWebIdentity",
            Call::ListHostedZonesByName => "route53:ListHostedZonesByName",
            Call::GetHostedZone => "route53:GetHostedZone",
            Call::ChangeResourceRecordSets => "route53:ChangeResourceRecordSets",
            Call::GetChange => "route53:GetChange",
            Call::ListResourceRecordSets => "route53:ListResourceRecordSets",
        }
    }
}

/// Facts about the credential that shape messages.
pub(crate) struct CallContext<'a> {
    pub call: Call,
    /// Resource ARN the call acts on, such as
    /// `arn:aws:route53:::hostedzone/Z1`, or `*`.
    pub resource: &'a str,
    /// True when the key id starts with ASIA (temporary credentials).
    pub temporary_key: bool,
    /// Principal ARN, when the credential stage learned it.
    pub principal: Option<&'a str>,
}

fn evidence(failure: &ApiFailure) -> Evidence {
    Evidence {
        request: Some(failure.request.clone()),
        http_status: failure.status,
        provider_code: failure.code.clone(),
        provider_message: Some(failure.message.clone()),
    }
}

/// Maps a failure to its finding.
pub(crate) fn failure_finding(stage: Stage, failure: &ApiFailure, cx: &CallContext<'_>) -> Finding {
    let action = cx.call.action();
    let code = failure.code.as_deref().unwrap_or("");
    let finding = if failure.is_throttling() {
        Finding::error(
            Reason::RateLimited,
            stage,
            format!("{PROVIDER}: {action} was throttled ({code}) and still throttled after retries with backoff; no further requests are sent on this account in this run"),
        )
        .with_remedy("wait a minute before checking this account again, or lower --concurrency or --budget; other clients (cert-manager, external-dns) share the account's Route53 rate limit")
    } else {
        match code {
            "InvalidClientTokenId" => {
                let message = if cx.temporary_key {
                    format!("{PROVIDER}: AWS rejected the access key id (InvalidClientTokenId): it starts with ASIA, so it is a temporary key that needs its session token, which the Route53 solver cannot pass")
                } else {
                    format!("{PROVIDER}: AWS does not know the access key id (InvalidClientTokenId): it was deleted, deactivated or mistyped")
                };
                Finding::error(Reason::AuthInvalid, stage, message)
                    .with_remedy("create a new access key for the IAM user (aws iam create-access-key) and update the Secret")
            }
            "SignatureDoesNotMatch" => Finding::error(
                Reason::AuthInvalid,
                stage,
                format!("{PROVIDER}: the secret access key does not match the access key id (SignatureDoesNotMatch)"),
            )
            .with_remedy("store the secret access key that was issued with this access key id in the Secret, without quotes or extra characters"),
            "ExpiredToken" | "ExpiredTokenException" => Finding::error(
                Reason::AuthExpired,
                stage,
                format!("{PROVIDER}: the security token of these credentials has expired ({code})"),
            )
            .with_remedy("use long-lived keys or let cert-manager obtain fresh credentials through role, IRSA or ambient credentials"),
            "InvalidIdentityToken" | "IDPRejectedClaim" => Finding::error(
                Reason::AuthInvalid,
                stage,
                format!("{PROVIDER}: STS rejected the ServiceAccount token ({code}): {}", failure.message),
            )
            .with_remedy("check the role's trust policy (OIDC provider, sub and aud conditions) and the token's audience (sts.amazonaws.com)"),
            "AccessDenied" | "AccessDeniedException"
                if matches!(cx.call, Call::AssumeRole | Call::AssumeRoleWithWebIdentity) =>
            {
                let who = cx.principal.map(|p| format!(" for {p}")).unwrap_or_default();
                Finding::error(
                    Reason::AssumeRoleDenied,
                    Stage::Credential,
                    format!("{PROVIDER}: {action} on {} was denied{who}", cx.resource),
                )
                .with_remedy(format!(
                    "allow {action} on {} in the caller's IAM policy and add the caller to the role's trust policy",
                    cx.resource
                ))
            }
            "AccessDenied" | "AccessDeniedException" => Finding::error(
                Reason::PermissionMissing,
                stage,
                format!("{PROVIDER}: the credential lacks {action} on {}", cx.resource),
            )
            .with_remedy(format!(
                "add {{\"Effect\": \"Allow\", \"Action\": \"{action}\", \"Resource\": \"{}\"}} to the IAM policy of the credential",
                cx.resource
            )),
            "NoSuchHostedZone" => Finding::error(
                Reason::ZoneNotVisible,
                stage,
                format!("{PROVIDER}: hosted zone {} does not exist in this account (NoSuchHostedZone)", cx.resource),
            )
            .with_remedy("set hostedZoneID to the id of the public hosted zone (aws route53 list-hosted-zones-by-name)"),
            _ => match failure.kind {
                FailureKind::Construction if failure.message.contains("Missing Region") => Finding::error(
                    Reason::RegionMissing,
                    stage,
                    format!("{PROVIDER}: the SDK could not resolve the endpoint: Missing Region"),
                )
                .with_remedy("set region in the route53 stanza, e.g. us-east-1"),
                FailureKind::Construction => Finding::error(
                    Reason::InvalidConfig,
                    stage,
                    format!("{PROVIDER}: the {action} request could not be built or signed: {}", failure.message),
                )
                .with_remedy("check the credential values for stray characters such as newlines (accessKeyIDSecretRef is not trimmed)"),
                FailureKind::Service if failure.status.is_some_and(|s| s < 500) => Finding::error(
                    Reason::ProviderUnavailable,
                    stage,
                    format!("{PROVIDER}: {action} failed with {code}: {}", failure.message),
                )
                .with_remedy("see the error code in AWS's Route53 API reference"),
                _ => Finding::error(
                    Reason::ProviderUnavailable,
                    stage,
                    format!("{PROVIDER}: {action} got no usable answer ({:?}): {}", failure.kind, failure.message),
                )
                .with_remedy("retry later; check network access to the AWS endpoint, HTTPS_PROXY and --ca-file"),
            },
        }
    };
    finding.with_evidence(evidence(failure))
}
