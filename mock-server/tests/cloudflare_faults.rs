//! Fault injection, rate limiting, latency and the request log of the Cloudflare emulation.

mod common;

use std::time::{Duration, Instant};

use acme_token_mock::cloudflare::{Fault, Step};
use acme_token_mock::faults::{FaultAction, StatusFault};
use common::*;

const CHALLENGE: &str = "_acme-challenge.example.com";

fn records_path() -> String {
    format!("/zones/{COM_ZONE}/dns_records?type=TXT&name={CHALLENGE}")
}

/// Sends one request of `step` with the full token and returns the transport result.
async fn call_step(
    server: &acme_token_mock::MockServer,
    client: &reqwest::Client,
    step: Step,
) -> reqwest::Result<reqwest::Response> {
    let base = server.cloudflare_url().unwrap();
    let request = match step {
        Step::Verify => client.get(format!("{base}/user/tokens/verify")),
        Step::Zones => client.get(format!("{base}/zones?name=example.com")),
        Step::ListRecords => client.get(format!("{base}{}", records_path())),
        Step::Create => client
            .post(format!("{base}/zones/{COM_ZONE}/dns_records"))
            .json(&serde_json::json!({"type": "TXT", "name": CHALLENGE, "content": "probe", "ttl": 120})),
        Step::Delete => {
            let id = cloudflare(server).records("example.com")[0].id.clone();
            client.delete(format!("{base}/zones/{COM_ZONE}/dns_records/{id}"))
        }
        other => panic!("no request for step {other:?}"),
    };
    request.bearer_auth(FULL_TOKEN).send().await
}

/// Reports whether the transport error was caused by a TCP reset (ECONNRESET), not a clean close.
fn is_connection_reset(error: &reqwest::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io_error) = current.downcast_ref::<std::io::Error>() {
            if io_error.kind() == std::io::ErrorKind::ConnectionReset {
                return true;
            }
        }
        source = current.source();
    }
    false
}

const STEPS: [Step; 5] = [
    Step::Verify,
    Step::Zones,
    Step::ListRecords,
    Step::Create,
    Step::Delete,
];

// ---- actions at each step ----

#[tokio::test]
async fn status_fault_at_each_step() {
    let server = start().await;
    let mock = cloudflare(&server);
    let client = client();
    for step in STEPS {
        mock.add_fault(Fault::new(step, FaultAction::status(500)));
        let records_before = mock.all_records();
        let response = call_step(&server, &client, step)
            .await
            .expect("the mock sends a response");
        assert_eq!(response.status(), 500, "{step:?}");
        let body: serde_json::Value = response.json().await.unwrap();
        assert_eq!(body["success"], false, "{step:?}");
        assert_eq!(body["errors"][0]["code"], 10000, "{step:?}");
        assert_eq!(
            body["errors"][0]["message"], "Internal Server Error",
            "{step:?}"
        );
        assert_eq!(mock.all_records(), records_before, "{step:?} changed state");
    }
}

#[tokio::test]
async fn status_fault_with_code_and_message() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(
        Step::Create,
        FaultAction::Status(StatusFault::new(403).with_error(10000, "Authentication error")),
    ));

    let reply = create_txt(&server, FULL_TOKEN, COM_ZONE, CHALLENGE, "probe", 120).await;
    assert_failure(&reply, 403, &[10000]);
    assert_eq!(reply.first_message(), "Authentication error");
}

#[tokio::test]
async fn failed_create_leaves_no_record() {
    let server =
        start_with("  faults: [{step: create, nth: 1, times: 1, action: {status: 500}}]\n").await;
    let mock = cloudflare(&server);

    let failed = create_txt(&server, FULL_TOKEN, COM_ZONE, CHALLENGE, "probe", 120).await;
    assert_failure(&failed, 500, &[10000]);
    assert!(!mock
        .records("example.com")
        .iter()
        .any(|r| r.content == "probe"));

    // `times: 1` means the retry goes through.
    let retried = create_txt(&server, FULL_TOKEN, COM_ZONE, CHALLENGE, "probe", 120).await;
    assert_success(&retried);
    assert!(mock
        .records("example.com")
        .iter()
        .any(|r| r.content == "probe"));
}

