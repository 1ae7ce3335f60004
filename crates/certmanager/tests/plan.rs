//! Planning: secret resolution where cert-manager reads Secrets, domain
//! routing, and the config stage of each job.

mod common;

use acme_token_certmanager::{plan_checks, PlanOptions, Planned, NO_PROVIDER};
use acme_token_core::{Reason, Severity, StageStatus};
use common::{config_reasons, load, load_fixture, notice_reasons, plan, plan_default, FakeFactory};
use std::sync::Arc;

const CF_SOLVER: &str = "      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {name: cf, key: api-token}\n";

fn cluster_issuer(solvers: &str) -> String {
    format!(
        "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {{name: le}}\nspec:\n  acme:\n    privateKeySecretRef: {{name: le-account}}\n    solvers:\n{solvers}"
    )
}

fn issuer(namespace: &str, solvers: &str) -> String {
    format!(
        "apiVersion: cert-manager.io/v1\nkind: Issuer\nmetadata: {{name: le, namespace: {namespace}}}\nspec:\n  acme:\n    privateKeySecretRef: {{name: le-account}}\n    solvers:\n{solvers}"
    )
}

fn secret(namespace: &str, name: &str, key: &str, value: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {namespace}}}\nstringData:\n  {key}: {value}\n"
    )
}

const TOKEN: &str = "Yq8nNw2vB7xK_cM4pR1sT6uV9wX0yZ3aB5cD7eF9";

fn first_message(planned: &Planned, job: usize) -> String {
    planned.jobs[job]
        .config
        .findings
        .first()
        .map(|f| f.message.clone())
        .unwrap_or_default()
}

#[test]
fn cluster_issuer_secret_resolved() {
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("cert-manager", "cf", "api-token", TOKEN)
    );
    let planned = plan_default(&text);
    let job = &planned.jobs[0];
    assert_eq!(planned.jobs.len(), 1);
    assert_eq!(job.provider_id, "cloudflare");
    assert!(job.provider.is_some());
    assert!(job.skip.is_none());
    assert_eq!(job.config.status, StageStatus::Passed);
    assert_eq!(job.context["secretNamespace"], "cert-manager");
    assert_eq!(job.context["secrets"], "cert-manager/cf");
    assert_eq!(job.issuer.kind, "ClusterIssuer");
    assert_eq!(job.issuer.namespace, None);
}

#[test]
fn credentials_show_fingerprint() {
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("cert-manager", "cf", "api-token", TOKEN)
    );
    let planned = plan_default(&text);
    let credentials = &planned.jobs[0].credentials;
    assert_eq!(credentials.len(), 1);
    assert_eq!(credentials[0].field, "apiTokenSecretRef");
    assert!(credentials[0].fingerprint.starts_with("sha256:"));
    assert!(
        credentials[0].fingerprint.ends_with("(40 bytes)"),
        "{}",
        credentials[0].fingerprint
    );
}

#[test]
fn budget_scaled_by_factor() {
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("cert-manager", "cf", "api-token", TOKEN)
    );
    let opts = PlanOptions {
        budget_factor: 0.5,
        ..PlanOptions::default()
    };
    let planned = plan(&load(&text), &opts);
    assert_eq!(planned.jobs[0].budget.per_second, 2.0);
    assert_eq!(planned.jobs[0].budget.burst, 4);
}

#[test]
fn wrong_namespace_for_cluster_issuer() {
    // The Secret exists only in namespace default.
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("default", "cf", "api-token", TOKEN)
    );
    let planned = plan_default(&text);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretWrongNamespace);
    assert_eq!(finding.severity, Severity::Error);
    assert!(
        finding.message.contains("namespace cert-manager"),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("found in namespace default"),
        "{}",
        finding.message
    );
    assert!(
        finding
            .remedy
            .contains("--cluster-resource-namespace default"),
        "{}",
        finding.remedy
    );
    assert!(planned.jobs[0].provider.is_none());
}

