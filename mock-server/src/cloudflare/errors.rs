//! Every error response the emulation sends, with the source of each status, code and message.
//!
//! Cloudflare publishes no list of the error codes these endpoints return
//! (github.com/favonia/cloudflare-ddns/issues/897 states the same), so the codes
//! below come from real responses quoted in public issue threads. Each
//! constructor names its source, and `NOTE:` marks the choices no source settles.

use serde_json::{json, Value};

/// One entry of the `errors` array.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ErrorDetail {
    pub(crate) code: u32,
    pub(crate) message: String,
    pub(crate) chain: Vec<ErrorDetail>,
}

impl ErrorDetail {
    pub(crate) fn new(code: u32, message: impl Into<String>) -> ErrorDetail {
        ErrorDetail {
            code,
            message: message.into(),
            chain: Vec::new(),
        }
    }

    fn with_chain(mut self, chain: Vec<ErrorDetail>) -> ErrorDetail {
        self.chain = chain;
        self
    }

    pub(crate) fn to_json(&self) -> Value {
        let mut value = json!({ "code": self.code, "message": self.message });
        if !self.chain.is_empty() {
            value["error_chain"] =
                Value::Array(self.chain.iter().map(ErrorDetail::to_json).collect());
        }
        value
    }
}

/// A failed API call: HTTP status, `errors` entries and extra response headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) errors: Vec<ErrorDetail>,
    pub(crate) headers: Vec<(&'static str, String)>,
}

impl ApiError {
    pub(crate) fn new(status: u16, errors: Vec<ErrorDetail>) -> ApiError {
        ApiError {
            status,
            errors,
            headers: Vec::new(),
        }
    }

    fn single(status: u16, code: u32, message: impl Into<String>) -> ApiError {
        ApiError::new(status, vec![ErrorDetail::new(code, message)])
    }
}

/// Rejects a request without credential headers: 400, code 9106.
///
/// Source: the Python SDK raising `BadRequestError` (400) with this code and
/// message (github.com/cloudflare/cloudflare-python/issues/2678).
pub(crate) fn missing_credentials() -> ApiError {
    ApiError::single(
        400,
        9106,
        "Missing X-Auth-Key, X-Auth-Email or Authorization headers",
    )
}

/// Rejects badly formed credential headers: 400, code 6003 with the offending headers chained.
///
/// Source: 400 responses with 6003 and chained 6111, 6103 or 6102 quoted in
/// github.com/siennathesane/cloudflare-sync/issues/4,
/// github.com/cloudflare/cloudflare-typescript/issues/161 and
/// github.com/NewFuture/DDNS/issues/152 (6102 and 6103 chained together).
pub(crate) fn invalid_headers(chain: Vec<ErrorDetail>) -> ApiError {
    ApiError::new(
        400,
        vec![ErrorDetail::new(6003, "Invalid request headers").with_chain(chain)],
    )
}

/// Returns the chain entry for an `Authorization` header that is not `Bearer <token>` or carries a global key.
pub(crate) fn authorization_format() -> ErrorDetail {
    ErrorDetail::new(6111, "Invalid format for Authorization header")
}

/// Returns the chain entry for an `X-Auth-Key` that is not 37 lowercase hex characters, typically an API token.
pub(crate) fn auth_key_format() -> ErrorDetail {
    ErrorDetail::new(6103, "Invalid format for X-Auth-Key header")
}

/// Returns the chain entry for an `X-Auth-Email` that is missing or not an email address.
pub(crate) fn auth_email_format() -> ErrorDetail {
    ErrorDetail::new(6102, "Invalid format for X-Auth-Email header")
}

/// Rejects an unknown, rolled or otherwise unusable API token: 401, code 1000, on every endpoint.
///
/// Source: 401 with the message "Invalid API Token" from the account verify
/// endpoint (github.com/jackluson/sync-your-cookie/issues/47). NOTE: that report
/// does not quote the code, so 1000 is an assumption, and the verify endpoint may
/// return 9109 "Invalid access token" instead, so one code is used everywhere.
/// Disabled, expired and not-yet-valid tokens get this error on every endpoint
/// except verify, which reports their status. Cloudflare does not document what
/// those tokens get elsewhere.
pub(crate) fn invalid_token() -> ApiError {
    ApiError::single(401, 1000, "Invalid API Token")
}

