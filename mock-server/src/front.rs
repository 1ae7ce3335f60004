//! Raw TCP front listener that every client request passes through.
//!
//! wiremock sends a response to every request it accepts, so it cannot reset a
//! connection or leave one hanging. This listener reads each HTTP/1.1 request
//! itself: the head plus a `Content-Length` body, one request at a time per
//! keep-alive connection. The provider's [`Gate`] then picks the disposition.
//! The listener resets the connection, holds it open without responding, or
//! forwards the request to the internal wiremock server and relays the response.
//!
//! Forwarded requests carry two internal headers: the request's sequence
//! number in the provider's log and the client's IP address, which wiremock's
//! `Request` does not expose. Client-sent headers with the same prefix are
//! dropped, so a client cannot forge them.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};
use tracing::{debug, warn};

/// Prefix of the headers the front adds for the provider emulation.
pub(crate) const INTERNAL_HEADER_PREFIX: &str = "x-acme-token-mock-";
/// Internal header with the request's sequence number in the provider's request log.
pub(crate) const SEQ_HEADER: &str = "x-acme-token-mock-seq";
/// Internal header with the client's IP address.
pub(crate) const PEER_HEADER: &str = "x-acme-token-mock-peer";
/// Internal header with the client's `Host` header, which AWS signatures cover.
pub(crate) const HOST_HEADER: &str = "x-acme-token-mock-host";

const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;
const MAX_HEADERS: usize = 100;

/// A request as read from the client, before the gate decides its fate.
#[derive(Debug)]
pub(crate) struct IncomingRequest {
    pub(crate) method: String,
    /// Path without the query.
    pub(crate) path: String,
    /// Raw query without the leading `?`.
    pub(crate) query: Option<String>,
    /// Header names in lowercase, in arrival order.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) peer: SocketAddr,
}

impl IncomingRequest {
    /// Returns the first value of the header `name` (lowercase).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn target(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{}", self.path, query),
            None => self.path.clone(),
        }
    }
}

/// Action the front takes on one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Disposition {
    /// Reset the connection (SO_LINGER 0, then close).
    Reset,
    /// Keep the connection open without sending a response.
    Hang,
    /// Wait `delay_before`, forward to the emulation, then wait `delay_after` before sending the response.
    Forward {
        delay_before: Duration,
        delay_after: Duration,
    },
}

/// The provider side of the front: classifies, logs and decides.
pub(crate) trait Gate: Send + Sync + 'static {
    /// Records the request and returns its sequence number and disposition.
    fn admit(&self, request: &IncomingRequest) -> (u64, Disposition);
    /// Records the HTTP status that was sent for request `seq`.
    fn complete(&self, seq: u64, status: u16);
}

/// A running front listener. Dropping it closes the listener and every open connection.
pub(crate) struct FrontListener {
    local_addr: SocketAddr,
    accept_task: JoinHandle<()>,
}

