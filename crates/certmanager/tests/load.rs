//! Loading the manifest shapes found in real repositories.

mod common;

use acme_token_certmanager::{
    load_bytes, load_paths, load_str, Encryption, IssuerKind, LoadError, ProducerKind, SecretData,
    SolverKind, MAX_FILE_BYTES,
};
use acme_token_core::{Reason, Severity};
use common::{fixture_path, load, load_fixture};

fn provider_keys(inventory: &acme_token_certmanager::Inventory, issuer: usize) -> Vec<String> {
    inventory.issuers[issuer]
        .solvers
        .iter()
        .filter_map(|solver| solver.kind.provider_key().map(str::to_string))
        .collect()
}

fn notice_messages(inventory: &acme_token_certmanager::Inventory) -> Vec<String> {
    inventory
        .notices
        .iter()
        .map(|notice| notice.message.clone())
        .collect()
}

#[test]
fn versions_all_read() {
    let inventory = load_fixture("api-versions.yaml");
    let versions: Vec<&str> = inventory
        .issuers
        .iter()
        .map(|i| i.api_version.as_str())
        .collect();
    assert_eq!(
        versions,
        [
            "cert-manager.io/v1",
            "cert-manager.io/v1beta1",
            "cert-manager.io/v1alpha3",
            "cert-manager.io/v1alpha2"
        ]
    );
    for issuer in &inventory.issuers {
        assert_eq!(issuer.solvers.len(), 1, "{}", issuer.name);
        assert!(!issuer.legacy, "{}", issuer.name);
    }
}

#[test]
fn versions_old_ones_noted() {
    let inventory = load_fixture("api-versions.yaml");
    let old = inventory
        .notices
        .iter()
        .filter(|notice| notice.message.contains("no longer serve"))
        .count();
    assert_eq!(old, 3);
}

#[test]
fn sources_name_file_and_line() {
    let inventory = load_fixture("api-versions.yaml");
    assert!(inventory.issuers[0]
        .source
        .file
        .ends_with("api-versions.yaml"));
    assert_eq!(inventory.issuers[0].source.line, 2);
    assert_eq!(inventory.issuers[1].source.line, 15);
}

#[test]
fn legacy_issuer_recognised() {
    let inventory = load_fixture("legacy-v1alpha1.yaml");
    let issuer = &inventory.issuers[0];
    assert!(issuer.legacy);
    assert_eq!(issuer.kind, IssuerKind::ClusterIssuer);
    assert_eq!(provider_keys(&inventory, 0), ["cloudflare", "azureDNS"]);
}

#[test]
fn azuredns_lower_case_accepted() {
    let inventory = load_fixture("azuredns-keys.yaml");
    assert_eq!(provider_keys(&inventory, 0), ["azureDNS", "azureDNS"]);
}

#[test]
fn list_items_unwrapped() {
    let inventory = load_fixture("list.yaml");
    assert_eq!(inventory.certificates.len(), 1);
    assert_eq!(inventory.issuers.len(), 2);
    assert_eq!(inventory.certificates[0].dns_names, ["web.example.com"]);
    assert_eq!(inventory.issuers[0].namespace.as_deref(), Some("apps"));
}

#[test]
fn list_items_get_own_lines() {
    let inventory = load_fixture("list.yaml");
    assert_eq!(inventory.certificates[0].source.line, 5);
    assert_eq!(inventory.issuers[0].source.line, 15);
    assert_eq!(inventory.issuers[1].source.line, 28);
}

#[test]
fn list_non_acme_issuer_kept() {
    let inventory = load_fixture("list.yaml");
    assert!(!inventory.issuers[1].acme);
    assert!(inventory.issuers[1].solvers.is_empty());
}

