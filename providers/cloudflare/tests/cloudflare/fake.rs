//! A small stateful stand-in for the Cloudflare v4 API on wiremock, written
//! from the published API (envelope, verify endpoints, zone list, DNS
//! records) and the error responses quoted in public bug reports.
//!
//! It stores one credential, the zones that credential can see, the TXT
//! records in those zones, and which permissions the credential has. Fault
//! rules replace or delay single responses.

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use wiremock::{Request, Respond, ResponseTemplate};

/// The credential the fake accepts.
#[derive(Clone)]
pub enum Credential {
    Token(String),
    GlobalKey { key: String, email: String },
}

/// Who owns the token, which decides the verify endpoint that accepts it.
#[derive(Clone, PartialEq, Eq)]
pub enum Owner {
    User,
    Account(String),
}

/// A zone the credential can see.
#[derive(Clone)]
pub struct FakeZone {
    pub id: String,
    pub name: String,
    pub account_id: String,
    pub status: String,
}

/// A DNS record.
#[derive(Clone, Debug)]
pub struct FakeRecord {
    pub id: String,
    pub zone_id: String,
    pub name: String,
    pub kind: String,
    pub content: String,
    pub ttl: u64,
}

/// Response to a request that matches a fault rule.
pub enum Fault {
    /// Return this status and error, without any effect.
    Error { status: u16, code: i64, message: String },
    /// Return 429 with `Retry-After`, without any effect.
    RateLimit { retry_after: u64 },
    /// Do the work, then return 500 with a non-JSON body.
    LostAfterEffect,
    /// Do the work, then respond normally after `delay`.
    Delay(Duration),
    /// Return 200 with a body that is not JSON, without any effect.
    Malformed,
    /// Run the hook, then respond normally.
    Hook(Box<dyn Fn() + Send + Sync>),
}

/// A fault applied to the next `times` requests that match.
pub struct FaultRule {
    pub method: &'static str,
    /// Matched against the path; `None` matches every path.
    pub path_contains: Option<String>,
    /// Number of matching requests served normally before the fault applies.
    pub skip: usize,
    pub times: usize,
    pub fault: Fault,
}

/// State of the stand-in API.
pub struct State {
    pub credential: Credential,
    pub owner: Owner,
    pub token_id: String,
    pub token_status: String,
    pub expires_on: Option<String>,
    pub not_before: Option<String>,
    /// When set, every request gets 401 with this code and message.
    pub revoked: Option<(i64, String)>,
    /// When set, every request gets 403, code 9109, naming this address.
    pub ip_blocked: Option<String>,
    pub zone_read: bool,
    pub dns_read: bool,
    pub dns_edit: bool,
    pub zones: Vec<FakeZone>,
    pub records: Vec<FakeRecord>,
    pub faults: VecDeque<FaultRule>,
    next_record: u64,
}

impl State {
    /// Creates the state of a user token with Zone:Read and DNS:Edit on every
    /// zone, and no faults.
    pub fn token(token: &str) -> Self {
        Self {
            credential: Credential::Token(token.to_string()),
            owner: Owner::User,
            token_id: "f267e341f3dd4697bd3b9f71dd96247f".to_string(),
            token_status: "active".to_string(),
            expires_on: None,
            not_before: None,
            revoked: None,
            ip_blocked: None,
            zone_read: true,
            dns_read: true,
            dns_edit: true,
            zones: Vec::new(),
            records: Vec::new(),
            faults: VecDeque::new(),
            next_record: 1,
        }
    }

    /// Creates the state of a global API key with its email.
    pub fn global_key(key: &str, email: &str) -> Self {
        Self {
            credential: Credential::GlobalKey {
                key: key.to_string(),
                email: email.to_string(),
            },
            ..Self::token("unused")
        }
    }

    pub fn with_zone(mut self, id: &str, name: &str, account_id: &str) -> Self {
        self.zones.push(FakeZone {
            id: id.to_string(),
            name: name.to_string(),
            account_id: account_id.to_string(),
            status: "active".to_string(),
        });
        self
    }

    pub fn with_record(mut self, zone_id: &str, name: &str, content: &str) -> Self {
        let id = self.new_record_id();
        self.records.push(FakeRecord {
            id,
            zone_id: zone_id.to_string(),
            name: name.to_string(),
            kind: "TXT".to_string(),
            content: content.to_string(),
            ttl: 120,
        });
        self
    }

    pub fn with_fault(self, method: &'static str, path_contains: Option<&str>, times: usize, fault: Fault) -> Self {
        self.with_fault_after(method, path_contains, 0, times, fault)
    }

    /// Adds a fault that applies after `skip` matching requests.
    pub fn with_fault_after(
        mut self,
        method: &'static str,
        path_contains: Option<&str>,
        skip: usize,
        times: usize,
        fault: Fault,
    ) -> Self {
        self.faults.push_back(FaultRule {
            method,
            path_contains: path_contains.map(str::to_string),
            skip,
            times,
            fault,
        });
        self
    }