#[test]
fn cluster_resource_namespace_option_used() {
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("default", "cf", "api-token", TOKEN)
    );
    let opts = PlanOptions {
        cluster_resource_namespace: "default".into(),
        ..PlanOptions::default()
    };
    let planned = plan(&load(&text), &opts);
    assert!(
        planned.jobs[0].config.findings.is_empty(),
        "{:?}",
        planned.jobs[0].config.findings
    );
    assert!(planned.jobs[0].provider.is_some());
}

#[test]
fn issuer_reads_own_namespace() {
    let text = format!(
        "{}{}",
        issuer("apps", CF_SOLVER),
        secret("cert-manager", "cf", "api-token", TOKEN)
    );
    let planned = plan_default(&text);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretWrongNamespace);
    assert!(
        finding.message.contains("Issuer apps/le"),
        "{}",
        finding.message
    );
    assert!(
        finding.remedy.contains("namespace apps"),
        "{}",
        finding.remedy
    );
    assert_eq!(planned.jobs[0].issuer.namespace.as_deref(), Some("apps"));
}

#[test]
fn key_placeholder_not_found() {
    // The key name is a placeholder, and the Secret has another key.
    let solver = "      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {name: cf, key: \"<API token>\"}\n";
    let text = format!(
        "{}{}",
        issuer("apps", solver),
        secret("apps", "cf", "cloudflare-token", TOKEN)
    );
    let planned = plan_default(&text);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretKeyNotFound);
    assert!(
        finding.message.contains("cloudflare-token"),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("placeholder"),
        "{}",
        finding.message
    );
    assert!(
        finding
            .remedy
            .contains("set apiTokenSecretRef.key to cloudflare-token"),
        "{}",
        finding.remedy
    );
}

#[test]
fn secret_not_found() {
    let opts = PlanOptions {
        secrets_from_cluster: true,
        ..PlanOptions::default()
    };
    let planned = plan(&load(&cluster_issuer(CF_SOLVER)), &opts);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretNotFound);
    assert!(
        finding.message.contains("Secret cert-manager/cf"),
        "{}",
        finding.message
    );
    assert!(
        finding
            .remedy
            .contains("kubectl create secret generic cf -n cert-manager"),
        "{}",
        finding.remedy
    );
}

#[test]
fn empty_name_and_key_invalid() {
    for reference in ["{name: \"\", key: api-token}", "{name: cf, key: \"\"}"] {
        let solver = format!(
            "      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {reference}\n"
        );
        let planned = plan_default(&cluster_issuer(&solver));
        assert_eq!(
            config_reasons(&planned, 0),
            [Reason::InvalidConfig],
            "{reference}"
        );
    }
}

#[test]
fn placeholder_secret_name() {
    let solver = "      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {name: \"${CF_SECRET}\", key: token}\n";
    let planned = plan_default(&cluster_issuer(solver));
    assert_eq!(config_reasons(&planned, 0), [Reason::PlaceholderUnexpanded]);
}

#[test]
fn trailing_newline_reported_and_passed_untrimmed() {
    let text = format!(
        "{}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: cf, namespace: cert-manager}}\ndata:\n  api-token: WXE4bk53MnZCN3hLX2NNNHBSMXNUNnVWOXdYMHlaM2FCNWNEN2VGOQo=\n",
        cluster_issuer(CF_SOLVER)
    );
    let inventory = load(&text);
    let factory = Arc::new(FakeFactory::default());
    let factories: Vec<Arc<dyn acme_token_core::ProviderFactory>> = vec![factory.clone()];
    let planned = plan_checks(&inventory, &factories, &PlanOptions::default());

    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretWhitespace);
    assert_eq!(finding.severity, Severity::Error);
    assert!(finding.message.contains("0x0a"), "{}", finding.message);
    let built = factory.built.lock().unwrap();
    assert_eq!(
        built[0]["apiTokenSecretRef"].0, 41,
        "the value keeps its newline"
    );
}

#[test]
fn undecodable_data_names_key() {
    let text = format!(
        "{}---\napiVersion: v1\nkind: Secret\nmetadata: {{name: cf, namespace: cert-manager}}\ndata:\n  api-token: <TOKEN>\n",
        cluster_issuer(CF_SOLVER)
    );
    let planned = plan_default(&text);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretEncoding);
    assert!(
        finding.message.contains("key api-token"),
        "{}",
        finding.message
    );
    assert!(
        finding.message.contains("not valid base64"),
        "{}",
        finding.message
    );
    assert!(planned.jobs[0].credentials.is_empty());
}