#[tokio::test]
async fn apply_then_status_changes_state() {
    let server = start().await;
    let mock = cloudflare(&server);
    let created = create_txt(&server, FULL_TOKEN, COM_ZONE, CHALLENGE, "probe", 120).await;
    let id = assert_success(&created)["id"].as_str().unwrap().to_string();

    mock.add_fault(Fault::new(
        Step::Delete,
        FaultAction::apply_then_status(500),
    ));
    let deleted = delete_record(&server, FULL_TOKEN, COM_ZONE, &id).await;
    assert_failure(&deleted, 500, &[10000]);
    assert!(
        !mock.records("example.com").iter().any(|r| r.id == id),
        "delete took effect"
    );
}

#[tokio::test]
async fn nth_targets_the_read_back() {
    // The second record list of a probe is its read-back after the create.
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(Step::ListRecords, FaultAction::status(503)).nth(2));

    let first = get_with_token(&server, FULL_TOKEN, &records_path()).await;
    assert_success(&first);
    let zones = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    assert_success(&zones);
    let second = get_with_token(&server, FULL_TOKEN, &records_path()).await;
    assert_failure(&second, 503, &[10000]);
    let third = get_with_token(&server, FULL_TOKEN, &records_path()).await;
    assert_success(&third);
}

#[tokio::test]
async fn times_zero_affects_every_request() {
    let server = start_with("  faults: [{step: zones, times: 0, action: {status: 502}}]\n").await;
    for _ in 0..4 {
        let reply = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
        assert_eq!(reply.status, 502);
    }
    cloudflare(&server).clear_faults();
    let reply = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    assert_success(&reply);
}

#[tokio::test]
async fn any_step_fault() {
    let server = start_with("  faults: [{step: any, nth: 2, action: {status: 500}}]\n").await;
    let first = get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
    assert_success(&first);
    let second = get_with_token(&server, FULL_TOKEN, "/zones").await;
    assert_eq!(second.status, 500);
}

#[tokio::test]
async fn rate_limit_fault_sets_retry_after() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(Step::Zones, FaultAction::rate_limit(Some(7))));
    mock.add_fault(Fault::new(Step::Verify, FaultAction::rate_limit(None)));

    let limited = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    assert_failure(&limited, 429, &[971]);
    assert_eq!(limited.headers["retry-after"], "7");

    let without_header = get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
    assert_failure(&without_header, 429, &[971]);
    assert!(without_header.headers.get("retry-after").is_none());
}

#[tokio::test]
async fn malformed_fault_returns_non_json() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(Step::ListRecords, FaultAction::Malformed));

    let url = format!("{}{}", server.cloudflare_url().unwrap(), records_path());
    let response = client()
        .get(url)
        .bearer_auth(FULL_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        serde_json::from_str::<serde_json::Value>(&text).is_err(),
        "{text}"
    );
}

#[tokio::test]
async fn reset_fault_at_each_step() {
    let server = start().await;
    let mock = cloudflare(&server);
    let client = client_with_timeout(Duration::from_secs(5));
    for step in STEPS {
        mock.add_fault(Fault::new(step, FaultAction::Reset));
        let records_before = mock.all_records();
        let error = call_step(&server, &client, step)
            .await
            .expect_err("connection is reset");
        assert!(!error.is_timeout(), "{step:?}: {error:?}");
        assert!(
            error.is_request() || error.is_connect() || error.is_body(),
            "{step:?}: {error:?}"
        );
        assert!(
            is_connection_reset(&error),
            "{step:?}: expected a TCP reset, got {error:?}"
        );
        assert_eq!(mock.all_records(), records_before, "{step:?} changed state");
    }
    // The next request on a fresh connection gets a normal response.
    let reply = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    assert_success(&reply);
}

#[tokio::test]
async fn hang_fault_at_each_step() {
    let server = start().await;
    let mock = cloudflare(&server);
    let client = client_with_timeout(Duration::from_millis(300));
    for step in STEPS {
        mock.add_fault(Fault::new(step, FaultAction::Hang));
        let records_before = mock.all_records();
        let started = Instant::now();
        let error = call_step(&server, &client, step)
            .await
            .expect_err("request hangs");
        assert!(error.is_timeout(), "{step:?}: {error:?}");
        assert!(started.elapsed() >= Duration::from_millis(300), "{step:?}");
        assert_eq!(mock.all_records(), records_before, "{step:?} changed state");
    }
    let logged = mock.requests();
    assert!(
        logged.iter().all(|entry| entry.status.is_none()),
        "{logged:#?}"
    );
}