    fn new_record_id(&mut self) -> String {
        let id = format!("{:032x}", 0x372e_6795_0000u64 + self.next_record);
        self.next_record += 1;
        id
    }
}

/// The wiremock responder. Clones share the state.
#[derive(Clone)]
pub struct FakeCloudflare {
    pub state: Arc<Mutex<State>>,
}

impl FakeCloudflare {
    pub fn new(state: State) -> Self {
        Self {
            state: Arc::new(Mutex::new(state)),
        }
    }

    /// TXT records currently stored.
    pub fn records(&self) -> Vec<FakeRecord> {
        self.state.lock().unwrap().records.clone()
    }
}

fn success(result: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({
        "success": true,
        "errors": [],
        "messages": [],
        "result": result,
    }))
}

fn list(result: Vec<Value>, total: usize) -> ResponseTemplate {
    let count = result.len();
    ResponseTemplate::new(200).set_body_json(json!({
        "success": true,
        "errors": [],
        "messages": [],
        "result": result,
        "result_info": {"page": 1, "per_page": count.max(5), "count": count, "total_count": total},
    }))
}

fn failure(status: u16, code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(status).set_body_json(json!({
        "success": false,
        "errors": [{"code": code, "message": message}],
        "messages": [],
        "result": null,
    }))
}

fn header_failure(chain_code: i64, chain_message: &str) -> ResponseTemplate {
    ResponseTemplate::new(400).set_body_json(json!({
        "success": false,
        "errors": [{
            "code": 6003,
            "message": "Invalid request headers",
            "error_chain": [{"code": chain_code, "message": chain_message}],
        }],
        "messages": [],
        "result": null,
    }))
}

fn looks_like_global_key(value: &str) -> bool {
    value.starts_with("cfk_")
        || (value.len() == 37 && value.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)))
}

fn zone_json(zone: &FakeZone) -> Value {
    json!({
        "id": zone.id,
        "name": zone.name,
        "status": zone.status,
        "account": {"id": zone.account_id, "name": format!("account {}", &zone.account_id[..6])},
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
    })
}

fn record_json(record: &FakeRecord) -> Value {
    json!({
        "id": record.id,
        "name": record.name,
        "type": record.kind,
        "content": record.content,
        "ttl": record.ttl,
        "proxiable": false,
        "proxied": false,
    })
}

