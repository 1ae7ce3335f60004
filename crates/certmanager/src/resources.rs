//! Typed model of the resources acme-token reads from manifests.
//!
//! Only the fields the checks need are kept. Secret values are held in
//! [`SecretBytes`], whose `Debug` and `Serialize` print a fingerprint, so an
//! [`Inventory`] can be printed or serialized without leaking a credential.

use acme_token_core::{Finding, SecretValue};
use serde::{Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// Location of an object: file name (`<stdin>` for standard input) and the
/// line the object starts on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SourceRef {
    pub file: String,
    pub line: usize,
}

impl fmt::Display for SourceRef {
    /// Writes `file:line`, or only the file for objects read from an API
    /// server, whose line is 0.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return f.write_str(&self.file);
        }
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// Everything read from the input, in input order.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Inventory {
    pub issuers: Vec<Issuer>,
    pub certificates: Vec<Certificate>,
    pub secrets: Vec<Secret>,
    /// ExternalSecrets and other objects that make an operator create a
    /// Secret, such as 1Password's `OnePasswordItem`.
    pub external_secrets: Vec<ExternalSecret>,
    /// Findings about the input that belong to no single check: skipped
    /// documents, ignored fields, duplicates, a shared ACME account key.
    pub notices: Vec<Finding>,
}

/// Namespaced `Issuer` or cluster-scoped `ClusterIssuer`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum IssuerKind {
    Issuer,
    ClusterIssuer,
}

impl IssuerKind {
    /// Returns the Kubernetes kind.
    pub fn as_str(self) -> &'static str {
        match self {
            IssuerKind::Issuer => "Issuer",
            IssuerKind::ClusterIssuer => "ClusterIssuer",
        }
    }
}

impl fmt::Display for IssuerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An Issuer or ClusterIssuer.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Issuer {
    pub kind: IssuerKind,
    pub name: String,
    /// `metadata.namespace`; always `None` for a ClusterIssuer.
    pub namespace: Option<String>,
    /// True when an Issuer had no namespace and the default one was filled
    /// in by [`Inventory::with_default_namespace`].
    pub namespace_defaulted: bool,
    pub api_version: String,
    pub source: SourceRef,
    /// True when the issuer has `spec.acme`; CA, Vault and self-signed
    /// issuers have no solvers to check.
    pub acme: bool,
    /// `spec.acme.email`, the ACME account contact.
    pub acme_email: Option<String>,
    pub solvers: Vec<Solver>,
    /// `spec.acme.privateKeySecretRef.name`, the Secret holding the ACME
    /// account key.
    pub private_key_secret: Option<String>,
    /// True for `certmanager.k8s.io/v1alpha1`, which cert-manager has not
    /// read since v0.11.
    pub legacy: bool,
}

impl Issuer {
    /// `ClusterIssuer name` or `Issuer namespace/name`, for messages.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(namespace) if self.kind == IssuerKind::Issuer => {
                format!("{} {namespace}/{}", self.kind, self.name)
            }
            _ => format!("{} {}", self.kind, self.name),
        }
    }
}

/// One entry of `spec.acme.solvers`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Solver {
    /// Position in `spec.acme.solvers` (or `dns01.providers` of a legacy
    /// issuer).
    pub index: usize,
    /// `None` when the solver has no `selector` at all, which cert-manager
    /// treats differently from an empty one.
    pub selector: Option<Selector>,
    pub kind: SolverKind,
    /// Reason cert-manager's validation rejects this solver, when it does
    /// (for example both `dns01` and `http01` set).
    pub invalid: Option<String>,
}

/// `selector` of a solver.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
    pub dns_names: Vec<String>,
    pub dns_zones: Vec<String>,
}

/// The challenge type of a solver.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SolverKind {
    #[serde(rename_all = "camelCase")]
    Dns01 {
        /// Key of the provider stanza under `dns01`, such as `cloudflare`,
        /// `route53`, `azureDNS` or `webhook`. The legacy `azuredns` is
        /// stored as `azureDNS`. Empty when `dns01` names no provider.
        provider_key: String,
        /// The provider stanza, such as the value of `dns01.cloudflare`.
        stanza: serde_json::Value,
        /// `dns01.cnameStrategy` (`None` or `Follow`).
        cname_strategy: Option<String>,
        /// Other keys of `dns01` besides the provider, `cnameStrategy` and
        /// `nameservers`: a second provider or an unknown field.
        other_keys: Vec<String>,
        /// `groupName`, `solverName` and `config` of a webhook solver.
        webhook: Option<WebhookSolver>,
    },
    Http01,
    /// Neither `dns01` nor `http01`.
    Unknown,
}

impl SolverKind {
    /// Returns the provider key of a DNS-01 solver.
    pub fn provider_key(&self) -> Option<&str> {
        match self {
            SolverKind::Dns01 { provider_key, .. } => Some(provider_key),
            _ => None,
        }
    }
}

