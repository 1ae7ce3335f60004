//! Cloudflare.
