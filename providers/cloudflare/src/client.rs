//! Small typed client for the part of the Cloudflare v4 API that cert-manager's
//! solver uses, plus the two token-verify endpoints.
//!
//! Every response is the v4 envelope `{success, errors[{code, message,
//! error_chain}], result, result_info}`. Like cert-manager, the client trusts
//! `success` and not the HTTP status, but it keeps the status for evidence.
//!
//! The credential goes only into request headers that are marked sensitive, so
//! reqwest's `Debug` output hides them. Headers are never logged, and any
//! provider message that echoes the credential is scrubbed before it is kept.

use acme_token_core::{HttpSettings, SecretValue};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, AUTHORIZATION, RETRY_AFTER};
use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::fmt;
use tracing::debug;

/// Header cert-manager uses for the global API key.
const X_AUTH_KEY: &str = "x-auth-key";
/// Header cert-manager sends whenever the stanza sets `email`, with either
/// credential kind.
const X_AUTH_EMAIL: &str = "x-auth-email";

/// Authentication scheme of every request.
#[derive(Clone)]
pub(crate) enum Auth {
    /// `Authorization: Bearer <token>`, plus `X-Auth-Email` when an email is
    /// set, as cert-manager does.
    Token {
        token: SecretValue,
        email: Option<String>,
    },
    /// `X-Auth-Key: <key>` and `X-Auth-Email: <email>`.
    GlobalKey { key: SecretValue, email: String },
}

impl Auth {
    fn secret(&self) -> &SecretValue {
        match self {
            Auth::Token { token, .. } => token,
            Auth::GlobalKey { key, .. } => key,
        }
    }

    /// Short description of the headers sent, for facts and messages.
    pub(crate) fn describe(&self) -> &'static str {
        match self {
            Auth::Token { email: None, .. } => "API token (Authorization: Bearer)",
            Auth::Token { email: Some(_), .. } => {
                "API token (Authorization: Bearer, plus X-Auth-Email as cert-manager sends it)"
            }
            Auth::GlobalKey { .. } => "global API key (X-Auth-Key and X-Auth-Email)",
        }
    }

    pub(crate) fn is_token(&self) -> bool {
        matches!(self, Auth::Token { .. })
    }
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::Token { token, email } => f
                .debug_struct("Token")
                .field("token", token)
                .field("email", email)
                .finish(),
            Auth::GlobalKey { key, email } => f
                .debug_struct("GlobalKey")
                .field("key", key)
                .field("email", email)
                .finish(),
        }
    }
}

/// One entry of the envelope's `errors` array, with its nested chain.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct ApiMessage {
    pub code: i64,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub error_chain: Vec<ApiMessage>,
}

/// `result_info` of a list response.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ResultInfo {
    #[serde(default)]
    pub total_count: Option<u64>,
    #[serde(default)]
    pub total_pages: Option<u64>,
}

/// Result of `GET /user/tokens/verify` and `GET /accounts/{id}/tokens/verify`.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct TokenStatus {
    #[serde(default)]
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub expires_on: Option<String>,
    #[serde(default)]
    pub not_before: Option<String>,
}

/// The fields of a zone object the replay reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Zone {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub account: Option<AccountRef>,
}

/// The account that owns a zone.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct AccountRef {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
}

/// The fields of a DNS record the replay reads.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DnsRecord {
    pub id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub content: String,
}

impl DnsRecord {
    /// Returns true when the record contains exactly `value`. Cloudflare may
    /// return TXT content wrapped in double quotes, so those are ignored.
    pub(crate) fn has_content(&self, value: &str) -> bool {
        self.content == value || self.content.trim_matches('"') == value
    }

    /// Returns true when the record is `fqdn` with exactly `value`, the test
    /// cert-manager's CleanUp applies. A record without a name counts as a
    /// match on the name, since the list was already filtered by name.
    pub(crate) fn is(&self, fqdn: &str, value: &str) -> bool {
        let name = self.name.trim_end_matches('.');
        (name.is_empty() || name.eq_ignore_ascii_case(fqdn.trim_end_matches('.')))
            && self.has_content(value)
    }
}

/// A list response: the items and the paging summary.
#[derive(Debug, Clone)]
pub(crate) struct Page<T> {
    pub items: Vec<T>,
    pub info: Option<ResultInfo>,
}