/// `dns01.webhook` of a solver.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookSolver {
    pub group_name: String,
    pub solver_name: String,
    pub config: Option<serde_json::Value>,
}

/// A Certificate, the source of the domains to probe.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Certificate {
    pub name: String,
    pub namespace: Option<String>,
    pub api_version: String,
    pub source: SourceRef,
    pub dns_names: Vec<String>,
    pub common_name: Option<String>,
    pub issuer_ref: CertificateIssuerRef,
    /// `metadata.labels`; cert-manager copies them to the Order, where
    /// solver `matchLabels` selectors read them.
    pub labels: BTreeMap<String, String>,
}

impl Certificate {
    /// dnsNames followed by the commonName when it is not among them, as
    /// cert-manager builds the identifiers of an Order.
    pub fn domains(&self) -> Vec<String> {
        let mut domains = self.dns_names.clone();
        if let Some(common_name) = &self.common_name {
            if !common_name.is_empty() && !domains.contains(common_name) {
                domains.push(common_name.clone());
            }
        }
        domains
    }
}

/// `spec.issuerRef` of a Certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CertificateIssuerRef {
    pub name: String,
    /// `Issuer` unless set.
    pub kind: String,
    /// Empty unless set; empty and `cert-manager.io` both mean cert-manager.
    pub group: String,
}

/// A Secret, a SOPS-encrypted Secret, or a SealedSecret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Secret {
    pub name: String,
    pub namespace: Option<String>,
    pub source: SourceRef,
    /// `type`, such as `Opaque`.
    pub secret_type: Option<String>,
    /// Values by key: `data` decoded from base64, then `stringData` on top,
    /// as the API server merges them.
    pub data: BTreeMap<String, SecretData>,
    /// `metadata.annotations`, except `kubectl.kubernetes.io/last-applied-configuration`,
    /// which repeats the whole object including its data.
    pub annotations: BTreeMap<String, String>,
    pub owner_references: Vec<OwnerReference>,
    /// Set when the values cannot be read offline.
    pub encryption: Option<Encryption>,
}

impl Secret {
    /// Returns the name of the ExternalSecret that syncs this Secret according to its own
    /// metadata: an owner reference of kind `ExternalSecret`, or the
    /// `reconcile.external-secrets.io/data-hash` annotation ESO writes. The
    /// annotation alone does not name the ExternalSecret, so the Secret's
    /// name is used, because ESO's default target is the ExternalSecret's name.
    pub fn synced_by_external_secret(&self) -> Option<String> {
        if let Some(owner) = self
            .owner_references
            .iter()
            .find(|owner| owner.kind == "ExternalSecret")
        {
            return Some(owner.name.clone());
        }
        self.annotations
            .contains_key(ESO_DATA_HASH_ANNOTATION)
            .then(|| self.name.clone())
    }
}

/// Annotation External Secrets Operator sets on every Secret it writes.
pub const ESO_DATA_HASH_ANNOTATION: &str = "reconcile.external-secrets.io/data-hash";

/// One value of a Secret.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SecretData {
    /// A readable value.
    #[serde(rename_all = "camelCase")]
    Value {
        bytes: SecretBytes,
        /// True when the value came from `stringData`.
        from_string_data: bool,
    },
    /// A `data` value that is not valid base64; `reason` describes the
    /// fault by position only, never by content.
    Undecodable { reason: String },
    /// The value is encrypted (SOPS, SealedSecret).
    Encrypted,
}

/// Raw bytes of a Secret value. `Debug` and `Serialize` print only the
/// fingerprint and length.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps decoded bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// Exposes the bytes. Call this only to check or use the value.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    /// Length in bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Returns true for an empty value.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Wraps the bytes as a core [`SecretValue`].
    pub fn to_secret_value(&self) -> SecretValue {
        SecretValue::from_bytes(&self.0)
    }

    fn summary(&self) -> String {
        self.to_secret_value().to_string()
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes({})", self.summary())
    }
}

impl Serialize for SecretBytes {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.summary())
    }
}

/// Encryption of a Secret's values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Encryption {
    /// Encrypted by Mozilla SOPS (`sops:` block, `ENC[AES256_GCM,…]` values).
    Sops,
    /// A Bitnami `SealedSecret`, decrypted only by its controller.
    SealedSecret,
}

impl Encryption {
    /// Name for messages.
    pub fn describe(self) -> &'static str {
        match self {
            Encryption::Sops => "SOPS-encrypted",
            Encryption::SealedSecret => "a SealedSecret",
        }
    }
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerReference {
    pub api_version: String,
    pub kind: String,
    pub name: String,
}

/// Kind of object that makes an operator create a Secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ProducerKind {
    /// External Secrets Operator's `ExternalSecret`.
    ExternalSecret,
    /// 1Password Connect operator's `OnePasswordItem`.
    OnePasswordItem,
}

impl ProducerKind {
    /// Returns the Kubernetes kind.
    pub fn as_str(self) -> &'static str {
        match self {
            ProducerKind::ExternalSecret => "ExternalSecret",
            ProducerKind::OnePasswordItem => "OnePasswordItem",
        }
    }
}

