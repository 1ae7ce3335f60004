//! Shared scenario and HTTP helpers for the integration tests.
#![allow(dead_code)]

pub mod process;

use std::time::Duration;

use acme_token_mock::cloudflare::CloudflareMock;
use acme_token_mock::{MockServer, Scenario};
use serde_json::Value;

pub const FULL_TOKEN: &str = "cf-full-0000000000000000000000000000000000";
pub const FULL_TOKEN_ID: &str = "f0000000000000000000000000000001";
pub const READ_ONLY_TOKEN: &str = "cf-readonly-00000000000000000000000000000";
pub const ZONE_READ_ONLY_TOKEN: &str = "cf-zoneread-00000000000000000000000000000";
pub const DNS_ONLY_TOKEN: &str = "cf-dnsonly-000000000000000000000000000000";
pub const ORG_ONLY_TOKEN: &str = "cf-orgonly-000000000000000000000000000000";
pub const IP_FILTERED_TOKEN: &str = "cf-ipfilter-00000000000000000000000000000";
pub const LOOPBACK_FILTERED_TOKEN: &str = "cf-loopback-00000000000000000000000000000";
pub const REVOKED_TOKEN: &str = "cf-revoked-000000000000000000000000000000";
pub const DISABLED_TOKEN: &str = "cf-disabled-00000000000000000000000000000";
pub const EXPIRED_TOKEN: &str = "cf-expired-000000000000000000000000000000";
pub const FUTURE_TOKEN: &str = "cf-future-0000000000000000000000000000000";
pub const EXPIRING_TOKEN: &str = "cf-expiring-00000000000000000000000000000";
pub const ACCOUNT_TOKEN: &str = "cf-account-000000000000000000000000000000";
pub const ACCOUNT_TOKEN_ID: &str = "a0000000000000000000000000000001";
pub const GLOBAL_EMAIL: &str = "ops@example.com";
pub const GLOBAL_KEY: &str = "0123456789abcdef0123456789abcdef01234";

pub const ACCOUNT_ONE: &str = "0a000000000000000000000000000001";
pub const ACCOUNT_TWO: &str = "0a000000000000000000000000000002";
pub const COM_ZONE: &str = "c0000000000000000000000000000001";
pub const ORG_ZONE: &str = "c0000000000000000000000000000002";
pub const NET_ZONE: &str = "c0000000000000000000000000000003";

