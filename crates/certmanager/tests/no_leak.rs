//! A canary secret value, run through every path that touches values,
//! must appear in no Debug, Display or serialized output.

mod common;

use acme_token_certmanager::{load_bytes, load_str, PlanOptions};
use acme_token_core::runner::{run_checks, RunSettings};
use base64::Engine;
use common::{load, plan};

const CANARY: &str = "zq9CanaryV4lueXw7";

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Every form of the canary that must not leak: itself and its base64.
fn forbidden() -> Vec<String> {
    vec![
        CANARY.to_string(),
        b64(CANARY.as_bytes()),
        b64(format!("{CANARY}-long-token-value").as_bytes()),
    ]
}

fn assert_clean(what: &str, text: &str) {
    for form in forbidden() {
        assert!(
            !text.contains(&form),
            "{what} leaks the canary ({form}):\n{text}"
        );
    }
}

fn solver(zone: &str, secret: &str, key: &str) -> String {
    format!(
        "      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {{name: {secret}, key: {key}}}\n        selector:\n          dnsZones: [{zone}]\n"
    )
}

fn manifests() -> String {
    let solvers = [
        solver("whitespace.example", "whitespace", "token"),
        solver("wrong-key.example", "wrong-key", "token"),
        solver("binary.example", "binary", "token"),
        solver("placeholder.example", "placeholder", "token"),
        solver("double.example", "double", "token"),
        solver("undecodable.example", "undecodable", "token"),
        solver("annotated.example", "annotated", "token"),
        solver("sops.example", "sops", "token"),
        solver("good.example", "good", "token"),
    ]
    .concat();
    let secret = |name: &str, body: &str| {
        format!("---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\n  namespace: cert-manager\n{body}")
    };
    let mut binary = CANARY.as_bytes().to_vec();
    binary.extend_from_slice(&[0x01, 0x02, 0xff]);
    [
        format!(
            "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {{name: canary}}\nspec:\n  acme:\n    privateKeySecretRef: {{name: canary-account}}\n    solvers:\n{solvers}"
        ),
        secret("whitespace", &format!("stringData:\n  token: \"{CANARY}-token-abcdefgh\\n\"\n")),
        secret("wrong-key", &format!("stringData:\n  other: {CANARY}\n")),
        secret("binary", &format!("data:\n  token: {}\n", b64(&binary))),
        secret("placeholder", &format!("stringData:\n  token: \"<{CANARY}>\"\n")),
        secret("double", &format!("stringData:\n  token: {}\n", b64(format!("{CANARY}-long-token-value").as_bytes()))),
        secret("undecodable", &format!("data:\n  token: \"{CANARY}<>\"\n")),
        secret(
            "annotated",
            &format!(
                "  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{{\"stringData\":{{\"token\":\"{CANARY}\"}}}}'\nstringData:\n  token: {CANARY}-abcdefghijkl\n"
            ),
        ),
        secret("sops", &format!("stringData:\n  token: ENC[AES256_GCM,data:{CANARY},type:str]\nsops:\n  version: 3.8.1\n")),
        secret("good", &format!("stringData:\n  token: {CANARY}-abcdefghijklmnop\n")),
    ]
    .concat()
}

#[test]
fn canary_absent_from_inventory() {
    let inventory = load(&manifests());
    assert_eq!(inventory.secrets.len(), 9);
    assert_clean("Inventory Debug", &format!("{inventory:?}"));
    assert_clean("Inventory Debug (pretty)", &format!("{inventory:#?}"));
    assert_clean(
        "Inventory JSON",
        &serde_json::to_string(&inventory).unwrap(),
    );
}

#[test]
fn canary_absent_from_plan() {
    let inventory = load(&manifests());
    for offline in [false, true] {
        let opts = PlanOptions {
            offline,
            ..PlanOptions::default()
        };
        let planned = plan(&inventory, &opts);
        assert_eq!(planned.jobs.len(), 9);
        assert_clean("Planned Debug", &format!("{planned:#?}"));
        for job in &planned.jobs {
            assert_clean("config JSON", &serde_json::to_string(&job.config).unwrap());
            assert_clean(
                "config findings JSON",
                &serde_json::to_string(&job.config.findings).unwrap(),
            );
            assert_clean("skip JSON", &serde_json::to_string(&job.skip).unwrap());
            assert_clean(
                "credentials JSON",
                &serde_json::to_string(&job.credentials).unwrap(),
            );
            assert_clean("context", &format!("{:?}", job.context));
        }
        assert_clean(
            "notices JSON",
            &serde_json::to_string(&planned.notices).unwrap(),
        );
    }
}

#[test]
fn canary_paths_all_exercised() {
    use acme_token_core::Reason::*;
    let planned = plan(&load(&manifests()), &PlanOptions::default());
    let first: Vec<Option<acme_token_core::Reason>> = planned
        .jobs
        .iter()
        .map(|job| {
            job.config
                .findings
                .first()
                .map(|f| f.reason)
                .or(job.skip.as_ref().map(|s| s.reason))
        })
        .collect();
    assert_eq!(
        first,
        [
            Some(SecretWhitespace),
            Some(SecretKeyNotFound),
            Some(SecretEncoding),
            Some(PlaceholderUnexpanded),
            Some(SecretEncoding),
            Some(SecretEncoding),
            None,
            Some(SecretUnavailable),
            None,
        ]
    );
}

#[test]
fn canary_absent_from_report() {
    let planned = plan(&load(&manifests()), &PlanOptions::default());
    let settings = RunSettings {
        offline: true,
        ..RunSettings::default()
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let entries = runtime.block_on(run_checks(planned.jobs, &settings));
    assert_eq!(entries.len(), 9);
    assert_clean(
        "report entries JSON",
        &serde_json::to_string(&entries).unwrap(),
    );
    assert_clean("report entries Debug", &format!("{entries:?}"));
}

#[test]
fn canary_absent_from_load_errors() {
    let inputs: Vec<Vec<u8>> = vec![
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  token: {{{{ {CANARY}\n").into_bytes(),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  token: [{CANARY}]\n").into_bytes(),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\ndata:\n  token: {{a: {CANARY}}}\n").into_bytes(),
        format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: s}}\nstringData:\n  token: \"{CANARY}\n").into_bytes(),
        format!("apiVersion: v1\nkind: Secret\nstringData: {{token: {CANARY}}}\n\0").into_bytes(),
        format!("{{\"apiVersion\": \"v1\", \"kind\": \"Secret\", \"stringData\": {{\"token\": {CANARY}}}}}").into_bytes(),
        format!("token: *{CANARY}\n").into_bytes(),
    ];
    for input in inputs {
        let error = load_bytes(&input, "leak.yaml").expect_err("input is invalid");
        assert_clean("LoadError Display", &error.to_string());
        assert_clean("LoadError Debug", &format!("{error:?}"));
    }
    let error = load_str(&format!("{{\"token\": {CANARY}}}"), "leak.json").unwrap_err();
    assert_clean("JSON LoadError Display", &error.to_string());
}