#[tokio::test]
async fn delay_past_client_timeout_still_applies() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(Step::Create, FaultAction::Delay(1500)));

    let client = client_with_timeout(Duration::from_millis(400));
    let error = call_step(&server, &client, Step::Create)
        .await
        .expect_err("client times out");
    assert!(error.is_timeout(), "{error:?}");
    // The server processed the create even though the response came after the client timeout.
    assert!(mock
        .records("example.com")
        .iter()
        .any(|r| r.content == "probe"));
}

#[tokio::test]
async fn delay_within_timeout_responds_normally() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(Step::Verify, FaultAction::Delay(300)));

    let started = Instant::now();
    let reply = get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
    assert_success(&reply);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn latency_applies_to_every_request() {
    let server = start_with("  latency_ms: 150\n").await;
    let started = Instant::now();
    for _ in 0..3 {
        let reply = get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
        assert_success(&reply);
    }
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );

    cloudflare(&server).set_latency(600);
    let started = Instant::now();
    get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
    assert!(started.elapsed() >= Duration::from_millis(600), "{:?}", started.elapsed());

    cloudflare(&server).set_latency(0);
    let started = Instant::now();
    get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
    assert!(started.elapsed() < Duration::from_millis(600), "{:?}", started.elapsed());
}

#[tokio::test]
async fn keep_alive_connection_serves_many_requests() {
    let server = start().await;
    let client = client();
    for _ in 0..20 {
        let reply = send(
            client
                .get(format!(
                    "{}/user/tokens/verify",
                    server.cloudflare_url().unwrap()
                ))
                .bearer_auth(FULL_TOKEN),
        )
        .await;
        assert_success(&reply);
    }
}

// ---- rate limit ----

#[tokio::test]
async fn rate_limit_blocks_credential() {
    let server =
        start_with("  rate_limit: {requests: 3, window_seconds: 60, block_seconds: 2}\n").await;
    for _ in 0..3 {
        let reply = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
        assert_success(&reply);
    }
    let limited = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    assert_failure(&limited, 429, &[971]);
    assert_eq!(
        limited.first_message(),
        "Please wait and consider throttling your request speed"
    );
    assert_eq!(limited.headers["retry-after"], "2");

    // Blocked on every endpoint, while another credential is unaffected.
    let verify = get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
    assert_failure(&verify, 429, &[971]);
    let other = get_with_token(&server, READ_ONLY_TOKEN, "/zones?name=example.com").await;
    assert_success(&other);

    // A blocked create changes nothing.
    let create = create_txt(&server, FULL_TOKEN, COM_ZONE, CHALLENGE, "blocked", 120).await;
    assert_eq!(create.status, 429);
    assert!(!cloudflare(&server)
        .records("example.com")
        .iter()
        .any(|r| r.content == "blocked"));

    tokio::time::sleep(Duration::from_millis(2100)).await;
    let after = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    assert_success(&after);
}

#[tokio::test]
async fn ratelimit_headers_count_down() {
    let server =
        start_with("  rate_limit: {requests: 10, window_seconds: 60, block_seconds: 60}\n").await;
    let first = get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    assert_eq!(first.headers["ratelimit"], "\"default\";r=9;t=60");
    assert_eq!(first.headers["ratelimit-policy"], "\"default\";q=10;w=60");

    // Failed calls count too once the credential is known.
    let denied = create_txt(&server, READ_ONLY_TOKEN, COM_ZONE, CHALLENGE, "probe", 120).await;
    assert_eq!(denied.status, 403);
    assert_eq!(denied.headers["ratelimit"], "\"default\";r=9;t=60");
    let second = get_with_token(&server, FULL_TOKEN, "/user/tokens/verify").await;
    let remaining = second.headers["ratelimit"].to_str().unwrap();
    assert!(remaining.starts_with("\"default\";r=8;t="), "{remaining}");
}