#[test]
fn double_base64_reported() {
    // base64 of "Yq8nNw2vB7xK_cM4pR1sT6uV9wX0yZ3aB5cD7eF9", placed under stringData.
    let value = "WXE4bk53MnZCN3hLX2NNNHBSMXNUNnVWOXdYMHlaM2FCNWNEN2VGOQ==";
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("cert-manager", "cf", "api-token", value)
    );
    let planned = plan_default(&text);
    assert_eq!(config_reasons(&planned, 0), [Reason::SecretEncoding]);
}

#[test]
fn placeholder_value_reported() {
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("cert-manager", "cf", "api-token", "<API Token>")
    );
    let planned = plan_default(&text);
    assert_eq!(config_reasons(&planned, 0), [Reason::PlaceholderUnexpanded]);
}

fn with_fixture(solver_secret: &str, fixture: &str) -> PlannedWithText {
    let solver = format!("      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {{name: {solver_secret}, key: token}}\n");
    let fixture_text = std::fs::read_to_string(common::fixture_path(fixture)).unwrap();
    PlannedWithText(format!("{}---\n{fixture_text}", cluster_issuer(&solver)))
}

struct PlannedWithText(String);

impl PlannedWithText {
    fn plan(&self, offline: bool) -> Planned {
        let opts = PlanOptions {
            offline,
            secrets_from_cluster: !offline,
            ..PlanOptions::default()
        };
        plan(&load(&self.0), &opts)
    }
}

#[test]
fn sealed_secret_skipped() {
    let planned = with_fixture("sealed-cf", "encrypted.yaml").plan(true);
    let skip = planned.jobs[0].skip.as_ref().expect("skipped");
    assert_eq!(skip.reason, Reason::SecretUnavailable);
    assert!(skip.message.contains("SealedSecret"), "{}", skip.message);
    assert!(planned.jobs[0].provider.is_none());
}

#[test]
fn sops_secret_skipped() {
    let planned = with_fixture("sops-cf", "encrypted.yaml").plan(false);
    let skip = planned.jobs[0].skip.as_ref().expect("skipped");
    assert_eq!(skip.reason, Reason::SecretUnavailable);
    assert!(skip.message.contains("SOPS"), "{}", skip.message);
    assert!(skip.remedy.contains("sops -d"), "{}", skip.remedy);
}

#[test]
fn external_secret_offline_skipped() {
    let planned = with_fixture("cf-from-vault", "external-secrets.yaml").plan(true);
    let job = &planned.jobs[0];
    let skip = job.skip.as_ref().expect("skipped");
    assert_eq!(skip.reason, Reason::SecretUnavailable);
    assert!(
        skip.message
            .contains("ExternalSecret cert-manager/cloudflare-sync"),
        "{}",
        skip.message
    );
    assert_eq!(
        job.context["externalSecret"],
        "cert-manager/cloudflare-sync"
    );
    assert_eq!(job.context["refreshInterval"], "1h");
    assert!(job.config.findings.is_empty());
}

#[test]
fn external_secret_online_not_found() {
    let planned = with_fixture("cf-from-vault", "external-secrets.yaml").plan(false);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretNotFound);
    assert!(
        finding
            .message
            .contains("ExternalSecret cert-manager/cloudflare-sync"),
        "{}",
        finding.message
    );
    assert!(
        finding
            .remedy
            .contains("kubectl get externalsecret -n cert-manager cloudflare-sync"),
        "{}",
        finding.remedy
    );
    assert!(planned.jobs[0].skip.is_none());
}

#[test]
fn external_secret_wrong_namespace() {
    let planned = with_fixture("cf-elsewhere", "external-secrets.yaml").plan(true);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretWrongNamespace);
    assert!(
        finding
            .message
            .contains("ExternalSecret default/wrong-place"),
        "{}",
        finding.message
    );
    assert!(planned.jobs[0].skip.is_none());
}

