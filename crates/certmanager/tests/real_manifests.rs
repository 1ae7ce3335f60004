//! The real manifests kept beside the repository in
//! `../shared/real-manifests/` (other people's files, read in place and
//! never copied here). Each test prints a notice and passes when the
//! folder is absent, as it is outside this project's CI.

mod common;

use acme_token_certmanager::{load_paths, Inventory, PlanOptions, Planned};
use acme_token_core::{Reason, Severity, StageStatus};
use common::plan;
use std::path::PathBuf;

fn folder() -> Option<PathBuf> {
    let folder = std::env::var_os("ACME_TOKEN_REAL_MANIFESTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/real-manifests")
        });
    if folder.is_dir() {
        Some(folder)
    } else {
        println!(
            "skipped: no real manifests at {} (set ACME_TOKEN_REAL_MANIFESTS)",
            folder.display()
        );
        None
    }
}

fn load(name: &str) -> Option<Inventory> {
    let path = folder()?.join(name);
    Some(load_paths(&[path]).unwrap_or_else(|error| panic!("{name}: {error}")))
}

fn plan_offline(inventory: &Inventory) -> Planned {
    let opts = PlanOptions {
        offline: true,
        ..PlanOptions::default()
    };
    plan(inventory, &opts)
}

fn reasons(planned: &Planned, job: usize) -> Vec<Reason> {
    planned.jobs[job]
        .config
        .findings
        .iter()
        .map(|f| f.reason)
        .collect()
}

#[test]
fn every_file_loads() {
    let Some(folder) = folder() else { return };
    let inventory = load_paths(&[folder]).unwrap();
    // Fourteen issuers, of which several share a name across files; a later
    // one replaces an earlier one, as with kubectl apply.
    assert_eq!(inventory.issuers.len(), 9);
    assert!(inventory.notices.iter().any(|n| n
        .message
        .contains("ClusterIssuer letsencrypt-production is defined again")));
    assert_eq!(
        inventory.external_secrets.len(),
        1,
        "091 and 092 define the same ExternalSecret"
    );
    assert_eq!(inventory.secrets.len(), 2);
}

