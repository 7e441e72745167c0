//! The `smtp` target: one SMTP transaction with a relay, driven step by step over
//! lettre's `SmtpConnection` so that a failure can say at which step it happened (connect,
//! TLS, STARTTLS, AUTH, MAIL FROM, RCPT TO, DATA) and quote the server's reply.
//! lettre does the protocol, TLS (rustls, system trust store) and address parsing.

use std::cell::RefCell;
use std::error::Error as _;
use std::io;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use base64::Engine as _;
use lettre::Address;
use lettre::transport::smtp::Error as SmtpError;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{SmtpConnection, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};

use super::mail::{self, MailContent, Outgoing};
use super::{Delivery, DeliveryContext, DeliveryError, Endpoint};
use crate::config::{Config, Prop, SmtpConfig, SmtpMode, Target};
use crate::redact;

/// Limit for connecting (including DNS) and for each read or write.
pub const STEP_TIMEOUT: Duration = Duration::from_secs(5);
/// Limit for the whole transaction, so a server that answers slowly but always just in
/// time cannot hold a run forever.
pub const DEADLINE: Duration = Duration::from_secs(120);
/// How much of a server's reply text a message quotes.
const REMOTE_TEXT_MAX: usize = 200;
/// Authentication mechanisms in order of preference; the first one offered is used.
const MECHANISMS: [Mechanism; 2] = [Mechanism::Plain, Mechanism::Login];

pub struct Smtp<'a> {
    pub target: &'a Target,
    pub settings: &'a SmtpConfig,
    pub config: &'a Config,
    pub context: &'a DeliveryContext,
}

impl Smtp<'_> {
    /// Credentials when `username` is set; a username without password is a
    /// configuration failure, found before anything is sent.
    fn credentials(&self) -> Result<Option<Credentials>, DeliveryError> {
        let Some(username) = &self.settings.username else {
            return Ok(None);
        };
        match &self.settings.password {
            Some(password) => Ok(Some(Credentials::new(
                username.clone(),
                password.expose().to_string(),
            ))),
            None => Err(DeliveryError::configuration(
                "username is set but no password is configured",
            )),
        }
    }

    /// The property a recipient came from, for error messages.
    fn origin_of(&self, recipient: &str) -> String {
        if self.settings.mailto.iter().any(|m| m == recipient) {
            return Prop::Mailto.key().to_string();
        }
        self.settings
            .mailto_user
            .iter()
            .find(|user| self.config.users.email(user) == Ok(Some(recipient)))
            .map_or_else(
                || Prop::MailtoUser.key().to_string(),
                |user| format!("{} of {user}", Prop::MailtoUser),
            )
    }

    /// Every form the password could take in text from lettre or the server: as is,
    /// percent-encoded (by `mask`), and base64 as AUTH LOGIN and AUTH PLAIN send it.
    fn secrets(&self) -> Vec<String> {
        let Some(password) = &self.settings.password else {
            return Vec::new();
        };
        let password = password.expose();
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut secrets = vec![password.to_string(), b64.encode(password)];
        if let Some(username) = &self.settings.username {
            secrets.push(b64.encode(format!("\0{username}\0{password}")));
        }
        secrets
    }
}