/// Kind of request failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FailureKind {
    /// The request timed out; the provider may still have acted on it.
    Timeout,
    /// Connecting, sending or reading the response failed (reset, refused).
    Transport,
    /// The response is not a v4 envelope, or its `result` has the wrong shape.
    Malformed,
    /// The envelope has `success: false`.
    Api,
    /// The credential cannot be put into an HTTP header, so nothing was sent.
    Unsendable,
    /// The run was cancelled while the request was in flight and the response
    /// did not arrive within the cleanup grace period.
    Interrupted,
}

/// A failed request, with everything the report may show and nothing secret.
#[derive(Debug, Clone)]
pub(crate) struct ApiFailure {
    /// Method and path relative to the API base, such as `GET /zones?name=example.com`.
    pub request: String,
    pub status: Option<u16>,
    pub kind: FailureKind,
    pub errors: Vec<ApiMessage>,
    /// Seconds from the `Retry-After` header of a 429 response.
    pub retry_after: Option<u64>,
    /// Transport error text or a note on a malformed body.
    pub detail: String,
}

impl ApiFailure {
    /// Creates the failure used when a request was abandoned after cancellation.
    pub(crate) fn interrupted(request: String) -> Self {
        Self {
            request,
            status: None,
            kind: FailureKind::Interrupted,
            errors: Vec::new(),
            retry_after: None,
            detail: "the run was cancelled before the response arrived".to_string(),
        }
    }

    /// Returns true when any error or chained error has `code`.
    pub(crate) fn has_code(&self, code: i64) -> bool {
        fn walk(messages: &[ApiMessage], code: i64) -> bool {
            messages
                .iter()
                .any(|m| m.code == code || walk(&m.error_chain, code))
        }
        walk(&self.errors, code)
    }

    /// Returns true when any error or chained error message contains `text`,
    /// compared without case.
    pub(crate) fn message_contains(&self, text: &str) -> bool {
        fn walk(messages: &[ApiMessage], text: &str) -> bool {
            messages.iter().any(|m| {
                m.message.to_ascii_lowercase().contains(text) || walk(&m.error_chain, text)
            })
        }
        walk(&self.errors, &text.to_ascii_lowercase())
    }

    /// Returns true for a 429 response.
    pub(crate) fn is_rate_limited(&self) -> bool {
        self.status == Some(429)
    }

    /// Returns true when the provider reported that the record does not exist
    /// (HTTP 404 or code 81044 "Record does not exist.").
    pub(crate) fn is_record_missing(&self) -> bool {
        self.kind == FailureKind::Api && (self.status == Some(404) || self.has_code(81044))
    }

    /// Returns true unless the provider clearly rejected the request. After a
    /// create, anything but a clear rejection may have created the record.
    pub(crate) fn may_have_taken_effect(&self) -> bool {
        match self.kind {
            FailureKind::Api | FailureKind::Malformed => {
                !matches!(self.status, Some(status) if (400..500).contains(&status))
            }
            FailureKind::Unsendable => false,
            FailureKind::Timeout | FailureKind::Transport | FailureKind::Interrupted => true,
        }
    }

    /// Returns true for failures worth retrying: 429, 5xx and transport errors.
    pub(crate) fn is_transient(&self) -> bool {
        match self.kind {
            FailureKind::Timeout | FailureKind::Transport | FailureKind::Malformed => true,
            FailureKind::Api => matches!(self.status, Some(429) | Some(500..=599)),
            FailureKind::Unsendable | FailureKind::Interrupted => false,
        }
    }

    /// Returns the first error code, as evidence shows it.
    pub(crate) fn first_code(&self) -> Option<i64> {
        self.errors.first().map(|m| m.code)
    }

    /// Joins all error messages, with chained errors as `code: message`.
    pub(crate) fn joined_messages(&self) -> Option<String> {
        if self.errors.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .errors
            .iter()
            .map(|m| {
                let mut text = m.message.clone();
                for chained in &m.error_chain {
                    text.push_str(&format!(" ({}: {})", chained.code, chained.message));
                }
                text
            })
            .collect();
        Some(parts.join("; "))
    }
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    success: Option<bool>,
    #[serde(default)]
    errors: Vec<ApiMessage>,
    #[serde(default)]
    result: serde_json::Value,
    #[serde(default)]
    result_info: Option<ResultInfo>,
}

/// A successful response.
struct Success<T> {
    result: T,
    info: Option<ResultInfo>,
}

/// Client bound to one base URL and one credential.
#[derive(Clone)]
pub(crate) struct Client {
    http: reqwest::Client,
    base: String,
    auth: Auth,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base", &self.base)
            .field("auth", &self.auth)
            .finish()
    }
}