/// Three zones in two accounts, one in-flight challenge record, and a token per permission case.
pub fn scenario_yaml() -> String {
    format!(
        r#"
cloudflare:
  accounts:
    - {{id: "{ACCOUNT_ONE}", name: "Example Org"}}
    - {{id: "{ACCOUNT_TWO}", name: "Other Org"}}
  zones:
    - name: example.com
      id: "{COM_ZONE}"
      account: "{ACCOUNT_ONE}"
      records:
        - {{type: TXT, name: _acme-challenge.example.com, content: "in-flight-challenge", ttl: 120}}
        - {{type: A, name: www.example.com, content: "192.0.2.10", ttl: 300}}
    - {{name: example.org, id: "{ORG_ZONE}", account: "Example Org"}}
    - {{name: example.net, id: "{NET_ZONE}", account: "{ACCOUNT_TWO}"}}
  tokens:
    - {{value: "{FULL_TOKEN}", id: "{FULL_TOKEN_ID}", permissions: ["Zone:Read", "DNS:Edit"]}}
    - {{value: "{READ_ONLY_TOKEN}", permissions: ["Zone:Read", "DNS:Read"]}}
    - {{value: "{ZONE_READ_ONLY_TOKEN}", permissions: ["Zone:Zone:Read"]}}
    - {{value: "{DNS_ONLY_TOKEN}", permissions: ["Zone:DNS:Edit"]}}
    - {{value: "{ORG_ONLY_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], zones: [example.org]}}
    - {{value: "{IP_FILTERED_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], allowed_ips: ["203.0.113.0/24"]}}
    - {{value: "{LOOPBACK_FILTERED_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], allowed_ips: ["127.0.0.0/8"]}}
    - {{value: "{REVOKED_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], revoked: true}}
    - {{value: "{DISABLED_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], status: disabled}}
    - {{value: "{EXPIRED_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], expires_on: "-1d"}}
    - {{value: "{FUTURE_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], not_before: "in 1d"}}
    - {{value: "{EXPIRING_TOKEN}", permissions: ["Zone:Read", "DNS:Edit"], expires_on: "in 5d"}}
    - {{value: "{ACCOUNT_TOKEN}", id: "{ACCOUNT_TOKEN_ID}", owner: account, account: "{ACCOUNT_TWO}", permissions: ["Zone:Read", "DNS:Edit"]}}
  global_keys:
    - {{email: "{GLOBAL_EMAIL}", key: "{GLOBAL_KEY}"}}
"#
    )
}

/// Starts the standard scenario with `extra` appended to its `cloudflare:` section.
pub async fn start_with(extra: &str) -> MockServer {
    let text = format!("{}{}", scenario_yaml(), extra);
    let scenario = Scenario::from_yaml(&text).expect("test scenario is valid");
    MockServer::start(scenario).await.expect("mock starts")
}

pub async fn start() -> MockServer {
    start_with("").await
}

pub fn cloudflare(server: &MockServer) -> &CloudflareMock {
    server
        .cloudflare()
        .expect("scenario has a cloudflare section")
}

/// Builds a client that never uses a proxy and gives up after `timeout`.
pub fn client_with_timeout(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(timeout)
        .build()
        .expect("client builds")
}

pub fn client() -> reqwest::Client {
    client_with_timeout(Duration::from_secs(10))
}

/// A response reduced to what the tests check.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Reply {
    /// Codes of the `errors` array, in order.
    pub fn error_codes(&self) -> Vec<u64> {
        self.body["errors"]
            .as_array()
            .map(|errors| errors.iter().filter_map(|e| e["code"].as_u64()).collect())
            .unwrap_or_default()
    }

    /// Codes of the first error's `error_chain`.
    pub fn chain_codes(&self) -> Vec<u64> {
        self.body["errors"][0]["error_chain"]
            .as_array()
            .map(|chain| chain.iter().filter_map(|e| e["code"].as_u64()).collect())
            .unwrap_or_default()
    }

    pub fn first_message(&self) -> String {
        self.body["errors"][0]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

pub async fn send(request: reqwest::RequestBuilder) -> Reply {
    let response = request
        .send()
        .await
        .expect("request succeeds at the transport level");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.expect("body is readable");
    let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn get_with_token(server: &MockServer, token: &str, path: &str) -> Reply {
    let url = format!("{}{}", server.cloudflare_url().unwrap(), path);
    send(client().get(url).bearer_auth(token)).await
}

pub async fn create_txt(
    server: &MockServer,
    token: &str,
    zone_id: &str,
    name: &str,
    content: &str,
    ttl: u64,
) -> Reply {
    let url = format!(
        "{}/zones/{zone_id}/dns_records",
        server.cloudflare_url().unwrap()
    );
    let body = serde_json::json!({"type": "TXT", "name": name, "content": content, "ttl": ttl});
    send(client().post(url).bearer_auth(token).json(&body)).await
}

pub async fn delete_record(
    server: &MockServer,
    token: &str,
    zone_id: &str,
    record_id: &str,
) -> Reply {
    let url = format!(
        "{}/zones/{zone_id}/dns_records/{record_id}",
        server.cloudflare_url().unwrap()
    );
    send(client().delete(url).bearer_auth(token)).await
}

/// Asserts the failure envelope: `success: false`, `result: null`, `messages: []`, and these error codes.
pub fn assert_failure(reply: &Reply, status: u16, codes: &[u64]) {
    assert_eq!(reply.status, status, "status of {:?}", reply.body);
    assert_eq!(reply.body["success"], false, "{:?}", reply.body);
    assert!(reply.body["result"].is_null(), "{:?}", reply.body);
    assert_eq!(
        reply.body["messages"],
        serde_json::json!([]),
        "{:?}",
        reply.body
    );
    assert_eq!(reply.error_codes(), codes, "{:?}", reply.body);
}

/// Asserts the success envelope and returns `result`.
pub fn assert_success(reply: &Reply) -> &Value {
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    assert_eq!(reply.body["success"], true, "{:?}", reply.body);
    assert_eq!(
        reply.body["errors"],
        serde_json::json!([]),
        "{:?}",
        reply.body
    );
    assert!(reply.body["messages"].is_array(), "{:?}", reply.body);
    &reply.body["result"]
}
