//! Loading the client configuration and calling the API server.

use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use kube::api::{ApiResource, DynamicObject, ListParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::{Api, Client, Config};
use serde_json::Value;

use crate::error::ClusterError;

/// How to reach the cluster.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// `--kubeconfig`; replaces `KUBECONFIG` and `~/.kube/config`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`; the kubeconfig's current context when unset.
    pub context: Option<String>,
    /// Timeout of one API request; kube's default when unset.
    pub timeout: Option<Duration>,
}

/// A connected client and what the configuration says about it.
pub struct Cluster {
    client: Client,
    server: String,
    /// `context NAME`, or `the in-cluster service account`, for messages.
    identity: String,
    default_namespace: String,
}

/// The resources acme-token reads, as dynamic API resources.
pub(crate) fn resource(group: &str, kind: &str, plural: &str) -> ApiResource {
    ApiResource {
        group: group.to_string(),
        version: "v1".to_string(),
        api_version: format!("{group}/v1"),
        kind: kind.to_string(),
        plural: plural.to_string(),
    }
}

/// What a request was for, to name it in errors.
pub(crate) struct Action<'a> {
    pub verb: &'a str,
    pub group: &'a str,
    pub resource: &'a str,
    pub namespace: Option<&'a str>,
    pub name: Option<&'a str>,
}

impl Cluster {
    /// Loads the configuration and builds a client. Sends no request.
    ///
    /// # Errors
    ///
    /// [`ClusterError::Config`] when no configuration is found or it is unusable.
    pub async fn connect(options: &ConnectOptions) -> Result<Cluster, ClusterError> {
        let kube_options = KubeConfigOptions {
            context: options.context.clone(),
            ..KubeConfigOptions::default()
        };
        let kubeconfig = match &options.kubeconfig {
            Some(path) => Some(Kubeconfig::read_from(path).map_err(|error| {
                ClusterError::Config(format!(
                    "cannot read the kubeconfig {} (--kubeconfig): {}",
                    path.display(),
                    error_chain(&error)
                ))
            })?),
            None => find_kubeconfig()?,
        };
        let (mut config, identity) = match kubeconfig {
            Some(kubeconfig) => {
                let context = options
                    .context
                    .clone()
                    .or_else(|| kubeconfig.current_context.clone())
                    .unwrap_or_default();
                let config = Config::from_custom_kubeconfig(kubeconfig, &kube_options)
                    .await
                    .map_err(|error| {
                        ClusterError::Config(format!(
                            "cannot use the kubeconfig context {context:?}: {}; list the contexts with `kubectl config get-contexts` and pick one with --context",
                            error_chain(&error)
                        ))
                    })?;
                (config, format!("kubeconfig context {context}"))
            }
            None => {
                if let Some(context) = &options.context {
                    return Err(ClusterError::Config(format!(
                        "--context {context} needs a kubeconfig, and none was found; pass --kubeconfig or set KUBECONFIG"
                    )));
                }
                let config = Config::incluster().map_err(|error| {
                    ClusterError::Config(format!(
                        "cannot load the in-cluster configuration: {}; outside a Pod, pass --kubeconfig or set KUBECONFIG",
                        error_chain(&error)
                    ))
                })?;
                (config, "the in-cluster service account".to_string())
            }
        };
        if let Some(timeout) = options.timeout {
            config.connect_timeout = Some(timeout);
            config.read_timeout = Some(timeout);
        }
        let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
        let default_namespace = config.default_namespace.clone();
        let client = Client::try_from(config).map_err(|error| {
            ClusterError::Config(format!(
                "cannot build a Kubernetes client for {server}: {}",
                error_chain(&error)
            ))
        })?;
        Ok(Cluster {
            client,
            server,
            identity,
            default_namespace,
        })
    }

    /// URL of the API server.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Namespace of the kubeconfig context, or of the Pod; `default` when unset.
    pub fn default_namespace(&self) -> &str {
        &self.default_namespace
    }

    /// Checks through discovery that `group/v1` is served.
    ///
    /// # Errors
    ///
    /// [`ClusterError::CrdMissing`] when discovery answers 404, and the
    /// errors of any request.
    pub async fn require_group(&self, group: &str) -> Result<(), ClusterError> {
        if self.has_group(group).await? {
            Ok(())
        } else {
            Err(ClusterError::CrdMissing {
                server: self.server.clone(),
                group_version: format!("{group}/v1"),
            })
        }
    }

    /// Returns whether `group/v1` is served.
    ///
    /// # Errors
    ///
    /// The errors of the discovery request other than 404.
    pub async fn has_group(&self, group: &str) -> Result<bool, ClusterError> {
        let group_version = format!("{group}/v1");
        match self.client.list_api_group_resources(&group_version).await {
            Ok(_) => Ok(true),
            Err(kube::Error::Api(response)) if response.code == 404 => Ok(false),
            Err(error) => Err(self.classify(
                error,
                &Action {
                    verb: "get",
                    group,
                    resource: "discovery",
                    namespace: None,
                    name: None,
                },
            )),
        }
    }