#[test]
fn external_secret_missing_key_fails() {
    // extract-all's template writes only api-token, and the solver reads token.
    let planned = with_fixture("extract-all", "external-secrets.yaml").plan(true);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.reason, Reason::SecretKeyNotFound);
    assert!(finding.message.contains("api-token"), "{}", finding.message);
    assert!(planned.jobs[0].skip.is_none());
}

#[test]
fn one_password_item_offline_skipped() {
    let planned = with_fixture("cf-1password", "external-secrets.yaml").plan(true);
    let skip = planned.jobs[0].skip.as_ref().expect("skipped");
    assert!(
        skip.message
            .contains("OnePasswordItem cert-manager/cf-1password"),
        "{}",
        skip.message
    );
    assert_eq!(
        planned.jobs[0].context["onePasswordItem"],
        "cert-manager/cf-1password"
    );
}

#[test]
fn synced_secret_linked() {
    let planned = with_fixture("synced", "secret-shapes.yaml").plan(false);
    assert_eq!(
        planned.jobs[0].context["externalSecret"],
        "cert-manager/cloudflare-sync"
    );
    assert!(planned.jobs[0].provider.is_some());
}

#[test]
fn route53_skipped_with_secrets() {
    let planned = plan(
        &load_fixture("route53-shapes.yaml"),
        &PlanOptions::default(),
    );
    let job = planned
        .jobs
        .iter()
        .find(|job| job.issuer.name == "static-keys")
        .unwrap();
    let skip = job.skip.as_ref().expect("skipped");
    assert_eq!(skip.reason, Reason::ProviderUnsupported);
    assert!(
        skip.message
            .contains("route53 solvers are not supported yet"),
        "{}",
        skip.message
    );
    assert!(
        skip.message
            .contains("cert-manager/aws-creds key secret-access-key"),
        "{}",
        skip.message
    );
    assert_eq!(job.provider_id, "route53");
}

#[test]
fn route53_trimmed_whitespace_warns() {
    let planned = plan(
        &load_fixture("route53-shapes.yaml"),
        &PlanOptions::default(),
    );
    let job = planned
        .jobs
        .iter()
        .find(|job| job.issuer.name == "static-keys")
        .unwrap();
    let finding = &job.config.findings[0];
    assert_eq!(finding.reason, Reason::SecretWhitespace);
    assert_eq!(finding.severity, Severity::Warning);
}

#[test]
fn route53_ambient_by_kind() {
    let planned = plan(
        &load_fixture("route53-shapes.yaml"),
        &PlanOptions::default(),
    );
    let namespaced = planned
        .jobs
        .iter()
        .find(|job| job.issuer.kind == "Issuer")
        .unwrap();
    let cluster = planned
        .jobs
        .iter()
        .find(|job| job.issuer.kind == "ClusterIssuer" && job.issuer.name == "ambient")
        .unwrap();
    assert_eq!(namespaced.config.findings[0].severity, Severity::Warning);
    assert!(namespaced.config.findings[0]
        .message
        .contains("--issuer-ambient-credentials=false"));
    assert_eq!(cluster.config.findings[0].severity, Severity::Info);
    assert!(cluster.config.findings[0]
        .message
        .contains("--cluster-issuer-ambient-credentials=true"));
    assert!(namespaced.skip.is_some());
    assert!(cluster.skip.is_some());
}

#[test]
fn web_identity_not_ambient() {
    let planned = plan(
        &load_fixture("route53-shapes.yaml"),
        &PlanOptions::default(),
    );
    let job = planned
        .jobs
        .iter()
        .find(|job| job.issuer.name == "web-identity")
        .unwrap();
    assert!(job.config.findings.is_empty(), "{:?}", job.config.findings);
    assert!(job.skip.is_some());
}

