//! Helpers for integration tests that talk to the real test services
//! (aiosmtpd, postfix's sendmail, tinyproxy and the Gotify/webhook mock) started
//! by `tests/run-all.sh` (or `tests/services/start.sh`).
//!
//! Use it from a test file with `mod common;`. Tests that need the services are
//! marked `#[ignore = "needs test services: run tests/run-all.sh"]` and call
//! [`services()`], which panics (the test FAILS, it is not skipped) when the
//! services are not running.
//!
//! How results are read back:
//! * every accepted mail is a pair `NNNN.eml` (raw DATA) + `NNNN.json`
//!   (envelope, listener, TLS, AUTH) in `mail_dir`; every HTTP request is a
//!   `NNNN.json` in `request_dir`. The servers write the record *before* they
//!   answer the client, so once a direct SMTP/HTTP client has got its answer the
//!   record is already there; mail through postfix's `sendmail` arrives
//!   asynchronously (about 0.1 s), hence the bounded `wait_for_*` functions.
//! * tests run in parallel: correlate by a unique marker ([`unique_marker`]) in
//!   the subject, the recipient, the message or the URL path.
#![allow(dead_code)]

use base64::Engine as _;
use serde::Deserialize;
use serde_json::Value;
use std::collections::HashSet;
use std::fmt::Write as _;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The message every service-dependent test fails with when nothing is running.
pub const NOT_RUNNING: &str = "test services are not running: run tests/run-all.sh";

/// Default time to wait for a mail or request that should arrive.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

const POLL_INTERVAL: Duration = Duration::from_millis(25);
const DEFAULT_DIR: &str = "/tmp/pvenotify-services";

/// The running test services (read from `$PVENOTIFY_TEST_SERVICES_DIR/services.json`).
#[derive(Debug, Clone)]
pub struct Services {
    /// Services directory (`PVENOTIFY_TEST_SERVICES_DIR`).
    pub dir: PathBuf,
    /// Always `127.0.0.1`.
    pub host: String,
    /// aiosmtpd without STARTTLS; AUTH PLAIN/LOGIN optional and allowed without TLS.
    /// Also where postfix relays everything `/usr/sbin/sendmail` gets.
    pub smtp_plain_port: u16,
    /// STARTTLS required before MAIL/AUTH; AUTH optional.
    pub smtp_starttls_port: u16,
    /// STARTTLS required and AUTH required (`530 5.7.0 Authentication required`).
    pub smtp_auth_required_port: u16,
    /// Implicit TLS (SMTPS); AUTH optional.
    pub smtp_tls_port: u16,
    /// Implicit TLS with a self-signed certificate nobody trusts.
    pub smtp_untrusted_tls_port: u16,
    /// Accepts TCP connections and never says anything (SMTP or HTTP timeouts).
    pub smtp_hang_port: u16,
    /// A port nothing of ours listens on (connection refused).
    pub closed_port: u16,
    pub smtp_user: String,
    pub smtp_password: String,
    /// Where `NNNN.eml` + `NNNN.json` of every accepted mail are written.
    pub mail_dir: PathBuf,
    /// Gotify/webhook mock, plain HTTP.
    pub http_port: u16,
    /// Same server over HTTPS (certificate for localhost/127.0.0.1 signed by `ca`).
    pub https_port: u16,
    /// The only application token the Gotify mock accepts.
    pub gotify_token: String,
    /// Where `NNNN.json` of every HTTP(S) request is written.
    pub request_dir: PathBuf,
    pub proxy_port: u16,
    /// `http://127.0.0.1:18888` (tinyproxy; CONNECT only to 443, 563 and `https_port`).
    pub proxy_url: String,
    /// tinyproxy's log (`Request (…): CONNECT localhost:18443 HTTP/1.1` lines).
    pub proxy_log: PathBuf,
    /// The test CA (PEM); trust it with `SSL_CERT_FILE` or a CA option.
    pub ca: PathBuf,
    /// The server leaf certificate (signed by `ca`).
    pub server_cert: PathBuf,
    /// The self-signed certificate of the untrusted listener.
    pub untrusted_cert: PathBuf,
    /// `/usr/sbin/sendmail` (postfix), relaying to `smtp_plain_port`.
    pub sendmail: PathBuf,
    /// postfix's log file.
    pub postfix_log: PathBuf,
    /// postfix's smtpd (no TLS, no AUTH), relaying like its sendmail.
    pub postfix_smtp_port: u16,
}

