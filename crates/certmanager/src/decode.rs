//! Reading typed resources out of parsed documents.
//!
//! Unknown kinds and unknown fields are ignored. A field the tool reads
//! that has the wrong type (`solvers: "abc"`, `dnsNames: 5`) is an error,
//! because the API server would reject the object as well.

use crate::error::LoadError;
use crate::resources::{
    Certificate, CertificateIssuerRef, Encryption, ExternalSecret, Inventory, Issuer, IssuerKind,
    OwnerReference, ProducerKind, ReadyCondition, Secret, SecretBytes, SecretData, Selector, Solver, SolverKind,
    SourceRef, WebhookSolver,
};
use crate::yaml::{pointer_segment, template_marker, Document, LineMap};
use acme_token_core::sanity::placeholder_marker;
use acme_token_core::{Finding, Reason, Stage};
use base64::Engine;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// cert-manager.io versions that share the v1 solver schema.
const CERT_MANAGER_VERSIONS: &[&str] = &["v1", "v1beta1", "v1alpha3", "v1alpha2"];

/// Provider keys cert-manager accepts under `dns01`.
pub(crate) const DNS01_PROVIDERS: &[&str] = &[
    "acmeDNS",
    "akamai",
    "azureDNS",
    "cloudDNS",
    "cloudflare",
    "digitalocean",
    "rfc2136",
    "route53",
    "webhook",
];

/// Keys of `dns01` that are not providers.
const DNS01_SETTINGS: &[&str] = &["cnameStrategy", "nameservers"];

/// Nesting of `kind: List` inside `kind: List` that is still unwrapped.
const MAX_LIST_DEPTH: usize = 8;

/// Maps a `dns01` key to cert-manager's current spelling: the legacy
/// `azuredns` and the lower-case keys of `certmanager.k8s.io` providers.
pub(crate) fn normalize_provider_key(key: &str) -> Option<&'static str> {
    DNS01_PROVIDERS
        .iter()
        .copied()
        .find(|known| known.eq_ignore_ascii_case(key))
}

/// Reads one document into the inventory.
pub(crate) fn add_document(
    inventory: &mut Inventory,
    document: &Document<'_>,
    file: &str,
) -> Result<(), LoadError> {
    let reader = Reader {
        file,
        lines: &document.lines,
        line: document.line,
        object: String::from("document"),
        base: String::new(),
    };
    reader.add_value(inventory, &document.value, &FieldPath::root(), 0)
}

/// Path of a field inside an object, kept as segments for locating its line.
#[derive(Debug, Clone, Default)]
struct FieldPath(Vec<String>);

impl FieldPath {
    fn root() -> Self {
        Self(Vec::new())
    }

    fn key(&self, key: &str) -> Self {
        let mut segments = self.0.clone();
        segments.push(key.to_string());
        Self(segments)
    }

    fn index(&self, index: usize) -> Self {
        let mut segments = self.0.clone();
        segments.push(format!("[{index}]"));
        Self(segments)
    }

    fn render(&self) -> String {
        let mut text = String::new();
        for segment in &self.0 {
            if !segment.starts_with('[') && !text.is_empty() {
                text.push('.');
            }
            text.push_str(segment);
        }
        text
    }

    /// Returns the path as a JSON pointer, such as `/spec/solvers/0`.
    fn pointer(&self) -> String {
        self.0
            .iter()
            .map(|segment| {
                match segment
                    .strip_prefix('[')
                    .and_then(|rest| rest.strip_suffix(']'))
                {
                    Some(index) => format!("/{index}"),
                    None => format!("/{}", pointer_segment(segment)),
                }
            })
            .collect()
    }
}

fn type_name(value: Option<&Value>) -> &'static str {
    match value {
        None => "nothing",
        Some(Value::Null) => "null",
        Some(Value::Bool(_)) => "a boolean",
        Some(Value::Number(_)) => "a number",
        Some(Value::String(_)) => "a string",
        Some(Value::Array(_)) => "a list",
        Some(Value::Object(_)) => "a mapping",
    }
}

/// Reads fields of one object and builds errors that name the file, the
/// line and the object.
struct Reader<'a> {
    file: &'a str,
    lines: &'a LineMap<'a>,
    /// Line of the object (the document, or the item of a List).
    line: usize,
    /// `Kind name` of the object, for messages.
    object: String,
    /// JSON pointer of the object inside its document: empty for the
    /// document itself, `/items/3` for an item of a List.
    base: String,
}

impl<'a> Reader<'a> {
    fn source(&self) -> SourceRef {
        SourceRef {
            file: self.file.to_string(),
            line: self.line,
        }
    }