#[test]
fn anchors_follow_yaml_rules() {
    let inventory = load_fixture("anchors.yaml");
    let names: Vec<String> = inventory.issuers[0]
        .solvers
        .iter()
        .map(|solver| match &solver.kind {
            SolverKind::Dns01 { stanza, .. } => stanza["apiTokenSecretRef"]["name"]
                .as_str()
                .unwrap()
                .to_string(),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    assert_eq!(
        names,
        [
            "first-token",
            "first-token",
            "second-token",
            "second-token",
            "second-token"
        ]
    );
}

#[test]
fn anchors_merge_key_applied() {
    let inventory = load_fixture("anchors.yaml");
    let SolverKind::Dns01 { stanza, .. } = &inventory.issuers[0].solvers[4].kind else {
        panic!("expected dns01");
    };
    assert_eq!(stanza["email"], "ops@example.com");
    assert_eq!(stanza["apiTokenSecretRef"]["key"], "token");
    assert!(stanza.get("<<").is_none());
}

#[test]
fn flow_and_indentation_parse() {
    let inventory = load_fixture("flow-style.yaml");
    assert_eq!(inventory.issuers.len(), 2);
    for issuer in &inventory.issuers {
        let selector = issuer.solvers[0].selector.as_ref().unwrap();
        assert_eq!(selector.dns_zones.len(), 1, "{}", issuer.name);
        assert_eq!(provider_keys(&inventory, 0), ["cloudflare"]);
    }
}

#[test]
fn json_file_parses() {
    let inventory = load_fixture("issuer.json");
    assert_eq!(inventory.issuers[0].name, "json-issuer");
    assert_eq!(inventory.issuers[0].source.line, 1);
}

#[test]
fn json_stream_parses() {
    let text = "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"a\"}}\n\n{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"metadata\":{\"name\":\"b\"}}\n";
    let inventory = load_str(text, "stream.json").unwrap();
    assert_eq!(inventory.secrets.len(), 2);
    assert_eq!(inventory.secrets[1].source.line, 3);
}

const SECRET_DOC: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  namespace: ns\nstringData:\n  token: abc\n";

#[test]
fn multidoc_leading_separator_and_comments() {
    let text = format!("# header comment\n---\n{SECRET_DOC}---\n# between\n{SECRET_DOC}");
    let inventory = load(&text);
    assert_eq!(
        inventory.secrets.len(),
        1,
        "duplicates collapse to the later one"
    );
    assert_eq!(inventory.secrets[0].source.line, 12);
}

#[test]
fn multidoc_crlf_trailing_spaces_no_final_newline() {
    let text = format!(
        "---   \r\n{}---\r\napiVersion: v1  \r\nkind: Secret\r\nmetadata: {{name: t}}",
        SECRET_DOC.replace('\n', "  \r\n")
    );
    let inventory = load(&text);
    assert_eq!(inventory.secrets.len(), 2);
    let SecretData::Value { bytes, .. } = &inventory.secrets[0].data["token"] else {
        panic!("expected a value");
    };
    assert_eq!(bytes.expose(), b"abc");
}

#[test]
fn multidoc_empty_documents_skipped() {
    let inventory = load("---\n---\n# only a comment\n---\n");
    assert!(inventory.secrets.is_empty());
    assert!(inventory.notices.is_empty());
}

#[test]
fn byte_order_mark_stripped() {
    let text = format!("\u{feff}{SECRET_DOC}");
    let inventory = load(&text);
    assert_eq!(inventory.secrets.len(), 1);
}

#[test]
fn cluster_issuer_namespace_ignored() {
    let inventory = load_fixture("scope-notices.yaml");
    let staging = &inventory.issuers[0];
    assert_eq!(staging.namespace, None);
    let notice = inventory
        .notices
        .iter()
        .find(|notice| notice.message.contains("cluster-scoped"))
        .expect("notice about the ignored namespace");
    assert_eq!(notice.severity, Severity::Info);
}

#[test]
fn shared_account_key_warned() {
    let inventory = load_fixture("scope-notices.yaml");
    let notice = inventory
        .notices
        .iter()
        .find(|notice| notice.message.contains("shared-account"))
        .expect("warning about the shared key");
    assert_eq!(notice.severity, Severity::Warning);
    assert!(
        notice.message.contains("staging, production"),
        "{}",
        notice.message
    );
}

#[test]
fn issuer_without_namespace_defaulted() {
    let inventory = load_fixture("scope-notices.yaml").with_default_namespace("team-a");
    let issuer = inventory
        .issuers
        .iter()
        .find(|i| i.name == "no-namespace")
        .unwrap();
    assert_eq!(issuer.namespace.as_deref(), Some("team-a"));
    assert!(issuer.namespace_defaulted);
    assert!(notice_messages(&inventory)
        .iter()
        .any(|m| m.contains("team-a")));
}

fn load_error(name: &str) -> LoadError {
    match load_paths(&[fixture_path(name)]) {
        Ok(_) => panic!("{name} should not load"),
        Err(error) => error,
    }
}

#[test]
fn template_breaking_yaml_names_marker() {
    let error = load_error("template-unrendered.yaml");
    let message = error.to_string();
    assert!(matches!(error, LoadError::Syntax { .. }), "{error:?}");
    assert_eq!(error.line(), Some(5));
    assert!(message.contains("template-unrendered.yaml:5"), "{message}");
    assert!(message.contains("`{{`"), "{message}");
    assert!(message.contains("helm template"), "{message}");
    assert!(message.contains("kustomize build"), "{message}");
    assert!(message.contains("envsubst"), "{message}");
}

#[test]
fn template_jinja_names_marker() {
    let error = load_error("template-jinja.yaml");
    let message = error.to_string();
    assert!(message.contains("`{%`"), "{message}");
    assert!(message.contains("template-jinja.yaml:"), "{message}");
}

#[test]
fn template_that_parses_loads() {
    let inventory = load_fixture("template-parses.yaml");
    assert_eq!(inventory.issuers.len(), 1);
    let email = inventory
        .notices
        .iter()
        .find(|notice| notice.reason == Reason::PlaceholderUnexpanded)
        .expect("placeholder email noticed");
    assert!(
        email.message.contains("spec.acme.email"),
        "{}",
        email.message
    );
}

#[test]
fn broken_template_reports_line() {
    let error = load_error("broken-else.yaml");
    assert!(matches!(error, LoadError::Syntax { .. }), "{error:?}");
    assert!(error.line().is_some_and(|line| line >= 12), "{error}");
    assert!(error.to_string().contains("broken-else.yaml:"), "{error}");
}

#[test]
fn kustomize_partials_load() {
    let inventory = load_fixture("kustomize-partials.yaml");
    assert_eq!(inventory.issuers.len(), 3);
    assert!(inventory.issuers[0].solvers.is_empty());
    assert_eq!(inventory.issuers[1].solvers.len(), 1);
    assert!(matches!(
        inventory.issuers[2].solvers[0].kind,
        SolverKind::Http01
    ));
}

#[test]
fn helm_values_noticed() {
    let inventory = load_fixture("helm-values.yaml");
    assert!(inventory.issuers.is_empty());
    assert_eq!(inventory.notices.len(), 1);
    assert!(
        inventory.notices[0].message.contains("helm-values.yaml:2"),
        "{}",
        inventory.notices[0].message
    );
    assert!(
        inventory.notices[0].message.contains("clusterIssuers"),
        "{}",
        inventory.notices[0].message
    );
}

#[test]
fn helmrelease_noticed() {
    let inventory = load_fixture("helmrelease.yaml");
    assert!(inventory.issuers.is_empty());
    assert_eq!(inventory.notices.len(), 1);
    assert!(
        inventory.notices[0]
            .message
            .contains("HelmRelease flux-system/issuers"),
        "{}",
        inventory.notices[0].message
    );
    assert_eq!(inventory.notices[0].severity, Severity::Info);
}

#[test]
fn webhook_fields_kept() {
    let inventory = load_fixture("webhooks.yaml");
    let SolverKind::Dns01 {
        provider_key,
        webhook,
        ..
    } = &inventory.issuers[0].solvers[0].kind
    else {
        panic!("expected dns01");
    };
    let webhook = webhook.as_ref().unwrap();
    assert_eq!(provider_key, "webhook");
    assert_eq!(webhook.group_name, "acme.example.com");
    assert_eq!(webhook.solver_name, "godaddy");
    assert_eq!(
        webhook.config.as_ref().unwrap()["apiKeySecretRef"]["name"],
        "godaddy-key"
    );
}

#[test]
fn webhook_without_config() {
    let inventory = load_fixture("webhooks.yaml");
    let SolverKind::Dns01 { webhook, .. } = &inventory.issuers[0].solvers[2].kind else {
        panic!("expected dns01");
    };
    assert!(webhook.as_ref().unwrap().config.is_none());
}

#[test]
fn secret_invalid_base64_kept_undecodable() {
    let inventory = load_fixture("secret-shapes.yaml");
    let secret = &inventory.secrets[0];
    assert!(matches!(
        secret.data["token"],
        SecretData::Undecodable { .. }
    ));
    assert!(matches!(
        secret.data["other"],
        SecretData::Undecodable { .. }
    ));
}

#[test]
fn secret_string_data_overrides_data() {
    let inventory = load_fixture("secret-shapes.yaml");
    let secret = inventory
        .secrets
        .iter()
        .find(|s| s.name == "overridden")
        .unwrap();
    let SecretData::Value {
        bytes,
        from_string_data,
    } = &secret.data["token"]
    else {
        panic!("expected a value");
    };
    assert_eq!(bytes.expose(), b"new-value-from-string-data");
    assert!(from_string_data);
}

#[test]
fn secret_eso_metadata_kept() {
    let inventory = load_fixture("secret-shapes.yaml");
    let secret = inventory
        .secrets
        .iter()
        .find(|s| s.name == "synced")
        .unwrap();
    assert_eq!(
        secret.synced_by_external_secret().as_deref(),
        Some("cloudflare-sync")
    );
    assert_eq!(secret.owner_references[0].kind, "ExternalSecret");
}

#[test]
fn encrypted_secrets_recognised() {
    let inventory = load_fixture("encrypted.yaml");
    assert_eq!(
        inventory.secrets[0].encryption,
        Some(Encryption::SealedSecret)
    );
    assert_eq!(inventory.secrets[1].encryption, Some(Encryption::Sops));
    assert!(matches!(
        inventory.secrets[0].data["token"],
        SecretData::Encrypted
    ));
    assert!(matches!(
        inventory.secrets[1].data["token"],
        SecretData::Encrypted
    ));
}

#[test]
fn sops_value_without_block_recognised() {
    let inventory = load(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata:\n  token: ENC[AES256_GCM,data:abc=,iv:x,tag:y,type:str]\n",
    );
    assert_eq!(inventory.secrets[0].encryption, Some(Encryption::Sops));
}

#[test]
fn external_secret_fields() {
    let inventory = load_fixture("external-secrets.yaml");
    let sync = &inventory.external_secrets[0];
    assert_eq!(sync.target_name, "cf-from-vault");
    assert_eq!(sync.refresh_interval.as_deref(), Some("1h"));
    assert_eq!(
        sync.secret_store.as_deref(),
        Some("ClusterSecretStore/vault")
    );
    assert_eq!(sync.produced_keys(), Some(vec!["token".to_string()]));
}

#[test]
fn external_secret_target_defaults_to_name() {
    let inventory = load_fixture("external-secrets.yaml");
    let extract = &inventory.external_secrets[1];
    assert_eq!(extract.target_name, "extract-all");
    assert_eq!(extract.data_from, ["extract cloudflare"]);
    assert_eq!(extract.produced_keys(), Some(vec!["api-token".to_string()]));
}

#[test]
fn external_secret_find_keys_unknown() {
    let inventory = load_fixture("external-secrets.yaml");
    assert_eq!(inventory.external_secrets[2].produced_keys(), None);
}

#[test]
fn one_password_item_produces_secret() {
    let inventory = load_fixture("external-secrets.yaml");
    let item = &inventory.external_secrets[3];
    assert_eq!(item.kind, ProducerKind::OnePasswordItem);
    assert_eq!(item.target_name, "cf-1password");
    assert_eq!(item.produced_keys(), None);
}

#[test]
fn certificates_read() {
    let inventory = load_fixture("certificates.yaml");
    let wildcard = &inventory.certificates[0];
    assert_eq!(wildcard.domains(), ["*.example.com", "example.com"]);
    assert_eq!(wildcard.issuer_ref.kind, "ClusterIssuer");
    assert_eq!(wildcard.issuer_ref.group, "cert-manager.io");
    assert_eq!(inventory.certificates[2].issuer_ref.kind, "Issuer");
}

#[test]
fn directory_walked_in_order() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::write(
        directory.path().join("b.yaml"),
        SECRET_DOC.replace("name: s", "name: b"),
    )
    .unwrap();
    std::fs::write(
        directory.path().join("a.yml"),
        SECRET_DOC.replace("name: s", "name: a"),
    )
    .unwrap();
    std::fs::write(directory.path().join("notes.txt"), "not: read").unwrap();
    std::fs::create_dir(directory.path().join(".git")).unwrap();
    std::fs::write(directory.path().join(".git/c.yaml"), "{{ broken").unwrap();
    std::fs::create_dir(directory.path().join("sub")).unwrap();
    std::fs::write(
        directory.path().join("sub/c.json"),
        r#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"c"}}"#,
    )
    .unwrap();

    let inventory = load_paths(&[directory.path().to_path_buf()]).unwrap();
    let names: Vec<&str> = inventory.secrets.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["a", "b", "c"]);
}

