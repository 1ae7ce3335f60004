//! The credential never reaches findings, facts, reports, Debug output or
//! logs, on success and on every failure path.

use crate::fake::{Fault, Owner, State};
use crate::{key_stanza, token_stanza, Harness, ACCOUNT_ID, ZONE_ID};
use crate::check_job;
use acme_token_core::runner::{run_checks, RunSettings};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tracing_subscriber::fmt::MakeWriter;

/// A token-shaped value that is easy to search for.
const CANARY: &str = "CANARYtokenVALUEqq0123456789abcdefghijkl";

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Capture {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

/// Runs one whole check and returns its JSON and Debug output.
async fn run_and_render(harness: &Harness, stanza: serde_json::Value, value: &str) -> String {
    let provider = harness.provider(stanza, value);
    let entries = run_checks(vec![check_job(provider, "www.example.com")], &RunSettings::default()).await;
    let json = serde_json::to_string(&entries).unwrap();
    let debug = format!("{entries:?}");
    format!("{json}\n{debug}")
}

/// Each case: a name, the stand-in's state, and a text the report must
/// contain, which proves the path was taken.
fn states() -> Vec<(&'static str, State, &'static str)> {
    let healthy = State::token(CANARY).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    let mut revoked = State::token(CANARY).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    revoked.revoked = Some((1000, "Invalid API Token".into()));
    let mut account = State::token(CANARY).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    account.owner = Owner::Account(ACCOUNT_ID.into());
    let mut read_only = State::token(CANARY).with_zone(ZONE_ID, "example.com", ACCOUNT_ID);
    read_only.dns_edit = false;
    let echo = State::token(CANARY)
        .with_zone(ZONE_ID, "example.com", ACCOUNT_ID)
        .with_fault(
            "POST",
            None,
            1,
            Fault::Error {
                status: 400,
                code: 9999,
                message: format!("token {CANARY} is not allowed here"),
            },
        );
    let lost = State::token(CANARY)
        .with_zone(ZONE_ID, "example.com", ACCOUNT_ID)
        .with_fault("POST", None, 1, Fault::LostAfterEffect)
        .with_fault("DELETE", None, 1, Fault::Error { status: 500, code: 0, message: "oops".into() });
    vec![
        ("healthy", healthy, "\"verdict\":\"OK\""),
        ("revoked", revoked, "AuthInvalid"),
        ("account", account, "\"owner\":\"account\""),
        ("read-only", read_only, "PermissionMissing"),
        ("echoing error", echo, "[REDACTED]"),
        ("lost create", lost, "recoveredRecordIds"),
    ]
}

#[tokio::test]
async fn canary_never_in_output_or_logs() {
    let capture = Capture::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(capture.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for (name, state, expected) in states() {
        let harness = Harness::start(state).await;
        let output = run_and_render(&harness, token_stanza(), CANARY).await;
        assert!(output.contains(expected), "{name}: expected {expected} in the report:\n{output}");
        assert!(!output.contains(CANARY), "{name}: the canary leaked into the report:\n{output}");
        assert!(output.contains("sha256:"), "{name}: no fingerprint in the report");
        assert!(!harness.requests().await.is_empty(), "{name}: no request was sent");
    }

    // A token in the global-key field is checked as a token.
    let harness = Harness::start(State::token(CANARY).with_zone(ZONE_ID, "example.com", ACCOUNT_ID)).await;
    let output = run_and_render(&harness, key_stanza(), CANARY).await;
    assert!(!output.contains(CANARY), "key field: the canary leaked:\n{output}");

    let logs = capture.text();
    assert!(logs.contains("sending request"), "the log capture is not wired: {logs}");
    assert!(!logs.contains(CANARY), "the canary leaked into the logs:\n{logs}");
}

#[tokio::test]
async fn provider_message_echo_is_redacted() {
    let state = State::token(CANARY)
        .with_zone(ZONE_ID, "example.com", ACCOUNT_ID)
        .with_fault(
            "GET",
            Some("/user/tokens/verify"),
            1,
            Fault::Error {
                status: 500,
                code: 9999,
                message: format!("token {CANARY} is not allowed here"),
            },
        );
    let harness = Harness::start(state).await;
    let report = harness
        .provider(token_stanza(), CANARY)
        .verify_credential(&crate::context())
        .await;
    let message = report.findings[0]
        .evidence
        .as_ref()
        .and_then(|e| e.provider_message.clone())
        .unwrap();
    assert_eq!(message, "token [REDACTED] is not allowed here");
}