impl Endpoint for Smtp<'_> {
    fn target(&self) -> &Target {
        self.target
    }

    fn deliver(
        &self,
        delivery: &Delivery<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<(), DeliveryError> {
        let event = delivery.event;
        let settings = self.settings;
        let credentials = self.credentials()?;
        let port = settings.effective_port();
        if port == 0 {
            return Err(DeliveryError::configuration(
                "port 0 cannot be connected to",
            ));
        }
        let from = parse_address(Prop::FromAddress.key(), &settings.from_address)?;
        let recipients = mail::resolve_recipients(
            &self.target.name,
            &settings.mailto,
            &settings.mailto_user,
            &self.config.users,
            warnings,
        )?;
        let envelope_to = recipients
            .iter()
            .map(|r| parse_address(&self.origin_of(r), r))
            .collect::<Result<Vec<_>, _>>()?;
        let author = settings.author();
        let message = match delivery.original {
            // Forwarded system mail: new headers around the original body (upstream).
            Some(original) => mail::build_forwarded(
                author,
                &settings.from_address,
                &recipients,
                original,
                &self.context.fqdn,
            )?,
            None => Outgoing::Built(
                mail::build_message(&MailContent {
                    author,
                    from: &settings.from_address,
                    recipients: &recipients,
                    subject: &event.title,
                    text: &event.body,
                    html: mail::event_html(event)?,
                    message_id_host: &self.context.fqdn,
                })?
                .formatted(),
            ),
        };

        let secrets = self.secrets();
        let transaction = Transaction {
            server: Server::new(&settings.server, port),
            mode: settings.mode,
            hello: ClientId::Domain(self.context.fqdn.clone()),
            credentials,
            from,
            to: envelope_to,
            message,
            step_timeout: STEP_TIMEOUT,
            secrets: secrets.clone(),
            verbose: self.context.verbose,
        };
        transaction.run_within(DEADLINE).map_err(|message| {
            let secrets: Vec<&str> = secrets.iter().map(String::as_str).collect();
            DeliveryError::temporary(redact::one_line(
                &redact::mask(&message, &secrets),
                usize::MAX,
            ))
        })
    }
}

/// An address lettre accepts for the envelope; anything else is a configuration
/// failure naming where the address came from.
fn parse_address(property: &str, address: &str) -> Result<Address, DeliveryError> {
    address.parse::<Address>().map_err(|e| {
        DeliveryError::configuration(format!(
            "{property}: '{}' is not a valid e-mail address ({e})",
            address.escape_debug()
        ))
    })
}

/// The host as configured and the port, as messages show them (`host:port`).
#[derive(Debug, Clone)]
struct Server {
    /// Host name or IP address without IPv6 brackets: what is resolved and what the
    /// certificate must match.
    host: String,
    port: u16,
    /// `host:port`, with brackets for IPv6.
    shown: String,
}

impl Server {
    fn new(server: &str, port: u16) -> Self {
        let host = server
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(server)
            .to_string();
        let shown = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Server { host, port, shown }
    }
}

/// Everything one SMTP transaction needs, owned, so it can run on its own thread.
struct Transaction {
    server: Server,
    mode: SmtpMode,
    hello: ClientId,
    credentials: Option<Credentials>,
    from: Address,
    to: Vec<Address>,
    message: Outgoing,
    step_timeout: Duration,
    /// For quoting remote text; the caller masks the whole message again.
    secrets: Vec<String>,
    verbose: bool,
}

/// The step of the transaction a failure happened in.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Stage {
    /// TCP connect, greeting and EHLO, in plain text.
    Connect,
    /// TCP connect, TLS handshake, greeting and EHLO (`tls` mode).
    ConnectTls,
    /// STARTTLS, the TLS handshake and the second EHLO.
    StartTls,
    Auth,
    MailFrom,
    RcptTo(String),
    /// The `DATA` command.
    Data,
    /// The message content and the final dot.
    Message,
}

impl Stage {
    /// Whether a TLS handshake happens in this step.
    fn handshakes(&self) -> bool {
        matches!(self, Stage::ConnectTls | Stage::StartTls)
    }

    /// ` at STEP` for messages about later steps; connecting needs no suffix.
    fn suffix(&self) -> String {
        match self {
            Stage::Connect | Stage::ConnectTls => String::new(),
            Stage::StartTls => " at STARTTLS".to_string(),
            Stage::Auth => " at AUTH".to_string(),
            Stage::MailFrom => " at MAIL FROM".to_string(),
            Stage::RcptTo(address) => format!(" at RCPT TO for {address}"),
            Stage::Data => " at DATA".to_string(),
            Stage::Message => " while sending the message".to_string(),
        }
    }