impl FrontListener {
    /// Binds `listen` and starts relaying to the emulation at `upstream`.
    pub(crate) async fn bind(
        listen: SocketAddr,
        upstream: SocketAddr,
        gate: Arc<dyn Gate>,
    ) -> io::Result<FrontListener> {
        if !listen.ip().is_loopback() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("listen address {listen} is not a loopback address"),
            ));
        }
        let listener = TcpListener::bind(listen).await?;
        let local_addr = listener.local_addr()?;
        let accept_task = tokio::spawn(accept_loop(listener, upstream, gate));
        Ok(FrontListener {
            local_addr,
            accept_task,
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
}

impl Drop for FrontListener {
    fn drop(&mut self) {
        // Aborting the accept task drops its JoinSet, which aborts every connection task.
        self.accept_task.abort();
    }
}

async fn accept_loop(listener: TcpListener, upstream: SocketAddr, gate: Arc<dyn Gate>) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    connections.spawn(serve_connection(stream, peer, upstream, Arc::clone(&gate)));
                }
                Err(error) => {
                    // Typically EMFILE; back off briefly instead of spinning.
                    warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// A parsed request head plus what the connection loop needs from it.
struct RequestHead {
    method: String,
    path: String,
    query: Option<String>,
    headers: Vec<(String, String)>,
    content_length: usize,
    keep_alive: bool,
    expects_continue: bool,
}

/// An error the front sends itself as a plain-text response before closing the connection.
struct FrontError {
    status: u16,
    message: String,
}

impl FrontError {
    fn new(status: u16, message: impl Into<String>) -> FrontError {
        FrontError {
            status,
            message: message.into(),
        }
    }
}

async fn serve_connection(
    mut stream: TcpStream,
    peer: SocketAddr,
    upstream: SocketAddr,
    gate: Arc<dyn Gate>,
) {
    let _ = stream.set_nodelay(true);
    let mut buffer: Vec<u8> = Vec::new();
    loop {
        let head = match read_request_head(&mut stream, &mut buffer).await {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(error) => {
                let _ = write_plain_response(&mut stream, error.status, &error.message).await;
                return;
            }
        };
        if head.expects_continue
            && stream
                .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
                .await
                .is_err()
        {
            return;
        }
        let body = match read_body(&mut stream, &mut buffer, head.content_length).await {
            Ok(body) => body,
            Err(error) => {
                debug!(%peer, %error, "client closed the connection before sending the whole body");
                return;
            }
        };

        let request = IncomingRequest {
            method: head.method,
            path: head.path,
            query: head.query,
            headers: head.headers,
            peer,
        };
        let (seq, disposition) = gate.admit(&request);
        match disposition {
            Disposition::Reset => {
                reset_connection(stream);
                return;
            }
            Disposition::Hang => {
                hold_until_closed(stream).await;
                return;
            }
            Disposition::Forward {
                delay_before,
                delay_after,
            } => {
                tokio::time::sleep(delay_before).await;
                let response = match forward(upstream, &request, &body, seq).await {
                    Ok(response) => response,
                    Err(error) => {
                        warn!(seq, %error, "forwarding a request to the emulation failed");
                        gate.complete(seq, 502);
                        let _ = write_plain_response(
                            &mut stream,
                            502,
                            "the mock's emulation sent no valid response",
                        )
                        .await;
                        return;
                    }
                };
                gate.complete(seq, response.status);
                tokio::time::sleep(delay_after).await;
                if write_response(&mut stream, &response, head.keep_alive)
                    .await
                    .is_err()
                    || !head.keep_alive
                {
                    return;
                }
            }
        }
    }
}

/// Reads one request head from `stream`, keeping any bytes past it in `buffer`.
///
/// Returns `Ok(None)` when the client closes the connection between requests.
async fn read_request_head(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Result<Option<RequestHead>, FrontError> {
    loop {
        if !buffer.is_empty() {
            let mut header_slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut header_slots);
            match parsed.parse(buffer) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let head = interpret_head(&parsed)?;
                    buffer.drain(..head_len);
                    return Ok(Some(head));
                }
                Ok(httparse::Status::Partial) => {}
                Err(error) => {
                    return Err(FrontError::new(
                        400,
                        format!("invalid HTTP request: {error}"),
                    ))
                }
            }
            if buffer.len() > MAX_HEAD_BYTES {
                return Err(FrontError::new(431, "request head is larger than 64 KiB"));
            }
        }
        let read = stream
            .read_buf(buffer)
            .await
            .map_err(|error| FrontError::new(400, error.to_string()))?;
        if read == 0 {
            if buffer.is_empty() {
                return Ok(None);
            }
            return Err(FrontError::new(
                400,
                "connection closed in the middle of a request head",
            ));
        }
    }
}

fn interpret_head(parsed: &httparse::Request<'_, '_>) -> Result<RequestHead, FrontError> {
    let method = parsed.method.unwrap_or("GET").to_string();
    let target = parsed.path.unwrap_or("/");
    let http_1_0 = parsed.version == Some(0);

    let mut headers = Vec::with_capacity(parsed.headers.len());
    for header in parsed.headers.iter() {
        let value = String::from_utf8_lossy(header.value).trim().to_string();
        headers.push((header.name.to_ascii_lowercase(), value));
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };

    if find("transfer-encoding").is_some() {
        return Err(FrontError::new(
            501,
            "chunked request bodies are not supported; send Content-Length",
        ));
    }
    let content_length = match find("content-length") {
        None => 0,
        Some(text) => text
            .parse::<usize>()
            .map_err(|_| FrontError::new(400, format!("invalid Content-Length {text:?}")))?,
    };
    if content_length > MAX_BODY_BYTES {
        return Err(FrontError::new(413, "request body is larger than 8 MiB"));
    }

    let connection = find("connection").unwrap_or("").to_ascii_lowercase();
    let keep_alive = if http_1_0 {
        connection.contains("keep-alive")
    } else {
        !connection.contains("close")
    };
    let expects_continue =
        find("expect").is_some_and(|value| value.eq_ignore_ascii_case("100-continue"));

    // Accept absolute-form targets (`http://host/path`) as well as the usual origin form.
    let origin_form = match target.find("://") {
        Some(scheme_end) => {
            let after_scheme = &target[scheme_end + 3..];
            after_scheme
                .find('/')
                .map_or("/", |slash| &after_scheme[slash..])
        }
        None => target,
    };
    let (path, query) = match origin_form.split_once('?') {
        Some((path, query)) => (path.to_string(), Some(query.to_string())),
        None => (origin_form.to_string(), None),
    };

    Ok(RequestHead {
        method,
        path,
        query,
        headers,
        content_length,
        keep_alive,
        expects_continue,
    })
}

