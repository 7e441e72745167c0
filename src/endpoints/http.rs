//! The HTTP client shared by the gotify and webhook targets (targets.md §6–7): one request
//! within 10 s, through datacenter.cfg's `http_proxy` only (environment proxies are
//! ignored), TLS 1.2+ against the system trust store, no redirects followed, and every
//! failure turned into a one-line, masked [`DeliveryError`] that shows URLs reduced.

use std::io::{ErrorKind, Read};

use base64::Engine;
use std::time::Duration;

use ureq::http::{HeaderValue, Uri};
use ureq::tls::{Certificate, RootCerts, TlsConfig};
use ureq::{Agent, Proxy, ProxyProtocol, RequestBuilder};

use super::DeliveryError;
use crate::config::datacenter::{HttpProxy, parse_http_proxy};
use crate::config::{Datacenter, HttpMethod};
use crate::redact;

/// The whole request: DNS, connect, proxy, TLS, send, response headers and body.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// How much of a response body is read (and then ignored, or searched for an error text).
pub const RESPONSE_LIMIT: u64 = 64 * 1024;

/// Every secret value known while delivering; anything printed passes through `mask`.
#[derive(Default, Clone)]
pub struct Secrets(Vec<String>);

impl Secrets {
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        let mut secrets = Secrets::default();
        for value in values {
            secrets.add(value);
        }
        secrets
    }

    pub fn add(&mut self, value: impl Into<String>) {
        let value = value.into();
        if !value.is_empty() {
            self.0.push(value);
        }
    }

    /// `text` with every secret (plain or percent-encoded) replaced by `<masked>`.
    pub fn mask(&self, text: &str) -> String {
        let values: Vec<&str> = self.0.iter().map(String::as_str).collect();
        redact::mask(text, &values)
    }

    pub fn mask_error(&self, error: DeliveryError) -> DeliveryError {
        DeliveryError {
            class: error.class,
            message: self.mask(&error.message),
        }
    }
}

/// `text` as an absolute `http`/`https` URL with a host, or `None`.
pub fn parse_http_url(text: &str) -> Option<Uri> {
    let uri: Uri = text.parse().ok()?;
    let scheme = uri.scheme_str()?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    match uri.host() {
        Some(host) if !host.is_empty() => Some(uri),
        _ => None,
    }
}

/// Why `value` cannot be sent as a header value, if it cannot.
pub fn header_value_problem(value: &str) -> Option<&'static str> {
    if value.contains(['\r', '\n']) {
        return Some("has a line break (CR or LF) in its value");
    }
    if HeaderValue::from_bytes(value.as_bytes()).is_err() {
        return Some("has a control character in its value");
    }
    None
}

/// One request to send.
pub struct Request {
    pub method: HttpMethod,
    /// Checked with [`parse_http_url`].
    pub url: Uri,
    /// The URL as messages show it (see [`redact::reduce_url`]).
    pub shown: String,
    /// In order; checked with [`crate::config::value::is_http_header_name`] and
    /// [`header_value_problem`]. Names keep their spelling on the wire.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// A response with any status; the body is cut at [`RESPONSE_LIMIT`].
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
    /// The `Retry-After` header, as sent.
    pub retry_after: Option<String>,
}

impl Response {
    /// `HTTP 401 Unauthorized`.
    pub fn status_line(&self) -> String {
        let reason = ureq::http::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|s| s.canonical_reason());
        match reason {
            Some(reason) => format!("HTTP {} {reason}", self.status),
            None => format!("HTTP {}", self.status),
        }
    }
}

/// A configured client for one delivery.
pub struct Client {
    agent: Agent,
    proxy: Option<HttpProxy>,
    secrets: Secrets,
}