    /// What the server rejected, for `server H:P rejected WHAT: CODE TEXT`.
    fn rejected(&self) -> String {
        match self {
            Stage::Connect | Stage::ConnectTls => "the connection (greeting or EHLO)".to_string(),
            Stage::StartTls => "STARTTLS".to_string(),
            Stage::Auth => "authentication".to_string(),
            Stage::MailFrom => "MAIL FROM".to_string(),
            Stage::RcptTo(address) => format!("RCPT TO for {address}"),
            Stage::Data => "DATA".to_string(),
            Stage::Message => "the message after DATA".to_string(),
        }
    }
}

/// What went wrong, independent of lettre's error type (which cannot be built outside
/// lettre), so the wording can be tested.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Problem {
    /// A 4xx or 5xx reply.
    Reply {
        code: String,
        text: String,
    },
    /// Connect, read or write took longer than the step timeout.
    Timeout,
    Refused,
    /// The server closed the connection without a complete reply.
    Closed,
    /// Any other I/O error; `kind` tells TLS failures (rustls reports them as
    /// `InvalidData`, or `UnexpectedEof` when the peer hangs up mid-handshake).
    Io {
        kind: io::ErrorKind,
        text: String,
    },
    /// Anything else lettre reports (a malformed reply, …).
    Other(String),
}

impl Problem {
    fn of(error: &SmtpError) -> Problem {
        if let Some(code) = error.status() {
            let text = error.source().map(|s| s.to_string()).unwrap_or_default();
            return Problem::Reply {
                code: code.to_string(),
                text,
            };
        }
        let mut source = error.source();
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<io::Error>() {
                return Problem::of_io(io);
            }
            source = cause.source();
        }
        if error.is_response() && error.to_string().ends_with("incomplete response") {
            return Problem::Closed;
        }
        Problem::Other(error.to_string())
    }

    fn of_io(error: &io::Error) -> Problem {
        match error.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Problem::Timeout,
            io::ErrorKind::ConnectionRefused => Problem::Refused,
            kind => Problem::Io {
                kind,
                text: io_text(error),
            },
        }
    }
}

/// The one-line failure message for `problem` at `stage`. Remote text is masked and cut.
fn describe(
    server: &Server,
    stage: &Stage,
    problem: &Problem,
    step_timeout: Duration,
    secrets: &[&str],
) -> String {
    let at = &server.shown;
    let quote = |text: &str| redact::one_line(&redact::mask(text, secrets), REMOTE_TEXT_MAX);
    match problem {
        Problem::Reply { code, text } if text.is_empty() => {
            format!("server {at} rejected {}: {code}", stage.rejected())
        }
        Problem::Reply { code, text } => format!(
            "server {at} rejected {}: {code} {}",
            stage.rejected(),
            quote(text)
        ),
        Problem::Timeout => format!(
            "connection to {at} timed out after {}{}",
            seconds(step_timeout),
            stage.suffix()
        ),
        Problem::Refused => format!("connection to {at} refused"),
        Problem::Closed => format!("server {at} closed the connection{}", stage.suffix()),
        Problem::Io { kind, text }
            if stage.handshakes()
                && matches!(
                    kind,
                    io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof
                ) =>
        {
            format!("TLS handshake with {at} failed: {}", quote(text))
        }
        Problem::Io { text, .. } if matches!(stage, Stage::Connect | Stage::ConnectTls) => {
            format!("connection to {at} failed: {}", quote(text))
        }
        Problem::Io { text, .. } | Problem::Other(text) => {
            format!(
                "connection to {at} failed{}: {}",
                stage.suffix(),
                quote(text)
            )
        }
    }
}

/// Why a transaction failed.
enum Failure {
    /// A step failed as lettre reports it.
    Step(Stage, SmtpError),
    /// A check of ours stopped the transaction; the message is complete.
    Stopped(String),
}