/// The running test services. Panics with [`NOT_RUNNING`] unless
/// `PVENOTIFY_TEST_SERVICES=1`, the services directory holds a `services.json`
/// and the SMTP server accepts connections.
pub fn services() -> Services {
    static SERVICES: OnceLock<Result<Services, String>> = OnceLock::new();
    match SERVICES.get_or_init(load_services) {
        Ok(s) => s.clone(),
        Err(e) => panic!("{NOT_RUNNING} ({e})"),
    }
}

fn services_dir() -> PathBuf {
    for var in ["PVENOTIFY_TEST_SERVICES_DIR", "PVENOTIFY_SERVICES_DIR"] {
        if let Some(v) = std::env::var_os(var).filter(|v| !v.is_empty()) {
            return PathBuf::from(v);
        }
    }
    PathBuf::from(DEFAULT_DIR)
}

fn load_services() -> Result<Services, String> {
    if std::env::var("PVENOTIFY_TEST_SERVICES").as_deref() != Ok("1") {
        return Err("PVENOTIFY_TEST_SERVICES=1 is not set".into());
    }
    let dir = services_dir();
    if !dir.is_dir() {
        return Err(format!("no services directory {}", dir.display()));
    }
    let file = dir.join("services.json");
    let text = std::fs::read_to_string(&file)
        .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    let v: Value =
        serde_json::from_str(&text).map_err(|e| format!("bad {}: {e}", file.display()))?;
    let s = |p: &str| -> Result<String, String> {
        v.pointer(p)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("{} lacks {p}", file.display()))
    };
    let port = |p: &str| -> Result<u16, String> {
        v.pointer(p)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| format!("{} lacks {p}", file.display()))
    };
    let services = Services {
        dir,
        host: s("/host")?,
        smtp_plain_port: port("/smtp/plain_port")?,
        smtp_starttls_port: port("/smtp/starttls_port")?,
        smtp_auth_required_port: port("/smtp/auth_required_port")?,
        smtp_tls_port: port("/smtp/tls_port")?,
        smtp_untrusted_tls_port: port("/smtp/untrusted_tls_port")?,
        smtp_hang_port: port("/smtp/hang_port")?,
        closed_port: port("/closed_port")?,
        smtp_user: s("/smtp/user")?,
        smtp_password: s("/smtp/password")?,
        mail_dir: s("/smtp/mail_dir")?.into(),
        http_port: port("/http/http_port")?,
        https_port: port("/http/https_port")?,
        gotify_token: s("/http/gotify_token")?,
        request_dir: s("/http/request_dir")?.into(),
        proxy_port: port("/proxy/port")?,
        proxy_url: s("/proxy/url")?,
        proxy_log: s("/proxy/log")?.into(),
        ca: s("/certs/ca")?.into(),
        server_cert: s("/certs/server_cert")?.into(),
        untrusted_cert: s("/certs/untrusted_cert")?.into(),
        sendmail: s("/sendmail")?.into(),
        postfix_log: s("/postfix_log")?.into(),
        postfix_smtp_port: port("/postfix_smtp_port")?,
    };
    let addr: SocketAddr = format!("{}:{}", services.host, services.smtp_plain_port)
        .parse()
        .map_err(|e| format!("bad address: {e}"))?;
    TcpStream::connect_timeout(&addr, Duration::from_secs(2))
        .map_err(|e| format!("SMTP server at {addr} does not accept connections: {e}"))?;
    Ok(services)
}