#[test]
fn other_providers_checked_and_skipped() {
    let opts = PlanOptions {
        secrets_from_cluster: true,
        ..PlanOptions::default()
    };
    let planned = plan(&load_fixture("other-providers.yaml"), &opts);
    let providers: Vec<&str> = planned
        .jobs
        .iter()
        .map(|job| job.provider_id.as_str())
        .collect();
    assert_eq!(
        providers,
        ["acmeDNS", "rfc2136", "rfc2136", "cloudDNS", "digitalocean"]
    );
    for index in [0, 1, 2] {
        assert!(planned.jobs[index].skip.is_some(), "job {index}");
    }
    // The Cloud DNS key file is a placeholder and the DigitalOcean Secret is missing.
    assert_eq!(config_reasons(&planned, 3), [Reason::PlaceholderUnexpanded]);
    assert!(planned.jobs[3].skip.is_none());
    assert_eq!(config_reasons(&planned, 4), [Reason::SecretNotFound]);
}

#[test]
fn webhooks_recognised() {
    let planned = plan(&load_fixture("webhooks.yaml"), &PlanOptions::default());
    let godaddy = planned.jobs[0].skip.as_ref().unwrap();
    assert!(
        godaddy
            .message
            .contains("recognised as the GoDaddy webhook"),
        "{}",
        godaddy.message
    );
    assert!(
        godaddy
            .message
            .contains("cert-manager/godaddy-key key token"),
        "{}",
        godaddy.message
    );
    assert_eq!(
        planned.jobs[0].context["webhook"],
        "acme.example.com/godaddy"
    );
    let hetzner = planned.jobs[1].skip.as_ref().unwrap();
    assert!(
        hetzner
            .message
            .contains("cert-manager/hetzner-key (config.secretName)"),
        "{}",
        hetzner.message
    );
    let in_house = planned.jobs[2].skip.as_ref().unwrap();
    assert!(
        in_house.message.contains("it references no Secret"),
        "{}",
        in_house.message
    );
    assert_eq!(planned.jobs[2].provider_id, "webhook");
}

#[test]
fn webhook_placeholder_secret_fails() {
    let text = "apiVersion: v1\nkind: Secret\nmetadata: {name: gandi, namespace: cert-manager}\nstringData:\n  token: <token>\n---\n".to_string()
        + &cluster_issuer("      - dns01:\n          webhook:\n            groupName: acme.example.com\n            solverName: gandi\n            config:\n              apiKeySecretRef: {name: gandi, key: token}\n");
    let planned = plan_default(&text);
    assert_eq!(config_reasons(&planned, 0), [Reason::PlaceholderUnexpanded]);
    assert!(planned.jobs[0].skip.is_none());
}

#[test]
fn legacy_issuer_fails() {
    let planned = plan(
        &load_fixture("legacy-v1alpha1.yaml"),
        &PlanOptions::default(),
    );
    assert_eq!(planned.jobs.len(), 1);
    assert_eq!(config_reasons(&planned, 0), [Reason::ApiGenerationMismatch]);
    assert_eq!(planned.jobs[0].config.status, StageStatus::Failed);
    assert!(planned.jobs[0].skip.is_none());
    assert!(first_message(&planned, 0).contains("certmanager.k8s.io/v1alpha1"));
}

#[test]
fn certificates_routed_to_solvers() {
    let planned = plan(&load_fixture("certificates.yaml"), &PlanOptions::default());
    let domains: Vec<(usize, Vec<String>)> = planned
        .jobs
        .iter()
        .map(|job| (job.solver_index, job.domains.clone()))
        .collect();
    assert_eq!(
        domains,
        [
            (
                1,
                vec!["*.example.com".to_string(), "shop.example.com".to_string()]
            ),
            (2, vec!["internal.example.com".to_string()]),
        ]
    );
}

#[test]
fn http01_domain_noted_not_probed() {
    let planned = plan(&load_fixture("certificates.yaml"), &PlanOptions::default());
    let notice = planned
        .notices
        .iter()
        .find(|notice| notice.message.contains("www.example.org"))
        .expect("notice about the http01 domain");
    assert_eq!(notice.severity, Severity::Info);
    assert!(
        notice.message.contains("http01 solver 0"),
        "{}",
        notice.message
    );
}

