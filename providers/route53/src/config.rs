//! Replay of cert-manager's Route53 configuration: the `dns01.route53`
//! stanza, the credential mode `GetSession` picks, and the region rules.
//!
//! cert-manager (`pkg/issuer/acme/dns/route53/session.go`, v1.21.1) checks,
//! in this order: a web-identity token without `role`; no keys, no token and
//! ambient credentials not allowed ("empty credentials"); exactly one of the
//! two keys. It then uses web identity, the default chain (ambient) or the
//! static keys, and assumes `role` with session name `cert-manager` when set.
//! The literal `accessKeyID` and the secret access key are trimmed; a key id
//! read from `accessKeyIDSecretRef` is not.

use crate::client::Endpoints;
use crate::{
    Route53Provider, CLUSTER_ISSUER_AMBIENT_OPTION, ISSUER_AMBIENT_OPTION, ISSUER_KIND_OPTION,
    NAMESERVERS_OPTION, STS_ENDPOINT_OPTION, TOKEN_FILE_OPTION,
};
use acme_token_core::sanity::placeholder_marker;
use acme_token_core::{
    BuildOutcome, Finding, HttpSettings, ProviderSettings, Reason, SecretFieldSpec, SecretValue,
    SolverPlan, Stage,
};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

/// cert-manager field of the access key id reference.
pub(crate) const KEY_ID_FIELD: &str = "accessKeyIDSecretRef";
/// cert-manager field of the secret access key reference.
pub(crate) const SECRET_FIELD: &str = "secretAccessKeySecretRef";
/// RoleSessionName cert-manager sends with AssumeRole.
pub(crate) const SESSION_NAME: &str = "cert-manager";
/// Region the replay uses when none is configured, so the other stages can
/// still be reported; Route53 signs with us-east-1 in the aws partition.
const FALLBACK_REGION: &str = "us-east-1";

/// How the replay authenticates, as cert-manager's `GetSession` decides.
#[derive(Debug, Clone)]
pub(crate) enum Mode {
    /// Access key pair from the stanza and its Secret.
    Static {
        access_key_id: SecretValue,
        secret_access_key: SecretValue,
        /// True when the key id comes from the literal `accessKeyID` field.
        key_id_is_literal: bool,
    },
    /// The AWS default credential chain of the process running the check.
    Ambient,
    /// A ServiceAccount token exchanged with AssumeRoleWithWebIdentity.
    WebIdentity {
        token: SecretValue,
        service_account: String,
    },
}

impl Mode {
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Mode::Static { .. } => "static access keys",
            Mode::Ambient => "ambient credentials (AWS default chain)",
            Mode::WebIdentity { .. } => "web identity (ServiceAccount token)",
        }
    }
}

/// Everything the replay needs, decided at build time.
#[derive(Debug, Clone)]
pub(crate) struct Setup {
    pub mode: Mode,
    /// Role assumed with AssumeRole after the base credentials, or the role
    /// of web identity.
    pub role: Option<String>,
    pub region: String,
    pub hosted_zone_id: Option<String>,
    pub endpoints: Endpoints,
    /// Recursive nameservers for the SOA walk; empty means the system's.
    pub nameservers: Vec<SocketAddr>,
    pub http: HttpSettings,
}

fn invalid(message: String, remedy: &str) -> Finding {
    Finding::error(Reason::InvalidConfig, Stage::Config, message).with_remedy(remedy)
}

fn text_field(stanza: &serde_json::Value, field: &str) -> String {
    stanza
        .get(field)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string()
}

