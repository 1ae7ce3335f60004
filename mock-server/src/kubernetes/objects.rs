//! The objects the mock serves, with the metadata the API server fills in
//! (`uid`, `resourceVersion`, `creationTimestamp`), and label and field
//! selectors.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use crate::ScenarioError;

use super::resources::{self, ResourceType};
use super::scenario::KubernetesScenario;

/// Namespaces every cluster has.
const BUILTIN_NAMESPACES: &[&str] = &["default", "kube-node-lease", "kube-public", "kube-system"];

/// Creation time stamped on every object that sets none.
const CREATED: &str = "2026-01-01T00:00:00Z";

/// One stored object.
pub(crate) struct Stored {
    pub resource: &'static ResourceType,
    pub namespace: Option<String>,
    pub name: String,
    pub value: Value,
}

/// All served objects, in scenario order, plus implied Namespaces.
pub(crate) struct Store {
    objects: Vec<Stored>,
}

impl Store {
    pub(crate) fn from_scenario(scenario: &KubernetesScenario) -> Result<Store, ScenarioError> {
        let mut objects = Vec::new();
        let mut namespaces: BTreeSet<String> =
            BUILTIN_NAMESPACES.iter().map(|name| name.to_string()).collect();
        for (index, object) in scenario.objects.iter().enumerate() {
            let mut value = serde_json::to_value(object).map_err(|error| ScenarioError::Invalid {
                provider: "kubernetes",
                message: format!("objects[{index}]: {error}"),
            })?;
            let (resource, name) =
                resources::classify(&value).map_err(|message| ScenarioError::Invalid {
                    provider: "kubernetes",
                    message: format!("objects[{index}]: {message}"),
                })?;
            let namespace = resource.namespaced.then(|| {
                value
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .unwrap_or("default")
                    .to_string()
            });
            if let Some(namespace) = &namespace {
                namespaces.insert(namespace.clone());
            }
            fill_metadata(&mut value, namespace.as_deref(), index + 1);
            if resource.kind == "Secret" {
                merge_string_data(&mut value);
            }
            if resource.kind == "Namespace" {
                namespaces.remove(&name);
            }
            objects.push(Stored {
                resource,
                namespace,
                name,
                value,
            });
        }
        let namespace_type = resources::lookup("", "v1", "namespaces").expect("namespaces are served");
        for (offset, name) in namespaces.into_iter().enumerate() {
            let mut value = json!({
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": name, "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]},
                "status": {"phase": "Active"},
            });
            fill_metadata(&mut value, None, scenario.objects.len() + offset + 1);
            objects.push(Stored {
                resource: namespace_type,
                namespace: None,
                name,
                value,
            });
        }
        Ok(Store { objects })
    }

    /// Objects of `resource`, in `namespace` or in all namespaces.
    pub(crate) fn list<'a>(
        &'a self,
        resource: &'static ResourceType,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Stored> + 'a {
        self.objects.iter().filter(move |stored| {
            std::ptr::eq(stored.resource, resource)
                && (namespace.is_none() || stored.namespace.as_deref() == namespace)
        })
    }

    pub(crate) fn get<'a>(
        &'a self,
        resource: &'static ResourceType,
        namespace: Option<&'a str>,
        name: &str,
    ) -> Option<&'a Stored> {
        self.list(resource, namespace).find(|stored| stored.name == name)
    }

    /// Highest resourceVersion handed out, for list metadata.
    pub(crate) fn resource_version(&self) -> String {
        (self.objects.len() + 1).to_string()
    }
}

fn fill_metadata(value: &mut Value, namespace: Option<&str>, sequence: usize) {
    let Some(metadata) = value.get_mut("metadata").and_then(Value::as_object_mut) else {
        return;
    };
    if let Some(namespace) = namespace {
        metadata.insert("namespace".into(), json!(namespace));
    }
    metadata
        .entry("uid")
        .or_insert_with(|| json!(format!("00000000-0000-4000-8000-{sequence:012}")));
    metadata
        .entry("resourceVersion")
        .or_insert_with(|| json!(sequence.to_string()));
    metadata
        .entry("creationTimestamp")
        .or_insert_with(|| json!(CREATED));
}

/// Moves `stringData` into `data` as base64, as the API server does when it
/// stores a Secret; `stringData` wins over `data` for the same key.
fn merge_string_data(value: &mut Value) {
    use base64::Engine;
    let Some(object) = value.as_object_mut() else {
        return;
    };
    let Some(Value::Object(string_data)) = object.remove("stringData") else {
        return;
    };
    let data = object
        .entry("data")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(data) = data.as_object_mut() else {
        return;
    };
    for (key, text) in string_data {
        let text = match text {
            Value::String(text) => text,
            other => other.to_string(),
        };
        let encoded = base64::engine::general_purpose::STANDARD.encode(text.as_bytes());
        data.insert(key, Value::String(encoded));
    }
}

/// A parsed `labelSelector` or `fieldSelector`: equality-based terms only.
#[derive(Debug, Default)]
pub(crate) struct Selector {
    terms: Vec<Term>,
}

#[derive(Debug)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    Exists(String),
    NotExists(String),
}

impl Selector {
    /// Parses `a=b,c!=d,e,!f`. Set-based terms (`in`, `notin`) are rejected.
    pub(crate) fn parse(text: &str) -> Result<Selector, String> {
        let mut terms = Vec::new();
        for part in text.split(',').map(str::trim).filter(|part| !part.is_empty()) {
            if part.contains(" in ") || part.contains(" notin ") || part.contains('(') {
                return Err(format!("set-based selector term {part:?} is not supported by the mock"));
            }
            let term = if let Some((key, value)) = part.split_once("!=") {
                Term::NotEquals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = part.split_once("==") {
                Term::Equals(key.trim().into(), value.trim().into())
            } else if let Some((key, value)) = part.split_once('=') {
                Term::Equals(key.trim().into(), value.trim().into())
            } else if let Some(key) = part.strip_prefix('!') {
                Term::NotExists(key.trim().into())
            } else {
                Term::Exists(part.into())
            };
            terms.push(term);
        }
        Ok(Selector { terms })
    }

    /// Tests a label or field map.
    pub(crate) fn matches(&self, fields: &Map<String, Value>) -> bool {
        let get = |key: &str| fields.get(key).and_then(Value::as_str);
        self.terms.iter().all(|term| match term {
            Term::Equals(key, value) => get(key) == Some(value.as_str()),
            Term::NotEquals(key, value) => get(key) != Some(value.as_str()),
            Term::Exists(key) => fields.contains_key(key),
            Term::NotExists(key) => !fields.contains_key(key),
        })
    }
}

/// The fields a field selector can test, as the API server offers them for
/// every resource.
pub(crate) fn selectable_fields(stored: &Stored) -> Map<String, Value> {
    let mut fields = Map::new();
    fields.insert("metadata.name".into(), json!(stored.name));
    if let Some(namespace) = &stored.namespace {
        fields.insert("metadata.namespace".into(), json!(namespace));
    }
    fields
}

/// `metadata.labels` of an object.
pub(crate) fn labels(stored: &Stored) -> Map<String, Value> {
    stored
        .value
        .pointer("/metadata/labels")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}