#[test]
fn placeholder_domain_not_probed() {
    let planned = plan(&load_fixture("certificates.yaml"), &PlanOptions::default());
    let notice = planned
        .notices
        .iter()
        .find(|notice| notice.reason == Reason::PlaceholderUnexpanded)
        .expect("placeholder domain noticed");
    assert!(notice.message.contains("<domain>"), "{}", notice.message);
}

const ZONED: &str = "      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {name: cf, key: api-token}\n        selector:\n          dnsZones: [example.com]\n";

fn certificate(namespace: &str, kind: &str, names: &str, labels: &str) -> String {
    format!(
        "---\napiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {{name: c, namespace: {namespace}, labels: {{{labels}}}}}\nspec:\n  dnsNames: [{names}]\n  issuerRef: {{name: le, kind: {kind}}}\n"
    )
}

#[test]
fn unmatched_domain_gets_own_job() {
    let text = format!(
        "{}{}",
        cluster_issuer(ZONED),
        certificate("web", "ClusterIssuer", "www.example.net", "")
    );
    let planned = plan_default(&text);
    assert_eq!(planned.jobs.len(), 2);
    let job = &planned.jobs[1];
    assert_eq!(job.provider_id, NO_PROVIDER);
    assert_eq!(job.domains, ["www.example.net"]);
    assert!(job.provider.is_none());
    assert_eq!(config_reasons(&planned, 1), [Reason::NoSolverForDomain]);
    assert_eq!(job.config.status, StageStatus::Failed);
    assert!(first_message(&planned, 1).contains("Certificate web/c"));
}

#[test]
fn solver_without_domains_keeps_job() {
    let planned = plan_default(&cluster_issuer(CF_SOLVER));
    assert_eq!(planned.jobs.len(), 1);
    assert!(planned.jobs[0].domains.is_empty());
}

#[test]
fn selector_zone_becomes_domain() {
    let planned = plan_default(&cluster_issuer(ZONED));
    assert_eq!(planned.jobs[0].domains, ["example.com"]);
}

#[test]
fn domain_flag_replaces_discovery() {
    let text = format!(
        "{}{}",
        cluster_issuer(ZONED),
        certificate("web", "ClusterIssuer", "www.example.com", "")
    );
    let opts = PlanOptions {
        domains: vec!["api.example.com".into(), "other.example.org".into()],
        ..PlanOptions::default()
    };
    let planned = plan(&load(&text), &opts);
    assert_eq!(planned.jobs[0].domains, ["api.example.com"]);
    assert_eq!(planned.jobs[1].domains, ["other.example.org"]);
    assert_eq!(planned.jobs[1].context["domainSource"], "--domain");
}

#[test]
fn issuer_uses_certificates_of_its_namespace() {
    let text = format!(
        "{}{}{}",
        issuer("apps", CF_SOLVER),
        certificate("apps", "Issuer", "a.example.com", ""),
        certificate("web", "Issuer", "b.example.com", "").replace("name: c,", "name: d,")
    );
    let planned = plan_default(&text);
    assert_eq!(planned.jobs[0].domains, ["a.example.com"]);
}

#[test]
fn certificate_kind_must_match() {
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        certificate("web", "Issuer", "a.example.com", "")
    );
    let planned = plan_default(&text);
    assert!(planned.jobs[0].domains.is_empty());
}

#[test]
fn labels_route_domains() {
    let solvers = "      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {name: cf, key: api-token}\n      - dns01:\n          cloudflare:\n            apiTokenSecretRef: {name: cf-team, key: api-token}\n        selector:\n          matchLabels: {team: a}\n";
    let text = format!(
        "{}{}{}",
        cluster_issuer(solvers),
        certificate("web", "ClusterIssuer", "a.example.com", "team: a"),
        certificate("web", "ClusterIssuer", "b.example.com", "team: b")
            .replace("name: c,", "name: d,")
    );
    let planned = plan_default(&text);
    assert_eq!(planned.jobs[0].domains, ["b.example.com"]);
    assert_eq!(planned.jobs[1].domains, ["a.example.com"]);
}