/// Rejects a global key and email that match no user: 403, code 9103.
///
/// NOTE: the message is quoted without a code or status in
/// github.com/netcccyun/dnsmgr/issues/245;
/// code 9103 and status 403 are assumptions.
pub(crate) fn unknown_global_key() -> ApiError {
    ApiError::single(403, 9103, "Unknown X-Auth-Key or X-Auth-Email")
}

/// Rejects a token whose client IP address filter excludes the caller: 403, code 9109, on every call.
///
/// Source: 403 with this code and message in github.com/jeessy2/ddns-go/issues/1273.
pub(crate) fn ip_restricted(address: &str) -> ApiError {
    ApiError::single(
        403,
        9109,
        format!("Cannot use the access token from location: {address}"),
    )
}

/// Rejects an API token of the wrong owner on a verify endpoint: an account-owned
/// token on `/user/tokens/verify`, or a user token or another account's token on
/// `/accounts/{id}/tokens/verify`.
///
/// NOTE: one report saw 403 for an account token on the user endpoint
/// (github.com/tashfeenahmed/freellmapi/issues/297), another saw 401
/// (github.com/benvinegar/counterscale/pull/268); neither quotes the body.
/// 403 with 9109 "Invalid access token" is an assumption.
pub(crate) fn wrong_token_owner() -> ApiError {
    ApiError::single(403, 9109, "Invalid access token")
}

/// Rejects a global API key on a verify endpoint, which needs an `Authorization` header.
///
/// Source: code 1001 with this message for `X-Auth-Email` + `X-Auth-Key` on
/// `/user/tokens/verify` (github.com/kissgyorgy/cloudflare-dyndns/issues/40).
/// NOTE: that report does not show the HTTP status; 400 is an assumption.
pub(crate) fn authorization_required() -> ApiError {
    ApiError::single(400, 1001, "Missing \"Authorization\" header")
}

/// Rejects a credential that lacks the permission for this call: 403, code 10000.
///
/// Source: github.com/favonia/cloudflare-ddns/issues/897 ("10000 probably means
/// the API token is invalid or insufficient permissions are given").
/// NOTE: older responses to a zone list without Zone:Read used code 0 and
/// "Actor '…' requires permission 'com.cloudflare.api.account.zone.list' to list
/// zones" (cert-manager's troubleshooting docs); this emulation uses 10000 for every
/// missing permission.
pub(crate) fn authentication_error() -> ApiError {
    ApiError::single(403, 10000, "Authentication error")
}

/// Rejects a request over the rate limit: 429, code 971, with `Retry-After` in whole seconds.
///
/// Source: code 971 and this message in github.com/cloudflare/workers-sdk/issues/10025;
/// `Retry-After` in seconds, rounded up, only on 429, per
/// developers.cloudflare.com/fundamentals/api/reference/limits.
pub(crate) fn rate_limited(retry_after_seconds: Option<u64>) -> ApiError {
    let mut error = ApiError::single(
        429,
        971,
        "Please wait and consider throttling your request speed",
    );
    if let Some(seconds) = retry_after_seconds {
        error.headers.push(("retry-after", seconds.to_string()));
    }
    error
}

/// Rejects an object id in the path that does not exist or is not visible: 400, codes 7003 and 7000.
///
/// Source: HTTP 400 with both codes for a malformed record id
/// (github.com/cloudflare/cloudflare-go/issues/118); the message format matches
/// github.com/timothymiller/cloudflare-ddns/issues/152.
pub(crate) fn no_route(path: &str) -> ApiError {
    ApiError::new(
        400,
        vec![
            ErrorDetail::new(
                7003,
                format!("Could not route to {path}, perhaps your object identifier is invalid?"),
            ),
            ErrorDetail::new(7000, "No route for that URI"),
        ],
    )
}

