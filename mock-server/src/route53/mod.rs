//! Emulation of AWS Route53 (REST-XML, `/2013-04-01/`) and STS (query
//! protocol, form POST to `/`) on one loopback listener, plus an
//! authoritative DNS server for the public zones.
//!
//! One listener serves both services because an AWS SDK given one endpoint
//! URL (`AWS_ENDPOINT_URL`) sends both there. Every access key belongs to a
//! principal (IAM user or role session) with an IAM-like policy: actions,
//! resource ARNs, and the record name and type condition keys of
//! ChangeResourceRecordSets. Changes are PENDING at first and turn INSYNC
//! after `insync_after_ms`.
//!
//! Steps for faults and the request log: the Route53 operations by name,
//! and `sts` for any STS call (the front sees only the request head, and the
//! STS action is in the body; the log entry is then renamed to the action).

mod dns;
mod handlers;
mod scenario;
mod sigv4;
mod state;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde::Deserialize;
use tracing::{debug, info};

pub use scenario::{
    Effect, RecordSetSpec, RoleSpec, Route53Scenario, SessionSpec, Statement, UserSpec, ZoneSpec,
};
pub use state::{RecordSet, Zone};

use crate::faults::{FaultAction, FaultStep};
use crate::front::{Disposition, FrontListener, Gate, IncomingRequest};
use crate::StartError;
use handlers::Route53Responder;
use state::State;

/// The step a request is classified as, for faults and the request log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// `GET /2013-04-01/hostedzonesbyname`
    ListHostedZonesByName,
    /// `GET /2013-04-01/hostedzone/{id}`
    GetHostedZone,
    /// `POST /2013-04-01/hostedzone/{id}/rrset/`
    ChangeResourceRecordSets,
    /// `GET /2013-04-01/hostedzone/{id}/rrset`
    ListResourceRecordSets,
    /// `GET /2013-04-01/change/{id}`
    GetChange,
    /// Any STS call; faults use this step.
    Sts,
    /// STS GetCallerIdentity (log only).
    GetCallerIdentity,
    /// STS AssumeRole (log only).
    AssumeRole,
    /// STS AssumeRoleWithWebIdentity (log only).
    AssumeRoleWithWebIdentity,
    /// Any other request.
    Other,
    /// Matches every request; only meaningful in a [`Fault`].
    Any,
}

impl FaultStep for Step {
    fn is_any(&self) -> bool {
        *self == Step::Any
    }
}

impl Step {
    fn classify(method: &str, path: &str) -> Step {
        let Some(rest) = path.strip_prefix("/2013-04-01/") else {
            return if method == "POST" && path == "/" {
                Step::Sts
            } else {
                Step::Other
            };
        };
        let segments: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            ("GET", ["hostedzonesbyname"]) => Step::ListHostedZonesByName,
            ("GET", ["hostedzone", _]) => Step::GetHostedZone,
            ("POST", ["hostedzone", _, "rrset"]) => Step::ChangeResourceRecordSets,
            ("GET", ["hostedzone", _, "rrset"]) => Step::ListResourceRecordSets,
            ("GET", ["change", _]) => Step::GetChange,
            _ => Step::Other,
        }
    }

    fn sts_action(action: &str) -> Step {
        match action {
            "GetCallerIdentity" => Step::GetCallerIdentity,
            "AssumeRole" => Step::AssumeRole,
            "AssumeRoleWithWebIdentity" => Step::AssumeRoleWithWebIdentity,
            _ => Step::Sts,
        }
    }
}

/// A fault on a Route53 or STS step.
pub type Fault = crate::faults::Fault<Step>;
/// A request received by the emulation.
pub type LoggedRequest = crate::request_log::LoggedRequest<Step>;

