//! Mapping of failed Cloudflare requests to finding reasons and remedies.
//!
//! Cloudflare's published spec defines only a generic failure envelope, so the
//! codes below come from responses quoted in public bug reports: 1000 "Invalid
//! API Token", 6003 "Invalid request headers" with chained 6102/6103/6111,
//! 9109 "Invalid access token" and "Cannot use the access token from
//! location: …", 10000 "Authentication error", 7000/7003 for an unroutable
//! identifier, 81044 "Record does not exist.", and 81057/81058 for a
//! duplicate record. [`diagnose`] is the only place that interprets them.
//!
//! NOTE: the reports quote the message "Unknown X-Auth-Key or X-Auth-Email"
//! without its code. The code 9103 matched with it is unconfirmed, so the
//! message is matched as well.

use crate::client::{ApiFailure, FailureKind};
use crate::config::{CredentialShape, SecretLocation};
use acme_token_core::{Evidence, Finding, Reason, Severity, Stage};

/// Permission that cert-manager needs to find the zone.
pub(crate) const ZONE_READ: &str = "Zone / Zone / Read";
/// Permission that cert-manager needs to list, create and delete TXT records.
pub(crate) const DNS_EDIT: &str = "Zone / DNS / Edit";

/// Top-level domains for which Cloudflare rejects DNS changes through the
/// API, as cert-manager's Cloudflare documentation states.
const API_BLOCKED_TLDS: &[&str] = &["cf", "ga", "gq", "ml", "tk"];

/// The request that failed, as far as the meaning of an error depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Call {
    VerifyUserToken,
    VerifyAccountToken,
    /// `GET /zones?per_page=5`, used as the identity call of a global key.
    KeyIdentity,
    /// `GET /zones?name=…`, one step of cert-manager's zone walk.
    ZoneLookup,
    /// `GET /zones?per_page=…`, listing the zones the credential can see.
    ListZones,
    ListRecords,
    CreateRecord,
    DeleteRecord,
    /// The `--no-write` delete of a record id that does not exist.
    InferDelete,
}

/// Context of a failed request that [`diagnose`] needs besides the failure.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CallContext<'a> {
    pub call: Call,
    /// True when the request carried `Authorization: Bearer`.
    pub token_mode: bool,
    pub shape: CredentialShape,
    pub zone: Option<&'a str>,
    pub location: &'a SecretLocation,
}

/// Reason, severity, message and remedy of one failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnosis {
    pub reason: Reason,
    pub severity: Severity,
    pub message: String,
    pub remedy: String,
}

impl Diagnosis {
    fn error(reason: Reason, message: String, remedy: String) -> Self {
        Self {
            reason,
            severity: Severity::Error,
            message,
            remedy,
        }
    }
}

/// Describes the response in a few words: `HTTP 403, 10000 Authentication error`.
pub(crate) fn describe_response(failure: &ApiFailure) -> String {
    match failure.kind {
        FailureKind::Timeout => "timed out".to_string(),
        FailureKind::Transport => format!("failed: {}", failure.detail),
        FailureKind::Interrupted => "was abandoned after the run was cancelled".to_string(),
        FailureKind::Unsendable => failure.detail.clone(),
        FailureKind::Malformed => match failure.status {
            Some(status) => format!("returned HTTP {status} with a body that is not a Cloudflare v4 response"),
            None => "returned a body that is not a Cloudflare v4 response".to_string(),
        },
        FailureKind::Api => {
            let status = failure
                .status
                .map(|s| format!("HTTP {s}"))
                .unwrap_or_else(|| "an error".to_string());
            match (failure.first_code(), failure.joined_messages()) {
                (Some(code), Some(messages)) => format!("returned {status}, {code} {messages}"),
                _ => format!("returned {status}"),
            }
        }
    }
}

/// Builds the evidence of a failure: request line, status, code and message.
/// Request headers are never part of it.
pub(crate) fn evidence(failure: &ApiFailure) -> Evidence {
    let provider_message = failure.joined_messages().or_else(|| {
        (!failure.detail.is_empty()).then(|| failure.detail.clone())
    });
    Evidence {
        request: Some(failure.request.clone()),
        http_status: failure.status,
        provider_code: failure.first_code().map(|c| c.to_string()),
        provider_message,
    }
}

/// Builds the finding for a failure at `stage`, with evidence.
pub(crate) fn failure_finding(stage: Stage, failure: &ApiFailure, cx: &CallContext<'_>) -> Finding {
    let diagnosis = diagnose(failure, cx);
    Finding::new(diagnosis.reason, diagnosis.severity, stage, diagnosis.message)
        .with_remedy(diagnosis.remedy)
        .with_evidence(evidence(failure))
}