    fn for_object(&self, object: String, line: usize) -> Reader<'a> {
        Reader {
            file: self.file,
            lines: self.lines,
            line,
            object,
            base: self.base.clone(),
        }
    }

    fn type_error(
        &self,
        path: &FieldPath,
        expected: &'static str,
        found: Option<&Value>,
    ) -> LoadError {
        let pointer = format!("{}{}", self.base, path.pointer());
        let line = self.lines.locate(&pointer).unwrap_or(self.line);
        let template = self.lines.line_text(line).and_then(template_marker);
        LoadError::FieldType {
            file: self.file.to_string(),
            line,
            object: self.object.clone(),
            path: path.render(),
            expected,
            found: type_name(found),
            template,
        }
    }

    fn notice(&self, finding: Finding) -> Finding {
        Finding {
            message: format!("{}:{}: {}", self.file, self.line, finding.message),
            ..finding
        }
    }

    /// Reads a string, or `None` when the field is absent or null.
    fn opt_str(
        &self,
        value: Option<&Value>,
        path: &FieldPath,
    ) -> Result<Option<String>, LoadError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(other) => Err(self.type_error(path, "a string", Some(other))),
        }
    }

    /// Reads a scalar as a string, for fields such as `refreshInterval` that
    /// users also write as numbers.
    fn opt_scalar(
        &self,
        value: Option<&Value>,
        path: &FieldPath,
    ) -> Result<Option<String>, LoadError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(text)) => Ok(Some(text.clone())),
            Some(Value::Number(number)) => Ok(Some(number.to_string())),
            Some(Value::Bool(flag)) => Ok(Some(flag.to_string())),
            Some(other) => Err(self.type_error(path, "a string", Some(other))),
        }
    }

    fn opt_obj<'v>(
        &self,
        value: Option<&'v Value>,
        path: &FieldPath,
    ) -> Result<Option<&'v Map<String, Value>>, LoadError> {
        match value {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(map)) => Ok(Some(map)),
            Some(other) => Err(self.type_error(path, "a mapping", Some(other))),
        }
    }

    fn list<'v>(
        &self,
        value: Option<&'v Value>,
        path: &FieldPath,
    ) -> Result<&'v [Value], LoadError> {
        match value {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(self.type_error(path, "a list", Some(other))),
        }
    }

    fn str_list(&self, value: Option<&Value>, path: &FieldPath) -> Result<Vec<String>, LoadError> {
        let items = match value {
            None | Some(Value::Null) => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(other) => return Err(self.type_error(path, "a list of strings", Some(other))),
        };
        items
            .iter()
            .enumerate()
            .map(|(index, item)| match item {
                Value::String(text) => Ok(text.clone()),
                other => Err(self.type_error(&path.index(index), "a string", Some(other))),
            })
            .collect()
    }

    fn str_map(
        &self,
        value: Option<&Value>,
        path: &FieldPath,
    ) -> Result<BTreeMap<String, String>, LoadError> {
        let Some(map) = self.opt_obj(value, path)? else {
            return Ok(BTreeMap::new());
        };
        map.iter()
            .map(|(key, item)| match item {
                Value::String(text) => Ok((key.clone(), text.clone())),
                other => Err(self.type_error(&path.key(key), "a string", Some(other))),
            })
            .collect()
    }

    fn add_value(
        &self,
        inventory: &mut Inventory,
        value: &Value,
        path: &FieldPath,
        depth: usize,
    ) -> Result<(), LoadError> {
        let object = match value {
            Value::Null => return Ok(()),
            Value::Object(object) => object,
            other => {
                inventory.notices.push(self.notice(Finding::info(
                    Reason::Notice,
                    Stage::Config,
                    format!(
                        "the document is {}, not a Kubernetes object; it is skipped",
                        type_name(Some(other))
                    ),
                )));
                return Ok(());
            }
        };
        let api_version = self.opt_str(object.get("apiVersion"), &path.key("apiVersion"))?;
        let kind = self.opt_str(object.get("kind"), &path.key("kind"))?;
        let (Some(api_version), Some(kind)) = (api_version, kind) else {
            self.note_values_document(inventory, object);
            return Ok(());
        };
        let (group, version) = match api_version.split_once('/') {
            Some((group, version)) => (group, version),
            None => ("", api_version.as_str()),
        };
        let name = self.opt_str(
            object.get("metadata").and_then(|m| m.get("name")),
            &path.key("metadata").key("name"),
        );
        let reader = self.for_object(
            format!("{kind} {}", name.ok().flatten().unwrap_or_default()),
            self.line,
        );

        match (group, kind.as_str()) {
            (_, list) if list.ends_with("List") && object.contains_key("items") => {
                self.add_list(inventory, object, path, depth)
            }
            ("cert-manager.io", "Issuer" | "ClusterIssuer") => {
                reader.warn_old_version(inventory, &api_version, version);
                let issuer = reader.issuer(inventory, object, path, &api_version, &kind, false)?;
                inventory.issuers.push(issuer);
                Ok(())
            }
            ("certmanager.k8s.io", "Issuer" | "ClusterIssuer") => {
                let issuer = reader.issuer(inventory, object, path, &api_version, &kind, true)?;
                inventory.issuers.push(issuer);
                Ok(())
            }
            ("cert-manager.io", "Certificate") => {
                reader.warn_old_version(inventory, &api_version, version);
                let certificate = reader.certificate(object, path, &api_version)?;
                inventory.certificates.push(certificate);
                Ok(())
            }
            ("certmanager.k8s.io", "Certificate") => {
                inventory.notices.push(reader.notice(
                    Finding::warning(
                        Reason::ApiGenerationMismatch,
                        Stage::Config,
                        format!(
                            "Certificate {} uses {api_version}, which cert-manager has not read since v0.11; its domains are not used",
                            reader.metadata_name(object)
                        ),
                    )
                    .with_remedy("convert it to cert-manager.io/v1"),
                ));
                Ok(())
            }
            ("", "Secret") => {
                let secret = reader.secret(object, path)?;
                inventory.secrets.push(secret);
                Ok(())
            }
            ("bitnami.com", "SealedSecret") => {
                let secret = reader.sealed_secret(object, path)?;
                inventory.secrets.push(secret);
                Ok(())
            }
            ("external-secrets.io", "ExternalSecret") => {
                let external_secret = reader.external_secret(object, path, &api_version)?;
                inventory.external_secrets.push(external_secret);
                Ok(())
            }
            ("onepassword.com", "OnePasswordItem") => {
                let item = reader.one_password_item(object, path, &api_version)?;
                inventory.external_secrets.push(item);
                Ok(())
            }
            ("helm.toolkit.fluxcd.io", "HelmRelease") => {
                if let Some(found) = object
                    .get("spec")
                    .and_then(|spec| spec.get("values"))
                    .and_then(find_issuer_settings)
                {
                    inventory.notices.push(reader.notice(Finding::info(
                        Reason::Notice,
                        Stage::Config,
                        format!(
                            "HelmRelease {} holds issuer settings in spec.values ({found}); chart values are not Kubernetes objects, so they are not checked",
                            reader.metadata_name(object)
                        ),
                    ).with_remedy("render the chart with `helm template` and check the output")));
                }
                Ok(())
            }
            ("kustomize.config.k8s.io", "Kustomization") => {
                inventory.notices.push(reader.notice(
                    Finding::info(
                        Reason::Notice,
                        Stage::Config,
                        "this is a kustomization; only the files given are read, without its patches and generators",
                    )
                    .with_remedy("check the rendered output: `kustomize build DIR | kubectl acme-token check --offline -f -`"),
                ));
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn metadata_name(&self, object: &Map<String, Value>) -> String {
        let metadata = object.get("metadata");
        let name = metadata
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        match metadata
            .and_then(|m| m.get("namespace"))
            .and_then(Value::as_str)
        {
            Some(namespace) => format!("{namespace}/{name}"),
            None => name.to_string(),
        }
    }

    fn add_list(
        &self,
        inventory: &mut Inventory,
        object: &Map<String, Value>,
        path: &FieldPath,
        depth: usize,
    ) -> Result<(), LoadError> {
        let items_path = path.key("items");
        let items = self.list(object.get("items"), &items_path)?;
        if depth >= MAX_LIST_DEPTH {
            inventory.notices.push(self.notice(Finding::warning(
                Reason::Notice,
                Stage::Config,
                format!("lists nested deeper than {MAX_LIST_DEPTH} levels are not unwrapped"),
            )));
            return Ok(());
        }
        for (index, item) in items.iter().enumerate() {
            // Paths inside an item start at the item.
            let base = format!("{}/items/{index}", self.base);
            let line = self.lines.locate(&base).unwrap_or(self.line);
            let reader = Reader {
                file: self.file,
                lines: self.lines,
                line,
                object: format!("items[{index}]"),
                base,
            };
            reader.add_value(inventory, item, &FieldPath::root(), depth + 1)?;
        }
        Ok(())
    }

    /// Adds an info notice for a document without apiVersion or kind that
    /// contains issuer settings, such as a Helm values file.
    fn note_values_document(&self, inventory: &mut Inventory, object: &Map<String, Value>) {
        let value = Value::Object(object.clone());
        if let Some(found) = find_issuer_settings(&value) {
            inventory.notices.push(self.notice(
                Finding::info(
                    Reason::Notice,
                    Stage::Config,
                    format!(
                        "the document has no apiVersion and kind but holds issuer settings ({found}); Helm values and other templates' inputs are not Kubernetes objects, so they are not checked"
                    ),
                )
                .with_remedy("render the chart or template first (helm template, kustomize build) and check the output"),
            ));
        }
    }

    fn warn_old_version(&self, inventory: &mut Inventory, api_version: &str, version: &str) {
        if version == "v1" {
            return;
        }
        let finding = if CERT_MANAGER_VERSIONS.contains(&version) {
            Finding::info(
                Reason::Notice,
                Stage::Config,
                format!(
                    "{} uses {api_version}; it is read like cert-manager.io/v1, but cert-manager v1.7 and later no longer serve this version",
                    self.object
                ),
            )
            .with_remedy("change apiVersion to cert-manager.io/v1 (cmctl convert)")
        } else {
            Finding::warning(
                Reason::InvalidConfig,
                Stage::Config,
                format!(
                    "{} uses the unknown version {api_version}; it is read like cert-manager.io/v1",
                    self.object
                ),
            )
        };
        inventory.notices.push(self.notice(finding));
    }

    fn issuer(
        &self,
        inventory: &mut Inventory,
        object: &Map<String, Value>,
        path: &FieldPath,
        api_version: &str,
        kind: &str,
        legacy: bool,
    ) -> Result<Issuer, LoadError> {
        let kind = if kind == "ClusterIssuer" {
            IssuerKind::ClusterIssuer
        } else {
            IssuerKind::Issuer
        };
        let (name, mut namespace) = self.name_and_namespace(object, path)?;
        if kind == IssuerKind::ClusterIssuer {
            if let Some(ignored) = namespace.take() {
                inventory.notices.push(self.notice(Finding::info(
                    Reason::Notice,
                    Stage::Config,
                    format!(
                        "ClusterIssuer {name} sets metadata.namespace {ignored}; a ClusterIssuer is cluster-scoped, so the namespace is ignored"
                    ),
                )));
            }
        }

        let spec_path = path.key("spec");
        let spec = self.opt_obj(object.get("spec"), &spec_path)?;
        let acme_path = spec_path.key("acme");
        let acme = self.opt_obj(spec.and_then(|s| s.get("acme")), &acme_path)?;

        let mut issuer = Issuer {
            kind,
            name,
            namespace,
            namespace_defaulted: false,
            api_version: api_version.to_string(),
            source: self.source(),
            acme: acme.is_some(),
            acme_email: None,
            solvers: Vec::new(),
            private_key_secret: None,
            legacy,
        };
        let Some(acme) = acme else {
            return Ok(issuer);
        };

        issuer.acme_email = self.opt_str(acme.get("email"), &acme_path.key("email"))?;
        let key_ref_path = acme_path.key("privateKeySecretRef");
        if let Some(key_ref) = self.opt_obj(acme.get("privateKeySecretRef"), &key_ref_path)? {
            issuer.private_key_secret =
                self.opt_str(key_ref.get("name"), &key_ref_path.key("name"))?;
        }
        if let Some(email) = &issuer.acme_email {
            if let Some(marker) = placeholder_marker(email) {
                inventory.notices.push(self.notice(
                    Finding::warning(
                        Reason::PlaceholderUnexpanded,
                        Stage::Config,
                        format!(
                            "{} spec.acme.email holds an unexpanded placeholder ({marker} form); the ACME server rejects an invalid contact address when the account is registered",
                            issuer.display_name()
                        ),
                    )
                    .with_remedy("set spec.acme.email to a real address, or render the template first"),
                ));
            }
        }

        let solvers_path = acme_path.key("solvers");
        for (index, value) in self
            .list(acme.get("solvers"), &solvers_path)?
            .iter()
            .enumerate()
        {
            issuer
                .solvers
                .push(self.solver(value, &solvers_path.index(index), index)?);
        }

        if legacy {
            let dns01_path = acme_path.key("dns01");
            if let Some(dns01) = self.opt_obj(acme.get("dns01"), &dns01_path)? {
                let providers_path = dns01_path.key("providers");
                for (offset, value) in self
                    .list(dns01.get("providers"), &providers_path)?
                    .iter()
                    .enumerate()
                {
                    let provider_path = providers_path.index(offset);
                    let provider = self
                        .opt_obj(Some(value), &provider_path)?
                        .cloned()
                        .unwrap_or_default();
                    let kind = self.dns01_kind(&provider, &provider_path, &["name"])?;
                    issuer.solvers.push(Solver {
                        index: issuer.solvers.len(),
                        selector: None,
                        kind,
                        invalid: None,
                    });
                }
            }
        }
        Ok(issuer)
    }

    fn name_and_namespace(
        &self,
        object: &Map<String, Value>,
        path: &FieldPath,
    ) -> Result<(String, Option<String>), LoadError> {
        let metadata_path = path.key("metadata");
        let metadata = self.opt_obj(object.get("metadata"), &metadata_path)?;
        let name_path = metadata_path.key("name");
        let name = self.opt_str(metadata.and_then(|m| m.get("name")), &name_path)?;
        let Some(name) = name else {
            return Err(self.type_error(
                &name_path,
                "a string",
                metadata.and_then(|m| m.get("name")),
            ));
        };
        let namespace = self.opt_str(
            metadata.and_then(|m| m.get("namespace")),
            &metadata_path.key("namespace"),
        )?;
        Ok((name, namespace.filter(|namespace| !namespace.is_empty())))
    }

    fn solver(&self, value: &Value, path: &FieldPath, index: usize) -> Result<Solver, LoadError> {
        let Some(solver) = self.opt_obj(Some(value), path)? else {
            return Ok(Solver {
                index,
                selector: None,
                kind: SolverKind::Unknown,
                invalid: Some("the solver entry is empty".to_string()),
            });
        };

        let selector_path = path.key("selector");
        let selector = match self.opt_obj(solver.get("selector"), &selector_path)? {
            Some(selector) => Some(Selector {
                match_labels: self.str_map(
                    selector.get("matchLabels"),
                    &selector_path.key("matchLabels"),
                )?,
                dns_names: self
                    .str_list(selector.get("dnsNames"), &selector_path.key("dnsNames"))?,
                dns_zones: self
                    .str_list(selector.get("dnsZones"), &selector_path.key("dnsZones"))?,
            }),
            // `selector: null` decodes to a nil pointer in cert-manager too.
            None => None,
        };

        let dns01_path = path.key("dns01");
        let dns01 = self.opt_obj(solver.get("dns01"), &dns01_path)?;
        let http01 = solver.get("http01").filter(|value| !value.is_null());
        let (kind, invalid) = match (dns01, http01) {
            (Some(dns01), None) => (self.dns01_kind(dns01, &dns01_path, DNS01_SETTINGS)?, None),
            (Some(dns01), Some(_)) => (
                self.dns01_kind(dns01, &dns01_path, DNS01_SETTINGS)?,
                Some("the solver sets both dns01 and http01; cert-manager accepts only one per solver".to_string()),
            ),
            (None, Some(_)) => (SolverKind::Http01, None),
            (None, None) => (
                SolverKind::Unknown,
                Some("the solver sets neither dns01 nor http01".to_string()),
            ),
        };
        Ok(Solver {
            index,
            selector,
            kind,
            invalid,
        })
    }

    /// Reads the provider of a `dns01` block (or of a legacy provider
    /// entry, whose `name` is skipped).
    fn dns01_kind(
        &self,
        dns01: &Map<String, Value>,
        path: &FieldPath,
        settings: &[&str],
    ) -> Result<SolverKind, LoadError> {
        let cname_strategy = if settings.contains(&"cnameStrategy") {
            self.opt_str(dns01.get("cnameStrategy"), &path.key("cnameStrategy"))?
        } else {
            None
        };

        // A provider key with a null value is a nil pointer to cert-manager,
        // so it does not count as a provider.
        let candidates: Vec<&String> = dns01
            .iter()
            .filter(|(key, value)| !settings.contains(&key.as_str()) && !value.is_null())
            .map(|(key, _)| key)
            .collect();
        let provider = candidates
            .iter()
            .find(|key| normalize_provider_key(key).is_some())
            .or_else(|| candidates.first())
            .copied();
        let Some(provider) = provider else {
            return Ok(SolverKind::Dns01 {
                provider_key: String::new(),
                stanza: Value::Null,
                cname_strategy,
                other_keys: Vec::new(),
                webhook: None,
            });
        };

        let provider_path = path.key(provider);
        let Some(stanza) = dns01[provider].as_object() else {
            return Err(self.type_error(&provider_path, "a mapping", Some(&dns01[provider])));
        };
        let provider_key = normalize_provider_key(provider)
            .map(str::to_string)
            .unwrap_or_else(|| provider.clone());
        let other_keys = candidates
            .iter()
            .filter(|key| **key != provider)
            .map(|key| key.to_string())
            .collect();

        let webhook = if provider_key == "webhook" {
            Some(WebhookSolver {
                group_name: self
                    .opt_str(stanza.get("groupName"), &provider_path.key("groupName"))?
                    .unwrap_or_default(),
                solver_name: self
                    .opt_str(stanza.get("solverName"), &provider_path.key("solverName"))?
                    .unwrap_or_default(),
                config: stanza
                    .get("config")
                    .filter(|config| !config.is_null())
                    .cloned(),
            })
        } else {
            None
        };

        Ok(SolverKind::Dns01 {
            provider_key,
            stanza: Value::Object(stanza.clone()),
            cname_strategy,
            other_keys,
            webhook,
        })
    }

    fn certificate(
        &self,
        object: &Map<String, Value>,
        path: &FieldPath,
        api_version: &str,
    ) -> Result<Certificate, LoadError> {
        let (name, namespace) = self.name_and_namespace(object, path)?;
        let labels = self.str_map(
            object.get("metadata").and_then(|m| m.get("labels")),
            &path.key("metadata").key("labels"),
        )?;
        let spec_path = path.key("spec");
        let spec = self.opt_obj(object.get("spec"), &spec_path)?;
        let dns_names = self.str_list(
            spec.and_then(|s| s.get("dnsNames")),
            &spec_path.key("dnsNames"),
        )?;
        let common_name = self.opt_str(
            spec.and_then(|s| s.get("commonName")),
            &spec_path.key("commonName"),
        )?;
        let ref_path = spec_path.key("issuerRef");
        let issuer_ref = self.opt_obj(spec.and_then(|s| s.get("issuerRef")), &ref_path)?;
        let issuer_ref = CertificateIssuerRef {
            name: self
                .opt_str(
                    issuer_ref.and_then(|r| r.get("name")),
                    &ref_path.key("name"),
                )?
                .unwrap_or_default(),
            kind: self
                .opt_str(
                    issuer_ref.and_then(|r| r.get("kind")),
                    &ref_path.key("kind"),
                )?
                .filter(|kind| !kind.is_empty())
                .unwrap_or_else(|| "Issuer".to_string()),
            group: self
                .opt_str(
                    issuer_ref.and_then(|r| r.get("group")),
                    &ref_path.key("group"),
                )?
                .unwrap_or_default(),
        };
        Ok(Certificate {
            name,
            namespace,
            api_version: api_version.to_string(),
            source: self.source(),
            dns_names,
            common_name,
            issuer_ref,
            labels,
        })
    }

    fn secret(&self, object: &Map<String, Value>, path: &FieldPath) -> Result<Secret, LoadError> {
        let (name, namespace) = self.name_and_namespace(object, path)?;
        let reader = self.for_object(
            format!("Secret {}", qualified(namespace.as_deref(), &name)),
            self.line,
        );
        let (annotations, owner_references) = reader.secret_metadata(object, path)?;
        let secret_type = reader.opt_str(object.get("type"), &path.key("type"))?;

        let data_path = path.key("data");
        let string_data_path = path.key("stringData");
        let data = reader.opt_obj(object.get("data"), &data_path)?;
        let string_data = reader.opt_obj(object.get("stringData"), &string_data_path)?;

        let sops = object.get("sops").is_some_and(Value::is_object)
            || data
                .into_iter()
                .chain(string_data)
                .flat_map(|map| map.values())
                .any(is_sops_value);
        let mut values = BTreeMap::new();
        if sops {
            for key in data
                .into_iter()
                .chain(string_data)
                .flat_map(|map| map.keys())
            {
                values.insert(key.clone(), SecretData::Encrypted);
            }
        } else {
            for (key, value) in data.into_iter().flatten() {
                let decoded = match value {
                    Value::Null => SecretData::Value {
                        bytes: SecretBytes::new(Vec::new()),
                        from_string_data: false,
                    },
                    Value::String(text) => decode_data_value(text),
                    other => {
                        return Err(reader.type_error(
                            &data_path.key(key),
                            "a base64 string",
                            Some(other),
                        ))
                    }
                };
                values.insert(key.clone(), decoded);
            }
            for (key, value) in string_data.into_iter().flatten() {
                let bytes = match value {
                    Value::Null => Vec::new(),
                    Value::String(text) => text.as_bytes().to_vec(),
                    other => {
                        return Err(reader.type_error(
                            &string_data_path.key(key),
                            "a string",
                            Some(other),
                        ))
                    }
                };
                values.insert(
                    key.clone(),
                    SecretData::Value {
                        bytes: SecretBytes::new(bytes),
                        from_string_data: true,
                    },
                );
            }
        }
        Ok(Secret {
            name,
            namespace,
            source: self.source(),
            secret_type,
            data: values,
            annotations,
            owner_references,
            encryption: sops.then_some(Encryption::Sops),
        })
    }

    fn secret_metadata(
        &self,
        object: &Map<String, Value>,
        path: &FieldPath,
    ) -> Result<(BTreeMap<String, String>, Vec<OwnerReference>), LoadError> {
        let metadata_path = path.key("metadata");
        let metadata = self.opt_obj(object.get("metadata"), &metadata_path)?;
        let mut annotations = self.str_map(
            metadata.and_then(|m| m.get("annotations")),
            &metadata_path.key("annotations"),
        )?;
        annotations.remove("kubectl.kubernetes.io/last-applied-configuration");

        let owners_path = metadata_path.key("ownerReferences");
        let mut owner_references = Vec::new();
        for (index, owner) in self
            .list(
                metadata.and_then(|m| m.get("ownerReferences")),
                &owners_path,
            )?
            .iter()
            .enumerate()
        {
            let owner_path = owners_path.index(index);
            let owner = self
                .opt_obj(Some(owner), &owner_path)?
                .cloned()
                .unwrap_or_default();
            owner_references.push(OwnerReference {
                api_version: self
                    .opt_str(owner.get("apiVersion"), &owner_path.key("apiVersion"))?
                    .unwrap_or_default(),
                kind: self
                    .opt_str(owner.get("kind"), &owner_path.key("kind"))?
                    .unwrap_or_default(),
                name: self
                    .opt_str(owner.get("name"), &owner_path.key("name"))?
                    .unwrap_or_default(),
            });
        }
        Ok((annotations, owner_references))
    }

    fn sealed_secret(
        &self,
        object: &Map<String, Value>,
        path: &FieldPath,
    ) -> Result<Secret, LoadError> {
        let (name, namespace) = self.name_and_namespace(object, path)?;
        let spec_path = path.key("spec");
        let spec = self.opt_obj(object.get("spec"), &spec_path)?;
        let encrypted = self.opt_obj(
            spec.and_then(|s| s.get("encryptedData")),
            &spec_path.key("encryptedData"),
        )?;
        let template_path = spec_path.key("template");
        let template = self.opt_obj(spec.and_then(|s| s.get("template")), &template_path)?;
        let secret_type = self.opt_str(
            template.and_then(|t| t.get("type")),
            &template_path.key("type"),
        )?;
        let (annotations, owner_references) = self.secret_metadata(object, path)?;
        Ok(Secret {
            name,
            namespace,
            source: self.source(),
            secret_type,
            data: encrypted
                .into_iter()
                .flat_map(|map| map.keys())
                .map(|key| (key.clone(), SecretData::Encrypted))
                .collect(),
            annotations,
            owner_references,
            encryption: Some(Encryption::SealedSecret),
        })
    }

    fn external_secret(
        &self,
        object: &Map<String, Value>,
        path: &FieldPath,
        api_version: &str,
    ) -> Result<ExternalSecret, LoadError> {
        let (name, namespace) = self.name_and_namespace(object, path)?;
        let spec_path = path.key("spec");
        let spec = self.opt_obj(object.get("spec"), &spec_path)?;
        let field = |key: &str| spec.and_then(|s| s.get(key));

        let target_path = spec_path.key("target");
        let target = self.opt_obj(field("target"), &target_path)?;
        let target_name = self
            .opt_str(target.and_then(|t| t.get("name")), &target_path.key("name"))?
            .filter(|target| !target.is_empty())
            .unwrap_or_else(|| name.clone());
        let template_path = target_path.key("template");
        let template = self.opt_obj(target.and_then(|t| t.get("template")), &template_path)?;
        let template_data = self.opt_obj(
            template.and_then(|t| t.get("data")),
            &template_path.key("data"),
        )?;
        let merge_policy = self.opt_str(
            template.and_then(|t| t.get("mergePolicy")),
            &template_path.key("mergePolicy"),
        )?;
        let template_from = !self
            .list(
                template.and_then(|t| t.get("templateFrom")),
                &template_path.key("templateFrom"),
            )?
            .is_empty();

        let store_path = spec_path.key("secretStoreRef");
        let store = self.opt_obj(field("secretStoreRef"), &store_path)?;
        let secret_store = match store {
            Some(store) => {
                let kind = self
                    .opt_str(store.get("kind"), &store_path.key("kind"))?
                    .unwrap_or_else(|| "SecretStore".to_string());
                let store_name = self
                    .opt_str(store.get("name"), &store_path.key("name"))?
                    .unwrap_or_default();
                Some(format!("{kind}/{store_name}"))
            }
            None => None,
        };

        let data_path = spec_path.key("data");
        let mut data_keys = Vec::new();
        for (index, entry) in self.list(field("data"), &data_path)?.iter().enumerate() {
            let entry_path = data_path.index(index);
            if let Some(entry) = self.opt_obj(Some(entry), &entry_path)? {
                if let Some(key) =
                    self.opt_str(entry.get("secretKey"), &entry_path.key("secretKey"))?
                {
                    data_keys.push(key);
                }
            }
        }
        let data_from_path = spec_path.key("dataFrom");
        let mut data_from = Vec::new();
        for (index, entry) in self
            .list(field("dataFrom"), &data_from_path)?
            .iter()
            .enumerate()
        {
            let entry = self.opt_obj(Some(entry), &data_from_path.index(index))?;
            data_from.push(describe_data_from(entry));
        }

        Ok(ExternalSecret {
            kind: ProducerKind::ExternalSecret,
            name,
            namespace,
            api_version: api_version.to_string(),
            source: self.source(),
            target_name,
            refresh_interval: self
                .opt_scalar(field("refreshInterval"), &spec_path.key("refreshInterval"))?,
            secret_store,
            data_keys,
            data_from,
            template_keys: template_data
                .into_iter()
                .flat_map(|map| map.keys().cloned())
                .collect(),
            template_merges: merge_policy.as_deref() == Some("Merge"),
            template_from,
            ready: ready_condition(object),
        })
    }

    fn one_password_item(
        &self,
        object: &Map<String, Value>,
        path: &FieldPath,
        api_version: &str,
    ) -> Result<ExternalSecret, LoadError> {
        let (name, namespace) = self.name_and_namespace(object, path)?;
        let spec_path = path.key("spec");
        let spec = self.opt_obj(object.get("spec"), &spec_path)?;
        let item_path = self.opt_str(
            spec.and_then(|s| s.get("itemPath")),
            &spec_path.key("itemPath"),
        )?;
        Ok(ExternalSecret {
            kind: ProducerKind::OnePasswordItem,
            target_name: name.clone(),
            name,
            namespace,
            api_version: api_version.to_string(),
            source: self.source(),
            refresh_interval: None,
            secret_store: item_path,
            data_keys: Vec::new(),
            data_from: Vec::new(),
            template_keys: Vec::new(),
            template_merges: false,
            template_from: false,
            ready: None,
        })
    }
}

/// Reads the `Ready` entry of `status.conditions`. The status block is
/// written by the controller, so a malformed one is ignored rather than
/// rejected.
fn ready_condition(object: &Map<String, Value>) -> Option<ReadyCondition> {
    let conditions = object.get("status")?.get("conditions")?.as_array()?;
    let condition = conditions
        .iter()
        .find(|condition| condition.get("type").and_then(Value::as_str) == Some("Ready"))?;
    let text = |key: &str| condition.get(key).and_then(Value::as_str).map(str::to_string);
    Some(ReadyCondition {
        status: text("status").unwrap_or_else(|| "Unknown".to_string()),
        reason: text("reason"),
        message: text("message"),
        last_transition_time: text("lastTransitionTime"),
    })
}

fn qualified(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(namespace) => format!("{namespace}/{name}"),
        None => name.to_string(),
    }
}

/// Returns true for a SOPS-encrypted value (`ENC[AES256_GCM,data:…]`).
fn is_sops_value(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|text| text.trim_start().starts_with("ENC["))
}