/// Subject (decoded), text part and HTML part of a raw mail, line ends as LF.
pub fn mail_parts(raw: &[u8]) -> (String, String, String) {
    let message = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a mail");
    let lf = |s: &str| s.replace("\r\n", "\n");
    (
        message.subject().unwrap_or("").to_string(),
        lf(&message.body_text(0).expect("text part")),
        lf(&message.body_html(0).expect("html part")),
    )
}

/// A marker unique across parallel tests and runs, e.g. for a subject line,
/// a recipient local part (`format!("{m}@example.com")`) or a URL path.
/// Only `[a-z0-9-]`, so it is safe in all of those.
pub fn unique_marker(prefix: &str) -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let clean: String = prefix
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "{clean}-{}-{}-{:x}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed),
        nanos % 0xffff_ffff
    )
}

impl Services {
    /// `host:port` of a listener.
    pub fn addr(&self, port: u16) -> String {
        format!("{}:{port}", self.host)
    }

    /// `http://127.0.0.1:18080{path}`; `path` should start with `/` (or be empty).
    pub fn http_url(&self, path: &str) -> String {
        format!("http://{}:{}{path}", self.host, self.http_port)
    }

    /// `https://127.0.0.1:18443{path}` (verifies with `ca`).
    pub fn https_url(&self, path: &str) -> String {
        format!("https://{}:{}{path}", self.host, self.https_port)
    }