impl Client {
    /// A client using `http_proxy` of datacenter.cfg when set. `https` says whether the
    /// trust store is needed. The proxy credentials join `secrets`.
    pub fn new(
        datacenter: &Datacenter,
        https: bool,
        mut secrets: Secrets,
    ) -> Result<Client, DeliveryError> {
        let proxy = match &datacenter.http_proxy {
            None => None,
            Some(raw) => {
                // The parser's reasons never quote the credentials.
                let parsed = parse_http_proxy(raw.expose()).map_err(|reason| {
                    DeliveryError::configuration(format!(
                        "http_proxy in datacenter.cfg cannot be used: {reason}"
                    ))
                })?;
                if let Some(credentials) = &parsed.credentials {
                    secrets.add(credentials.expose());
                    if let Some((_, password)) = credentials.expose().split_once(':') {
                        secrets.add(password);
                    }
                }
                Some(parsed)
            }
        };
        // ureq tunnels every proxied request with CONNECT: right for https only; plain
        // http goes through `absolute_form`.
        let ureq_proxy = match &proxy {
            Some(proxy) if https => Some(ureq_proxy(proxy).map_err(|e| {
                secrets.mask_error(DeliveryError::configuration(format!(
                    "http_proxy in datacenter.cfg cannot be used: {e}"
                )))
            })?),
            _ => None,
        };

        let mut config = Agent::config_builder()
            // `None` also keeps ureq from reading proxies from the environment.
            .proxy(ureq_proxy)
            .timeout_global(Some(TIMEOUT))
            .max_redirects(0)
            .http_status_as_error(false)
            .user_agent(concat!("pvenotify/", env!("CARGO_PKG_VERSION")))
            .accept("");
        if https {
            config = config.tls_config(
                TlsConfig::builder()
                    .root_certs(RootCerts::new_with_certs(&trusted_roots()?))
                    .build(),
            );
        }
        let agent = match &proxy {
            Some(proxy) if !https => absolute_form::agent(
                // One request per connection: only the first line sent is rewritten.
                config
                    .max_idle_connections(0)
                    .max_idle_connections_per_host(0)
                    .build(),
                proxy,
            )
            .map_err(|e| {
                secrets.mask_error(DeliveryError::configuration(format!(
                    "http_proxy in datacenter.cfg cannot be used: {e}"
                )))
            })?,
            _ => config.build().into(),
        };
        Ok(Client {
            agent,
            proxy,
            secrets,
        })
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    /// Sends `request`; any response, whatever its status, is `Ok`.
    pub fn send(&self, request: &Request) -> Result<Response, DeliveryError> {
        let plain_proxy = self
            .proxy
            .as_ref()
            .filter(|_| request.url.scheme_str() == Some("http"));
        let agent = &self.agent;
        let url = request.url.clone();
        let body = request.body.as_slice();
        let result = match request.method {
            HttpMethod::Get if body.is_empty() => self
                .with_headers(agent.get(url), request, plain_proxy)
                .call(),
            HttpMethod::Get => self
                .with_headers(agent.get(url).force_send_body(), request, plain_proxy)
                .send(body),
            HttpMethod::Post => self
                .with_headers(agent.post(url), request, plain_proxy)
                .send(body),
            HttpMethod::Put => self
                .with_headers(agent.put(url), request, plain_proxy)
                .send(body),
        };
        let mut response = result.map_err(|e| self.failure(e, request))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let mut kept = Vec::new();
        response
            .body_mut()
            .as_reader()
            .take(RESPONSE_LIMIT)
            .read_to_end(&mut kept)
            .map_err(|e| self.failure(ureq::Error::from(e), request))?;
        Ok(Response {
            status,
            body: kept,
            retry_after,
        })
    }

    /// The request's headers; through the proxy in absolute form also the proxy's
    /// credentials (`Host` already names the real server).
    fn with_headers<B>(
        &self,
        mut builder: RequestBuilder<B>,
        request: &Request,
        plain_proxy: Option<&HttpProxy>,
    ) -> RequestBuilder<B> {
        if let Some(credentials) = plain_proxy.and_then(|proxy| proxy.credentials.as_ref()) {
            let basic = base64::engine::general_purpose::STANDARD.encode(credentials.expose());
            builder = builder.header("Proxy-Authorization", format!("Basic {basic}"));
        }
        for (name, value) in &request.headers {
            builder = builder.header_raw(name, value.as_bytes());
        }
        builder
    }

    /// A transport failure as a masked, one-line message.
    fn failure(&self, error: ureq::Error, request: &Request) -> DeliveryError {
        let shown = &request.shown;
        let origin = shown.strip_suffix("/…").unwrap_or(shown);
        let host = request.url.host().unwrap_or("");
        let https = request.url.scheme_str() == Some("https");
        let via = match &self.proxy {
            Some(proxy) => format!(" through proxy {}", proxy.authority()),
            None => String::new(),
        };
        let timed_out = || {
            DeliveryError::temporary(format!(
                "request to {shown}{via} timed out after {} s",
                TIMEOUT.as_secs()
            ))
        };
        let unresolvable = |detail: &str| {
            let what = match &self.proxy {
                Some(proxy) => format!("cannot resolve proxy host {}", proxy.host),
                None => format!("cannot resolve host {host}"),
            };
            DeliveryError::temporary(if detail.is_empty() {
                what
            } else {
                format!("{what}: {detail}")
            })
        };
        let error = match error {
            ureq::Error::Timeout(_) => timed_out(),
            ureq::Error::HostNotFound => unresolvable(""),
            ureq::Error::Io(e) => {
                let text = e.to_string();
                if let Some(detail) = text.strip_prefix("failed to lookup address information: ") {
                    unresolvable(detail)
                } else {
                    match e.kind() {
                        ErrorKind::TimedOut | ErrorKind::WouldBlock => timed_out(),
                        ErrorKind::ConnectionRefused => match &self.proxy {
                            Some(proxy) => DeliveryError::temporary(format!(
                                "connection to proxy {} refused",
                                proxy.authority()
                            )),
                            None => {
                                DeliveryError::temporary(format!("connection to {origin} refused"))
                            }
                        },
                        ErrorKind::InvalidData if https => DeliveryError::temporary(format!(
                            "TLS connection to {origin}{via} failed: {text}"
                        )),
                        _ => DeliveryError::temporary(format!(
                            "connection to {origin}{via} failed: {text}"
                        )),
                    }
                }
            }
            ureq::Error::Rustls(e) => {
                DeliveryError::temporary(format!("TLS connection to {origin}{via} failed: {e}"))
            }
            ureq::Error::Tls(e) => {
                DeliveryError::temporary(format!("TLS connection to {origin}{via} failed: {e}"))
            }
            ureq::Error::ConnectProxyFailed(reason) => {
                let port = request
                    .url
                    .port_u16()
                    .unwrap_or(if https { 443 } else { 80 });
                let proxy = self
                    .proxy
                    .as_ref()
                    .map(HttpProxy::authority)
                    .unwrap_or_default();
                // ureq says "proxy server responded 407/407"; show it as a status line.
                let reason = reason
                    .strip_prefix("proxy server responded ")
                    .and_then(|codes| codes.split('/').next())
                    .and_then(|code| code.parse::<u16>().ok())
                    .map(|status| {
                        Response {
                            status,
                            body: Vec::new(),
                            retry_after: None,
                        }
                        .status_line()
                    })
                    .unwrap_or(reason);
                DeliveryError::temporary(format!(
                    "proxy {proxy} could not open a connection to {host}:{port}: {reason}"
                ))
            }
            ureq::Error::Protocol(e) => {
                DeliveryError::temporary(format!("invalid HTTP response from {origin}: {e}"))
            }
            ureq::Error::BadUri(_) | ureq::Error::Http(_) => DeliveryError::configuration(format!(
                "cannot build the request to {shown}: {error}"
            )),
            other => DeliveryError::temporary(format!("request to {shown}{via} failed: {other}")),
        };
        DeliveryError {
            class: error.class,
            message: redact::one_line(&self.secrets.mask(&error.message), usize::MAX),
        }
    }
}

/// ureq's form of the proxy; the credentials go into `Proxy-Authorization: Basic` as
/// written (ureq percent-encodes them here and decodes them again).
fn ureq_proxy(proxy: &HttpProxy) -> Result<Proxy, ureq::Error> {
    let mut builder = Proxy::builder(ProxyProtocol::Http)
        .host(&proxy.host)
        .port(proxy.port);
    if let Some(credentials) = &proxy.credentials {
        let (user, password) = credentials
            .expose()
            .split_once(':')
            .unwrap_or((credentials.expose(), ""));
        builder = builder.username(user).password(password);
    }
    builder.build()
}

/// Plain `http://` through the proxy in absolute form (`POST http://host:port/path
/// HTTP/1.1`, RFC 9112 §3.2.2), as curl and browsers send it: ureq tunnels every proxied
/// request with CONNECT, which stock Squid and tinyproxy refuse to any port but 443.
/// ureq is left to do everything else (timeouts, headers, response parsing); here its
/// connection goes to the proxy's address, and the first line of the request gets the
/// scheme and authority in front of its path.
mod absolute_form {
    use std::fmt;