#[cfg(unix)]
#[test]
fn directory_symlink_loop_skipped() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::create_dir(directory.path().join("sub")).unwrap();
    std::fs::write(directory.path().join("sub/s.yaml"), SECRET_DOC).unwrap();
    std::os::unix::fs::symlink(directory.path(), directory.path().join("sub/loop")).unwrap();

    let inventory = load_paths(&[directory.path().to_path_buf()]).unwrap();
    assert_eq!(inventory.secrets.len(), 1);
    assert!(notice_messages(&inventory)
        .iter()
        .any(|m| m.contains("symbolic link")));
}

#[test]
fn missing_path_names_file() {
    let error = load_paths(&["/nonexistent/issuers.yaml".into()]).unwrap_err();
    assert!(matches!(error, LoadError::Io { .. }), "{error:?}");
    assert!(
        error
            .to_string()
            .starts_with("/nonexistent/issuers.yaml: failed to read"),
        "{error}"
    );
}

#[test]
fn large_file_rejected_quickly() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("huge.yaml");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(50 * 1024 * 1024).unwrap();

    let started = std::time::Instant::now();
    let error = load_paths(&[path]).unwrap_err();
    assert!(
        matches!(error, LoadError::TooLarge { size, .. } if size == 50 * 1024 * 1024),
        "{error:?}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    assert!(
        error.to_string().contains(&MAX_FILE_BYTES.to_string()),
        "{error}"
    );
}

