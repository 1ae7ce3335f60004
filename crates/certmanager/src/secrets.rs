//! Finding the Secrets a solver references, where cert-manager reads them.
//!
//! cert-manager reads the Secrets of an Issuer from the Issuer's namespace
//! and those of a ClusterIssuer from its cluster resource namespace
//! (`--cluster-resource-namespace`, which cert-manager's Helm chart sets to
//! the namespace cert-manager runs in). A Secret anywhere else does not
//! exist as far as cert-manager is concerned.

use crate::resources::{Encryption, ExternalSecret, Inventory, ProducerKind, Secret, SecretData};
use acme_token_core::sanity::{check_secret_value, placeholder_marker, ValueOrigin};
use acme_token_core::{Finding, Reason, SecretValue, Severity, Stage};
use serde_json::Value;
use std::collections::BTreeMap;

/// One Secret value a solver needs.
#[derive(Debug, Clone)]
pub(crate) struct SecretRequest {
    /// cert-manager field, such as `apiTokenSecretRef`.
    pub field: String,
    pub name: String,
    /// `None` when only the Secret's name is configured and the key is
    /// fixed by the consumer (some webhooks); only existence is checked.
    pub key: Option<String>,
    pub trimmed_by_cert_manager: bool,
}

/// Scope of one issuer's Secrets: where cert-manager reads them.
pub(crate) struct SecretScope<'a> {
    /// `ClusterIssuer x` or `Issuer ns/x`.
    pub issuer: String,
    pub cluster_scoped: bool,
    /// Namespace cert-manager reads the issuer's Secrets from.
    pub namespace: &'a str,
    /// Namespace of objects in the input that have none.
    pub default_namespace: &'a str,
    /// True when a Secret missing from the input cannot be looked up
    /// elsewhere (`--offline`, or files only), so the check is skipped.
    pub offline: bool,
}

/// Result of resolving a solver's Secrets.
#[derive(Debug, Default)]
pub(crate) struct Resolution {
    /// Values by cert-manager field, untrimmed.
    pub values: BTreeMap<String, SecretValue>,
    pub findings: Vec<Finding>,
    /// Set when a Secret cannot be read here (encrypted, or produced by an
    /// operator at run time while offline).
    pub skip: Option<Finding>,
    pub context: BTreeMap<String, String>,
    /// `namespace/name` of every Secret read.
    pub secrets: Vec<String>,
}

/// Resolves every request in the order given.
pub(crate) fn resolve(
    requests: &[SecretRequest],
    scope: &SecretScope<'_>,
    inventory: &Inventory,
) -> Resolution {
    let mut resolution = Resolution::default();
    for request in requests {
        resolve_one(request, scope, inventory, &mut resolution);
    }
    resolution
}

fn namespace_of<'s>(namespace: &'s Option<String>, scope: &'s SecretScope<'_>) -> &'s str {
    namespace.as_deref().unwrap_or(scope.default_namespace)
}

fn resolve_one(
    request: &SecretRequest,
    scope: &SecretScope<'_>,
    inventory: &Inventory,
    out: &mut Resolution,
) {
    let field = &request.field;
    if request.name.is_empty() {
        out.findings.push(
            Finding::error(
                Reason::InvalidConfig,
                Stage::Config,
                format!("{field}.name is empty"),
            )
            .with_remedy(format!(
                "set {field}.name to the name of the Secret that holds the credential"
            )),
        );
        return;
    }
    if request.key.as_deref() == Some("") {
        out.findings.push(
            Finding::error(
                Reason::InvalidConfig,
                Stage::Config,
                format!("{field}.key is empty"),
            )
            .with_remedy(format!(
                "set {field}.key to the key inside Secret {} that holds the credential",
                request.name
            )),
        );
        return;
    }
    if let Some(marker) = placeholder_marker(&request.name) {
        out.findings.push(
            Finding::error(
                Reason::PlaceholderUnexpanded,
                Stage::Config,
                format!("{field}.name holds an unexpanded placeholder ({marker} form), not a Secret name"),
            )
            .with_remedy("render the template first (helm template, kustomize build, envsubst) or write the Secret's name"),
        );
        return;
    }

    let qualified = format!("{}/{}", scope.namespace, request.name);
    if !out.secrets.contains(&qualified) {
        out.secrets.push(qualified.clone());
    }
    let found = inventory.secrets.iter().find(|secret| {
        secret.name == request.name && namespace_of(&secret.namespace, scope) == scope.namespace
    });
    let producer = inventory.external_secrets.iter().find(|producer| {
        producer.target_name == request.name
            && namespace_of(&producer.namespace, scope) == scope.namespace
    });

    if let Some(producer) = producer {
        link_producer(producer, scope, out);
    }
    match found {
        Some(secret) => read_value(request, secret, scope, inventory, out),
        None => missing_secret(request, producer, scope, inventory, out),
    }
}

