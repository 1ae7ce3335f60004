//! `provider.toml` and `DESCRIPTOR` describe the same provider, and the
//! default budget stays under Route53's limit.

use acme_token_core::ProviderFactory;
use acme_token_route53::{Route53Factory, DESCRIPTOR};

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
    assert_eq!(
        file["default_endpoint"].as_str(),
        Some(DESCRIPTOR.default_endpoint)
    );
    assert_eq!(
        file["published_rate_limit"].as_str(),
        Some(DESCRIPTOR.published_rate_limit)
    );
    assert_eq!(
        strings(&file, "credential_modes"),
        DESCRIPTOR.credential_modes
    );
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
        .map(|(n, d)| (n.to_string(), d.to_string()))
        .collect();
    assert_eq!(fields, expected);
    let budget = &file["default_budget"];
    assert_eq!(
        budget["per_second"].as_float(),
        Some(DESCRIPTOR.default_budget.per_second)
    );
    assert_eq!(
        budget["burst"].as_integer(),
        Some(i64::from(DESCRIPTOR.default_budget.burst))
    );
}

#[test]
fn budget_stays_under_limit() {
    // Older limit: 5 requests per second per account. Over any window of 4 s
    // or more, the budget stays at or under 60% of it.
    let budget = DESCRIPTOR.default_budget;
    for seconds in [4.0, 10.0, 60.0] {
        let max_in_window = f64::from(budget.burst) + budget.per_second * seconds;
        assert!(
            max_in_window <= 0.6 * 5.0 * seconds,
            "{seconds} s: {max_in_window}"
        );
    }
    // Current token bucket: burst 50, refill 10 per second.
    assert!(budget.burst <= 50 / 5);
    assert!(budget.per_second <= 10.0 / 5.0);
}

#[test]
fn factory_declares_sts_endpoint() {
    assert_eq!(Route53Factory.descriptor().id, "route53");
    assert!(DESCRIPTOR
        .endpoint_overrides
        .contains(&("sts", "AWS_ENDPOINT_URL_STS")));
}