pub(crate) struct Shared {
    started: Instant,
    state: Mutex<State>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Gate for Shared {
    fn admit(&self, request: &IncomingRequest) -> (u64, Disposition) {
        let step = Step::classify(&request.method, &request.path);
        let credential = request
            .header("authorization")
            .and_then(sigv4::parse)
            .map(|auth| auth.access_key_id);
        let mut state = self.lock();
        let fault = state.faults.evaluate(step);
        let latency = state.latency;
        let seq = state.log.push(LoggedRequest {
            seq: 0,
            offset: self.started.elapsed(),
            method: request.method.clone(),
            path: request.path.clone(),
            query: request.query.clone(),
            step,
            credential: credential.clone(),
            status: None,
            fault: fault.clone(),
        });
        drop(state);
        debug!(seq, method = %request.method, path = %request.path, ?step, ?credential, ?fault, "route53 request");
        let disposition = match fault {
            Some(FaultAction::Reset) => Disposition::Reset,
            Some(FaultAction::Hang) => Disposition::Hang,
            Some(FaultAction::Delay(ms)) => Disposition::Forward {
                delay_before: latency,
                delay_after: Duration::from_millis(ms),
            },
            _ => Disposition::Forward {
                delay_before: latency,
                delay_after: Duration::ZERO,
            },
        };
        (seq, disposition)
    }

    fn complete(&self, seq: u64, status: u16) {
        if let Some(entry) = self.lock().log.get_mut(seq) {
            entry.status = Some(status);
        }
    }
}

/// A running Route53 and STS emulation with its DNS server. Dropping it
/// stops the listeners.
pub struct Route53Mock {
    shared: Arc<Shared>,
    url: String,
    dns: Option<dns::DnsServer>,
    _front: FrontListener,
    _emulation: wiremock::MockServer,
}

impl Route53Mock {
    /// Starts the emulation for `scenario` with its HTTP listener on `listen`
    /// (loopback only) and, unless the scenario turns it off, DNS on a free
    /// port of the same IP.
    pub async fn start(
        scenario: Route53Scenario,
        listen: SocketAddr,
    ) -> Result<Route53Mock, StartError> {
        if !listen.ip().is_loopback() {
            return Err(StartError::NotLoopback(listen));
        }
        let state = State::from_scenario(&scenario)?;
        let dns = if scenario.dns {
            let server = dns::start(&state.zones, listen.ip())
                .await
                .map_err(|source| StartError::Bind {
                    addr: SocketAddr::new(listen.ip(), 0),
                    source,
                })?;
            info!(addr = %server.addr, "route53 mock DNS listening");
            Some(server)
        } else {
            None
        };
        let shared = Arc::new(Shared {
            started: Instant::now(),
            state: Mutex::new(state),
        });
        let internal_addr = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
        let internal =
            std::net::TcpListener::bind(internal_addr).map_err(|source| StartError::Bind {
                addr: internal_addr,
                source,
            })?;
        let emulation = wiremock::MockServer::builder()
            .listener(internal)
            .disable_request_recording()
            .start()
            .await;
        wiremock::Mock::given(wiremock::matchers::any())
            .respond_with(Route53Responder::new(Arc::clone(&shared)))
            .mount(&emulation)
            .await;
        let gate: Arc<dyn Gate> = Arc::clone(&shared) as Arc<dyn Gate>;
        let front = FrontListener::bind(listen, *emulation.address(), gate)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen,
                source,
            })?;
        let url = format!("http://{}", front.local_addr());
        info!(%url, "route53 mock listening");
        Ok(Route53Mock {
            shared,
            url,
            dns,
            _front: front,
            _emulation: emulation,
        })
    }

    /// Base URL of both Route53 and STS, `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Address of the authoritative DNS server, when started.
    pub fn dns_addr(&self) -> Option<SocketAddr> {
        self.dns.as_ref().map(|dns| dns.addr)
    }

    /// Adds a fault; its `nth` counts matching requests from now on.
    pub fn add_fault(&self, fault: Fault) {
        self.shared.lock().faults.add(fault);
    }

    /// Sets the fixed delay added before each request is processed, in milliseconds.
    pub fn set_latency(&self, ms: u64) {
        self.shared.lock().latency = Duration::from_millis(ms);
    }

    /// Current state of every hosted zone, in scenario order.
    pub fn zones(&self) -> Vec<Zone> {
        self.shared.lock().zones.clone()
    }

    /// Current record sets of the zone with `id`.
    pub fn record_sets(&self, id: &str) -> Vec<RecordSet> {
        self.shared
            .lock()
            .zones
            .iter()
            .find(|zone| zone.id == id)
            .map(|zone| zone.record_sets.clone())
            .unwrap_or_default()
    }

    /// Returns every request received so far, oldest first.
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.snapshot()
    }
}