fn link_producer(producer: &ExternalSecret, scope: &SecretScope<'_>, out: &mut Resolution) {
    let key = match producer.kind {
        ProducerKind::ExternalSecret => "externalSecret",
        ProducerKind::OnePasswordItem => "onePasswordItem",
    };
    let name = format!(
        "{}/{}",
        namespace_of(&producer.namespace, scope),
        producer.name
    );
    if let Some(interval) = &producer.refresh_interval {
        out.context
            .insert("refreshInterval".to_string(), interval.clone());
    }
    if let Some(ready) = &producer.ready {
        out.context
            .insert("externalSecretReady".to_string(), ready.describe());
        if ready.status == "False" && !out.findings.iter().any(|f| f.reason == Reason::ExternalSecretNotReady) {
            out.findings.push(
                Finding::warning(
                    Reason::ExternalSecretNotReady,
                    Stage::Config,
                    format!(
                        "{} {name}, which writes Secret {}/{}, is not ready (Ready={}): its last sync failed, so the Secret may still hold an older value",
                        producer.kind.as_str(),
                        scope.namespace,
                        producer.target_name,
                        ready.describe()
                    ),
                )
                .with_remedy(format!(
                    "fix the {kind} (kubectl describe {lower} -n {namespace} {short}), then run this check again",
                    kind = producer.kind.as_str(),
                    lower = producer.kind.as_str().to_ascii_lowercase(),
                    namespace = namespace_of(&producer.namespace, scope),
                    short = producer.name
                )),
            );
        }
    }
    out.context.insert(key.to_string(), name);
}

fn read_value(
    request: &SecretRequest,
    secret: &Secret,
    scope: &SecretScope<'_>,
    inventory: &Inventory,
    out: &mut Resolution,
) {
    let field = &request.field;
    let location = format!("Secret {}/{}", scope.namespace, secret.name);
    if !out.context.contains_key("externalSecret") {
        if let Some(external_secret) = secret.synced_by_external_secret() {
            // The owner named by the Secret, when the input has it, gives
            // the Ready condition too.
            let owner = inventory.external_secrets.iter().find(|producer| {
                producer.kind == ProducerKind::ExternalSecret
                    && producer.name == external_secret
                    && namespace_of(&producer.namespace, scope) == scope.namespace
            });
            match owner {
                Some(owner) => link_producer(owner, scope, out),
                None => {
                    out.context.insert(
                        "externalSecret".to_string(),
                        format!("{}/{external_secret}", scope.namespace),
                    );
                }
            }
        }
    }

    let Some(key) = &request.key else {
        if let Some(encryption) = secret.encryption {
            set_skip(out, encrypted_finding(&location, encryption));
        }
        return;
    };
    match secret.data.get(key) {
        None => out.findings.push(key_not_found(field, key, &location, secret.data.keys().cloned().collect(), "it has")),
        Some(SecretData::Encrypted) => {
            let encryption = secret.encryption.unwrap_or(Encryption::Sops);
            set_skip(out, encrypted_finding(&location, encryption));
        }
        Some(SecretData::Undecodable { reason }) => out.findings.push(
            Finding::error(
                Reason::SecretEncoding,
                Stage::Config,
                format!("{location} key {key} ({field}) under data: is not valid base64: {reason}; the API server rejects this Secret"),
            )
            .with_remedy("put the plain value under stringData:, or base64-encode it (once) before placing it under data:"),
        ),
        Some(SecretData::Value { bytes, .. }) => {
            let origin = ValueOrigin {
                field: field.clone(),
                location: format!("{location} key {key}"),
                trimmed_by_cert_manager: request.trimmed_by_cert_manager,
            };
            out.findings.extend(check_secret_value(bytes.expose(), &origin));
            out.values.insert(field.clone(), bytes.to_secret_value());
        }
    }
}