/// Rejects a path the emulation does not serve.
///
/// NOTE: 404 with only code 7000 is an assumption for paths that are not object lookups.
pub(crate) fn unknown_path() -> ApiError {
    ApiError::single(404, 7000, "No route for that URI")
}

/// Rejects a known path with an unsupported method.
///
/// NOTE: status 405 and code 7001 are assumptions; no quoted response was found.
pub(crate) fn method_not_allowed(method: &str) -> ApiError {
    ApiError::single(
        405,
        7001,
        format!("Method {method} not available for that URI."),
    )
}

/// Rejects a record id that does not exist in the zone: 404, code 81044.
///
/// Source: code and message in github.com/zanjie1999/cloudflare-api-v4-ddns/issues/5.
/// NOTE: that report does not show the HTTP status; 404 is an assumption.
pub(crate) fn record_not_found() -> ApiError {
    ApiError::single(404, 81044, "Record does not exist.")
}

/// Rejects a record whose type, name and content match an existing one: 400, code 81058.
///
/// Source: 400 with this code and message in github.com/jeessy2/ddns-go/issues/1378.
/// Older responses used 81057 "Record already exists."
/// (github.com/joshuaavalon/docker-cloudflare/issues/76).
pub(crate) fn identical_record() -> ApiError {
    ApiError::single(400, 81058, "An identical record already exists.")
}

/// Rejects a TTL outside 1 or 60..=86400: 400, code 1004 with chained 9021.
///
/// Source: github.com/timothymiller/cloudflare-ddns/issues/179 (2024 wording; older
/// responses gave 120 to 2,147,483,647).
pub(crate) fn invalid_ttl() -> ApiError {
    ApiError::new(
        400,
        vec![
            ErrorDetail::new(1004, "DNS Validation Error").with_chain(vec![ErrorDetail::new(
                9021,
                "TTL must be between 60 and 86400 seconds, or 1 for Automatic.",
            )]),
        ],
    )
}

/// Rejects a record field that fails validation: 400, code 1004.
///
/// Source: code 1004 "DNS Validation Error" with a chained detail in
/// github.com/jordantrizz/cloudflare-cli/issues/8. NOTE: for a missing field or a name outside the
/// zone no chained code is known, so `detail` is `None` and only 1004 is sent.
/// Cloudflare itself may append the zone name to such a name instead of
/// rejecting it. The emulation rejects it, so a client bug shows up in tests.
pub(crate) fn dns_validation(detail: Option<ErrorDetail>) -> ApiError {
    let error =
        ErrorDetail::new(1004, "DNS Validation Error").with_chain(detail.into_iter().collect());
    ApiError::new(400, vec![error])
}

/// Returns the chain entry for an A record whose content is not an IPv4 address (same source).
pub(crate) fn invalid_a_content() -> ErrorDetail {
    ErrorDetail::new(
        9005,
        "Content for A record is invalid. Must be a valid IPv4 address",
    )
}

/// Rejects a request body that is not a JSON object: 400, code 9207.
///
/// NOTE: code 9207 is quoted with "Content-type must be application/json."
/// (github.com/timothymiller/cloudflare-ddns/issues/61) and the message with no code in
/// github.com/favonia/cloudflare-ddns/issues/1026; the pairing is an assumption. The emulation does
/// not require a Content-Type, because cert-manager's POST sends none and works.
pub(crate) fn invalid_body() -> ApiError {
    ApiError::single(400, 9207, "Request body is invalid.")
}

/// Builds the error of an injected `status` fault.
///
/// NOTE: without an explicit code, faults use code 10000 and the HTTP reason phrase.
pub(crate) fn injected(status: u16, code: Option<u32>, message: Option<&str>) -> ApiError {
    let message = message
        .map(str::to_string)
        .unwrap_or_else(|| reason_phrase(status).to_string());
    ApiError::single(status, code.unwrap_or(10000), message)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Error",
    }
}