    use ureq::config::Config;
    use ureq::http::Uri;
    use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
    use ureq::unversioned::transport::{
        Buffers, ConnectionDetails, Connector, NextTimeout, TcpConnector, Transport,
    };
    use ureq::{Agent, Error};

    use crate::config::datacenter::HttpProxy;

    /// An agent sending plain `http://` requests through `proxy` in absolute form. The
    /// configuration must not keep idle connections.
    pub fn agent(config: Config, proxy: &HttpProxy) -> Result<Agent, Error> {
        let proxy: Uri = format!("http://{}", proxy.authority())
            .parse()
            .map_err(|e: ureq::http::uri::InvalidUri| Error::BadUri(e.to_string()))?;
        Ok(Agent::with_parts(
            config,
            TcpConnector::default().chain(AbsoluteForm),
            ProxyAddress { proxy },
        ))
    }

    /// Resolves every name to the proxy's addresses: the proxy resolves the server's.
    #[derive(Debug)]
    struct ProxyAddress {
        proxy: Uri,
    }

    impl Resolver for ProxyAddress {
        fn resolve(
            &self,
            _uri: &Uri,
            config: &Config,
            timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, Error> {
            DefaultResolver::default().resolve(&self.proxy, config, timeout)
        }
    }

    #[derive(Debug)]
    struct AbsoluteForm;

