//! `providers`: the list comes from the provider descriptors, and the
//! committed `docs/providers/*.md` pages match what the descriptors generate.

use acme_token_tests::{run_cli, workspace_root};
use std::collections::BTreeMap;
use std::path::Path;

const REGENERATE: &str =
    "cargo build --workspace --bins && target/debug/kubectl-acme_token providers --markdown docs/providers";

fn markdown_pages(dir: &Path) -> BTreeMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|err| panic!("cannot read {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(&path).unwrap())
        })
        .collect()
}

#[test]
fn providers_json_lists_cloudflare() {
    let run = run_cli(&["providers", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let list: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(list["kind"], "ProviderList");
    let cloudflare = list["providers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "cloudflare")
        .expect("cloudflare listed");
    assert_eq!(cloudflare["solverKey"], "cloudflare");
    assert_eq!(cloudflare["secretFields"], serde_json::json!(["apiTokenSecretRef", "apiKeySecretRef"]));
    let permissions: Vec<&str> = cloudflare["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(permissions.iter().any(|p| p.starts_with("Zone / DNS / Edit")), "{permissions:?}");
    assert!(cloudflare["endpoints"].as_array().unwrap().len() >= 7);
    assert_eq!(cloudflare["defaultEndpoint"], "https://api.cloudflare.com/client/v4");
}

#[test]
fn providers_table_names_permissions() {
    let run = run_cli(&["providers"]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    assert!(run.stdout.contains("Cloudflare (cloudflare): dns01.cloudflare"), "{}", run.stdout);
    assert!(run.stdout.contains("apiTokenSecretRef [Secret]"), "{}", run.stdout);
}

#[test]
fn provider_docs_match_descriptors() {
    let generated = tempfile::tempdir().unwrap();
    let run = run_cli(&["providers", "--markdown", generated.path().to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.all_output());
    let expected = markdown_pages(generated.path());
    let committed = markdown_pages(&workspace_root().join("docs/providers"));
    let expected_names: Vec<&String> = expected.keys().collect();
    let committed_names: Vec<&String> = committed.keys().collect();
    assert_eq!(
        committed_names, expected_names,
        "docs/providers has other pages than the supported providers; regenerate with `{REGENERATE}` and remove stale pages"
    );
    for (name, text) in &expected {
        assert_eq!(
            committed[name], *text,
            "docs/providers/{name} differs from its descriptor; regenerate with `{REGENERATE}`"
        );
    }
}