impl Client {
    /// Creates a client. `base` is the API root, such as
    /// `https://api.cloudflare.com/client/v4`.
    pub(crate) fn new(
        http: &HttpSettings,
        base: &str,
        auth: Auth,
    ) -> Result<Self, acme_token_core::http::HttpSetupError> {
        Ok(Self {
            http: http.client()?,
            base: base.trim_end_matches('/').to_string(),
            auth,
        })
    }

    pub(crate) fn auth(&self) -> &Auth {
        &self.auth
    }

    /// `GET /user/tokens/verify`.
    pub(crate) async fn verify_user_token(&self) -> Result<TokenStatus, ApiFailure> {
        let success = self
            .send(Method::GET, "/user/tokens/verify".to_string(), &[], None)
            .await?;
        Ok(success.result)
    }

    /// `GET /accounts/{account_id}/tokens/verify`.
    pub(crate) async fn verify_account_token(
        &self,
        account_id: &str,
    ) -> Result<TokenStatus, ApiFailure> {
        let path = format!("/accounts/{}/tokens/verify", encode_segment(account_id));
        let success = self.send(Method::GET, path, &[], None).await?;
        Ok(success.result)
    }

    /// `GET /zones?name=<name>`, the lookup cert-manager repeats per label.
    pub(crate) async fn zones_named(&self, name: &str) -> Result<Vec<Zone>, ApiFailure> {
        let success = self
            .send::<Option<Vec<Zone>>>(Method::GET, "/zones".to_string(), &[("name", name)], None)
            .await?;
        Ok(success.result.unwrap_or_default())
    }

    /// `GET /zones?per_page=<n>`: the first page of zones this credential can see.
    pub(crate) async fn list_zones(&self, per_page: u32) -> Result<Page<Zone>, ApiFailure> {
        let per_page = per_page.to_string();
        let success = self
            .send::<Option<Vec<Zone>>>(
                Method::GET,
                "/zones".to_string(),
                &[("per_page", &per_page)],
                None,
            )
            .await?;
        Ok(Page {
            items: success.result.unwrap_or_default(),
            info: success.info,
        })
    }

    /// `GET /zones/{zone_id}/dns_records?per_page=100&type=TXT&name=<fqdn>`,
    /// with cert-manager's parameters and, like cert-manager, no pagination.
    pub(crate) async fn list_txt_records(
        &self,
        zone_id: &str,
        fqdn: &str,
    ) -> Result<Vec<DnsRecord>, ApiFailure> {
        let path = format!("/zones/{}/dns_records", encode_segment(zone_id));
        let success = self
            .send::<Option<Vec<DnsRecord>>>(
                Method::GET,
                path,
                &[("per_page", "100"), ("type", "TXT"), ("name", fqdn)],
                None,
            )
            .await?;
        Ok(success.result.unwrap_or_default())
    }

    /// `GET /zones/{zone_id}/dns_records?type=TXT&name.startswith=<prefix>&per_page=100&page=<n>`:
    /// one page of the TXT records whose name starts with `prefix`, for `cleanup`.
    pub(crate) async fn list_txt_records_named_like(
        &self,
        zone_id: &str,
        prefix: &str,
        page: u32,
    ) -> Result<Page<DnsRecord>, ApiFailure> {
        let path = format!("/zones/{}/dns_records", encode_segment(zone_id));
        let page = page.to_string();
        let success = self
            .send::<Option<Vec<DnsRecord>>>(
                Method::GET,
                path,
                &[
                    ("type", "TXT"),
                    ("name.startswith", prefix),
                    ("per_page", "100"),
                    ("page", &page),
                ],
                None,
            )
            .await?;
        Ok(Page {
            items: success.result.unwrap_or_default(),
            info: success.info,
        })
    }

    /// `POST /zones/{zone_id}/dns_records` with cert-manager's body.
    pub(crate) async fn create_txt_record(
        &self,
        zone_id: &str,
        fqdn: &str,
        content: &str,
        ttl: u32,
    ) -> Result<DnsRecord, ApiFailure> {
        let path = format!("/zones/{}/dns_records", encode_segment(zone_id));
        let body = serde_json::json!({
            "type": "TXT",
            "name": fqdn,
            "content": content,
            "ttl": ttl,
        });
        let success = self.send(Method::POST, path, &[], Some(body)).await?;
        Ok(success.result)
    }