    impl<In: Transport> Connector<In> for AbsoluteForm {
        type Out = RequestLineRewrite<In>;

        fn connect(
            &self,
            details: &ConnectionDetails,
            chained: Option<In>,
        ) -> Result<Option<Self::Out>, Error> {
            let uri = details.uri;
            let (Some("http"), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
                return Err(Error::BadUri(format!("{uri} is no http:// URL")));
            };
            let origin = format!("http://{authority}");
            Ok(chained.map(|inner| RequestLineRewrite {
                inner,
                origin: Some(origin),
            }))
        }
    }

    struct RequestLineRewrite<In> {
        inner: In,
        /// `http://host:port`, to put before the path of the first request line sent.
        origin: Option<String>,
    }

    impl<In> fmt::Debug for RequestLineRewrite<In> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("RequestLineRewrite")
        }
    }

    impl<In: Transport> Transport for RequestLineRewrite<In> {
        fn buffers(&mut self) -> &mut dyn Buffers {
            self.inner.buffers()
        }

        fn transmit_output(&mut self, amount: usize, timeout: NextTimeout) -> Result<(), Error> {
            let Some(origin) = self.origin.take() else {
                return self.inner.transmit_output(amount, timeout);
            };
            // ureq writes at least the request line before the first transmit.
            let head = &self.inner.buffers().output()[..amount];
            let Some(path_at) = head
                .iter()
                .position(|&b| b == b' ')
                .filter(|&at| head.get(at + 1) == Some(&b'/'))
            else {
                return Err(Error::Io(std::io::Error::other(
                    "no request line to put in absolute form",
                )));
            };
            let mut rewritten = Vec::with_capacity(amount + origin.len());
            rewritten.extend_from_slice(&head[..=path_at]);
            rewritten.extend_from_slice(origin.as_bytes());
            rewritten.extend_from_slice(&head[path_at + 1..]);
            for chunk in rewritten.chunks(self.inner.buffers().output().len().max(1)) {
                self.inner.buffers().output()[..chunk.len()].copy_from_slice(chunk);
                self.inner.transmit_output(chunk.len(), timeout)?;
            }
            Ok(())
        }

        fn await_input(&mut self, timeout: NextTimeout) -> Result<bool, Error> {
            self.inner.await_input(timeout)
        }

        fn is_open(&mut self) -> bool {
            self.inner.is_open()
        }
    }
}