/// Decodes one `data` value as the API server does: standard base64 with
/// padding, line breaks ignored (Go's decoder skips `\r` and `\n`).
fn decode_data_value(text: &str) -> SecretData {
    let compact: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
    match base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()) {
        Ok(bytes) => SecretData::Value {
            bytes: SecretBytes::new(bytes),
            from_string_data: false,
        },
        Err(error) => SecretData::Undecodable {
            reason: describe_base64_error(&error),
        },
    }
}

/// Describes a base64 error by position only, because the decoder's own
/// message prints the offending byte, which is part of the secret.
fn describe_base64_error(error: &base64::DecodeError) -> String {
    match error {
        base64::DecodeError::InvalidByte(offset, _) => {
            format!("character {} is not in the base64 alphabet", offset + 1)
        }
        base64::DecodeError::InvalidLength(length) => {
            format!("its length ({length} characters) is not a valid base64 length")
        }
        base64::DecodeError::InvalidLastSymbol(offset, _) => {
            format!("the last character ({}) is not valid base64", offset + 1)
        }
        base64::DecodeError::InvalidPadding => "its `=` padding is wrong".to_string(),
    }
}

/// Short description of one `dataFrom` entry, such as `extract cloudflare`.
fn describe_data_from(entry: Option<&Map<String, Value>>) -> String {
    let Some(entry) = entry else {
        return "empty entry".to_string();
    };
    let mut parts = Vec::new();
    for (kind, value) in entry {
        let key = value
            .get("key")
            .and_then(Value::as_str)
            .or_else(|| {
                value
                    .get("name")
                    .and_then(|name| name.get("regexp"))
                    .and_then(Value::as_str)
            })
            .or_else(|| value.get("path").and_then(Value::as_str));
        parts.push(match key {
            Some(key) => format!("{kind} {key}"),
            None => kind.clone(),
        });
    }
    parts.join(", ")
}