fn credential_word(cx: &CallContext<'_>) -> &'static str {
    if cx.token_mode {
        "API token"
    } else {
        "global API key"
    }
}

fn zone_text(cx: &CallContext<'_>) -> String {
    cx.zone
        .map(|zone| format!("zone {zone}"))
        .unwrap_or_else(|| "the zone".to_string())
}

fn zone_scope(cx: &CallContext<'_>) -> String {
    cx.zone
        .map(|zone| format!("Zone Resources: all zones, or include {zone}"))
        .unwrap_or_else(|| "Zone Resources: all zones, or include the zone".to_string())
}

/// Maps a failed request to a reason, a message naming what is wrong, and a
/// remedy. This is the single place where Cloudflare status codes and error
/// codes are interpreted; the replay only adds evidence.
///
/// | response | reason |
/// |---|---|
/// | credential not sendable as a header | `AuthInvalid` |
/// | HTTP 429 | `RateLimited` |
/// | timeout, reset, HTTP 5xx, body not a v4 envelope | `ProviderUnavailable` |
/// | 6003 with 6111 for a global key sent as Bearer, 6103 for a token sent as X-Auth-Key | `CredentialFieldMismatch` |
/// | other 6003 or 1001 (header format) | `AuthInvalid` |
/// | 9109 "Cannot use the access token from location" | `IpRestricted` |
/// | 9103, or "Unknown X-Auth-Key or X-Auth-Email" | `AuthInvalid` |
/// | HTTP 401, 1000, 9109, or 10000 on a verify call or with a global key | `AuthInvalid` (stale) |
/// | HTTP 403, 10000 or "requires permission" on zone calls | `PermissionMissing` (Zone / Zone / Read) |
/// | the same on record calls | `PermissionMissing` (Zone / DNS / Edit) |
/// | 7000/7003 on the account verify | `InvalidConfig` (account-id) |
/// | 7000/7003 on record calls | `ZoneNotVisible` |
/// | other 4xx on create | `UpdateRefused` |
/// | anything else | `ProviderUnavailable` |
pub(crate) fn diagnose(failure: &ApiFailure, cx: &CallContext<'_>) -> Diagnosis {
    let response = describe_response(failure);
    let request = &failure.request;
    let location = cx.location.describe();

    if failure.kind == FailureKind::Unsendable {
        return Diagnosis::error(
            Reason::AuthInvalid,
            format!("cloudflare: {location} cannot be sent: {response}"),
            format!("store only the credential, as printable ASCII, under {location}"),
        );
    }

    if failure.is_rate_limited() {
        let wait = failure
            .retry_after
            .map(|secs| format!("{secs} s"))
            .unwrap_or_else(|| "5 minutes".to_string());
        return Diagnosis::error(
            Reason::RateLimited,
            format!(
                "cloudflare: {request} {response}: the credential's limit of 1200 requests per 5 minutes is used up, and Cloudflare blocks all of its calls, cert-manager's included, until it resets"
            ),
            format!("wait {wait} before checking this credential again, and lower --concurrency or the request budget"),
        );
    }

    let server_error = matches!(failure.status, Some(500..=599));
    if server_error
        || matches!(
            failure.kind,
            FailureKind::Timeout | FailureKind::Transport | FailureKind::Malformed | FailureKind::Interrupted
        )
    {
        return Diagnosis::error(
            Reason::ProviderUnavailable,
            format!("cloudflare: {request} {response}"),
            "retry later; if it persists, check network access to the API endpoint, HTTPS_PROXY and --ca-file".to_string(),
        );
    }

    let header_format = failure.has_code(6003) || failure.has_code(1001);
    if header_format {
        if failure.has_code(6111) && cx.token_mode && cx.shape == CredentialShape::GlobalKey {
            return Diagnosis::error(
                Reason::CredentialFieldMismatch,
                format!(
                    "cloudflare: {request} {response}: {location} contains a global API key, which was sent as an API token (Authorization: Bearer)"
                ),
                "reference the key from apiKeySecretRef and set email, or create a scoped API token with Zone / Zone / Read and Zone / DNS / Edit".to_string(),
            );
        }
        if failure.has_code(6103) && !cx.token_mode && cx.shape.is_token() {
            return Diagnosis::error(
                Reason::CredentialFieldMismatch,
                format!(
                    "cloudflare: {request} {response}: {location} contains an API token, which was sent as a global API key (X-Auth-Key)"
                ),
                "reference the Secret from apiTokenSecretRef instead of apiKeySecretRef, and remove email".to_string(),
            );
        }
        if failure.has_code(6102) {
            return Diagnosis::error(
                Reason::AuthInvalid,
                format!("cloudflare: {request} {response}: the email is not a valid email address"),
                "set email to the login email of the Cloudflare account that owns the global API key".to_string(),
            );
        }
        let word = credential_word(cx);
        return Diagnosis::error(
            Reason::AuthInvalid,
            format!(
                "cloudflare: {request} {response}: {location} does not have the format of a Cloudflare {word}"
            ),
            format!(
                "copy the {word} again from the Cloudflare dashboard (My Profile > API Tokens) and update {location}; an API token belongs in apiTokenSecretRef, a global API key in apiKeySecretRef with email"
            ),
        );
    }

    if failure.has_code(9109) && failure.message_contains("cannot use the access token from location") {
        return Diagnosis::error(
            Reason::IpRestricted,
            format!(
                "cloudflare: {request} {response}: the token's client IP address filter excludes the address this check runs from"
            ),
            "add the cluster's egress addresses to the token's Client IP Address Filtering; the cluster's egress address may differ from this checker's, so run the check in the cluster (a Job or watch mode) to see what cert-manager gets".to_string(),
        );
    }

    if failure.has_code(9103) || failure.message_contains("unknown x-auth-key or x-auth-email") {
        return Diagnosis::error(
            Reason::AuthInvalid,
            format!(
                "cloudflare: {request} {response}: Cloudflare does not accept this global API key with this email; the key is stale (changed in the dashboard) or the email is not the account's login"
            ),
            format!(
                "copy the current global API key (My Profile > API Tokens > Global API Key) into {location} and check that email is the account's login email, or move to a scoped API token"
            ),
        );
    }

    let verify_call = matches!(cx.call, Call::VerifyUserToken | Call::VerifyAccountToken);
    let authentication_error = failure.status == Some(401)
        || failure.has_code(1000)
        || failure.has_code(9109)
        || (failure.has_code(10000) && (verify_call || !cx.token_mode));
    if authentication_error {
        let word = credential_word(cx);
        let remedy = if cx.token_mode {
            format!(
                "create a new API token (or roll this one) with Zone / Zone / Read and Zone / DNS / Edit, then update {location} with it"
            )
        } else {
            format!("copy the current global API key into {location}, or move to a scoped API token in apiTokenSecretRef")
        };
        return Diagnosis::error(
            Reason::AuthInvalid,
            format!(
                "cloudflare: {request} {response}: Cloudflare rejects the {word}, so the credential is stale (rotated, rolled or revoked) or was never valid"
            ),
            remedy,
        );
    }

    let denied = failure.status == Some(403)
        || failure.has_code(10000)
        || failure.message_contains("requires permission");
    if denied {
        return match cx.call {
            Call::ZoneLookup | Call::ListZones | Call::KeyIdentity => Diagnosis::error(
                Reason::PermissionMissing,
                format!("cloudflare: {request} {response}: the token cannot list zones, so it lacks {ZONE_READ}"),
                format!("grant {ZONE_READ} to the token ({})", zone_scope(cx)),
            ),
            Call::ListRecords => Diagnosis::error(
                Reason::PermissionMissing,
                format!(
                    "cloudflare: {request} {response}: the token cannot list DNS records in {}, which cert-manager does before every create and delete",
                    zone_text(cx)
                ),
                format!("grant {DNS_EDIT} to the token ({})", zone_scope(cx)),
            ),
            Call::CreateRecord | Call::InferDelete => {
                let inference = if cx.call == Call::InferDelete {
                    " (inferred from the delete of a record that does not exist)"
                } else {
                    ""
                };
                Diagnosis::error(
                    Reason::PermissionMissing,
                    format!(
                        "cloudflare: {request} {response}: the token can read {} but cannot edit its DNS records, so it is read-only{inference}",
                        zone_text(cx)
                    ),
                    format!("grant {DNS_EDIT} to the token ({})", zone_scope(cx)),
                )
            }
            Call::DeleteRecord => Diagnosis::error(
                Reason::PermissionMissing,
                format!(
                    "cloudflare: {request} {response}: the token cannot delete DNS records in {}",
                    zone_text(cx)
                ),
                format!("grant {DNS_EDIT} to the token ({})", zone_scope(cx)),
            ),
            Call::VerifyUserToken | Call::VerifyAccountToken => Diagnosis::error(
                Reason::AuthInvalid,
                format!("cloudflare: {request} {response}: Cloudflare rejects the verify request"),
                format!(
                    "create a new API token (or roll this one) with {ZONE_READ} and {DNS_EDIT}, then update {location} with it"
                ),
            ),
        };
    }

    let unroutable = failure.has_code(7003) || failure.has_code(7000);
    if unroutable && cx.call == Call::VerifyAccountToken {
        return Diagnosis::error(
            Reason::InvalidConfig,
            format!("cloudflare: {request} {response}: the account id is not valid"),
            "set the account-id option to the 32-character id of the account that owns the token (dashboard URL or a zone's Overview page)".to_string(),
        );
    }
    if unroutable
        && matches!(
            cx.call,
            Call::ListRecords | Call::CreateRecord | Call::DeleteRecord | Call::InferDelete
        )
    {
        return Diagnosis::error(
            Reason::ZoneNotVisible,
            format!("cloudflare: {request} {response}: Cloudflare does not route the id of {}", zone_text(cx)),
            format!("check that the token's Zone Resources include {}", zone_text(cx)),
        );
    }

    if cx.call == Call::CreateRecord && matches!(failure.status, Some(400..=499)) {
        let blocked_tld = cx
            .zone
            .and_then(|zone| zone.rsplit('.').next())
            .filter(|tld| API_BLOCKED_TLDS.contains(&tld.to_ascii_lowercase().as_str()));
        let remedy = match blocked_tld {
            Some(tld) => format!(
                "Cloudflare rejects API changes to DNS records of .{tld} domains, so cert-manager cannot solve DNS-01 challenges there; use another DNS provider for this domain"
            ),
            None => "read Cloudflare's error above; cert-manager's create would fail the same way".to_string(),
        };
        return Diagnosis::error(
            Reason::UpdateRefused,
            format!("cloudflare: {request} {response}: Cloudflare rejected the create of the TXT record in {}", zone_text(cx)),
            remedy,
        );
    }

    Diagnosis::error(
        Reason::ProviderUnavailable,
        format!("cloudflare: {request} {response}"),
        "read Cloudflare's error above; cert-manager would get the same response".to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::ApiMessage;

    fn location() -> SecretLocation {
        SecretLocation {
            field: "apiTokenSecretRef".into(),
            name: "cf".into(),
            key: "api-token".into(),
            source: None,
        }
    }

    fn api_failure(status: u16, code: i64, message: &str) -> ApiFailure {
        ApiFailure {
            request: "GET /zones?name=example.com".into(),
            status: Some(status),
            kind: FailureKind::Api,
            errors: vec![ApiMessage {
                code,
                message: message.into(),
                error_chain: vec![],
            }],
            retry_after: None,
            detail: String::new(),
        }
    }

    fn context(call: Call, location: &SecretLocation) -> CallContext<'_> {
        CallContext {
            call,
            token_mode: true,
            shape: CredentialShape::LegacyToken,
            zone: Some("example.com"),
            location,
        }
    }

    #[test]
    fn permission_depends_on_call() {
        let location = location();
        let failure = api_failure(403, 10000, "Authentication error");
        let zone = diagnose(&failure, &context(Call::ZoneLookup, &location));
        assert_eq!(zone.reason, Reason::PermissionMissing);
        assert!(zone.remedy.contains(ZONE_READ), "{}", zone.remedy);
        let create = diagnose(&failure, &context(Call::CreateRecord, &location));
        assert_eq!(create.reason, Reason::PermissionMissing);
        assert!(create.remedy.contains(DNS_EDIT), "{}", create.remedy);
        assert!(create.message.contains("read-only"), "{}", create.message);
        let verify = diagnose(&failure, &context(Call::VerifyUserToken, &location));
        assert_eq!(verify.reason, Reason::AuthInvalid);
    }

    #[test]
    fn old_permission_message_names_zone_read() {
        let location = location();
        let failure = api_failure(
            403,
            0,
            "Actor 'com.cloudflare.api.token.abc' requires permission 'com.cloudflare.api.account.zone.list' to list zones",
        );
        let diagnosis = diagnose(&failure, &context(Call::ZoneLookup, &location));
        assert_eq!(diagnosis.reason, Reason::PermissionMissing);
        assert!(diagnosis.remedy.contains(ZONE_READ));
    }

    #[test]
    fn blocked_tld_is_named() {
        let location = location();
        let failure = api_failure(400, 1004, "DNS Validation Error");
        let mut cx = context(Call::CreateRecord, &location);
        cx.zone = Some("example.tk");
        let diagnosis = diagnose(&failure, &cx);
        assert_eq!(diagnosis.reason, Reason::UpdateRefused);
        assert!(diagnosis.remedy.contains(".tk"), "{}", diagnosis.remedy);
    }

    #[test]
    fn server_error_is_unavailable() {
        let location = location();
        let failure = api_failure(502, 0, "bad gateway");
        let diagnosis = diagnose(&failure, &context(Call::ListRecords, &location));
        assert_eq!(diagnosis.reason, Reason::ProviderUnavailable);
    }
}