/// The system trust store (honouring `SSL_CERT_FILE`/`SSL_CERT_DIR`). Having none at all
/// is a host setup problem.
fn trusted_roots() -> Result<Vec<Certificate<'static>>, DeliveryError> {
    let loaded = rustls_native_certs::load_native_certs();
    if loaded.certs.is_empty() {
        let reason = loaded
            .errors
            .first()
            .map(|e| format!(": {e}"))
            .unwrap_or_default();
        return Err(DeliveryError::configuration(redact::one_line(
            &format!("no trusted CA certificates found in the system store{reason}"),
            usize::MAX,
        )));
    }
    Ok(loaded
        .certs
        .iter()
        .map(|der| Certificate::from_der(der.as_ref()).to_owned())
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;
    use crate::exit::FailureClass;

    #[test]
    fn masks_every_secret() {
        let mut secrets = Secrets::new(["tok/en".to_string(), String::new()]);
        secrets.add("pw");
        assert_eq!(
            secrets.mask("a tok/en b tok%2Fen c pw"),
            "a <masked> b <masked> c <masked>"
        );
        let error = secrets.mask_error(DeliveryError::temporary("x pw"));
        assert_eq!(error.message, "x <masked>");
        assert_eq!(error.class, FailureClass::Temporary);
    }

    #[test]
    fn http_urls() {
        assert!(parse_http_url("https://gotify.example.com/message").is_some());
        assert!(parse_http_url("http://10.0.0.5:8080").is_some());
        assert!(parse_http_url("HTTP://h/x?y={z}").is_some());
        for bad in [
            "ftp://h/",
            "/relative",
            "h:80",
            "https://",
            "https:///path",
            "",
            "https://h/a b",
        ] {
            assert!(parse_http_url(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn header_checks() {
        assert_eq!(header_value_problem("abc ä\tx"), None);
        assert_eq!(
            header_value_problem("a\r\nInjected: 1"),
            Some("has a line break (CR or LF) in its value")
        );
        assert_eq!(
            header_value_problem("a\u{0}"),
            Some("has a control character in its value")
        );
    }

    #[test]
    fn bad_proxy_is_a_configuration_failure_without_credentials() {
        let datacenter = Datacenter {
            email_from: None,
            http_proxy: Some(Secret::new("https://user:hunter2@proxy:3128")),
        };
        let err = match Client::new(&datacenter, false, Secrets::default()) {
            Err(err) => err,
            Ok(_) => panic!("https proxy accepted"),
        };
        assert_eq!(err.class, FailureClass::Configuration);
        assert!(
            err.message
                .starts_with("http_proxy in datacenter.cfg cannot be used: ")
        );
        assert!(!err.message.contains("hunter2"));
    }

    /// A one-shot proxy answering 204; returns its port and what it was sent.
    fn recording_proxy() -> (u16, std::thread::JoinHandle<String>) {
        use std::io::Write;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept().unwrap();
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            while !seen.ends_with(b"\r\n\r\nbody") {
                match stream.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            String::from_utf8_lossy(&seen).into_owned()
        });
        (port, handle)
    }

    #[test]
    fn plain_http_goes_to_the_proxy_in_absolute_form() {
        let (port, proxy) = recording_proxy();
        let datacenter = Datacenter {
            email_from: None,
            http_proxy: Some(Secret::new(format!("http://user:hunter2@127.0.0.1:{port}"))),
        };
        let client = Client::new(&datacenter, false, Secrets::default()).unwrap();
        // The proxy resolves the server's name: this one exists nowhere.
        let url = parse_http_url("http://notify.example.invalid:8080/hook?x=1").unwrap();
        let response = client
            .send(&Request {
                method: HttpMethod::Post,
                url,
                shown: "http://notify.example.invalid:8080/…".to_string(),
                headers: vec![("X-Test".to_string(), "1".to_string())],
                body: b"body".to_vec(),
            })
            .unwrap();
        assert_eq!(response.status, 204);
        let seen = proxy.join().unwrap();
        assert!(
            seen.starts_with("POST http://notify.example.invalid:8080/hook?x=1 HTTP/1.1\r\n"),
            "{seen}"
        );
        let lower = seen.to_ascii_lowercase();
        assert!(
            lower.contains("\r\nhost: notify.example.invalid:8080\r\n"),
            "{seen}"
        );
        // base64("user:hunter2")
        assert!(
            seen.contains("\r\nproxy-authorization: Basic dXNlcjpodW50ZXIy\r\n"),
            "{seen}"
        );
        assert!(seen.contains("\r\nX-Test: 1\r\n"), "{seen}");
    }

    #[test]
    fn proxy_credentials_become_secrets() {
        let datacenter = Datacenter {
            email_from: None,
            http_proxy: Some(Secret::new("http://user:hunter2@127.0.0.1:3128")),
        };
        let client = match Client::new(&datacenter, false, Secrets::default()) {
            Ok(client) => client,
            Err(err) => panic!("{err}"),
        };
        assert_eq!(client.secrets().mask("x hunter2 y"), "x <masked> y");
        assert_eq!(client.secrets().mask("user:hunter2"), "<masked>");
    }
}