/// Looks for issuer settings inside Helm values: a `solvers` key, an
/// object of kind Issuer or ClusterIssuer, or an `issuers`/`clusterIssuers`
/// key. Returns the path of the first one found.
fn find_issuer_settings(value: &Value) -> Option<String> {
    fn walk(value: &Value, path: &mut Vec<String>, depth: usize) -> Option<String> {
        if depth > 32 {
            return None;
        }
        match value {
            Value::Object(map) => {
                if let Some(kind) = map.get("kind").and_then(Value::as_str) {
                    if kind == "Issuer" || kind == "ClusterIssuer" {
                        return Some(format!("a {kind} at {}", render(path)));
                    }
                }
                for (key, child) in map {
                    let lower = key.to_ascii_lowercase();
                    path.push(key.clone());
                    if lower == "solvers" || lower == "issuers" || lower == "clusterissuers" {
                        return Some(format!("`{}`", render(path)));
                    }
                    if let Some(found) = walk(child, path, depth + 1) {
                        return Some(found);
                    }
                    path.pop();
                }
                None
            }
            Value::Array(items) => items.iter().enumerate().find_map(|(index, item)| {
                path.push(format!("[{index}]"));
                let found = walk(item, path, depth + 1);
                path.pop();
                found
            }),
            _ => None,
        }
    }
    fn render(path: &[String]) -> String {
        if path.is_empty() {
            return "the top level".to_string();
        }
        let mut text = String::new();
        for segment in path {
            if !segment.starts_with('[') && !text.is_empty() {
                text.push('.');
            }
            text.push_str(segment);
        }
        text
    }
    walk(value, &mut Vec::new(), 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_error_hides_byte() {
        let SecretData::Undecodable { reason } = decode_data_value("<TOKEN>") else {
            panic!("expected undecodable");
        };
        assert!(!reason.contains('<'), "{reason}");
        assert!(reason.contains("character 1"), "{reason}");
    }

    #[test]
    fn base64_ignores_line_breaks() {
        let SecretData::Value { bytes, .. } = decode_data_value("aGVs\nbG8=\r\n") else {
            panic!("expected value");
        };
        assert_eq!(bytes.expose(), b"hello");
    }

    #[test]
    fn provider_keys_normalize() {
        assert_eq!(normalize_provider_key("azuredns"), Some("azureDNS"));
        assert_eq!(normalize_provider_key("clouddns"), Some("cloudDNS"));
        assert_eq!(normalize_provider_key("cloudfare"), None);
    }

    #[test]
    fn issuer_settings_found_in_values() {
        let values = serde_json::json!({"clusterIssuers": [{"name": "x"}]});
        assert_eq!(
            find_issuer_settings(&values).as_deref(),
            Some("`clusterIssuers`")
        );
        let values = serde_json::json!({"replicaCount": 2});
        assert_eq!(find_issuer_settings(&values), None);
    }

    #[test]
    fn field_path_renders() {
        let path = FieldPath::root()
            .key("spec")
            .key("solvers")
            .index(0)
            .key("a/b");
        assert_eq!(path.render(), "spec.solvers[0].a/b");
        assert_eq!(path.pointer(), "/spec/solvers/0/a~1b");
    }
}