/// Reads a `{name, key}` reference. cert-manager reads
/// `secretAccessKeySecretRef` only when its name is set, so an empty name
/// means the field is unused.
fn read_secret_ref(
    stanza: &serde_json::Value,
    field: &str,
    trimmed: bool,
    findings: &mut Vec<Finding>,
) -> Option<SecretFieldSpec> {
    let value = stanza.get(field)?;
    if value.is_null() {
        return None;
    }
    let Some(object) = value.as_object() else {
        findings.push(invalid(
            format!("route53: {field} must be an object with name and key"),
            "set both name (the Secret) and key (the entry in the Secret)",
        ));
        return None;
    };
    let part = |part: &str| {
        object
            .get(part)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let spec = SecretFieldSpec {
        field: field.to_string(),
        name: part("name"),
        key: part("key"),
        trimmed_by_cert_manager: trimmed,
    };
    if spec.name.trim().is_empty() {
        if field == SECRET_FIELD {
            return None;
        }
        findings.push(invalid(
            format!("route53: {field}.name is empty; cert-manager's webhook rejects it with \"route53 accessKeyIDSecretRef requires a name field to be specified\""),
            "name the Secret that contains the access key id",
        ));
    }
    if spec.key.trim().is_empty() {
        findings.push(invalid(
            format!("route53: {field}.key is empty; cert-manager's webhook requires a key"),
            "name the key inside the Secret",
        ));
    }
    Some(spec)
}

/// Checks the shape `arn:PARTITION:iam::ACCOUNT:role/NAME` of a role ARN.
pub(crate) fn valid_role_arn(arn: &str) -> bool {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    if parts.len() != 6 || parts[0] != "arn" || parts[2] != "iam" || !parts[3].is_empty() {
        return false;
    }
    let partition_ok = matches!(
        parts[1],
        "aws" | "aws-cn" | "aws-us-gov" | "aws-iso" | "aws-iso-b"
    );
    let account_ok = parts[4].len() == 12 && parts[4].chars().all(|c| c.is_ascii_digit());
    let name_ok = parts[5]
        .strip_prefix("role/")
        .is_some_and(|name| !name.is_empty() && !name.chars().any(char::is_whitespace));
    partition_ok && account_ok && name_ok
}

/// Reads the `dns01.route53` stanza the way cert-manager's webhook and
/// `GetSession` do, and lists the Secrets to resolve.
pub(crate) fn plan(stanza: &serde_json::Value) -> SolverPlan {
    let mut plan = SolverPlan::default();
    if !stanza.is_object() {
        plan.findings.push(invalid(
            "route53: the route53 solver stanza is not an object".to_string(),
            "set region and either accessKeyID/accessKeyIDSecretRef with secretAccessKeySecretRef, role, or nothing for ambient credentials under dns01.route53",
        ));
        plan.unusable = true;
        return plan;
    }

    let literal_key = text_field(stanza, "accessKeyID");
    let key_ref = read_secret_ref(stanza, KEY_ID_FIELD, false, &mut plan.findings);
    let secret_ref = read_secret_ref(stanza, SECRET_FIELD, true, &mut plan.findings);
    if !literal_key.trim().is_empty() && key_ref.is_some() {
        plan.findings.push(invalid(
            "route53: accessKeyID and accessKeyIDSecretRef are both set; cert-manager's webhook rejects this with \"route53 accessKeyID and accessKeyIDSecretRef cannot both be specified\"".to_string(),
            "keep one of them: accessKeyIDSecretRef keeps the key id out of the Issuer",
        ));
        plan.unusable = true;
    }

    for field in ["region", "role", "hostedZoneID", "accessKeyID"] {
        let value = text_field(stanza, field);
        if let Some(marker) = placeholder_marker(&value) {
            plan.findings.push(
                Finding::error(
                    Reason::PlaceholderUnexpanded,
                    Stage::Config,
                    format!("route53: {field} holds an unexpanded placeholder ({marker} form)"),
                )
                .with_remedy("render the template (helm template, kustomize build, envsubst) or write the real value"),
            );
            plan.unusable = true;
        } else if !value.is_empty() {
            plan.settings.insert(field.to_string(), value);
        }
    }

    let role = text_field(stanza, "role");
    if !role.is_empty() && !valid_role_arn(role.trim()) {
        plan.findings.push(invalid(
            format!("route53: role {role:?} is not an IAM role ARN; STS rejects it before any permission is checked"),
            "write the role ARN as arn:aws:iam::ACCOUNT_ID:role/NAME (12-digit account id)",
        ));
        plan.unusable = true;
    }

    if let Some(kubernetes) = stanza.pointer("/auth/kubernetes") {
        let name = kubernetes
            .pointer("/serviceAccountRef/name")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if name.trim().is_empty() {
            plan.findings.push(invalid(
                "route53: auth.kubernetes.serviceAccountRef.name is empty; cert-manager fails with \"service account name is required for Kubernetes auth\"".to_string(),
                "name the ServiceAccount whose token cert-manager exchanges for the role",
            ));
            plan.unusable = true;
        } else {
            plan.settings
                .insert("serviceAccount".to_string(), name.to_string());
        }
        if role.trim().is_empty() {
            plan.findings.push(invalid(
                "route53: auth.kubernetes is set without role; cert-manager fails with \"unable to construct route53 provider: role must be set when web identity token is set\"".to_string(),
                "set role to the IAM role ARN whose trust policy accepts the ServiceAccount's token",
            ));
            plan.unusable = true;
        }
    }

    plan.secrets = key_ref.into_iter().chain(secret_ref).collect();
    plan
}

/// Decides the credential mode and region from the plan, the resolved
/// Secrets and the options, and builds the provider.
pub(crate) fn build(
    plan: &SolverPlan,
    secrets: &BTreeMap<String, SecretValue>,
    settings: &ProviderSettings,
) -> BuildOutcome {
    let mut findings = Vec::new();
    let setting = |name: &str| {
        plan.settings
            .get(name)
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
    };
    let option = |name: &str| settings.options.get(name).map(String::as_str);
    let role = setting("role");
    let kind = option(ISSUER_KIND_OPTION).unwrap_or("ClusterIssuer");

    let literal_key = setting("accessKeyID");
    let key_from_ref = secrets.get(KEY_ID_FIELD).cloned();
    let key_ref_planned = plan.secrets.iter().any(|s| s.field == KEY_ID_FIELD);
    let secret_planned = plan.secrets.iter().any(|s| s.field == SECRET_FIELD);
    // A planned field missing from `secrets` could not be resolved, and the
    // config stage already said why.
    if (key_ref_planned && key_from_ref.is_none())
        || (secret_planned && !secrets.contains_key(SECRET_FIELD))
    {
        return BuildOutcome {
            provider: None,
            findings,
        };
    }
    let access_key_id = match (&literal_key, key_from_ref) {
        (Some(literal), _) => Some((SecretValue::new(literal.clone()), true)),
        (None, Some(value)) if !value.is_empty() => Some((value, false)),
        _ => None,
    };
    let secret_access_key = secrets
        .get(SECRET_FIELD)
        .map(SecretValue::trimmed)
        .filter(|v| !v.is_empty());

    let mode = if let Some(service_account) = setting("serviceAccount") {
        match option(TOKEN_FILE_OPTION) {
            Some(path) => match std::fs::read(path) {
                Ok(bytes) => Mode::WebIdentity {
                    token: SecretValue::from_bytes(&bytes).trimmed(),
                    service_account,
                },
                Err(err) => {
                    findings.push(invalid(
                        format!("route53: cannot read the web identity token file {path}: {err}"),
                        "pass --web-identity-token-file with a readable file holding the ServiceAccount token",
                    ));
                    return BuildOutcome {
                        provider: None,
                        findings,
                    };
                }
            },
            None => {
                findings.push(
                    Finding::warning(
                        Reason::Notice,
                        Stage::Config,
                        format!("route53: web identity needs a token of ServiceAccount {service_account}, which cert-manager requests from the Kubernetes TokenRequest API; this run has none, so the credential is not checked"),
                    )
                    .with_remedy(format!("pass --web-identity-token-file with the output of `kubectl create token {service_account} -n NAMESPACE --audience sts.amazonaws.com`")),
                );
                return BuildOutcome {
                    provider: None,
                    findings,
                };
            }
        }
    } else {
        match (access_key_id, secret_access_key) {
            (None, None) => {
                let allowed = match kind {
                    "Issuer" => option(ISSUER_AMBIENT_OPTION) == Some("true"),
                    _ => option(CLUSTER_ISSUER_AMBIENT_OPTION) != Some("false"),
                };
                if !allowed {
                    let flag = if kind == "Issuer" {
                        "--issuer-ambient-credentials"
                    } else {
                        "--cluster-issuer-ambient-credentials"
                    };
                    findings.push(invalid(
                        format!("route53: no access keys are set and ambient credentials are not allowed for an {kind} ({flag}=false); cert-manager fails with \"unable to construct route53 provider: empty credentials; perhaps you meant to enable ambient credentials?\""),
                        &format!("set accessKeyIDSecretRef and secretAccessKeySecretRef, use a ClusterIssuer, or start the controller with {flag}=true (and pass the same flag here)"),
                    ));
                    return BuildOutcome {
                        provider: None,
                        findings,
                    };
                }
                findings.push(
                    Finding::warning(
                        Reason::Notice,
                        Stage::Config,
                        "route53: the solver uses ambient credentials; this check uses the AWS default chain of the machine running it, which may differ from the cert-manager controller's identity".to_string(),
                    )
                    .with_remedy("run the check as an in-cluster Job under cert-manager's ServiceAccount to test the controller's own identity"),
                );
                Mode::Ambient
            }
            (Some((access_key_id, key_id_is_literal)), Some(secret_access_key)) => {
                if access_key_id.expose().trim().starts_with("ASIA") {
                    findings.push(
                        Finding::error(
                            Reason::TemporaryCredentialsWithoutSession,
                            Stage::Config,
                            "route53: the access key id starts with ASIA, so it belongs to temporary credentials that only work with their session token, and the Route53 solver has no session-token field".to_string(),
                        )
                        .with_remedy("use a long-lived IAM user key (AKIA…), or let cert-manager get temporary credentials itself through role, IRSA (web identity) or ambient credentials"),
                    );
                }
                Mode::Static {
                    access_key_id,
                    secret_access_key,
                    key_id_is_literal,
                }
            }
            (key, _) => {
                let (set, missing) = if key.is_some() {
                    ("the access key id", SECRET_FIELD)
                } else {
                    (
                        "secretAccessKeySecretRef",
                        "accessKeyID or accessKeyIDSecretRef",
                    )
                };
                findings.push(invalid(
                    format!("route53: only {set} is set; cert-manager fails with \"unable to construct route53 provider: only one of access and secret key was provided\""),
                    &format!("set {missing} as well, or remove both keys to use ambient credentials"),
                ));
                return BuildOutcome {
                    provider: None,
                    findings,
                };
            }
        }
    };

    let region = decide_region(
        setting("region"),
        matches!(mode, Mode::Ambient),
        &mut findings,
    );
    let nameservers = match option(NAMESERVERS_OPTION) {
        Some(list) if !list.trim().is_empty() => match parse_nameservers(list) {
            Ok(servers) => servers,
            Err(message) => {
                findings.push(invalid(message, "write --dns01-recursive-nameservers as host:port entries separated by commas, e.g. 127.0.0.1:53"));
                return BuildOutcome {
                    provider: None,
                    findings,
                };
            }
        },
        _ => Vec::new(),
    };

    let endpoints = Endpoints {
        route53: settings.endpoint.clone(),
        sts: option(STS_ENDPOINT_OPTION).map(str::to_string),
    };
    let account_key = match &mode {
        Mode::Static { access_key_id, .. } => format!("route53:{}", access_key_id.fingerprint()),
        Mode::Ambient => "route53:ambient".to_string(),
        Mode::WebIdentity { .. } => format!("route53:{}", role.clone().unwrap_or_default()),
    };
    let mut summary = Vec::new();
    if let Mode::Static {
        access_key_id,
        key_id_is_literal: true,
        ..
    } = &mode
    {
        summary.push((
            "accessKeyID".to_string(),
            access_key_id.expose().to_string(),
        ));
    }
    if let Some(role) = &role {
        summary.push(("role".to_string(), role.clone()));
    }
    let setup = Setup {
        mode,
        role,
        region,
        hosted_zone_id: setting("hostedZoneID").map(|id| crate::client::bare_id(&id).to_string()),
        endpoints,
        nameservers,
        http: settings.http.clone(),
    };
    let provider = Route53Provider {
        setup,
        session: tokio::sync::OnceCell::new(),
        account_key,
        summary,
        listed: Default::default(),
    };
    BuildOutcome {
        provider: Some(Arc::new(provider)),
        findings,
    }
}

/// Applies cert-manager's region rule: the Issuer's `region`, except in
/// ambient mode when `AWS_REGION` or `AWS_DEFAULT_REGION` is set, which then
/// wins. Without any region the SDK fails every call with "Missing Region".
fn decide_region(configured: Option<String>, ambient: bool, findings: &mut Vec<Finding>) -> String {
    let env_region = ["AWS_REGION", "AWS_DEFAULT_REGION"]
        .iter()
        .find_map(|name| {
            std::env::var(name)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .map(|v| (*name, v))
        });
    match (configured, env_region) {
        (Some(configured), Some((name, env))) if ambient => {
            if configured != env {
                findings.push(Finding::info(
                    Reason::Notice,
                    Stage::Config,
                    format!("route53: {name}={env} is set, so in ambient mode cert-manager ignores region {configured} from the Issuer, as this check does"),
                ));
            }
            env
        }
        (Some(configured), _) => configured,
        (None, Some((name, env))) => {
            findings.push(
                Finding::warning(
                    Reason::RegionMissing,
                    Stage::Config,
                    format!("route53: the solver sets no region; this check uses {name}={env} from its own environment, and the cert-manager controller works only if its environment sets a region too"),
                )
                .with_remedy("set region in the route53 stanza (any region works for Route53, e.g. us-east-1)"),
            );
            env
        }
        (None, None) => {
            findings.push(
                Finding::error(
                    Reason::RegionMissing,
                    Stage::Config,
                    format!("route53: the solver sets no region and none is in the environment; cert-manager's calls fail with \"failed to resolve service endpoint, endpoint rule error, Invalid Configuration: Missing Region\" unless the controller's environment sets AWS_REGION (this check continues with {FALLBACK_REGION})"),
                )
                .with_remedy("set region in the route53 stanza (any region works for Route53, e.g. us-east-1)"),
            );
            FALLBACK_REGION.to_string()
        }
    }
}

/// Parses `host:port` entries (a bare IP gets port 53, as cert-manager adds).
pub(crate) fn parse_nameservers(list: &str) -> Result<Vec<SocketAddr>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            entry
                .parse::<SocketAddr>()
                .or_else(|_| entry.parse::<std::net::IpAddr>().map(|ip| SocketAddr::new(ip, 53)))
                .map_err(|_| format!("invalid recursive nameserver {entry:?}: expected IP:PORT, such as 127.0.0.1:53 or [::1]:53"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn role_arn_shapes() {
        assert!(valid_role_arn("arn:aws:iam::123456789012:role/dns"));
        assert!(valid_role_arn("arn:aws:iam::123456789012:role/path/dns"));
        assert!(!valid_role_arn("arn:aws:iam::12345:role/dns"));
        assert!(!valid_role_arn("arn:aws:iam::123456789012:user/dns"));
        assert!(!valid_role_arn("dns"));
    }

    #[test]
    fn plan_trims_only_secret_key() {
        let plan = plan(&json!({
            "region": "eu-west-1",
            "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
            "secretAccessKeySecretRef": {"name": "aws", "key": "secret"},
        }));
        assert!(plan.findings.is_empty(), "{:?}", plan.findings);
        let trimmed: Vec<(&str, bool)> = plan
            .secrets
            .iter()
            .map(|s| (s.field.as_str(), s.trimmed_by_cert_manager))
            .collect();
        assert_eq!(trimmed, [(KEY_ID_FIELD, false), (SECRET_FIELD, true)]);
    }

    #[test]
    fn plan_rejects_both_key_fields() {
        let plan = plan(&json!({
            "accessKeyID": "AKIAIOSFODNN7EXAMPLE",
            "accessKeyIDSecretRef": {"name": "aws", "key": "id"},
        }));
        assert!(plan.unusable);
        assert!(plan.findings[0]
            .message
            .contains("cannot both be specified"));
    }

    #[test]
    fn secret_ref_without_name_is_unused() {
        let plan = plan(&json!({"secretAccessKeySecretRef": {"name": "", "key": "x"}}));
        assert!(plan.secrets.is_empty());
    }

    #[test]
    fn nameservers_parse() {
        let servers = parse_nameservers("127.0.0.1:5353, ::1").unwrap_or_default();
        assert_eq!(servers.len(), 2);
        assert_eq!(servers[1].port(), 53);
        assert!(parse_nameservers("dns.example").is_err());
    }
}