fn encrypted_finding(location: &str, encryption: Encryption) -> Finding {
    let remedy = match encryption {
        Encryption::Sops => "decrypt it first (sops -d FILE | kubectl acme-token check -f -) or run against the cluster",
        Encryption::SealedSecret => "run against the cluster, where the sealed-secrets controller has created the Secret",
    };
    Finding::warning(
        Reason::SecretUnavailable,
        Stage::Config,
        format!(
            "{location} is {}, so its values cannot be read here",
            encryption.describe()
        ),
    )
    .with_remedy(remedy)
}

fn set_skip(out: &mut Resolution, finding: Finding) {
    if out.skip.is_none() {
        out.skip = Some(finding);
    }
}

/// `SecretKeyNotFound` listing the keys that exist, never their values,
/// with a hint when the configured key looks like a placeholder.
fn key_not_found(field: &str, key: &str, location: &str, keys: Vec<String>, has: &str) -> Finding {
    let existing = if keys.is_empty() {
        format!("{has} no keys")
    } else {
        format!("{has} the keys {}", keys.join(", "))
    };
    let mut message = format!("{location} has no key {key} ({field}.key); {existing}");
    if let Some(marker) = placeholder_marker(key) {
        message.push_str(&format!(
            "; the key name itself looks like an unexpanded placeholder ({marker} form)"
        ));
    }
    let remedy = match keys.as_slice() {
        [only] => format!("set {field}.key to {only}, or add the key {key} to the Secret"),
        _ => format!("set {field}.key to the key that holds the credential, or add the key {key} to the Secret"),
    };
    Finding::error(Reason::SecretKeyNotFound, Stage::Config, message).with_remedy(remedy)
}

fn missing_secret(
    request: &SecretRequest,
    producer: Option<&ExternalSecret>,
    scope: &SecretScope<'_>,
    inventory: &Inventory,
    out: &mut Resolution,
) {
    let field = &request.field;
    let name = &request.name;
    let location = format!("Secret {}/{name}", scope.namespace);
    let reads_from = if scope.cluster_scoped {
        format!(
            "namespace {}, where cert-manager reads ClusterIssuer secrets (its cluster resource namespace)",
            scope.namespace
        )
    } else {
        format!(
            "namespace {}, where cert-manager reads the secrets of {} (the Issuer's own namespace)",
            scope.namespace, scope.issuer
        )
    };

    if let Some(producer) = producer {
        produced_secret(request, producer, &location, scope, out);
        return;
    }

    let elsewhere: Vec<&Secret> = inventory
        .secrets
        .iter()
        .filter(|secret| &secret.name == name)
        .collect();
    if !elsewhere.is_empty() {
        let places: Vec<String> = elsewhere
            .iter()
            .map(|secret| match &secret.namespace {
                Some(namespace) => format!("namespace {namespace} ({})", secret.source),
                None => format!(
                    "namespace {} ({}, which sets no namespace)",
                    scope.default_namespace, secret.source
                ),
            })
            .collect();
        let other = namespace_of(&elsewhere[0].namespace, scope).to_string();
        out.findings.push(
            Finding::error(
                Reason::SecretWrongNamespace,
                Stage::Config,
                format!(
                    "Secret {name} ({field}) is not in {reads_from}; it was found in {}",
                    places.join(" and ")
                ),
            )
            .with_remedy(wrong_namespace_remedy(
                scope,
                &other,
                "move or copy the Secret",
            )),
        );
        return;
    }

    let produced_elsewhere: Vec<&ExternalSecret> = inventory
        .external_secrets
        .iter()
        .filter(|producer| &producer.target_name == name)
        .collect();
    if let Some(producer) = produced_elsewhere.first() {
        let other = namespace_of(&producer.namespace, scope).to_string();
        out.findings.push(
            Finding::error(
                Reason::SecretWrongNamespace,
                Stage::Config,
                format!(
                    "Secret {name} ({field}) is not in {reads_from}; {} {other}/{} creates it in namespace {other}",
                    producer.kind.as_str(),
                    producer.name
                ),
            )
            .with_remedy(wrong_namespace_remedy(
                scope,
                &other,
                &format!("set the {}'s metadata.namespace", producer.kind.as_str()),
            )),
        );
        return;
    }

    if scope.offline {
        set_skip(
            out,
            Finding::warning(
                Reason::SecretUnavailable,
                Stage::Config,
                format!("{location} ({field}) is not in the input files, so its value cannot be checked"),
            )
            .with_remedy("add the Secret's manifest to the input with -f"),
        );
        return;
    }
    let example_key = request.key.as_deref().unwrap_or("KEY");
    out.findings.push(
        Finding::error(
            Reason::SecretNotFound,
            Stage::Config,
            format!("{location} ({field}) was not found"),
        )
        .with_remedy(format!(
            "create it: kubectl create secret generic {name} -n {} --from-literal={example_key}=VALUE",
            scope.namespace
        )),
    );
}