#[test]
fn cloudflare_token_offline_skipped() {
    let Some(inventory) = load("003-cloudflare-token-plus-email.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    let skip = planned.jobs[0].skip.as_ref().unwrap();
    assert_eq!(skip.reason, Reason::SecretUnavailable);
    assert!(
        skip.message.contains("cloudflare-api-token-secret"),
        "{}",
        skip.message
    );
}

#[test]
fn multizone_selector_domains() {
    let Some(inventory) = load("005-cloudflare-token-multizone-selector.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    assert_eq!(planned.jobs.len(), 2);
    assert_eq!(
        planned.jobs[0].domains,
        ["example.com", "example.org", "example.net"]
    );
}

#[test]
fn route53_role_placeholder_fails() {
    let Some(inventory) = load("020-route53-role-serviceaccountref.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    assert_eq!(reasons(&planned, 0), [Reason::PlaceholderUnexpanded]);
    assert!(planned.jobs[0].config.findings[0]
        .message
        .contains("dns01.route53.role"));
}

#[test]
fn route53_empty_stanza_ambient() {
    let Some(inventory) = load("026-route53-empty-stanza-ambient.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    let finding = &planned.jobs[0].config.findings[0];
    assert_eq!(finding.severity, Severity::Warning);
    assert!(
        finding
            .message
            .contains("--issuer-ambient-credentials=false"),
        "{}",
        finding.message
    );
    assert_eq!(
        planned.jobs[0].skip.as_ref().unwrap().reason,
        Reason::ProviderUnsupported
    );
}

#[test]
fn clouddns_placeholders_found() {
    let Some(inventory) = load("042-clouddns-sa-secretref-angle-placeholders.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    assert!(planned
        .notices
        .iter()
        .any(|n| n.reason == Reason::PlaceholderUnexpanded));
    assert_eq!(reasons(&planned, 0), [Reason::PlaceholderUnexpanded]);
}

#[test]
fn azure_managed_identity_env_placeholders() {
    let Some(inventory) = load("050-azuredns-managedidentity-clientid.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    let placeholders = reasons(&planned, 0)
        .iter()
        .filter(|r| **r == Reason::PlaceholderUnexpanded)
        .count();
    assert_eq!(placeholders, 4);
    assert_eq!(planned.jobs[0].provider_id, "azureDNS");
}

#[test]
fn acmedns_and_rfc2136_read() {
    let Some(acme_dns) = load("051-acmedns-incluster-http-host.yaml") else {
        return;
    };
    assert_eq!(plan_offline(&acme_dns).jobs[0].provider_id, "acmeDNS");
    let Some(rfc2136) = load("054-rfc2136-hmacmd5-dnsnames-selector.yaml") else {
        return;
    };
    let planned = plan_offline(&rfc2136);
    assert_eq!(planned.jobs[0].domains, ["*.hh.pair.example.com"]);
}

#[test]
fn godaddy_issuer_defaults_namespace() {
    let Some(inventory) = load("073-webhook-godaddy-issuer-dnsnames-placeholder-email.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    assert_eq!(planned.jobs[0].issuer.namespace.as_deref(), Some("default"));
    assert_eq!(planned.jobs[0].domains, ["dummy.example.com"]);
    assert!(planned
        .notices
        .iter()
        .any(|n| n.message.contains("default namespace default")));
}

#[test]
fn gandi_placeholder_token_fails() {
    let Some(inventory) = load("074-webhook-gandi-multidoc-secret-issuer-cert.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    assert_eq!(reasons(&planned, 0), [Reason::PlaceholderUnexpanded]);
    assert_eq!(planned.jobs[0].config.status, StageStatus::Failed);
    assert!(planned.jobs[0].skip.is_none());
}

#[test]
fn external_secrets_link_issuer() {
    let Some(folder) = folder() else { return };
    let paths = [
        folder.join("004-cloudflare-token-noemail-profile-selector.yaml"),
        folder.join("091-externalsecret-cloudflare-1password-extract.yaml"),
    ];
    let inventory = load_paths(&paths).unwrap();
    // The ExternalSecret sets no namespace; applied with -n cert-manager it
    // lands where cert-manager reads ClusterIssuer secrets.
    let opts = PlanOptions {
        offline: true,
        default_namespace: "cert-manager".into(),
        ..PlanOptions::default()
    };
    let planned = plan(&inventory, &opts);
    let skip = planned.jobs[0].skip.as_ref().unwrap();
    assert!(
        skip.message
            .contains("ExternalSecret cert-manager/cloudflare-issuer"),
        "{}",
        skip.message
    );
    assert_eq!(
        planned.jobs[0].context["externalSecret"],
        "cert-manager/cloudflare-issuer"
    );

    let planned = plan_offline(&inventory);
    assert_eq!(reasons(&planned, 0), [Reason::SecretWrongNamespace]);
}

#[test]
fn placeholder_secret_value_fails() {
    let Some(folder) = folder() else { return };
    let paths = [
        folder.join("003-cloudflare-token-plus-email.yaml"),
        folder.join("109-secret-cloudflare-token-placeholder.yaml"),
    ];
    let planned = plan_offline(&load_paths(&paths).unwrap());
    assert_eq!(reasons(&planned, 0), [Reason::PlaceholderUnexpanded]);
}

#[test]
fn list_without_dns01() {
    let Some(inventory) = load("120-list-kind-List-issuer-no-dns01.yaml") else {
        return;
    };
    let planned = plan_offline(&inventory);
    assert!(planned.jobs.is_empty());
    assert_eq!(inventory.certificates.len(), 1, "both items share one name");
    assert!(planned
        .notices
        .iter()
        .any(|n| n.message.contains("not an ACME issuer")));
}
