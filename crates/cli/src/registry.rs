//! The providers this build supports. Adding a provider means adding its
//! crate to Cargo.toml and one line here.

use acme_token_core::ProviderFactory;
use std::sync::Arc;

/// Returns a factory for every supported provider.
pub fn factories() -> Vec<Arc<dyn ProviderFactory>> {
    vec![
        Arc::new(acme_token_cloudflare::CloudflareFactory),
        Arc::new(acme_token_route53::Route53Factory),
    ]
}

/// Returns the ids of the supported providers, such as `cloudflare`.
pub fn provider_ids() -> Vec<&'static str> {
    factories().iter().map(|f| f.descriptor().id).collect()
}