impl Transaction {
    /// Runs the transaction on its own thread and gives up after `deadline`; the thread is
    /// then left behind and ends with its next step timeout or with the process.
    fn run_within(self, deadline: Duration) -> Result<(), String> {
        let shown = self.server.shown.clone();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send(self.run());
        });
        rx.recv_timeout(deadline).unwrap_or_else(|_| {
            Err(format!(
                "SMTP transaction with {shown} did not finish within {}",
                seconds(deadline)
            ))
        })
    }

    fn run(&self) -> Result<(), String> {
        let addresses = self.resolve()?;
        // The certificate must match `server`; trust comes from the system store.
        let tls = match self.mode {
            SmtpMode::Insecure => None,
            SmtpMode::Starttls | SmtpMode::Tls => Some(
                TlsParameters::new(self.server.host.clone())
                    .map_err(|e| format!("cannot set up TLS: {}", self.quote(&e.to_string())))?,
            ),
        };
        let (stage, implicit) = match self.mode {
            SmtpMode::Tls => (Stage::ConnectTls, tls.as_ref()),
            SmtpMode::Insecure | SmtpMode::Starttls => (Stage::Connect, None),
        };
        let mut conn = SmtpConnection::connect(
            &addresses[..],
            Some(self.step_timeout),
            &self.hello,
            implicit,
            None,
        )
        .map_err(|e| self.message(&stage, &e))?;

        match self.converse(&mut conn, tls.as_ref()) {
            Ok(()) => {
                // The message is accepted; a failing QUIT changes nothing.
                let _ = conn.quit();
                Ok(())
            }
            Err(Failure::Stopped(message)) => {
                conn.abort();
                Err(message)
            }
            Err(Failure::Step(stage, error)) => {
                // After a reply the server still listens: say goodbye. Otherwise the
                // connection is broken or hung and is just dropped.
                if error.status().is_some() {
                    conn.abort();
                }
                Err(self.message(&stage, &error))
            }
        }
    }

    /// Resolves the host within the step timeout (the system resolver has no timeout
    /// of its own that we control).
    fn resolve(&self) -> Result<Vec<SocketAddr>, String> {
        let host = self.server.host.clone();
        let port = self.server.port;
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let _ = tx.send((host.as_str(), port).to_socket_addrs());
        });
        let host = &self.server.host;
        match rx.recv_timeout(self.step_timeout) {
            Ok(Ok(addresses)) => {
                let addresses: Vec<SocketAddr> = addresses.collect();
                if addresses.is_empty() {
                    Err(format!("cannot resolve {host}: no addresses"))
                } else {
                    Ok(addresses)
                }
            }
            Ok(Err(e)) => Err(format!(
                "cannot resolve {host}: {}",
                self.quote(&io_text(&e))
            )),
            Err(_) => Err(format!(
                "resolving {host} timed out after {}",
                seconds(self.step_timeout)
            )),
        }
    }

    /// Everything after the greeting and EHLO: STARTTLS, AUTH, the envelope and the data.
    fn converse(
        &self,
        conn: &mut SmtpConnection,
        tls: Option<&TlsParameters>,
    ) -> Result<(), Failure> {
        let at = &self.server.shown;
        let step = |stage: Stage| move |e: SmtpError| Failure::Step(stage, e);
        if self.mode == SmtpMode::Starttls {
            // `run` builds the parameters for every TLS mode; never fall back to plain.
            let Some(tls) = tls else {
                return Err(Failure::Stopped(
                    "internal error: no TLS parameters for STARTTLS".to_string(),
                ));
            };
            if !conn.server_info().supports_feature(Extension::StartTls) {
                return Err(Failure::Stopped(format!(
                    "server {at} does not offer STARTTLS"
                )));
            }
            conn.starttls(tls, &self.hello)
                .map_err(step(Stage::StartTls))?;
        }

        if let Some(credentials) = &self.credentials {
            if conn.server_info().get_auth_mechanism(&MECHANISMS).is_none() {
                return Err(Failure::Stopped(
                    "server offers no supported authentication mechanism (PLAIN, LOGIN)"
                        .to_string(),
                ));
            }
            conn.auth(&MECHANISMS, credentials)
                .map_err(step(Stage::Auth))?;
        }

        // As lettre's own `send`: SMTPUTF8 for non-ASCII addresses, 8BITMIME for a
        // non-ASCII message, and neither sent to a server that lacks the extension.
        let mut options = Vec::new();
        let non_ascii = std::iter::once(&self.from)
            .chain(&self.to)
            .find(|a| !AsRef::<str>::as_ref(*a).is_ascii());
        if let Some(address) = non_ascii {
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                return Err(Failure::Stopped(format!(
                    "server {at} does not support SMTPUTF8, which the address {address} needs"
                )));
            }
            options.push(MailParameter::SmtpUtfEight);
        }
        let ascii = self
            .message
            .is_ascii()
            .map_err(|e| Failure::Stopped(format!("cannot read the forwarded message: {e}")))?;
        if !ascii {
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                return Err(Failure::Stopped(format!(
                    "server {at} does not support 8BITMIME, which the message needs"
                )));
            }
            options.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }

        conn.command(Mail::new(Some(self.from.clone()), options))
            .map_err(step(Stage::MailFrom))?;
        for address in &self.to {
            conn.command(Rcpt::new(address.clone(), Vec::new()))
                .map_err(step(Stage::RcptTo(address.to_string())))?;
        }
        conn.command(Data).map_err(step(Stage::Data))?;
        match &self.message {
            // A notification: small and built by us, so the content and the terminator go
            // out in one write (see `Content`). Its final CRLF is the terminator's first.
            Outgoing::Built(bytes) => {
                let content = bytes
                    .strip_suffix(
                        b"
",
                    )
                    .unwrap_or(bytes);
                match std::str::from_utf8(content) {
                    Ok(text) => conn.command(Content(text)),
                    Err(_) => conn.message(content),
                }
                .map_err(step(Stage::Message))?;
            }
            // Forwarded mail may be larger than memory: streamed in pieces. Its terminator
            // is a write of its own and may wait for one delayed ACK, which a background
            // pipe from the MTA can afford.
            Outgoing::Forwarded { .. } => {
                let read_error = RefCell::new(None);
                conn.message_iter(self.message.chunks(&read_error))
                    .map_err(step(Stage::Message))?;
                if let Some(e) = read_error.take() {
                    // lettre ended the data anyway, so the server may keep a truncated copy;
                    // failing makes the MTA retry, and a duplicate is better than a lost tail.
                    return Err(Failure::Stopped(format!(
                        "cannot read the forwarded message while sending it: {e}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The message for a failed step. With `-v`, lettre's own description is added when
    /// its cause is not quoted already (e.g. the OS error behind a timeout).
    fn message(&self, stage: &Stage, error: &SmtpError) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        let message = describe(
            &self.server,
            stage,
            &Problem::of(error),
            self.step_timeout,
            &secrets,
        );
        let cause = error.source().map(|s| self.quote(&s.to_string()));
        match cause {
            Some(cause) if self.verbose && !message.contains(&cause) => {
                format!("{message} (lettre: {})", self.quote(&error.to_string()))
            }
            _ => message,
        }
    }

    fn quote(&self, text: &str) -> String {
        let secrets: Vec<&str> = self.secrets.iter().map(String::as_str).collect();
        redact::one_line(&redact::mask(text, &secrets), REMOTE_TEXT_MAX)
    }
}

/// The message content after `DATA`: dot-stuffed and followed by the terminator, written
/// by lettre as one command, so in one write.
///
/// lettre's `message` writes the content and the final `\r\n.\r\n` with two writes, on a
/// socket without `TCP_NODELAY` that it does not let us reach. Nagle's algorithm then holds
/// the 5-byte terminator until the server acknowledges the content, and servers delay that
/// acknowledgement (Linux by 40 ms) because they answer only after the terminator: every
/// delivery stalled. Handing the whole DATA block to `command` sends it in one write, so
/// nothing waits. `command` takes text; a notification that is not UTF-8 (none is, as we
/// build them) would still go through `message`. The stuffing is lettre's (RFC 5321
/// 4.5.2): a `.` that starts a line, at the start or after CRLF, is doubled.
struct Content<'a>(&'a str);

impl std::fmt::Display for Content<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut rest = self.0;
        if rest.starts_with('.') {
            f.write_str(".")?;
        }
        while let Some(at) = rest.find("\r\n.") {
            f.write_str(&rest[..at + 3])?;
            f.write_str(".")?;
            rest = &rest[at + 3..];
        }
        f.write_str(rest)?;
        f.write_str("\r\n.\r\n")
    }
}

/// An I/O error's text without the ` (os error N)` suffix.
fn io_text(error: &io::Error) -> String {
    let text = error.to_string();
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// `5 s`, or `0.3 s` for limits that are not whole seconds (tests use those).
fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server() -> Server {
        Server::new("mail.example.com", 465)
    }

    fn text(stage: Stage, problem: Problem) -> String {
        describe(&server(), &stage, &problem, STEP_TIMEOUT, &["hunter2"])
    }

    fn reply(code: &str, text: &str) -> Problem {
        Problem::Reply {
            code: code.to_string(),
            text: text.to_string(),
        }
    }

    #[test]
    fn replies_are_quoted_with_the_stage() {
        assert_eq!(
            text(
                Stage::Auth,
                reply("535", "5.7.8 Authentication credentials invalid")
            ),
            "server mail.example.com:465 rejected authentication: 535 5.7.8 Authentication credentials invalid"
        );
        assert_eq!(
            text(
                Stage::RcptTo("ops@example.com".into()),
                reply("451", "4.3.0 try later")
            ),
            "server mail.example.com:465 rejected RCPT TO for ops@example.com: 451 4.3.0 try later"
        );
        assert_eq!(
            text(Stage::MailFrom, reply("530", "")),
            "server mail.example.com:465 rejected MAIL FROM: 530"
        );
        assert_eq!(
            text(Stage::Message, reply("554", "5.6.0 no")),
            "server mail.example.com:465 rejected the message after DATA: 554 5.6.0 no"
        );
    }

    #[test]
    fn remote_text_is_masked_one_line_and_cut() {
        let long = format!("5.7.8 bad\r\nsecret hunter2 {}", "x".repeat(300));
        let message = text(Stage::Auth, reply("535", &long));
        assert!(!message.contains("hunter2"), "{message}");
        assert!(message.contains("bad  secret <masked> x"), "{message}");
        assert!(!message.chars().any(char::is_control), "{message}");
        let quoted = message.split_once(": 535 ").unwrap().1;
        assert_eq!(quoted.chars().count(), REMOTE_TEXT_MAX, "{message}");
    }

    #[test]
    fn a_secret_cut_in_half_by_the_limit_is_masked_first() {
        let text_before = "y".repeat(REMOTE_TEXT_MAX - 3);
        let message = text(Stage::Auth, reply("535", &format!("{text_before}hunter2")));
        assert!(!message.contains("hun"), "{message}");
    }

    #[test]
    fn timeouts_refusals_and_closed_connections() {
        assert_eq!(
            text(Stage::Connect, Problem::Timeout),
            "connection to mail.example.com:465 timed out after 5 s"
        );
        assert_eq!(
            text(Stage::Auth, Problem::Timeout),
            "connection to mail.example.com:465 timed out after 5 s at AUTH"
        );
        assert_eq!(
            text(Stage::ConnectTls, Problem::Refused),
            "connection to mail.example.com:465 refused"
        );
        assert_eq!(
            text(Stage::Data, Problem::Closed),
            "server mail.example.com:465 closed the connection at DATA"
        );
    }

    #[test]
    fn tls_errors_are_named_only_where_a_handshake_happens() {
        let invalid = |text: &str| Problem::Io {
            kind: io::ErrorKind::InvalidData,
            text: text.to_string(),
        };
        assert_eq!(
            text(
                Stage::ConnectTls,
                invalid("invalid peer certificate: UnknownIssuer")
            ),
            "TLS handshake with mail.example.com:465 failed: invalid peer certificate: UnknownIssuer"
        );
        assert_eq!(
            text(Stage::StartTls, invalid("received corrupt message")),
            "TLS handshake with mail.example.com:465 failed: received corrupt message"
        );
        assert_eq!(
            text(
                Stage::Connect,
                invalid("stream did not contain valid UTF-8")
            ),
            "connection to mail.example.com:465 failed: stream did not contain valid UTF-8"
        );
        assert_eq!(
            text(
                Stage::MailFrom,
                Problem::Io {
                    kind: io::ErrorKind::ConnectionReset,
                    text: "Connection reset by peer".into()
                }
            ),
            "connection to mail.example.com:465 failed at MAIL FROM: Connection reset by peer"
        );
    }

    #[test]
    fn io_errors_map_to_problems_and_lose_the_os_error_number() {
        let timeout = io::Error::from_raw_os_error(libc::EAGAIN);
        assert_eq!(Problem::of_io(&timeout), Problem::Timeout);
        let refused = io::Error::from_raw_os_error(libc::ECONNREFUSED);
        assert_eq!(Problem::of_io(&refused), Problem::Refused);
        let unreachable = io::Error::from_raw_os_error(libc::ENETUNREACH);
        assert_eq!(
            Problem::of_io(&unreachable),
            Problem::Io {
                kind: io::ErrorKind::NetworkUnreachable,
                text: "Network is unreachable".into()
            }
        );
    }

    #[test]
    fn content_is_dot_stuffed_and_terminated_as_lettre_does() {
        let cases = [
            ("", "\r\n.\r\n"),
            ("a\r\nb", "a\r\nb\r\n.\r\n"),
            (
                ".x\r\n.\r\n..y\r\nz.\r\n",
                "..x\r\n..\r\n...y\r\nz.\r\n\r\n.\r\n",
            ),
            // Only CRLF starts a line, as in lettre's codec.
            ("a\n.b\r.c", "a\n.b\r.c\r\n.\r\n"),
            ("\r\n\r\n.", "\r\n\r\n..\r\n.\r\n"),
        ];
        for (message, wire) in cases {
            assert_eq!(Content(message).to_string(), wire, "{message:?}");
        }
    }

    #[test]
    fn servers_are_shown_as_host_and_port() {
        assert_eq!(Server::new("10.0.0.1", 25).shown, "10.0.0.1:25");
        let v6 = Server::new("[2001:db8::1]", 587);
        assert_eq!(v6.host, "2001:db8::1");
        assert_eq!(v6.shown, "[2001:db8::1]:587");
        assert_eq!(Server::new("::1", 465).shown, "[::1]:465");
    }

    #[test]
    fn bad_addresses_name_their_property() {
        let err = parse_address("mailto-user of alice@pve", "alice at example").unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Configuration);
        assert!(
            err.message.starts_with(
                "mailto-user of alice@pve: 'alice at example' is not a valid e-mail address"
            ),
            "{}",
            err.message
        );
        assert!(parse_address("from-address", "pve@example.com").is_ok());
        assert!(parse_address("from-address", "root").is_err());
    }

    fn transaction(port: u16, step_timeout: Duration) -> Transaction {
        Transaction {
            server: Server::new("127.0.0.1", port),
            mode: SmtpMode::Insecure,
            hello: ClientId::Domain("pve1.example.com".into()),
            credentials: None,
            from: "pve@example.com".parse().unwrap(),
            to: vec!["ops@example.com".parse().unwrap()],
            message: Outgoing::Built(b"Subject: x\r\n\r\nx\r\n".to_vec()),
            step_timeout,
            secrets: Vec::new(),
            verbose: false,
        }
    }

    #[test]
    fn the_overall_deadline_ends_a_transaction_that_hangs() {
        // A listener that accepts (via the backlog) and never greets.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let started = std::time::Instant::now();
        let err = transaction(port, Duration::from_secs(30))
            .run_within(Duration::from_millis(300))
            .unwrap_err();
        assert_eq!(
            err,
            format!("SMTP transaction with 127.0.0.1:{port} did not finish within 0.3 s")
        );
        assert!(started.elapsed() < Duration::from_secs(10));
        drop(listener);
    }

    #[test]
    fn a_silent_server_fails_at_the_step_timeout() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = transaction(port, Duration::from_millis(200))
            .run_within(DEADLINE)
            .unwrap_err();
        assert_eq!(
            err,
            format!("connection to 127.0.0.1:{port} timed out after 0.2 s")
        );
        drop(listener);
    }
}