/// An object that makes an operator create a Secret at run time.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExternalSecret {
    pub kind: ProducerKind,
    pub name: String,
    pub namespace: Option<String>,
    pub api_version: String,
    pub source: SourceRef,
    /// Name of the Secret it creates: `spec.target.name`, else its own name.
    pub target_name: String,
    pub refresh_interval: Option<String>,
    /// `spec.secretStoreRef` as `Kind/name`, or the 1Password item path.
    pub secret_store: Option<String>,
    /// `spec.data[].secretKey`.
    pub data_keys: Vec<String>,
    /// One short description per `spec.dataFrom` entry, such as
    /// `extract cloudflare`. Keys from these are known only at run time.
    pub data_from: Vec<String>,
    /// Keys of `spec.target.template.data`.
    pub template_keys: Vec<String>,
    /// `spec.target.template.mergePolicy` is `Merge`.
    pub template_merges: bool,
    /// `spec.target.template.templateFrom` is set.
    pub template_from: bool,
    /// The `Ready` condition of `status.conditions`, present on objects
    /// read from a cluster.
    pub ready: Option<ReadyCondition>,
}

/// A `Ready` status condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReadyCondition {
    /// `True`, `False` or `Unknown`.
    pub status: String,
    pub reason: Option<String>,
    pub message: Option<String>,
    pub last_transition_time: Option<String>,
}

impl ReadyCondition {
    /// Returns `True`, or `False (SecretSyncedError: message)`.
    pub fn describe(&self) -> String {
        let detail: Vec<&str> = [self.reason.as_deref(), self.message.as_deref()]
            .into_iter()
            .flatten()
            .filter(|text| !text.is_empty())
            .collect();
        if detail.is_empty() {
            self.status.clone()
        } else {
            format!("{} ({})", self.status, detail.join(": "))
        }
    }
}

impl ExternalSecret {
    /// Returns the keys of the Secret it creates, when the manifest alone
    /// defines them. Returns `None` when `dataFrom`, `templateFrom` or the
    /// operator decides them at run time.
    pub fn produced_keys(&self) -> Option<Vec<String>> {
        if self.kind != ProducerKind::ExternalSecret || self.template_from {
            return None;
        }
        let from_data =
            || -> Option<Vec<String>> { self.data_from.is_empty().then(|| self.data_keys.clone()) };
        if self.template_keys.is_empty() {
            return from_data();
        }
        if !self.template_merges {
            return Some(self.template_keys.clone());
        }
        let mut keys = from_data()?;
        for key in &self.template_keys {
            if !keys.contains(key) {
                keys.push(key.clone());
            }
        }
        Some(keys)
    }

    /// `ExternalSecret ns/name`, for messages; the namespace is `?` when unset.
    pub fn display_name(&self) -> String {
        format!(
            "{} {}/{}",
            self.kind.as_str(),
            self.namespace.as_deref().unwrap_or("?"),
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn external_secret() -> ExternalSecret {
        ExternalSecret {
            kind: ProducerKind::ExternalSecret,
            name: "cf".into(),
            namespace: Some("cert-manager".into()),
            api_version: "external-secrets.io/v1".into(),
            source: SourceRef {
                file: "f.yaml".into(),
                line: 1,
            },
            target_name: "cf".into(),
            refresh_interval: None,
            secret_store: None,
            data_keys: vec!["token".into()],
            data_from: Vec::new(),
            template_keys: Vec::new(),
            template_merges: false,
            template_from: false,
            ready: None,
        }
    }

    #[test]
    fn produced_keys_from_data() {
        assert_eq!(
            external_secret().produced_keys(),
            Some(vec!["token".to_string()])
        );
    }

    #[test]
    fn produced_keys_unknown_with_data_from() {
        let mut es = external_secret();
        es.data_from.push("extract cloudflare".into());
        assert_eq!(es.produced_keys(), None);
    }

    #[test]
    fn produced_keys_template_replaces() {
        let mut es = external_secret();
        es.data_from.push("extract cloudflare".into());
        es.template_keys.push("api-token".into());
        assert_eq!(es.produced_keys(), Some(vec!["api-token".to_string()]));
    }

    #[test]
    fn produced_keys_template_merges() {
        let mut es = external_secret();
        es.template_keys.push("api-token".into());
        es.template_merges = true;
        assert_eq!(
            es.produced_keys(),
            Some(vec!["token".to_string(), "api-token".to_string()])
        );
    }

    #[test]
    fn secret_bytes_debug_hides_value() {
        let bytes = SecretBytes::new(b"canary-value-123".to_vec());
        let debug = format!("{bytes:?}");
        let json = serde_json::to_string(&bytes).unwrap();
        assert!(!debug.contains("canary"), "{debug}");
        assert!(!json.contains("canary"), "{json}");
        assert!(debug.contains("sha256:"), "{debug}");
    }
}