#[test]
fn domains_lower_cased() {
    let text = format!(
        "{}{}",
        cluster_issuer(ZONED),
        certificate("web", "ClusterIssuer", "WWW.Example.COM", "")
    );
    let planned = plan_default(&text);
    assert_eq!(planned.jobs[0].domains, ["www.example.com", "example.com"]);
}

#[test]
fn issuer_filters_select() {
    let text = format!(
        "{}---\n{}",
        cluster_issuer(CF_SOLVER),
        issuer("apps", CF_SOLVER)
    );
    let inventory = load(&text);
    let only_issuer = PlanOptions {
        issuer: Some("apps/le".into()),
        ..PlanOptions::default()
    };
    let only_cluster = PlanOptions {
        cluster_issuer: Some("le".into()),
        ..PlanOptions::default()
    };
    let planned = plan(&inventory, &only_issuer);
    assert_eq!(planned.jobs.len(), 1);
    assert_eq!(planned.jobs[0].issuer.kind, "Issuer");
    let planned = plan(&inventory, &only_cluster);
    assert_eq!(planned.jobs.len(), 1);
    assert_eq!(planned.jobs[0].issuer.kind, "ClusterIssuer");
}

#[test]
fn unknown_issuer_filter_reported() {
    let opts = PlanOptions {
        cluster_issuer: Some("missing".into()),
        ..PlanOptions::default()
    };
    let planned = plan(&load(&cluster_issuer(CF_SOLVER)), &opts);
    assert!(planned.jobs.is_empty());
    let notice = planned.notices.last().unwrap();
    assert_eq!(notice.severity, Severity::Error);
    assert!(
        notice.message.contains("no ClusterIssuer named missing"),
        "{}",
        notice.message
    );
}

#[test]
fn issuer_without_namespace_uses_default() {
    let text = format!(
        "{}{}",
        issuer("x", CF_SOLVER).replace(", namespace: x", ""),
        secret("team-a", "cf", "api-token", TOKEN)
    );
    let opts = PlanOptions {
        default_namespace: "team-a".into(),
        ..PlanOptions::default()
    };
    let planned = plan(&load(&text), &opts);
    assert_eq!(planned.jobs[0].issuer.namespace.as_deref(), Some("team-a"));
    assert!(planned.jobs[0].provider.is_some());
    assert!(planned
        .notices
        .iter()
        .any(|n| n.message.contains("default namespace team-a")));
}

#[test]
fn issuers_without_work_noted() {
    let planned = plan(
        &load_fixture("kustomize-partials.yaml"),
        &PlanOptions::default(),
    );
    assert_eq!(planned.jobs.len(), 1, "only the patch has a DNS-01 solver");
    assert_eq!(planned.jobs[0].issuer.name, "patch");
    let messages: Vec<&str> = planned.notices.iter().map(|n| n.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("ClusterIssuer base has no solvers")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("ClusterIssuer http-only has no DNS-01 solver")),
        "{messages:?}"
    );
}

#[test]
fn non_acme_issuer_noted() {
    let planned = plan(&load_fixture("list.yaml"), &PlanOptions::default());
    assert!(planned
        .notices
        .iter()
        .any(|n| n.message.contains("internal-ca is not an ACME issuer")));
    assert_eq!(planned.jobs.len(), 1);
    assert_eq!(planned.jobs[0].domains, ["web.example.com"]);
}

#[test]
fn unusable_stanza_not_built() {
    let planned = plan_default(&cluster_issuer(
        "      - dns01:\n          cloudflare: {email: a@example.com}\n",
    ));
    assert_eq!(config_reasons(&planned, 0), [Reason::InvalidConfig]);
    assert!(planned.jobs[0].provider.is_none());
}

#[test]
fn unknown_provider_suggested() {
    let planned = plan_default(&cluster_issuer("      - dns01:\n          cloudfare: {}\n"));
    assert_eq!(config_reasons(&planned, 0), [Reason::InvalidConfig]);
    assert_eq!(
        planned.jobs[0].config.findings[0].remedy,
        "did you mean dns01.cloudflare?"
    );
}