fn wrong_namespace_remedy(scope: &SecretScope<'_>, found_in: &str, action: &str) -> String {
    if scope.cluster_scoped {
        format!(
            "{action} to namespace {}; or, if the cert-manager controller runs with --cluster-resource-namespace={found_in}, pass --cluster-resource-namespace {found_in} to this tool",
            scope.namespace
        )
    } else {
        format!(
            "{action} to namespace {}, or use a ClusterIssuer",
            scope.namespace
        )
    }
}

/// Reports a Secret that is not in the input but that an operator creates
/// from an object that is.
fn produced_secret(
    request: &SecretRequest,
    producer: &ExternalSecret,
    location: &str,
    scope: &SecretScope<'_>,
    out: &mut Resolution,
) {
    let field = &request.field;
    let producer_name = format!(
        "{} {}/{}",
        producer.kind.as_str(),
        namespace_of(&producer.namespace, scope),
        producer.name
    );
    if let (Some(key), Some(keys)) = (&request.key, producer.produced_keys()) {
        if !keys.contains(key) {
            out.findings.push(key_not_found(
                field,
                key,
                location,
                keys,
                &format!("{producer_name}, which creates it, writes"),
            ));
            return;
        }
    }

    let keys_note = match producer.kind {
        ProducerKind::OnePasswordItem => "; its keys are known only at run time",
        ProducerKind::ExternalSecret if producer.produced_keys().is_none() => {
            "; its keys come from dataFrom or templateFrom and are known only at run time"
        }
        ProducerKind::ExternalSecret => "",
    };
    if scope.offline {
        set_skip(
            out,
            Finding::warning(
                Reason::SecretUnavailable,
                Stage::Config,
                format!("{location} ({field}) is not in the input files; {producer_name} creates it at run time{keys_note}, so its value cannot be checked"),
            )
            .with_remedy("add the Secret's manifest to the input with -f, or check the credential itself with `kubectl acme-token check <provider> --credential SRC`"),
        );
    } else {
        let command = match producer.kind {
            ProducerKind::ExternalSecret => "kubectl get externalsecret",
            ProducerKind::OnePasswordItem => "kubectl get onepassworditem",
        };
        out.findings.push(
            Finding::error(
                Reason::SecretNotFound,
                Stage::Config,
                format!(
                    "{location} ({field}) was not found, although {producer_name} should create it"
                ),
            )
            .with_remedy(format!(
                "check why it was not created: {command} -n {} {} (see its status and events)",
                namespace_of(&producer.namespace, scope),
                producer.name
            )),
        );
    }
}

/// Secret references found in a provider stanza or webhook config: any
/// mapping with string `name` and `key` fields (matched
/// case-insensitively, as Go's JSON decoder does), and `secretName` /
/// `secretNameRef` strings, which name a Secret whose key the webhook fixes.
pub(crate) fn referenced_secrets(stanza: &Value, prefix: &str) -> Vec<SecretRequest> {
    let mut found = Vec::new();
    collect_refs(stanza, prefix, &mut found, 0);
    found
}

