//! The `kubernetes:` section of a scenario: objects to serve, installed API
//! groups, and one RBAC-like rule list per bearer token.

use serde::Deserialize;

use crate::ScenarioError;

use super::resources::{self, ResourceType};

/// Objects, installed custom resource groups and credentials of the mock API server.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesScenario {
    /// Server version reported by `/version`, such as `v1.32.4`.
    #[serde(default = "default_version")]
    pub version: String,
    /// API groups of custom resources that are installed. Objects of a group
    /// not listed here are not served, and the group is absent from
    /// discovery, as on a cluster without those CRDs.
    #[serde(default = "default_groups")]
    pub crd_groups: Vec<String>,
    /// Bearer tokens the server accepts and what each may read.
    #[serde(default)]
    pub tokens: Vec<TokenSpec>,
    /// What requests without credentials may read, as an API server with
    /// anonymous authentication enabled allows `system:anonymous`. Without
    /// this section they get 401. kubectl sends no bearer token to an
    /// `http://` server, so kubectl against the mock runs as this user.
    #[serde(default)]
    pub anonymous: Option<AnonymousSpec>,
    /// Objects served, written as they would be applied (`apiVersion`,
    /// `kind`, `metadata`, …). Namespaced objects without a namespace go to
    /// `default`.
    #[serde(default)]
    pub objects: Vec<serde_yaml_ng::Value>,
}

fn default_version() -> String {
    "v1.32.4".to_string()
}

fn default_groups() -> Vec<String> {
    vec!["cert-manager.io".to_string(), "external-secrets.io".to_string()]
}

/// One bearer token.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenSpec {
    /// The bearer token value.
    pub token: String,
    /// User name shown in 403 messages, such as `system:serviceaccount:cert-manager:acme-token`.
    #[serde(default = "default_user")]
    pub user: String,
    /// An expired token is rejected with 401, as the API server does.
    #[serde(default)]
    pub expired: bool,
    /// Allowed requests; anything no rule allows gets 403.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// Rights of requests without credentials.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnonymousSpec {
    #[serde(default)]
    pub rules: Vec<Rule>,
}

fn default_user() -> String {
    "test-user".to_string()
}

/// One allow rule, shaped like an RBAC PolicyRule. `"*"` matches anything.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule {
    pub api_groups: Vec<String>,
    pub resources: Vec<String>,
    pub verbs: Vec<String>,
    /// Names a `get` may read; empty allows every name. As in RBAC, a rule
    /// with names never allows `list`.
    #[serde(default)]
    pub resource_names: Vec<String>,
    /// Namespaces the rule applies in, as a Role bound there does; empty
    /// applies everywhere, as a ClusterRole with a ClusterRoleBinding does.
    #[serde(default)]
    pub namespaces: Vec<String>,
}

impl KubernetesScenario {
    /// Checks that every object has a known kind, a name, and a namespace only
    /// where its kind is namespaced.
    pub(crate) fn validate(&self) -> Result<(), ScenarioError> {
        let invalid = |message: String| ScenarioError::Invalid {
            provider: "kubernetes",
            message,
        };
        for (index, object) in self.objects.iter().enumerate() {
            let value = serde_json::to_value(object)
                .map_err(|error| invalid(format!("objects[{index}] is not a JSON-compatible mapping: {error}")))?;
            let (resource, _) = resources::classify(&value).map_err(|message| invalid(format!("objects[{index}]: {message}")))?;
            check_scope(resource, &value).map_err(|message| invalid(format!("objects[{index}]: {message}")))?;
        }
        for token in &self.tokens {
            if token.token.is_empty() {
                return Err(invalid("a token has an empty value".to_string()));
            }
        }
        Ok(())
    }
}

fn check_scope(resource: &ResourceType, value: &serde_json::Value) -> Result<(), String> {
    let namespace = value.pointer("/metadata/namespace").and_then(|v| v.as_str());
    if !resource.namespaced && namespace.is_some() {
        return Err(format!("{} is cluster-scoped, so metadata.namespace must not be set", resource.kind));
    }
    Ok(())
}