#[test]
fn large_bytes_rejected() {
    let bytes = vec![b' '; MAX_FILE_BYTES as usize + 1];
    assert!(matches!(
        load_bytes(&bytes, "big"),
        Err(LoadError::TooLarge { .. })
    ));
}

#[test]
fn nul_byte_rejected_with_line() {
    let error = load_bytes(b"apiVersion: v1\nkind: Secret\n\0\0\0", "dump.yaml").unwrap_err();
    assert!(
        matches!(error, LoadError::Binary { line: 3, .. }),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("dump.yaml:3:"), "{error}");
}

#[test]
fn invalid_utf8_rejected_with_line() {
    let error = load_bytes(b"a: 1\nb: \xff\xfe\xfd\n", "latin.yaml").unwrap_err();
    assert!(
        matches!(error, LoadError::Binary { line: 2, .. }),
        "{error:?}"
    );
    assert!(error.to_string().contains("UTF-8"), "{error}");
}

#[test]
fn utf16_rejected_with_hint() {
    let error = load_bytes(b"\xff\xfea\x00:\x00", "windows.yaml").unwrap_err();
    assert!(error.to_string().contains("UTF-16"), "{error}");
}

#[test]
fn malformed_yaml_names_line() {
    let error = load_str(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: [unclosed\n",
        "bad.yaml",
    )
    .unwrap_err();
    assert!(
        matches!(error, LoadError::Syntax { format: "YAML", .. }),
        "{error:?}"
    );
    assert!(error.to_string().starts_with("bad.yaml:"), "{error}");
    assert!(!error.to_string().contains(" at line "), "{error}");
}

#[test]
fn malformed_json_names_line() {
    let error = load_str(
        "{\n  \"kind\": \"Secret\",\n  \"metadata\": \n}\n",
        "bad.json",
    )
    .unwrap_err();
    assert!(
        matches!(
            error,
            LoadError::Syntax {
                format: "JSON",
                line: 4,
                ..
            }
        ),
        "{error:?}"
    );
}

#[test]
fn second_document_error_line_is_file_line() {
    let text = format!("{SECRET_DOC}---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: [x\n");
    let error = load_str(&text, "two.yaml").unwrap_err();
    assert_eq!(error.line(), Some(12), "{error}");
}

struct TypeCase {
    name: &'static str,
    text: &'static str,
    path: &'static str,
    line: usize,
}

const ISSUER_HEAD: &str =
    "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata:\n  name: x\nspec:\n  acme:\n";

#[test]
fn wrong_types_rejected() {
    let cases = [
        TypeCase {
            name: "solvers string",
            text: "    solvers: \"abc\"\n",
            path: "spec.acme.solvers",
            line: 7,
        },
        TypeCase {
            name: "solver entry string",
            text: "    solvers:\n      - abc\n",
            path: "spec.acme.solvers[0]",
            line: 8,
        },
        TypeCase {
            name: "dnsZones number",
            text: "    solvers:\n      - selector:\n          dnsZones: 5\n        dns01: {cloudflare: {}}\n",
            path: "spec.acme.solvers[0].selector.dnsZones",
            line: 9,
        },
        TypeCase {
            name: "matchLabels value list",
            text: "    solvers:\n      - selector:\n          matchLabels: {team: [a]}\n        dns01: {cloudflare: {}}\n",
            path: "spec.acme.solvers[0].selector.matchLabels.team",
            line: 9,
        },
        TypeCase {
            name: "provider stanza string",
            text: "    solvers:\n      - dns01:\n          cloudflare: token\n",
            path: "spec.acme.solvers[0].dns01.cloudflare",
            line: 9,
        },
        TypeCase {
            name: "email mapping",
            text: "    email: {a: b}\n",
            path: "spec.acme.email",
            line: 7,
        },
    ];
    for case in cases {
        let text = format!("{ISSUER_HEAD}{}", case.text);
        let error = load_str(&text, "types.yaml").unwrap_err();
        let LoadError::FieldType { path, line, .. } = &error else {
            panic!("{}: expected a type error, got {error:?}", case.name);
        };
        assert_eq!(path, case.path, "{}", case.name);
        assert_eq!(*line, case.line, "{}: {error}", case.name);
    }
}

#[test]
fn wrong_type_message_reads_well() {
    let text = "apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: c, namespace: web}\nspec:\n  dnsNames: 5\n";
    let error = load_str(text, "cert.yaml").unwrap_err();
    assert_eq!(
        error.to_string(),
        "cert.yaml:5: Certificate c: spec.dnsNames must be a list of strings, found a number"
    );
}

#[test]
fn wrong_type_from_template_hints() {
    let text = format!("{ISSUER_HEAD}    solvers: ${{SOLVERS}}\n");
    let error = load_str(&text, "t.yaml").unwrap_err();
    assert!(error.to_string().contains("`${`"), "{error}");
}

#[test]
fn secret_data_number_rejected() {
    let error = load_str(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  port: 8080\n",
        "s.yaml",
    )
    .unwrap_err();
    assert!(
        matches!(&error, LoadError::FieldType { path, .. } if path == "stringData.port"),
        "{error:?}"
    );
}

#[test]
fn missing_name_rejected() {
    let error = load_str("apiVersion: v1\nkind: Secret\nmetadata: {}\n", "s.yaml").unwrap_err();
    assert!(
        matches!(&error, LoadError::FieldType { path, found: "nothing", .. } if path == "metadata.name"),
        "{error:?}"
    );
}

#[test]
fn billion_laughs_fails_fast() {
    let mut text = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (previous, next) = (pair[0], pair[1]);
        let refs = vec![format!("*{previous}"); 9].join(",");
        text.push_str(&format!("{next}: &{next} [{refs}]\n"));
    }
    let started = std::time::Instant::now();
    let error = load_str(&text, "bomb.yaml").unwrap_err();
    assert!(matches!(error, LoadError::AliasBomb { .. }), "{error:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
    assert!(error.to_string().starts_with("bomb.yaml:1:"), "{error}");
}

#[test]
fn wide_alias_expansion_bounded() {
    // Each alias copies a large list once: few jumps, many nodes, which
    // serde_yaml_ng's own repetition limit does not catch.
    let items = vec!["x"; 20_000].join(",");
    let refs = vec!["*a"; 2_000].join(",");
    let text = format!("a: &a [{items}]\nb: [{refs}]\n");
    let started = std::time::Instant::now();
    let error = load_str(&text, "wide.yaml").unwrap_err();
    assert!(matches!(error, LoadError::AliasBomb { .. }), "{error:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn deep_nesting_rejected() {
    let text = format!("a: {}{}\n", "[".repeat(10_000), "]".repeat(10_000));
    let error = load_str(&text, "deep.yaml").unwrap_err();
    assert!(matches!(error, LoadError::Syntax { .. }), "{error:?}");
}

#[test]
fn unknown_kinds_ignored() {
    let inventory = load(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {replicas: \"x\"}\n",
    );
    assert!(inventory.issuers.is_empty());
    assert!(inventory.notices.is_empty());
}

#[test]
fn scalar_document_noticed() {
    let inventory = load("just a string\n");
    assert_eq!(inventory.notices.len(), 1);
    assert!(inventory.notices[0]
        .message
        .contains("not a Kubernetes object"));
}

#[test]
fn duplicate_issuer_keeps_later() {
    let issuer = "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: dup}\nspec: {acme: {solvers: []}}\n";
    let inventory = load(&format!(
        "{issuer}---\n{}",
        issuer.replace("solvers: []", "solvers: [{http01: {}}]")
    ));
    assert_eq!(inventory.issuers.len(), 1);
    assert_eq!(inventory.issuers[0].solvers.len(), 1);
    assert!(notice_messages(&inventory)
        .iter()
        .any(|m| m.contains("defined again")));
}

#[test]
fn last_applied_annotation_dropped() {
    let inventory = load(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n  annotations:\n    kubectl.kubernetes.io/last-applied-configuration: '{\"data\":{}}'\n    team: dns\n",
    );
    assert!(!inventory.secrets[0]
        .annotations
        .contains_key("kubectl.kubernetes.io/last-applied-configuration"));
    assert_eq!(inventory.secrets[0].annotations["team"], "dns");
}

#[test]
fn solver_with_both_types_invalid() {
    let inventory = load(&format!("{ISSUER_HEAD}    solvers:\n      - dns01: {{cloudflare: {{}}}}\n        http01: {{ingress: {{}}}}\n"));
    assert!(inventory.issuers[0].solvers[0].invalid.is_some());
}

#[test]
fn null_provider_is_no_provider() {
    let inventory = load(&format!(
        "{ISSUER_HEAD}    solvers:\n      - dns01:\n          route53:\n"
    ));
    assert_eq!(
        inventory.issuers[0].solvers[0].kind.provider_key(),
        Some("")
    );
}

#[test]
fn custom_tags_dropped() {
    let inventory = load(
        "apiVersion: v1\nkind: Secret\nmetadata: {name: !Ref s}\nstringData: {token: !Sub abc}\n",
    );
    assert_eq!(inventory.secrets[0].name, "s");
}