fn collect_refs(value: &Value, path: &str, found: &mut Vec<SecretRequest>, depth: usize) {
    if depth > 16 {
        return;
    }
    match value {
        Value::Object(map) => {
            let field_of = |wanted: &str| {
                map.iter()
                    .find(|(key, _)| key.eq_ignore_ascii_case(wanted))
                    .and_then(|(_, value)| value.as_str())
            };
            if let (Some(name), Some(key)) = (field_of("name"), field_of("key")) {
                found.push(SecretRequest {
                    field: path.to_string(),
                    name: name.to_string(),
                    key: Some(key.to_string()),
                    trimmed_by_cert_manager: false,
                });
                return;
            }
            for (key, child) in map {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                let lower = key.to_ascii_lowercase();
                if lower == "secretname" || lower == "secretnameref" {
                    if let Some(name) = child.as_str() {
                        found.push(SecretRequest {
                            field: child_path,
                            name: name.to_string(),
                            key: None,
                            trimmed_by_cert_manager: false,
                        });
                    }
                    continue;
                }
                collect_refs(child, &child_path, found, depth + 1);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                collect_refs(item, &format!("{path}[{index}]"), found, depth + 1);
            }
        }
        _ => {}
    }
}

/// Whether cert-manager trims whitespace from a value of a built-in
/// provider that this version does not check yet. JSON values (Cloud DNS
/// service account, ACME-DNS accounts) and the RFC2136 TSIG secret, whose
/// base64 decoder skips line breaks, are counted as trimmed.
pub(crate) fn trimmed_by_cert_manager(provider_key: &str, field: &str) -> bool {
    let field = field.rsplit('.').next().unwrap_or(field);
    matches!(
        (provider_key, field),
        ("route53", "secretAccessKeySecretRef")
            | ("digitalocean", "tokenSecretRef")
            | ("cloudDNS", "serviceAccountSecretRef")
            | ("acmeDNS", "accountSecretRef")
            | ("rfc2136", "tsigSecretSecretRef")
    )
}

/// Returns true when `findings` contains an error.
pub(crate) fn has_error(findings: &[Finding]) -> bool {
    findings
        .iter()
        .any(|finding| finding.severity == Severity::Error)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn refs_found_in_webhook_config() {
        let config = json!({
            "apiKeySecretRef": {"name": "godaddy", "key": "token"},
            "production": true,
            "secretName": "hetzner"
        });
        let refs = referenced_secrets(&config, "config");
        assert_eq!(refs.len(), 2);
        assert_eq!(refs[0].field, "config.apiKeySecretRef");
        assert_eq!(refs[0].key.as_deref(), Some("token"));
        assert_eq!(refs[1].name, "hetzner");
        assert_eq!(refs[1].key, None);
    }

    #[test]
    fn refs_match_keys_case_insensitively() {
        let config = json!({"applicationSecretRef": {"Name": "ovh", "Key": "secret"}});
        let refs = referenced_secrets(&config, "");
        assert_eq!(refs[0].name, "ovh");
        assert_eq!(refs[0].field, "applicationSecretRef");
    }

    #[test]
    fn trimming_follows_cert_manager() {
        assert!(trimmed_by_cert_manager(
            "route53",
            "secretAccessKeySecretRef"
        ));
        assert!(!trimmed_by_cert_manager("route53", "accessKeyIDSecretRef"));
        assert!(!trimmed_by_cert_manager(
            "azureDNS",
            "clientSecretSecretRef"
        ));
    }

    #[test]
    fn key_not_found_flags_placeholder() {
        let finding = key_not_found(
            "apiTokenSecretRef",
            "<API token>",
            "Secret apps/cf",
            vec!["cloudflare-token".into()],
            "it has",
        );
        assert!(
            finding.message.contains("cloudflare-token"),
            "{}",
            finding.message
        );
        assert!(
            finding.message.contains("placeholder"),
            "{}",
            finding.message
        );
    }
}
