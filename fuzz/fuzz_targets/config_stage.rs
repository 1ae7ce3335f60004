//! The config stage: manifests that load are planned with the real
//! Cloudflare factory, offline, as `check --offline -f` does. Planning
//! builds providers but sends no request.
#![no_main]

use acme_token_certmanager::{load_bytes, plan_checks, PlanOptions};
use acme_token_core::ProviderFactory;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

fuzz_target!(|data: &[u8]| {
    let Ok(inventory) = load_bytes(data, "fuzz.yaml") else {
        return;
    };
    let factories: Vec<Arc<dyn ProviderFactory>> =
        vec![Arc::new(acme_token_cloudflare::CloudflareFactory)];
    let options = PlanOptions {
        offline: true,
        ..PlanOptions::default()
    };
    let planned = plan_checks(&inventory, &factories, &options);
    for job in &planned.jobs {
        for finding in &job.config.findings {
            let _ = finding.message.len();
        }
    }
});
