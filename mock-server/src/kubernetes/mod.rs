//! A slice of the Kubernetes API server: what acme-token and `kubectl get`
//! read.
//!
//! Served: `/version`, discovery (`/api`, `/api/v1`, `/apis`,
//! `/apis/GROUP`, `/apis/GROUP/VERSION`), and `get` and `list` of core v1
//! Secrets and Namespaces, `cert-manager.io/v1` Issuers, ClusterIssuers and
//! Certificates, and `external-secrets.io/v1` ExternalSecrets, per namespace
//! and across all namespaces, with equality-based label selectors and
//! `metadata.name`/`metadata.namespace` field selectors.
//!
//! Requests need a bearer token from the scenario, or an `anonymous`
//! section for requests without one. An unknown or expired token gets 401,
//! and a request no rule allows gets 403 with the API server's `Status`
//! message. Table output (`as=Table`) is not
//! served: the plain JSON list is returned, and kubectl then prints the
//! objects with its default columns.

mod handlers;
mod objects;
mod resources;
mod scenario;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use tracing::info;

pub use scenario::{AnonymousSpec, KubernetesScenario, Rule, TokenSpec};

use crate::StartError;
use handlers::KubernetesResponder;
use objects::Store;

/// One request the Kubernetes mock received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KubeRequest {
    /// HTTP method, for example `GET`.
    pub method: String,
    /// Path without the query, for example `/api/v1/namespaces/cert-manager/secrets/cf`.
    pub path: String,
    /// Raw query without the leading `?`.
    pub query: Option<String>,
    /// User of the bearer token, or `None` when authentication failed.
    pub user: Option<String>,
    /// Status code sent back.
    pub status: u16,
}

pub(crate) struct Shared {
    store: Store,
    scenario: KubernetesScenario,
    log: Mutex<Vec<KubeRequest>>,
}

impl Shared {
    fn log(&self) -> MutexGuard<'_, Vec<KubeRequest>> {
        self.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Entries kept in the request log; older ones are dropped first.
const LOG_CAPACITY: usize = 100_000;

/// A running Kubernetes API mock. Dropping it stops the listener.
pub struct KubernetesMock {
    shared: Arc<Shared>,
    url: String,
    _server: wiremock::MockServer,
}

impl KubernetesMock {
    /// Starts the mock for `scenario` on `listen` (loopback only).
    pub async fn start(
        scenario: KubernetesScenario,
        listen: SocketAddr,
    ) -> Result<KubernetesMock, StartError> {
        if !listen.ip().is_loopback() {
            return Err(StartError::NotLoopback(listen));
        }
        scenario.validate()?;
        let store = Store::from_scenario(&scenario)?;
        let shared = Arc::new(Shared {
            store,
            scenario,
            log: Mutex::new(Vec::new()),
        });
        let listener = std::net::TcpListener::bind(listen).map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })?;
        let server = wiremock::MockServer::builder()
            .listener(listener)
            .disable_request_recording()
            .start()
            .await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(KubernetesResponder::new(Arc::clone(&shared)))
            .mount(&server)
            .await;
        let url = server.uri();
        info!(%url, "kubernetes mock listening");
        Ok(KubernetesMock {
            shared,
            url,
            _server: server,
        })
    }

    /// Server URL for a kubeconfig, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Returns every request received so far, oldest first.
    pub fn requests(&self) -> Vec<KubeRequest> {
        self.shared.log().clone()
    }
}