    /// `DELETE /zones/{zone_id}/dns_records/{record_id}`.
    pub(crate) async fn delete_record(
        &self,
        zone_id: &str,
        record_id: &str,
    ) -> Result<(), ApiFailure> {
        let path = format!(
            "/zones/{}/dns_records/{}",
            encode_segment(zone_id),
            encode_segment(record_id)
        );
        self.send::<serde_json::Value>(Method::DELETE, path, &[], None)
            .await?;
        Ok(())
    }

    /// Returns the method and path of a request as evidence shows it.
    pub(crate) fn request_line(method: &Method, path: &str, query: &[(&str, &str)]) -> String {
        if query.is_empty() {
            return format!("{method} {path}");
        }
        let query: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        format!("{method} {path}?{query}")
    }

    fn auth_headers(&self) -> Result<HeaderMap, String> {
        let mut headers = HeaderMap::new();
        let sensitive = |text: &str| -> Result<HeaderValue, String> {
            let mut value = HeaderValue::from_str(text).map_err(|_| {
                "the credential contains characters that cannot be sent in an HTTP header".to_string()
            })?;
            value.set_sensitive(true);
            Ok(value)
        };
        let plain = |text: &str| -> Result<HeaderValue, String> {
            HeaderValue::from_str(text).map_err(|_| {
                "the email contains characters that cannot be sent in an HTTP header".to_string()
            })
        };
        match &self.auth {
            Auth::Token { token, email } => {
                headers.insert(AUTHORIZATION, sensitive(&format!("Bearer {}", token.expose()))?);
                if let Some(email) = email {
                    headers.insert(HeaderName::from_static(X_AUTH_EMAIL), plain(email)?);
                }
            }
            Auth::GlobalKey { key, email } => {
                headers.insert(HeaderName::from_static(X_AUTH_KEY), sensitive(key.expose())?);
                headers.insert(HeaderName::from_static(X_AUTH_EMAIL), plain(email)?);
            }
        }
        Ok(headers)
    }

    async fn send<T: DeserializeOwned>(
        &self,
        method: Method,
        path: String,
        query: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Result<Success<T>, ApiFailure> {
        let request = Self::request_line(&method, &path, query);
        let failure = |kind: FailureKind, status: Option<u16>, detail: String| ApiFailure {
            request: request.clone(),
            status,
            kind,
            errors: Vec::new(),
            retry_after: None,
            detail,
        };

        let headers = self
            .auth_headers()
            .map_err(|detail| failure(FailureKind::Unsendable, None, detail))?;
        let url = format!("{}{}", self.base, path);
        let mut builder = self.http.request(method.clone(), &url).headers(headers);
        if !query.is_empty() {
            builder = builder.query(query);
        }
        if let Some(body) = body {
            builder = builder.json(&body);
        }

        debug!(provider = "cloudflare", %request, "sending request");
        let response = match builder.send().await {
            Ok(response) => response,
            Err(error) => {
                let kind = if error.is_timeout() {
                    FailureKind::Timeout
                } else {
                    FailureKind::Transport
                };
                debug!(provider = "cloudflare", %request, error = %error, "request failed");
                return Err(failure(kind, None, self.scrub(&transport_text(&error))));
            }
        };
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok());
        let bytes = match response.bytes().await {
            Ok(bytes) => bytes,
            Err(error) => {
                let kind = if error.is_timeout() {
                    FailureKind::Timeout
                } else {
                    FailureKind::Transport
                };
                debug!(provider = "cloudflare", %request, status, error = %error, "reading the response failed");
                return Err(failure(kind, Some(status), self.scrub(&transport_text(&error))));
            }
        };

        decode(&request, status, retry_after, &bytes).map_err(|mut failure| {
            failure.errors = failure.errors.iter().map(|m| self.scrub_message(m)).collect();
            failure
        })
    }

    /// Replaces every occurrence of the credential in provider text.
    fn scrub(&self, text: &str) -> String {
        let secret = self.auth.secret().expose();
        if secret.len() < 4 {
            return text.to_string();
        }
        text.replace(secret, "[REDACTED]")
    }

    fn scrub_message(&self, message: &ApiMessage) -> ApiMessage {
        ApiMessage {
            code: message.code,
            message: self.scrub(&message.message),
            error_chain: message.error_chain.iter().map(|m| self.scrub_message(m)).collect(),
        }
    }
}

