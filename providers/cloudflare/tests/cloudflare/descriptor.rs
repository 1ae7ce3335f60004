//! `provider.toml` and `DESCRIPTOR` describe the same provider.

use acme_token_cloudflare::{CloudflareFactory, DESCRIPTOR};
use acme_token_core::ProviderFactory;

fn descriptor_file() -> toml::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/provider.toml");
    let text = std::fs::read_to_string(path).expect("provider.toml is readable");
    toml::from_str(&text).expect("provider.toml is valid TOML")
}

fn strings(value: &toml::Value, key: &str) -> Vec<String> {
    value[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is an array"))
        .iter()
        .map(|item| item.as_str().expect("a string").to_string())
        .collect()
}

#[test]
fn descriptor_matches_provider_toml() {
    let file = descriptor_file();
    assert_eq!(file["id"].as_str(), Some(DESCRIPTOR.id));
    assert_eq!(file["name"].as_str(), Some(DESCRIPTOR.name));
    assert_eq!(file["solver_key"].as_str(), Some(DESCRIPTOR.solver_key));
    assert_eq!(file["default_endpoint"].as_str(), Some(DESCRIPTOR.default_endpoint));
    assert_eq!(file["published_rate_limit"].as_str(), Some(DESCRIPTOR.published_rate_limit));
    assert_eq!(strings(&file, "credential_modes"), DESCRIPTOR.credential_modes);
    assert_eq!(strings(&file, "permissions"), DESCRIPTOR.permissions);
    assert_eq!(strings(&file, "endpoints"), DESCRIPTOR.endpoints);

    let fields: Vec<(String, String)> = file["fields"]
        .as_array()
        .expect("fields is an array of tables")
        .iter()
        .map(|field| {
            (
                field["name"].as_str().unwrap().to_string(),
                field["description"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = DESCRIPTOR
        .fields
        .iter()
        .map(|(name, description)| (name.to_string(), description.to_string()))
        .collect();
    assert_eq!(fields, expected);

    let budget = &file["default_budget"];
    assert_eq!(budget["per_second"].as_float(), Some(DESCRIPTOR.default_budget.per_second));
    assert_eq!(
        budget["burst"].as_integer(),
        Some(i64::from(DESCRIPTOR.default_budget.burst))
    );
}

#[test]
fn budget_stays_well_under_limit() {
    // Cloudflare allows 1200 requests per 5 minutes per token.
    let budget = DESCRIPTOR.default_budget;
    let max_in_window = f64::from(budget.burst) + budget.per_second * 300.0;
    assert!(max_in_window <= 0.6 * 1200.0, "{max_in_window}");
}

#[test]
fn factory_returns_descriptor() {
    assert_eq!(CloudflareFactory.descriptor().id, "cloudflare");
    assert_eq!(
        DESCRIPTOR.permissions.len(),
        2,
        "Zone / Zone / Read and Zone / DNS / Edit"
    );
}