async fn read_body(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
    length: usize,
) -> io::Result<Vec<u8>> {
    while buffer.len() < length {
        if stream.read_buf(buffer).await? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "connection closed inside the body",
            ));
        }
    }
    Ok(buffer.drain(..length).collect())
}

fn reset_connection(stream: TcpStream) {
    // Closing a socket whose linger time is zero sends RST instead of FIN.
    if let Err(error) = stream.set_zero_linger() {
        warn!(%error, "setting SO_LINGER 0 failed; the connection closes normally instead of resetting");
    }
    drop(stream);
}

async fn hold_until_closed(mut stream: TcpStream) {
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// A response read back from the emulation.
struct UpstreamResponse {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Sends the request to the emulation on a fresh connection and reads the whole response.
async fn forward(
    upstream: SocketAddr,
    request: &IncomingRequest,
    body: &[u8],
    seq: u64,
) -> io::Result<UpstreamResponse> {
    let mut head = format!(
        "{} {} HTTP/1.1\r\nhost: {}\r\n",
        request.method,
        request.target(),
        upstream
    );
    for (name, value) in &request.headers {
        if is_hop_by_hop(name)
            || name == "host"
            || name == "expect"
            || name.starts_with(INTERNAL_HEADER_PREFIX)
        {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("{SEQ_HEADER}: {seq}\r\n"));
    head.push_str(&format!("{PEER_HEADER}: {}\r\n", request.peer.ip()));
    if let Some(host) = request.header("host") {
        head.push_str(&format!("{HOST_HEADER}: {host}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));

    let mut connection = TcpStream::connect(upstream).await?;
    connection.write_all(head.as_bytes()).await?;
    connection.write_all(body).await?;
    let mut raw = Vec::new();
    connection.read_to_end(&mut raw).await?;
    parse_upstream_response(&raw)
}

fn parse_upstream_response(raw: &[u8]) -> io::Result<UpstreamResponse> {
    let mut header_slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut header_slots);
    let head_len = match parsed.parse(raw) {
        Ok(httparse::Status::Complete(head_len)) => head_len,
        Ok(httparse::Status::Partial) => {
            return Err(io::Error::other(
                "incomplete response head from the emulation",
            ))
        }
        Err(error) => {
            return Err(io::Error::other(format!(
                "invalid response from the emulation: {error}"
            )))
        }
    };

    let mut headers = Vec::with_capacity(parsed.headers.len());
    let mut content_length = None;
    for header in parsed.headers.iter() {
        let name = header.name.to_ascii_lowercase();
        let value = String::from_utf8_lossy(header.value).trim().to_string();
        if name == "transfer-encoding" {
            return Err(io::Error::other(
                "chunked response from the emulation is not supported",
            ));
        }
        if name == "content-length" {
            content_length = value.parse::<usize>().ok();
        }
        headers.push((name, value));
    }

    let mut body = raw[head_len..].to_vec();
    if let Some(length) = content_length {
        body.truncate(length);
    }
    Ok(UpstreamResponse {
        status: parsed.code.unwrap_or(502),
        reason: parsed.reason.unwrap_or("").to_string(),
        headers,
        body,
    })
}

async fn write_response(
    stream: &mut TcpStream,
    response: &UpstreamResponse,
    keep_alive: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {} {}\r\n", response.status, response.reason);
    for (name, value) in &response.headers {
        if is_hop_by_hop(name) || name.starts_with(INTERNAL_HEADER_PREFIX) {
            continue;
        }
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n", response.body.len()));
    if !keep_alive {
        head.push_str("connection: close\r\n");
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(&response.body).await?;
    stream.flush().await
}

async fn write_plain_response(
    stream: &mut TcpStream,
    status: u16,
    message: &str,
) -> io::Result<()> {
    let text = format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{message}",
        reason_phrase(status),
        message.len()
    );
    stream.write_all(text.as_bytes()).await?;
    stream.flush().await
}

fn is_hop_by_hop(name: &str) -> bool {
    matches!(
        name,
        "connection"
            | "keep-alive"
            | "proxy-connection"
            | "transfer-encoding"
            | "te"
            | "trailer"
            | "upgrade"
            | "content-length"
    )
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        _ => "Error",
    }
}