#[test]
fn two_providers_invalid() {
    let solver = format!("{CF_SOLVER}          route53: {{}}\n");
    let planned = plan_default(&cluster_issuer(&solver));
    assert!(config_reasons(&planned, 0).contains(&Reason::InvalidConfig));
    assert!(
        first_message(&planned, 0).contains("second provider (route53)"),
        "{}",
        first_message(&planned, 0)
    );
}

#[test]
fn dns01_without_provider_invalid() {
    let planned = plan_default(&cluster_issuer("      - dns01: {cnameStrategy: Follow}\n"));
    assert_eq!(planned.jobs[0].provider_id, NO_PROVIDER);
    assert_eq!(config_reasons(&planned, 0), [Reason::InvalidConfig]);
}

#[test]
fn cname_strategy_checked() {
    let follow = CF_SOLVER.replace(
        "      - dns01:\n",
        "      - dns01:\n          cnameStrategy: Follow\n",
    );
    let planned = plan_default(&cluster_issuer(&follow));
    assert_eq!(planned.jobs[0].context["cnameStrategy"], "Follow");
    let wrong = CF_SOLVER.replace(
        "      - dns01:\n",
        "      - dns01:\n          cnameStrategy: Always\n",
    );
    let planned = plan_default(&cluster_issuer(&wrong));
    assert!(config_reasons(&planned, 0).contains(&Reason::InvalidConfig));
}

#[test]
fn selector_that_never_matches_warned() {
    let solver = format!("{CF_SOLVER}        selector:\n          dnsZones: [example.com.]\n          dnsNames: [WWW.example.com]\n");
    let text = format!(
        "{}{}",
        cluster_issuer(&solver),
        secret("cert-manager", "cf", "api-token", TOKEN)
    );
    let planned = plan_default(&text);
    let reasons = config_reasons(&planned, 0);
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == Reason::InvalidConfig)
            .count(),
        2
    );
    assert_eq!(planned.jobs[0].config.status, StageStatus::Warning);
}

#[test]
fn solver_with_both_types_fails() {
    let solver = format!("{CF_SOLVER}        http01: {{ingress: {{}}}}\n");
    let planned = plan_default(&cluster_issuer(&solver));
    assert!(config_reasons(&planned, 0).contains(&Reason::InvalidConfig));
}

#[test]
fn inventory_notices_carried() {
    let planned = plan(&load_fixture("scope-notices.yaml"), &PlanOptions::default());
    assert!(notice_reasons(&planned).contains(&Reason::Notice));
    assert!(planned
        .notices
        .iter()
        .any(|n| n.message.contains("shared-account")));
}

#[test]
fn missing_secret_offline_skipped() {
    let opts = PlanOptions {
        offline: true,
        ..PlanOptions::default()
    };
    let planned = plan(&load(&cluster_issuer(CF_SOLVER)), &opts);
    let skip = planned.jobs[0].skip.as_ref().expect("skipped");
    assert_eq!(skip.reason, Reason::SecretUnavailable);
    assert!(
        skip.message.contains("Secret cert-manager/cf"),
        "{}",
        skip.message
    );
    assert!(planned.jobs[0].config.findings.is_empty());
}

#[test]
fn wrong_namespace_fails_offline() {
    let text = format!(
        "{}{}",
        cluster_issuer(CF_SOLVER),
        secret("default", "cf", "api-token", TOKEN)
    );
    let opts = PlanOptions {
        offline: true,
        ..PlanOptions::default()
    };
    let planned = plan(&load(&text), &opts);
    assert_eq!(config_reasons(&planned, 0), [Reason::SecretWrongNamespace]);
    assert!(planned.jobs[0].skip.is_none());
}

#[test]
fn missing_secret_from_files_skipped() {
    let planned = plan_default(&cluster_issuer(CF_SOLVER));
    let job = &planned.jobs[0];
    let skip = job.skip.as_ref().expect("a Secret missing from the files is a SKIP");
    assert_eq!(skip.reason, Reason::SecretUnavailable);
    assert!(skip.message.contains("not in the input files"), "{}", skip.message);
    assert!(job.config.findings.is_empty(), "{:?}", job.config.findings);
}