    /// `https://localhost:18443{path}`, for tests that need a DNS name.
    pub fn https_localhost_url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.https_port)
    }

    // ------------------------------------------------------------ mail

    /// Every mail received so far, oldest first.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        numbered_json_files(&self.mail_dir)
            .into_iter()
            .filter_map(|p| ReceivedMail::load(&p).ok())
            .collect()
    }

    /// The first mail received so far that satisfies `predicate` (no waiting).
    pub fn find_mail(&self, predicate: impl Fn(&ReceivedMail) -> bool) -> Option<ReceivedMail> {
        self.mails().into_iter().find(|m| predicate(m))
    }

    /// Waits (bounded, polling) for the first mail that satisfies `predicate`.
    /// Panics on timeout with a listing of what was received.
    pub fn wait_for_mail(
        &self,
        predicate: impl Fn(&ReceivedMail) -> bool,
        timeout: Duration,
    ) -> ReceivedMail {
        let deadline = Instant::now() + timeout;
        let mut rejected: HashSet<PathBuf> = HashSet::new();
        loop {
            for p in numbered_json_files(&self.mail_dir) {
                if rejected.contains(&p) {
                    continue;
                }
                match ReceivedMail::load(&p) {
                    Ok(m) if predicate(&m) => return m,
                    Ok(_) => {
                        rejected.insert(p);
                    }
                    Err(_) => {} // not complete yet: look again next round
                }
            }
            if Instant::now() >= deadline {
                let listing = listing(self.mails().iter().map(ReceivedMail::summary));
                panic!(
                    "no matching mail within {timeout:?} in {}; received:\n{listing}",
                    self.mail_dir.display()
                );
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Waits for a mail whose raw text or envelope contains `marker`.
    pub fn wait_for_mail_containing(&self, marker: &str, timeout: Duration) -> ReceivedMail {
        self.wait_for_mail(|m| m.contains(marker), timeout)
    }

    // ------------------------------------------------------------ HTTP

    /// Every HTTP(S) request recorded so far, oldest first.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        numbered_json_files(&self.request_dir)
            .into_iter()
            .filter_map(|p| RecordedRequest::load(&p).ok())
            .collect()
    }

    /// The first request recorded so far that satisfies `predicate` (no waiting).
    pub fn find_request(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
    ) -> Option<RecordedRequest> {
        self.requests().into_iter().find(|r| predicate(r))
    }

    /// Waits (bounded, polling) for the first recorded request that satisfies
    /// `predicate`. Panics on timeout with a listing of what was recorded.
    pub fn wait_for_request(
        &self,
        predicate: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> RecordedRequest {
        let deadline = Instant::now() + timeout;
        let mut rejected: HashSet<PathBuf> = HashSet::new();
        loop {
            for p in numbered_json_files(&self.request_dir) {
                if rejected.contains(&p) {
                    continue;
                }
                match RecordedRequest::load(&p) {
                    Ok(r) if predicate(&r) => return r,
                    Ok(_) => {
                        rejected.insert(p);
                    }
                    Err(_) => {}
                }
            }
            if Instant::now() >= deadline {
                let listing = listing(self.requests().iter().map(RecordedRequest::summary));
                panic!(
                    "no matching HTTP request within {timeout:?} in {}; recorded:\n{listing}",
                    self.request_dir.display()
                );
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }

    /// Waits for a request whose target (path + query) or body contains `marker`.
    pub fn wait_for_request_containing(&self, marker: &str, timeout: Duration) -> RecordedRequest {
        self.wait_for_request(
            |r| r.target().contains(marker) || r.body().contains(marker),
            timeout,
        )
    }

    // ------------------------------------------------------------ proxy

    /// tinyproxy's whole log (lossy UTF-8).
    pub fn proxy_log(&self) -> String {
        std::fs::read(&self.proxy_log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    }

    /// Current length of the proxy log: pass it to [`Services::wait_for_proxy_log`]
    /// to look only at lines written after this point.
    pub fn proxy_log_len(&self) -> u64 {
        std::fs::metadata(&self.proxy_log)
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// Whether the proxy log contains `needle` (e.g. `"CONNECT localhost:18443"`).
    /// The proxy is shared by parallel tests; prefer [`Services::wait_for_proxy_log`]
    /// with an offset taken before the test's request.
    pub fn proxy_log_contains(&self, needle: &str) -> bool {
        self.proxy_log().contains(needle)
    }

    /// Waits (bounded) for a proxy log line containing `needle` written after
    /// byte offset `since` (from [`Services::proxy_log_len`]); returns that line.
    pub fn wait_for_proxy_log(&self, needle: &str, since: u64, timeout: Duration) -> String {
        let deadline = Instant::now() + timeout;
        loop {
            let bytes = std::fs::read(&self.proxy_log).unwrap_or_default();
            let start = usize::try_from(since)
                .unwrap_or(usize::MAX)
                .min(bytes.len());
            let tail = String::from_utf8_lossy(&bytes[start..]);
            if let Some(line) = tail.lines().find(|l| l.contains(needle)) {
                return line.to_owned();
            }
            if Instant::now() >= deadline {
                let last: Vec<&str> = tail.lines().rev().take(20).collect();
                panic!(
                    "proxy log {} has no line with {needle:?} within {timeout:?}; last lines:\n{}",
                    self.proxy_log.display(),
                    last.into_iter().rev().collect::<Vec<_>>().join("\n")
                );
            }
            std::thread::sleep(POLL_INTERVAL);
        }
    }
}

/// The last `LISTING_MAX` summaries, one per line, for timeout panics.
fn listing(summaries: impl Iterator<Item = String>) -> String {
    const LISTING_MAX: usize = 40;
    let all: Vec<String> = summaries.collect();
    let mut out = String::new();
    if all.is_empty() {
        out.push_str("  (none)\n");
    }
    let skip = all.len().saturating_sub(LISTING_MAX);
    if skip > 0 {
        let _ = writeln!(out, "  ... {skip} earlier ones not shown");
    }
    for s in &all[skip..] {
        let _ = writeln!(out, "  {s}");
    }
    out
}

/// `NNNN.json` files of a record directory, in numeric order.
fn numbered_json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(u64, PathBuf)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name();
                let name = name.to_str()?;
                let n: u64 = name.strip_suffix(".json")?.parse().ok()?;
                Some((n, e.path()))
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

// ================================================================== mail

/// One mail accepted by the SMTP test server: its `NNNN.json` record (the keys the tests
/// read; `tests/services/smtp_server.py` also writes `peer`, `tls_version`, `rcpt_options`,
/// `smtputf8`, `size`, `received_at`) and the raw message from `NNNN.eml`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReceivedMail {
    /// `plain`, `starttls`, `auth-required`, `tls` or `untrusted-tls`.
    pub listener: String,
    pub port: u16,
    /// The EHLO/HELO name the client sent (`pve.example` when relayed by postfix).
    pub helo: Option<String>,
    /// Whether the session was encrypted (STARTTLS or implicit TLS).
    pub tls: bool,
    /// `PLAIN` / `LOGIN`; `None` without AUTH.
    pub auth_mechanism: Option<String>,
    /// The authenticated user name (the password is never recorded).
    pub auth_user: Option<String>,
    /// Envelope sender (`MAIL FROM`).
    pub mail_from: String,
    /// MAIL parameters, e.g. `BODY=8BITMIME`, `SMTPUTF8`, `RET=HDRS`.
    pub mail_options: Vec<String>,
    /// Envelope recipients (`RCPT TO`), in order.
    pub rcpt_tos: Vec<String>,
    /// All DSN RCPT parameters (`NOTIFY=NEVER`, `ORCPT=rfc822;...`).
    pub rcpt_dsn: Vec<String>,
    /// The raw message (the DATA the client sent).
    #[serde(skip)]
    pub raw: Vec<u8>,
    /// Path of the `NNNN.json` file.
    #[serde(skip)]
    pub path: PathBuf,
}

impl ReceivedMail {
    fn load(json_path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(json_path).map_err(|e| e.to_string())?;
        let mail: Self = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        let raw = std::fs::read(json_path.with_extension("eml")).map_err(|e| e.to_string())?;
        Ok(Self {
            raw,
            path: json_path.to_owned(),
            ..mail
        })
    }

    // What the tests call: each returns the field of the same name.
    pub fn mail_from(&self) -> &str {
        &self.mail_from
    }
    pub fn rcpt_tos(&self) -> Vec<String> {
        self.rcpt_tos.clone()
    }
    pub fn mail_options(&self) -> Vec<String> {
        self.mail_options.clone()
    }
    pub fn rcpt_dsn(&self) -> Vec<String> {
        self.rcpt_dsn.clone()
    }
    pub fn auth_mechanism(&self) -> Option<&str> {
        self.auth_mechanism.as_deref()
    }
    pub fn auth_user(&self) -> Option<&str> {
        self.auth_user.as_deref()
    }
    pub fn tls(&self) -> bool {
        self.tls
    }
    pub fn listener(&self) -> &str {
        &self.listener
    }
    pub fn port(&self) -> u16 {
        self.port
    }
    pub fn helo(&self) -> Option<&str> {
        self.helo.as_deref()
    }

    /// The raw message as text (lossy UTF-8).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.raw).into_owned()
    }

    /// The header section (up to the first empty line).
    fn head(&self) -> String {
        let text = self.text();
        let end = text
            .find("\r\n\r\n")
            .or_else(|| text.find("\n\n"))
            .unwrap_or(text.len());
        text[..end].to_owned()
    }

    /// All header fields as (name, unfolded value), in order.
    pub fn headers(&self) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for line in self.head().lines() {
            let line = line.strip_suffix('\r').unwrap_or(line);
            if line.starts_with([' ', '\t']) {
                if let Some((_, v)) = out.last_mut() {
                    // unfolding: drop the line break, keep the whitespace
                    v.push_str(line);
                }
            } else if let Some((name, value)) = line.split_once(':') {
                out.push((name.trim().to_owned(), value.to_owned()));
            }
        }
        out.into_iter()
            .map(|(n, v)| (n, v.trim().to_owned()))
            .collect()
    }

    /// The first header `name` (case-insensitive), unfolded and trimmed; raw
    /// (encoded words are not decoded).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers()
            .into_iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }

    /// Every occurrence of header `name` (case-insensitive).
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers()
            .into_iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
            .collect()
    }

    /// The body (everything after the first empty line), raw.
    pub fn body(&self) -> String {
        let text = self.text();
        if let Some(i) = text.find("\r\n\r\n") {
            text[i + 4..].to_owned()
        } else if let Some(i) = text.find("\n\n") {
            text[i + 2..].to_owned()
        } else {
            String::new()
        }
    }

    /// Whether the raw message or the envelope contains `marker`.
    pub fn contains(&self, marker: &str) -> bool {
        self.text().contains(marker)
            || self.mail_from().contains(marker)
            || self.rcpt_tos().iter().any(|r| r.contains(marker))
    }

    fn summary(&self) -> String {
        format!(
            "{}: listener={} tls={} auth={:?} from={} to={:?} subject={:?}",
            self.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            self.listener(),
            self.tls(),
            self.auth_mechanism(),
            self.mail_from(),
            self.rcpt_tos(),
            self.header("Subject").unwrap_or_default()
        )
    }
}

// ================================================================== HTTP

/// One request recorded by the Gotify/webhook mock (`tests/services/http_mock.py`), the
/// keys the tests read; the record also has `time`, `port`, `peer`, `http_version`.
#[derive(Debug, Clone, Deserialize)]
pub struct RecordedRequest {
    /// Numbered in the order received.
    pub id: u64,
    pub method: String,
    /// Path plus query as sent.
    pub target: String,
    /// The request path without the query (`/message`).
    pub path: String,
    /// The raw query string (without `?`).
    pub query: String,
    /// All headers as (name, value), in the order received.
    pub headers: Vec<(String, String)>,
    /// The body as text (invalid UTF-8 replaced).
    pub body: String,
    /// The exact body, base64-encoded.
    pub body_base64: String,
    /// The body parsed as JSON (`None` if it is not JSON).
    pub body_json: Option<Value>,
    /// `http` or `https`.
    pub listener: String,
    pub tls: bool,
    /// The status the mock answered with (`None` for `/hang`).
    pub response_status: Option<u16>,
    /// Path of the `NNNN.json` file.
    #[serde(skip)]
    pub file: PathBuf,
}

impl RecordedRequest {
    fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
        let request: Self = serde_json::from_str(&text).map_err(|e| e.to_string())?;
        Ok(Self {
            file: path.to_owned(),
            ..request
        })
    }

    // What the tests call: each returns the field of the same name.
    pub fn method(&self) -> &str {
        &self.method
    }
    pub fn path(&self) -> &str {
        &self.path
    }
    pub fn target(&self) -> &str {
        &self.target
    }
    pub fn headers(&self) -> Vec<(String, String)> {
        self.headers.clone()
    }
    pub fn body(&self) -> &str {
        &self.body
    }
    pub fn body_json(&self) -> Option<&Value> {
        self.body_json.as_ref()
    }
    pub fn listener(&self) -> &str {
        &self.listener
    }
    pub fn tls(&self) -> bool {
        self.tls
    }
    pub fn response_status(&self) -> Option<u16> {
        self.response_status
    }

    /// The exact body bytes.
    pub fn body_bytes(&self) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.body_base64)
            .expect("the mock records the body in base64")
    }

    /// The first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
    }

    fn summary(&self) -> String {
        let mut body: String = self.body().chars().take(120).collect();
        if self.body().chars().count() > 120 {
            body.push('…');
        }
        format!(
            "{}: {} {} {} -> {:?} body={body:?}",
            self.file
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            self.listener(),
            self.method(),
            self.target(),
            self.response_status()
        )
    }
}
