//! The resource types the mock serves and their discovery documents.
//!
//! Shapes follow the API server's discovery endpoints: `/api` returns an
//! `APIVersions`, `/apis` an `APIGroupList`, and `/api/v1` or
//! `/apis/GROUP/VERSION` an `APIResourceList` whose entries carry `verbs`,
//! `shortNames`, `singularName` and `namespaced`, as `kubectl api-resources`
//! reads them.

use serde_json::{json, Value};

/// A resource type: one entry of an `APIResourceList`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct ResourceType {
    /// API group; empty for the core group.
    pub group: &'static str,
    pub version: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub kind: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
}

/// Verbs the real API server lists for these resources. The mock itself
/// serves only `get` and `list`.
const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

pub(crate) const RESOURCES: &[ResourceType] = &[
    ResourceType {
        group: "",
        version: "v1",
        plural: "namespaces",
        singular: "namespace",
        kind: "Namespace",
        namespaced: false,
        short_names: &["ns"],
        categories: &[],
    },
    ResourceType {
        group: "",
        version: "v1",
        plural: "secrets",
        singular: "secret",
        kind: "Secret",
        namespaced: true,
        short_names: &[],
        categories: &[],
    },
    ResourceType {
        group: "cert-manager.io",
        version: "v1",
        plural: "certificates",
        singular: "certificate",
        kind: "Certificate",
        namespaced: true,
        short_names: &["cert", "certs"],
        categories: &["cert-manager"],
    },
    ResourceType {
        group: "cert-manager.io",
        version: "v1",
        plural: "clusterissuers",
        singular: "clusterissuer",
        kind: "ClusterIssuer",
        namespaced: false,
        short_names: &[],
        categories: &["cert-manager"],
    },
    ResourceType {
        group: "cert-manager.io",
        version: "v1",
        plural: "issuers",
        singular: "issuer",
        kind: "Issuer",
        namespaced: true,
        short_names: &[],
        categories: &["cert-manager"],
    },
    ResourceType {
        group: "external-secrets.io",
        version: "v1",
        plural: "externalsecrets",
        singular: "externalsecret",
        kind: "ExternalSecret",
        namespaced: true,
        short_names: &["es"],
        categories: &["external-secrets"],
    },
];

impl ResourceType {
    /// `apiVersion` of its objects: `v1` or `GROUP/VERSION`.
    pub(crate) fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `secrets` or `issuers.cert-manager.io`, as the API server names a
    /// resource in its messages.
    pub(crate) fn qualified_plural(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    fn discovery_entry(&self) -> Value {
        let mut entry = json!({
            "name": self.plural,
            "singularName": self.singular,
            "namespaced": self.namespaced,
            "kind": self.kind,
            "verbs": VERBS,
        });
        if !self.short_names.is_empty() {
            entry["shortNames"] = json!(self.short_names);
        }
        if !self.categories.is_empty() {
            entry["categories"] = json!(self.categories);
        }
        entry
    }
}

/// Finds the resource type of an object from its `apiVersion` and `kind`,
/// and returns it with the object's name.
pub(crate) fn classify(object: &Value) -> Result<(&'static ResourceType, String), String> {
    let api_version = object
        .get("apiVersion")
        .and_then(Value::as_str)
        .ok_or("apiVersion is missing")?;
    let kind = object
        .get("kind")
        .and_then(Value::as_str)
        .ok_or("kind is missing")?;
    let name = object
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|name| !name.is_empty())
        .ok_or("metadata.name is missing")?;
    let resource = RESOURCES
        .iter()
        .find(|resource| resource.kind == kind && resource.api_version() == api_version)
        .ok_or_else(|| {
            format!("{api_version} {kind} is not served by the mock; it serves v1 Secret and Namespace, cert-manager.io/v1 Issuer, ClusterIssuer and Certificate, external-secrets.io/v1 ExternalSecret")
        })?;
    Ok((resource, name.to_string()))
}

/// Finds a resource type by group, version and plural.
pub(crate) fn lookup(group: &str, version: &str, plural: &str) -> Option<&'static ResourceType> {
    RESOURCES
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Body of `/api`.
pub(crate) fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ]
    })
}

/// Body of `/apis`, listing the installed groups.
pub(crate) fn group_list(installed: &[String]) -> Value {
    let groups: Vec<Value> = group_names(installed).iter().map(|name| group(name)).collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// Body of `/apis/GROUP`.
pub(crate) fn group(name: &str) -> Value {
    let version = json!({"groupVersion": format!("{name}/v1"), "version": "v1"});
    json!({
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": name,
        "versions": [version.clone()],
        "preferredVersion": version,
    })
}

/// Names of the non-core groups that are installed, in a stable order.
pub(crate) fn group_names(installed: &[String]) -> Vec<&'static str> {
    let mut names: Vec<&'static str> = Vec::new();
    for resource in RESOURCES {
        if !resource.group.is_empty()
            && installed.iter().any(|group| group == resource.group)
            && !names.contains(&resource.group)
        {
            names.push(resource.group);
        }
    }
    names
}

/// Body of `/api/v1` or `/apis/GROUP/VERSION`.
pub(crate) fn resource_list(group: &str, version: &str) -> Value {
    let group_version = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    let resources: Vec<Value> = RESOURCES
        .iter()
        .filter(|r| r.group == group && r.version == version)
        .map(ResourceType::discovery_entry)
        .collect();
    json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": resources,
    })
}