#[tokio::test]
async fn default_rate_limit_is_1200_per_5_minutes() {
    let spec = acme_token_mock::cloudflare::RateLimitSpec::default();
    assert_eq!(
        (spec.requests, spec.window_seconds, spec.block_seconds),
        (1200, 300, 300)
    );
}

// ---- request log ----

#[tokio::test]
async fn request_log_records_each_call() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(Step::Delete, FaultAction::status(500)));

    get_with_token(&server, FULL_TOKEN, "/zones?name=example.com").await;
    create_txt(&server, FULL_TOKEN, COM_ZONE, CHALLENGE, "probe", 120).await;
    let id = mock.records("example.com")[0].id.clone();
    delete_record(&server, FULL_TOKEN, COM_ZONE, &id).await;
    let url = format!("{}/zones", server.cloudflare_url().unwrap());
    send(
        client()
            .get(url)
            .header("X-Auth-Email", GLOBAL_EMAIL)
            .header("X-Auth-Key", GLOBAL_KEY),
    )
    .await;
    get_with_token(&server, REVOKED_TOKEN, "/user/tokens/verify").await;

    let log = mock.requests();
    assert_eq!(log.len(), 5);
    let seqs: Vec<u64> = log.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, [1, 2, 3, 4, 5]);
    assert!(log.windows(2).all(|pair| pair[0].offset <= pair[1].offset));

    assert_eq!(log[0].method, "GET");
    assert_eq!(log[0].path, "/client/v4/zones");
    assert_eq!(log[0].query.as_deref(), Some("name=example.com"));
    assert_eq!(log[0].step, Step::Zones);
    assert_eq!(log[0].credential.as_deref(), Some(FULL_TOKEN_ID));
    assert_eq!(log[0].status, Some(200));
    assert_eq!(log[0].fault, None);

    assert_eq!(log[1].method, "POST");
    assert_eq!(log[1].step, Step::Create);
    assert_eq!(log[1].status, Some(200));

    assert_eq!(log[2].step, Step::Delete);
    assert_eq!(log[2].status, Some(500));
    assert_eq!(log[2].fault, Some(FaultAction::status(500)));

    assert_eq!(
        log[3].credential.as_deref(),
        Some("global-key:ops@example.com")
    );
    assert_eq!(log[4].step, Step::Verify);
    assert_eq!(log[4].credential, None);
    assert_eq!(log[4].status, Some(401));
}

#[tokio::test]
async fn request_log_never_contains_secrets() {
    let server = start().await;
    let mock = cloudflare(&server);
    mock.add_fault(Fault::new(Step::Zones, FaultAction::Reset));

    for token in [FULL_TOKEN, REVOKED_TOKEN, GLOBAL_KEY, ACCOUNT_TOKEN] {
        let _ = client()
            .get(format!("{}/zones?name=example.com", mock.url()))
            .bearer_auth(token)
            .send()
            .await;
        get_with_token(&server, token, "/user/tokens/verify").await;
    }
    let url = format!("{}/zones", mock.url());
    send(
        client()
            .get(url)
            .header("X-Auth-Email", GLOBAL_EMAIL)
            .header("X-Auth-Key", GLOBAL_KEY),
    )
    .await;
    create_txt(&server, FULL_TOKEN, COM_ZONE, CHALLENGE, "probe", 120).await;

    let dump = format!("{:?}", mock.requests());
    assert!(dump.contains(FULL_TOKEN_ID), "log names the token by id");
    for secret in [FULL_TOKEN, REVOKED_TOKEN, GLOBAL_KEY, ACCOUNT_TOKEN] {
        assert!(
            !dump.contains(secret),
            "request log contains a secret: {dump}"
        );
    }
}

#[tokio::test]
async fn scenario_debug_redacts_secrets() {
    let scenario = acme_token_mock::Scenario::from_yaml(&scenario_yaml()).unwrap();
    let dump = format!("{scenario:?}");
    assert!(dump.contains("<redacted>"));
    for secret in [FULL_TOKEN, GLOBAL_KEY] {
        assert!(
            !dump.contains(secret),
            "scenario Debug output contains a secret"
        );
    }
}