impl State {
    /// Returns an error response unless the request carries the credential.
    fn authenticate(&self, request: &Request) -> Option<ResponseTemplate> {
        let header = |name: &str| {
            request
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        if let Some(address) = &self.ip_blocked {
            return Some(failure(403, 9109, &format!("Cannot use the access token from location: {address}")));
        }
        if let Some(bearer) = header("authorization") {
            let Some(token) = bearer.strip_prefix("Bearer ") else {
                return Some(header_failure(6111, "Invalid format for Authorization header"));
            };
            if looks_like_global_key(token) || token.chars().any(char::is_whitespace) {
                return Some(header_failure(6111, "Invalid format for Authorization header"));
            }
            return match &self.credential {
                Credential::Token(expected) if expected == token => self
                    .revoked
                    .as_ref()
                    .map(|(code, message)| failure(401, *code, message)),
                _ => Some(failure(401, 1000, "Invalid API Token")),
            };
        }
        if let Some(key) = header("x-auth-key") {
            if !looks_like_global_key(&key) {
                return Some(header_failure(6103, "Invalid format for X-Auth-Key header"));
            }
            let email = header("x-auth-email").unwrap_or_default();
            return match &self.credential {
                Credential::GlobalKey { key: k, email: e } if *k == key && *e == email => None,
                _ => Some(failure(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")),
            };
        }
        Some(failure(400, 6003, "Invalid request headers"))
    }

    fn take_fault(&mut self, request: &Request) -> Option<Fault> {
        let method = request.method.as_str();
        let path = request.url.path().to_string();
        let index = self.faults.iter().position(|rule| {
            rule.method == method
                && rule.times > 0
                && rule.path_contains.as_deref().is_none_or(|p| path.contains(p))
        })?;
        let rule = &mut self.faults[index];
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        rule.times -= 1;
        if rule.times == 0 {
            return self.faults.remove(index).map(|rule| rule.fault);
        }
        // A rule used more than once keeps its fault, so respond with a copy.
        match &rule.fault {
            Fault::Error { status, code, message } => Some(Fault::Error {
                status: *status,
                code: *code,
                message: message.clone(),
            }),
            Fault::RateLimit { retry_after } => Some(Fault::RateLimit {
                retry_after: *retry_after,
            }),
            Fault::LostAfterEffect => Some(Fault::LostAfterEffect),
            Fault::Delay(delay) => Some(Fault::Delay(*delay)),
            Fault::Malformed => Some(Fault::Malformed),
            Fault::Hook(_) => None,
        }
    }

    fn route(&mut self, request: &Request) -> ResponseTemplate {
        if let Some(rejection) = self.authenticate(request) {
            return rejection;
        }
        let path = request.url.path().to_string();
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        let query = |name: &str| {
            request
                .url
                .query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        };
        let method = request.method.as_str();

        match (method, segments.as_slice()) {
            ("GET", ["user", "tokens", "verify"]) => match &self.owner {
                Owner::User => success(self.token_json()),
                Owner::Account(_) => failure(401, 1000, "Invalid API Token"),
            },
            ("GET", ["accounts", account, "tokens", "verify"]) => match &self.owner {
                Owner::Account(owner) if owner == account => success(self.token_json()),
                _ => failure(401, 1000, "Invalid API Token"),
            },
            ("GET", ["zones"]) => {
                if !self.zone_read {
                    return failure(403, 10000, "Authentication error");
                }
                let zones: Vec<Value> = match query("name") {
                    Some(name) => self
                        .zones
                        .iter()
                        .filter(|z| z.name == name)
                        .map(zone_json)
                        .collect(),
                    None => {
                        let per_page: usize = query("per_page").and_then(|p| p.parse().ok()).unwrap_or(20);
                        self.zones.iter().take(per_page).map(zone_json).collect()
                    }
                };
                let total = if query("name").is_some() { zones.len() } else { self.zones.len() };
                list(zones, total)
            }
            (_, ["zones", zone_id, "dns_records", rest @ ..]) => {
                if !self.zones.iter().any(|z| z.id == *zone_id) {
                    return failure(
                        404,
                        7003,
                        &format!("Could not route to /client/v4/zones/{zone_id}/dns_records, perhaps your object identifier is invalid?"),
                    );
                }
                self.dns_records(method, zone_id, rest, request, &query)
            }
            _ => failure(404, 7000, "No route for that URI"),
        }
    }

    fn dns_records(
        &mut self,
        method: &str,
        zone_id: &str,
        rest: &[&str],
        request: &Request,
        query: &dyn Fn(&str) -> Option<String>,
    ) -> ResponseTemplate {
        match (method, rest) {
            ("GET", []) => {
                if !self.dns_read {
                    return failure(403, 10000, "Authentication error");
                }
                let name = query("name");
                let kind = query("type");
                let records: Vec<Value> = self
                    .records
                    .iter()
                    .filter(|r| r.zone_id == zone_id)
                    .filter(|r| name.as_deref().is_none_or(|n| n == r.name))
                    .filter(|r| kind.as_deref().is_none_or(|k| k == r.kind))
                    .map(record_json)
                    .collect();
                let total = records.len();
                list(records, total)
            }
            ("POST", []) => {
                if !self.dns_edit {
                    return failure(403, 10000, "Authentication error");
                }
                let body: Value = match request.body_json() {
                    Ok(body) => body,
                    Err(_) => return failure(400, 9207, "Request body is invalid."),
                };
                let id = self.new_record_id();
                let record = FakeRecord {
                    id,
                    zone_id: zone_id.to_string(),
                    name: body["name"].as_str().unwrap_or_default().to_string(),
                    kind: body["type"].as_str().unwrap_or_default().to_string(),
                    content: body["content"].as_str().unwrap_or_default().to_string(),
                    ttl: body["ttl"].as_u64().unwrap_or(1),
                };
                let response = success(record_json(&record));
                self.records.push(record);
                response
            }
            ("DELETE", [record_id]) => {
                if !self.dns_edit {
                    return failure(403, 10000, "Authentication error");
                }
                let before = self.records.len();
                self.records.retain(|r| !(r.zone_id == zone_id && r.id == *record_id));
                if self.records.len() == before {
                    return failure(404, 81044, "Record does not exist.");
                }
                success(json!({"id": record_id}))
            }
            _ => failure(405, 10000, "Method not allowed for this endpoint"),
        }
    }

    fn token_json(&self) -> Value {
        let mut result = json!({"id": self.token_id, "status": self.token_status});
        if let Some(expires_on) = &self.expires_on {
            result["expires_on"] = json!(expires_on);
        }
        if let Some(not_before) = &self.not_before {
            result["not_before"] = json!(not_before);
        }
        result
    }
}

impl Respond for FakeCloudflare {
    fn respond(&self, request: &Request) -> ResponseTemplate {
        let mut state = self.state.lock().unwrap();
        match state.take_fault(request) {
            None => state.route(request),
            Some(Fault::Error { status, code, message }) => failure(status, code, &message),
            Some(Fault::RateLimit { retry_after }) => failure(429, 971, "Please wait and consider throttling your request speed")
                .insert_header("retry-after", retry_after.to_string().as_str()),
            Some(Fault::LostAfterEffect) => {
                let _ = state.route(request);
                ResponseTemplate::new(500).set_body_string("<html>500 Internal Server Error</html>")
            }
            Some(Fault::Delay(delay)) => state.route(request).set_delay(delay),
            Some(Fault::Malformed) => ResponseTemplate::new(200).set_body_string("<html>not json</html>"),
            Some(Fault::Hook(hook)) => {
                hook();
                state.route(request)
            }
        }
    }
}
