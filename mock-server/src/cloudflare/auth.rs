//! Credential checks: header format, token lookup, status, IP filter and permissions.

use std::net::IpAddr;

use chrono::{DateTime, Utc};

use super::errors::{self, ApiError};
use super::scenario::TokenStatus;
use super::state::{is_global_key_format, Owner, Resources, State, Token, Zone};

/// The credential headers of one request.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct AuthHeaders<'a> {
    pub(crate) authorization: Option<&'a str>,
    pub(crate) auth_email: Option<&'a str>,
    pub(crate) auth_key: Option<&'a str>,
}

/// An authenticated caller, by index into the state's tokens or global keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Principal {
    Token(usize),
    GlobalKey(usize),
}

/// Identifies the caller from the headers.
///
/// `Authorization` wins when both schemes are present, because cert-manager sends
/// `X-Auth-Email` next to a bearer token whenever the issuer sets `email`.
pub(crate) fn authenticate(
    state: &State,
    headers: &AuthHeaders<'_>,
) -> Result<Principal, ApiError> {
    if let Some(value) = headers.authorization {
        return authenticate_bearer(state, value);
    }
    if let Some(key) = headers.auth_key {
        return authenticate_global_key(state, headers.auth_email, key);
    }
    Err(errors::missing_credentials())
}

fn authenticate_bearer(state: &State, header: &str) -> Result<Principal, ApiError> {
    let malformed = || errors::invalid_headers(vec![errors::authorization_format()]);
    let (scheme, token) = header.split_once(' ').ok_or_else(malformed)?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(malformed());
    }
    // A global API key sent as a bearer token fails on format, before any lookup.
    if is_global_key_format(token) || !token.chars().all(is_token_char) {
        return Err(malformed());
    }
    match state
        .tokens
        .iter()
        .position(|candidate| candidate.value == token)
    {
        Some(index) if !state.tokens[index].revoked => Ok(Principal::Token(index)),
        _ => Err(errors::invalid_token()),
    }
}

/// Characters seen in Cloudflare API tokens (letters, digits, `-`, `_`) plus `.`.
fn is_token_char(character: char) -> bool {
    character.is_ascii_alphanumeric() || matches!(character, '-' | '_' | '.')
}

fn authenticate_global_key(
    state: &State,
    email: Option<&str>,
    key: &str,
) -> Result<Principal, ApiError> {
    let mut chain = Vec::new();
    let email = email.map(str::trim).unwrap_or("");
    if email.is_empty() || !email.contains('@') {
        chain.push(errors::auth_email_format());
    }
    if !is_global_key_format(key) {
        chain.push(errors::auth_key_format());
    }
    if !chain.is_empty() {
        return Err(errors::invalid_headers(chain));
    }
    state
        .global_keys
        .iter()
        .position(|candidate| candidate.email.eq_ignore_ascii_case(email) && candidate.key == key)
        .map(Principal::GlobalKey)
        .ok_or_else(errors::unknown_global_key)
}

/// Returns the non-secret label of a principal for logs and rate limiting.
pub(crate) fn label(state: &State, principal: Principal) -> String {
    match principal {
        Principal::Token(index) => state.tokens[index].id.clone(),
        Principal::GlobalKey(index) => format!("global-key:{}", state.global_keys[index].email),
    }
}

/// Rejects a token whose client IP address filter excludes `peer`.
pub(crate) fn check_ip_filter(token: &Token, peer: IpAddr) -> Result<(), ApiError> {
    if token.allowed_ips.is_empty() || token.allowed_ips.iter().any(|filter| filter.contains(peer))
    {
        return Ok(());
    }
    Err(errors::ip_restricted(&peer.to_string()))
}

/// Returns the status the verify endpoints report, where a past `expires_on` reads as `expired`.
pub(crate) fn effective_status(token: &Token, now: DateTime<Utc>) -> TokenStatus {
    match token.status {
        TokenStatus::Active if token.expires_on.is_some_and(|expiry| expiry <= now) => {
            TokenStatus::Expired
        }
        status => status,
    }
}

/// Reports whether `now` is before the token's `not_before`.
pub(crate) fn is_not_yet_valid(token: &Token, now: DateTime<Utc>) -> bool {
    token.not_before.is_some_and(|start| now < start)
}

/// Rejects a disabled, expired or not-yet-valid token on the endpoints other than verify.
pub(crate) fn check_usable(token: &Token, now: DateTime<Utc>) -> Result<(), ApiError> {
    if effective_status(token, now) != TokenStatus::Active || is_not_yet_valid(token, now) {
        return Err(errors::invalid_token());
    }
    Ok(())
}

/// Reports whether the principal's resources include `zone`.
pub(crate) fn covers_zone(state: &State, principal: Principal, zone: &Zone) -> bool {
    let token = match principal {
        Principal::GlobalKey(_) => return true,
        Principal::Token(index) => &state.tokens[index],
    };
    match (&token.resources, &token.owner) {
        (Resources::Zones(ids), _) => ids.contains(&zone.id),
        (Resources::All, Owner::User) => true,
        (Resources::All, Owner::Account(account_id)) => &zone.account_id == account_id,
    }
}

pub(crate) fn can_read_zones(state: &State, principal: Principal) -> bool {
    match principal {
        Principal::GlobalKey(_) => true,
        Principal::Token(index) => state.tokens[index].zone_read,
    }
}

/// DNS:Edit implies DNS:Read.
pub(crate) fn can_read_dns(state: &State, principal: Principal) -> bool {
    match principal {
        Principal::GlobalKey(_) => true,
        Principal::Token(index) => state.tokens[index].dns_read || state.tokens[index].dns_edit,
    }
}

pub(crate) fn can_edit_dns(state: &State, principal: Principal) -> bool {
    match principal {
        Principal::GlobalKey(_) => true,
        Principal::Token(index) => state.tokens[index].dns_edit,
    }
}