/// Decodes a response body as the v4 envelope with a `result` of type `T`.
/// Error messages are returned as the provider sent them, so the caller
/// must scrub them before keeping them.
fn decode<T: DeserializeOwned>(
    request: &str,
    status: u16,
    retry_after: Option<u64>,
    bytes: &[u8],
) -> Result<Success<T>, ApiFailure> {
    let failure = |kind: FailureKind, detail: String| ApiFailure {
        request: request.to_string(),
        status: Some(status),
        kind,
        errors: Vec::new(),
        retry_after: None,
        detail,
    };
    let envelope: Envelope = match serde_json::from_slice(bytes) {
        Ok(envelope) => envelope,
        Err(error) => {
            debug!(provider = "cloudflare", %request, status, "the response is not a v4 envelope");
            let mut failure = failure(
                FailureKind::Malformed,
                format!("the response is not a Cloudflare v4 JSON envelope: {error}"),
            );
            failure.retry_after = retry_after;
            return Err(failure);
        }
    };

    if envelope.success == Some(true) {
        return match serde_json::from_value::<T>(envelope.result) {
            Ok(result) => {
                debug!(provider = "cloudflare", %request, status, "request succeeded");
                Ok(Success {
                    result,
                    info: envelope.result_info,
                })
            }
            Err(error) => {
                debug!(provider = "cloudflare", %request, status, "unexpected result shape");
                Err(failure(
                    FailureKind::Malformed,
                    format!("the response's result has an unexpected shape: {error}"),
                ))
            }
        };
    }

    debug!(
        provider = "cloudflare",
        %request,
        status,
        codes = ?envelope.errors.iter().map(|m| m.code).collect::<Vec<_>>(),
        "the API returned an error"
    );
    Err(ApiFailure {
        request: request.to_string(),
        status: Some(status),
        kind: FailureKind::Api,
        errors: envelope.errors,
        retry_after,
        detail: String::new(),
    })
}

/// Decodes `body` as every response shape the replay reads and runs the
/// checks the replay applies to the result, for the fuzz targets in
/// `fuzz/`. Not part of the crate's API.
#[doc(hidden)]
pub fn fuzz_decode(status: u16, body: &[u8]) {
    let request = "GET /fuzz";
    if let Err(failure) = decode::<TokenStatus>(request, status, None, body) {
        let _ = failure.joined_messages();
        let _ = failure.has_code(81044);
        let _ = failure.message_contains("token");
        let _ = (failure.is_record_missing(), failure.may_have_taken_effect(), failure.is_transient());
    }
    let _ = decode::<Option<Vec<Zone>>>(request, status, None, body);
    if let Ok(records) = decode::<Option<Vec<DnsRecord>>>(request, status, None, body) {
        for record in records.result.unwrap_or_default() {
            let _ = record.is("_acme-challenge.example.com", "value");
        }
    }
    let _ = decode::<DnsRecord>(request, status, None, body);
    let _ = decode::<serde_json::Value>(request, status, None, body);
}

/// Percent-encodes one path segment, so an id can never change the path.
fn encode_segment(segment: &str) -> String {
    url::form_urlencoded::byte_serialize(segment.as_bytes()).collect()
}

/// Returns the error text with its sources, which is what names the cause
/// (timed out, connection reset, refused).
fn transport_text(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_line_encodes_query() {
        let line = Client::request_line(&Method::GET, "/zones", &[("name", "_acme-challenge.example.com")]);
        assert_eq!(line, "GET /zones?name=_acme-challenge.example.com");
    }

    #[test]
    fn failure_finds_chained_codes() {
        let failure = ApiFailure {
            request: "GET /user/tokens/verify".into(),
            status: Some(400),
            kind: FailureKind::Api,
            errors: vec![ApiMessage {
                code: 6003,
                message: "Invalid request headers".into(),
                error_chain: vec![ApiMessage {
                    code: 6111,
                    message: "Invalid format for Authorization header".into(),
                    error_chain: vec![],
                }],
            }],
            retry_after: None,
            detail: String::new(),
        };
        assert!(failure.has_code(6111));
        assert!(!failure.has_code(6103));
        assert_eq!(
            failure.joined_messages().unwrap(),
            "Invalid request headers (6111: Invalid format for Authorization header)"
        );
    }

    #[test]
    fn auth_debug_hides_credential() {
        let auth = Auth::Token {
            token: SecretValue::new("canary-token-value-0123456789"),
            email: None,
        };
        let debug = format!("{auth:?}");
        assert!(!debug.contains("canary"), "{debug}");
    }
}