    /// Lists objects of a cert-manager or ESO resource in `namespace`, or in
    /// every namespace (or cluster-wide) when `None`.
    pub(crate) async fn list(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, ClusterError> {
        let api: Api<DynamicObject> = match namespace {
            Some(namespace) => Api::namespaced_with(self.client.clone(), namespace, resource),
            None => Api::all_with(self.client.clone(), resource),
        };
        let list = api.list(&ListParams::default()).await.map_err(|error| {
            self.classify(
                error,
                &Action {
                    verb: "list",
                    group: &resource.group,
                    resource: &resource.plural,
                    namespace,
                    name: None,
                },
            )
        })?;
        Ok(list
            .items
            .into_iter()
            .map(|object| with_type(object, resource))
            .collect())
    }

    /// Gets one object of a namespaced custom resource; `None` when it does not exist.
    pub(crate) async fn get(
        &self,
        resource: &ApiResource,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let api: Api<DynamicObject> = Api::namespaced_with(self.client.clone(), namespace, resource);
        let object = api.get_opt(name).await.map_err(|error| {
            self.classify(
                error,
                &Action {
                    verb: "get",
                    group: &resource.group,
                    resource: &resource.plural,
                    namespace: Some(namespace),
                    name: Some(name),
                },
            )
        })?;
        Ok(object.map(|object| with_type(object, resource)))
    }

    /// Gets one Secret; `None` when it does not exist.
    pub(crate) async fn get_secret(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Value>, ClusterError> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let secret = api.get_opt(name).await.map_err(|error| {
            self.classify(
                error,
                &Action {
                    verb: "get",
                    group: "",
                    resource: "secrets",
                    namespace: Some(namespace),
                    name: Some(name),
                },
            )
        })?;
        secret
            .map(|secret| {
                serde_json::to_value(secret).map_err(|error| ClusterError::Api {
                    action: format!("get secrets {namespace}/{name}"),
                    code: 200,
                    reason: "InvalidObject".to_string(),
                    message: format!("the Secret cannot be converted to JSON: {error}"),
                })
            })
            .transpose()
    }

    /// Maps a client error to a [`ClusterError`] naming the request.
    pub(crate) fn classify(&self, error: kube::Error, action: &Action<'_>) -> ClusterError {
        match error {
            kube::Error::Api(response) => match response.code {
                401 => ClusterError::Unauthorized {
                    server: self.server.clone(),
                    context: self.identity.clone(),
                },
                403 => ClusterError::Forbidden {
                    verb: action.verb.to_string(),
                    group: action.group.to_string(),
                    resource: action.resource.to_string(),
                    namespace: action.namespace.map(str::to_string),
                    name: action.name.map(str::to_string),
                    detail: response.message,
                },
                404 if action.group == "cert-manager.io" => ClusterError::CrdMissing {
                    server: self.server.clone(),
                    group_version: format!("{}/v1", action.group),
                },
                code => ClusterError::Api {
                    action: describe_action(action),
                    code,
                    reason: response.reason,
                    message: response.message,
                },
            },
            other => ClusterError::Unreachable {
                server: self.server.clone(),
                detail: error_chain(&other),
            },
        }
    }
}

fn describe_action(action: &Action<'_>) -> String {
    let mut text = format!("{} {}", action.verb, action.resource);
    match (action.namespace, action.name) {
        (Some(namespace), Some(name)) => text.push_str(&format!(" {namespace}/{name}")),
        (Some(namespace), None) => text.push_str(&format!(" in namespace {namespace}")),
        (None, Some(name)) => text.push_str(&format!(" {name}")),
        (None, None) => {}
    }
    text
}

/// Finds the kubeconfig as kubectl does: `KUBECONFIG` (several paths
/// merged), else `~/.kube/config`. Returns `None` when neither exists.
fn find_kubeconfig() -> Result<Option<Kubeconfig>, ClusterError> {
    let from_env = Kubeconfig::from_env().map_err(|error| {
        ClusterError::Config(format!(
            "cannot read the kubeconfig named by KUBECONFIG: {}",
            error_chain(&error)
        ))
    })?;
    if from_env.is_some() {
        return Ok(from_env);
    }
    let Some(home) = std::env::var_os("HOME").filter(|home| !home.is_empty()) else {
        return Ok(None);
    };
    let path = PathBuf::from(home).join(".kube").join("config");
    if !path.exists() {
        return Ok(None);
    }
    Kubeconfig::read_from(&path).map(Some).map_err(|error| {
        ClusterError::Config(format!(
            "cannot read the kubeconfig {}: {}",
            path.display(),
            error_chain(&error)
        ))
    })
}

/// Sets `apiVersion` and `kind`, which list items may leave out.
fn with_type(object: DynamicObject, resource: &ApiResource) -> Value {
    let mut value = serde_json::to_value(object).unwrap_or(Value::Null);
    if let Some(map) = value.as_object_mut() {
        map.insert("apiVersion".into(), Value::String(resource.api_version.clone()));
        map.insert("kind".into(), Value::String(resource.kind.clone()));
    }
    value
}

/// Joins an error and its sources into one line.
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
