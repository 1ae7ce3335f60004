//! Emulation of the Cloudflare v4 API endpoints that DNS-01 solving and credential checks use.
//!
//! Served under `/client/v4`: token verify (user and account), zone list and
//! lookup, DNS record list, create, lookup and delete. API tokens carry the
//! permission model (permission groups, zone resources, status, expiry,
//! not-before, client IP filter, revocation); global API keys see every zone.
//!
//! Where Cloudflare's behaviour is only observed, not specified, the choice and
//! its source are recorded next to the code: error codes in `errors.rs`,
//! pagination and filters in `listing.rs`, verify and create in `handlers.rs`.

mod auth;
mod errors;
mod handlers;
mod listing;
mod ratelimit;
mod routes;
mod scenario;
mod state;
mod views;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde::Deserialize;
use tracing::{debug, info};

pub use scenario::{
    AccountSpec, CloudflareScenario, GlobalKeySpec, IpFilter, Permission, RateLimitSpec,
    RecordSpec, TokenOwner, TokenSpec, TokenStatus, ZoneScope, ZoneSpec, ZoneStatus,
};
pub use state::Record;

use crate::faults::{FaultAction, FaultStep};
use crate::front::{Disposition, FrontListener, Gate, IncomingRequest};
use crate::StartError;
use auth::AuthHeaders;
use handlers::CloudflareResponder;
use routes::{Route, API_PREFIX};
use state::{normalize_name, State};

/// The step a Cloudflare request is classified as, for faults and the request log.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// `GET /user/tokens/verify`
    Verify,
    /// `GET /accounts/{account_id}/tokens/verify`
    AccountVerify,
    /// `GET /zones`
    Zones,
    /// `GET /zones/{zone_id}/dns_records`
    ListRecords,
    /// `POST /zones/{zone_id}/dns_records`
    Create,
    /// `DELETE /zones/{zone_id}/dns_records/{id}`
    Delete,
    /// Any other request, including zone and record lookups by id.
    Other,
    /// Matches every request; only meaningful in a [`Fault`].
    Any,
}

impl FaultStep for Step {
    fn is_any(&self) -> bool {
        *self == Step::Any
    }
}

/// A fault on a Cloudflare step.
pub type Fault = crate::faults::Fault<Step>;
/// A request received by the Cloudflare emulation.
pub type LoggedRequest = crate::request_log::LoggedRequest<Step>;

/// State shared by the front listener's gate and the wiremock responder.
pub(crate) struct Shared {
    started: Instant,
    state: Mutex<State>,
}

impl Shared {
    /// Locks the state. A panic while holding the lock cannot leave it half-updated
    /// in a way later requests care about, so a poisoned lock is still used.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl Gate for Shared {
    fn admit(&self, request: &IncomingRequest) -> (u64, Disposition) {
        let step = Route::parse(&request.method, &request.path).step();
        let headers = AuthHeaders {
            authorization: request.header("authorization"),
            auth_email: request.header("x-auth-email"),
            auth_key: request.header("x-auth-key"),
        };

        let mut state = self.lock();
        let credential = auth::authenticate(&state, &headers)
            .ok()
            .map(|principal| auth::label(&state, principal));
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

        debug!(seq, method = %request.method, path = %request.path, ?step, ?credential, ?fault, "cloudflare request");
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
        debug!(seq, status, "cloudflare response");
    }
}

/// A running Cloudflare emulation. Dropping it stops the listener.
pub struct CloudflareMock {
    shared: Arc<Shared>,
    url: String,
    // Field order matters: the front stops accepting before the emulation goes away.
    _front: FrontListener,
    _emulation: wiremock::MockServer,
}

impl CloudflareMock {
    /// Starts the emulation for `scenario` with its public listener on `listen` (loopback only).
    pub async fn start(
        scenario: CloudflareScenario,
        listen: SocketAddr,
    ) -> Result<CloudflareMock, StartError> {
        if !listen.ip().is_loopback() {
            return Err(StartError::NotLoopback(listen));
        }
        let state = State::from_scenario(&scenario, Utc::now())?;
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
            .respond_with(CloudflareResponder::new(Arc::clone(&shared)))
            .mount(&emulation)
            .await;

        let gate: Arc<dyn Gate> = Arc::clone(&shared) as Arc<dyn Gate>;
        let front = FrontListener::bind(listen, *emulation.address(), gate)
            .await
            .map_err(|source| StartError::Bind {
                addr: listen,
                source,
            })?;
        let url = format!("http://{}{}", front.local_addr(), API_PREFIX);
        info!(%url, "cloudflare mock listening");
        Ok(CloudflareMock {
            shared,
            url,
            _front: front,
            _emulation: emulation,
        })
    }

    /// Base URL, `http://127.0.0.1:PORT/client/v4`.
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Adds a fault; its `nth` counts matching requests from now on.
    pub fn add_fault(&self, fault: Fault) {
        self.shared.lock().faults.add(fault);
    }

    /// Removes every fault, including those from the scenario.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Sets the fixed delay added before each request is processed, in milliseconds.
    pub fn set_latency(&self, ms: u64) {
        self.shared.lock().latency = Duration::from_millis(ms);
    }

    /// Current records of every zone named `zone_name` (several accounts may have one), in creation order.
    pub fn records(&self, zone_name: &str) -> Vec<Record> {
        let zone_name = normalize_name(zone_name);
        let state = self.shared.lock();
        state
            .records
            .iter()
            .filter(|record| record.zone_name == zone_name)
            .cloned()
            .collect()
    }

    /// Current records of all zones, in creation order.
    pub fn all_records(&self) -> Vec<Record> {
        self.shared.lock().records.clone()
    }

    /// Returns every request received so far, oldest first (at most the last 100,000).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.lock().log.snapshot()
    }

    /// Adds `record` to the first zone named `zone_name`, filling in its zone and, if empty, its id.
    ///
    /// The record is stored as given otherwise, so a test can set up states the API
    /// would reject, such as a name outside the zone.
    ///
    /// # Panics
    ///
    /// Panics if the scenario has no zone named `zone_name`.
    pub fn add_record(&self, zone_name: &str, mut record: Record) {
        let zone_name = normalize_name(zone_name);
        let mut state = self.shared.lock();
        let zone = state
            .zones
            .iter()
            .find(|zone| zone.name == zone_name)
            .unwrap_or_else(|| panic!("add_record: the scenario has no zone named {zone_name}"))
            .clone();
        if record.id.is_empty() {
            record.id = state.next_record_id(&zone.id);
        }
        record.zone_id = zone.id;
        record.zone_name = zone.name;
        record.name = normalize_name(&record.name);
        state.records.push(record);
    }

    /// Id of the first zone named `zone_name`, if any.
    pub fn zone_id(&self, zone_name: &str) -> Option<String> {
        let zone_name = normalize_name(zone_name);
        self.shared
            .lock()
            .zones
            .iter()
            .find(|zone| zone.name == zone_name)
            .map(|zone| zone.id.clone())
    }
}
