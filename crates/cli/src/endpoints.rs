//! Endpoint overrides: `--endpoint PROVIDER=URL` and `ACME_TOKEN_ENDPOINT_<PROVIDER>`.
//!
//! They exist for tests and the demo. The default is always the provider's
//! real API, and the report lists every override in use so a run against a
//! mock is never mistaken for a real check.

use acme_token_core::ProviderFactory;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Prefix of the environment variables that override endpoints.
pub const ENV_PREFIX: &str = "ACME_TOKEN_ENDPOINT_";

/// Collects overrides from the environment, then from flags (flags win).
/// Keys are lower-case provider ids.
pub fn collect(
    flags: &[String],
    known_providers: &[&str],
    env: impl Iterator<Item = (String, String)>,
) -> Result<BTreeMap<String, String>, String> {
    let mut overrides = BTreeMap::new();
    for (key, value) in env {
        if let Some(provider) = key.strip_prefix(ENV_PREFIX) {
            let provider = provider.to_ascii_lowercase();
            if known_providers.contains(&provider.as_str()) && !value.is_empty() {
                overrides.insert(provider, validate_url(&key, &value)?);
            }
        }
    }
    for flag in flags {
        let Some((provider, url)) = flag.split_once('=') else {
            return Err(format!("invalid --endpoint '{flag}': expected PROVIDER=URL, e.g. cloudflare=http://127.0.0.1:8080/client/v4"));
        };
        let provider = provider.trim().to_ascii_lowercase();
        if !known_providers.contains(&provider.as_str()) {
            return Err(format!(
                "invalid --endpoint '{flag}': unknown provider '{provider}'; known providers: {}",
                known_providers.join(", ")
            ));
        }
        overrides.insert(provider, validate_url(flag, url.trim())?);
    }
    Ok(overrides)
}

/// Collects overrides for every provider and for the extra endpoints the
/// descriptors name (such as `sts`), from flags, `ACME_TOKEN_ENDPOINT_*` and
/// the variables the providers' own SDKs read (such as `AWS_ENDPOINT_URL_STS`).
pub fn collect_for(
    flags: &[String],
    factories: &[Arc<dyn ProviderFactory>],
) -> Result<BTreeMap<String, String>, String> {
    let mut known: Vec<&str> = factories.iter().map(|f| f.descriptor().id).collect();
    let mut sdk_variables = Vec::new();
    for descriptor in factories.iter().map(|f| f.descriptor()) {
        for (name, variable) in descriptor.endpoint_overrides {
            if !known.contains(name) {
                known.push(name);
            }
            sdk_variables.push((*variable, *name));
        }
    }
    let env: Vec<(String, String)> = std::env::vars().collect();
    collect(flags, &known, with_sdk_variables(env, &sdk_variables))
}

/// Provider options (`endpoint:NAME`) for the overrides of a provider's
/// extra endpoints; the main API's override goes in `ProviderSettings::endpoint`.
pub fn extra_endpoint_options(
    factory: &dyn ProviderFactory,
    overrides: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    let id = factory.descriptor().id;
    factory
        .descriptor()
        .endpoint_overrides
        .iter()
        .filter(|(name, _)| *name != id)
        .filter_map(|(name, _)| Some((format!("endpoint:{name}"), overrides.get(*name)?.clone())))
        .collect()
}

/// Adds the endpoint variables providers' own SDKs read (such as
/// `AWS_ENDPOINT_URL_STS`) to `env` as `ACME_TOKEN_ENDPOINT_<NAME>` entries.
/// They come first, so an `ACME_TOKEN_ENDPOINT_` variable wins.
pub fn with_sdk_variables(
    env: Vec<(String, String)>,
    variables: &[(&str, &str)],
) -> impl Iterator<Item = (String, String)> {
    let mut aliased: Vec<(String, String)> = Vec::new();
    for (variable, name) in variables {
        if let Some((_, value)) = env.iter().find(|(key, _)| key == variable) {
            aliased.push((format!("{ENV_PREFIX}{}", name.to_ascii_uppercase()), value.clone()));
        }
    }
    aliased.into_iter().chain(env)
}

fn validate_url(origin: &str, url: &str) -> Result<String, String> {
    let parsed = url::Url::parse(url)
        .map_err(|err| format!("invalid endpoint URL in '{origin}': {err}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "invalid endpoint URL in '{origin}': expected an http:// or https:// URL with a host"
        ));
    }
    Ok(url.trim_end_matches('/').to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_overrides_env() {
        let env = vec![(
            "ACME_TOKEN_ENDPOINT_CLOUDFLARE".to_string(),
            "http://127.0.0.1:1/a".to_string(),
        )];
        let flags = vec!["cloudflare=http://127.0.0.1:2/b/".to_string()];
        let overrides = collect(&flags, &["cloudflare"], env.into_iter()).unwrap();
        assert_eq!(overrides["cloudflare"], "http://127.0.0.1:2/b");
    }

    #[test]
    fn unknown_provider_is_rejected() {
        let flags = vec!["nope=http://127.0.0.1:2".to_string()];
        let err = collect(&flags, &["cloudflare"], std::iter::empty()).unwrap_err();
        assert!(err.contains("unknown provider 'nope'"), "{err}");
    }
}
