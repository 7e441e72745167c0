//! Structured fuzzing through the public API only, so it survives refactors of the
//! internals: MIME trees (nesting, boundaries, transfer encodings, charsets, sizes, broken
//! structure) into forward-mail's parser and into the real binary, and section-config text
//! into the config reader and loader.
//!
//! Every run uses a fixed number of cases (bounded time in CI, under tests/run-all.sh);
//! `PROPTEST_CASES=N` runs more, e.g. for a long local run:
//!
//!     PROPTEST_CASES=20000 nice -n 19 cargo test --release --test fuzz
//!
//! What must hold: no panic, no signal, no hang (each binary run has a time limit), the
//! text within its cap, titles and rebuilt headers free of control characters, every mail
//! target handed the input byte for byte.

mod fixture;

use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use pvenotify::config::{HostFacts, Sources, parse as load_config, section};
use pvenotify::forward::input::RawMail;
use pvenotify::forward::key::message_key;
use pvenotify::forward::parse::{MailText, TEXT_CAP, TRUNCATED_NOTE, extract_text, original_parts};

/// Cases per property unless `PROPTEST_CASES` says otherwise.
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runner(default_cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases: cases(default_cases),
        failure_persistence: None,
        ..Config::default()
    })
}

// ---- MIME ---------------------------------------------------------------------------------

/// How a leaf's body is encoded on the wire.
#[derive(Debug, Clone, Copy)]
enum Encoding {
    None,
    SevenBit,
    EightBit,
    Base64,
    QuotedPrintable,
    /// Declared base64, but the body is not (mail-parser must cope).
    BrokenBase64,
    Unknown,
}

#[derive(Debug, Clone)]
enum Part {
    Leaf {
        content_type: Option<String>,
        encoding: Encoding,
        attachment: bool,
        body: Vec<u8>,
    },
    Multipart {
        subtype: &'static str,
        boundary: String,
        preamble: String,
        children: Vec<Part>,
        /// Leave out the closing `--boundary--`.
        unterminated: bool,
    },
    /// A nested message, optionally (wrongly) transfer-encoded as a whole.
    Message {
        subject: String,
        encoding: Encoding,
        inner: Box<Part>,
    },
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![
        3 => Just(Encoding::None),
        1 => Just(Encoding::SevenBit),
        1 => Just(Encoding::EightBit),
        3 => Just(Encoding::Base64),
        3 => Just(Encoding::QuotedPrintable),
        1 => Just(Encoding::BrokenBase64),
        1 => Just(Encoding::Unknown),
    ]
}

/// Bodies of every size class: empty, a line, text with odd bytes, and (rarely) megabytes,
/// beyond the 1 MiB text cap.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => "(\\PC|[\r\n\t .=-]){0,300}".prop_map(String::into_bytes),
        2 => proptest::collection::vec(any::<u8>(), 0..600),
        1 => ("[a-z]{1,40}\n", 1_000usize..40_000).prop_map(|(line, n)| line.repeat(n).into_bytes()),
        1 => (1usize..3).prop_map(|mib| "0123456789abcdef\n".repeat(mib * 65_536 + 7).into_bytes()),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("text/plain; charset=utf-8".to_string())),
        Just(Some("text/plain; charset=iso-8859-1".to_string())),
        Just(Some("text/plain; charset=x-unknown".to_string())),
        Just(Some("text/html; charset=utf-8".to_string())),
        Just(Some("application/octet-stream; name=\"a.bin\"".to_string())),
        Just(Some("image/png".to_string())),
        Just(Some("message/delivery-status".to_string())),
        "[a-z]{1,8}/[a-z0-9.+-]{1,12}(; [a-z]{1,6}=\"[^\"\r\n]{0,10}\")?".prop_map(Some),
    ]
}

fn boundary() -> impl Strategy<Value = String> {
    prop_oneof![
        "[A-Za-z0-9'()+_,./:=?-]{1,70}",
        // Short and common: collides with the parent's or with body text.
        Just("b".to_string()),
        Just("=_".to_string()),
    ]
}

fn part() -> impl Strategy<Value = Part> {
    let leaf = (
        content_type(),
        encoding(),
        proptest::bool::weighted(0.2),
        body(),
    )
        .prop_map(|(content_type, encoding, attachment, body)| Part::Leaf {
            content_type,
            encoding,
            attachment,
            body,
        });
    leaf.prop_recursive(8, 48, 5, |inner| {
        prop_oneof![
            (
                prop_oneof![
                    Just("mixed"),
                    Just("alternative"),
                    Just("related"),
                    Just("digest"),
                    Just("report")
                ],
                boundary(),
                "[ -~]{0,40}",
                proptest::collection::vec(inner.clone(), 0..5),
                proptest::bool::weighted(0.15),
            )
                .prop_map(|(subtype, boundary, preamble, children, unterminated)| {
                    Part::Multipart {
                        subtype,
                        boundary,
                        preamble,
                        children,
                        unterminated,
                    }
                }),
            ("[ -~]{0,30}", encoding(), inner).prop_map(|(subject, encoding, inner)| {
                Part::Message {
                    subject,
                    encoding,
                    inner: Box::new(inner),
                }
            }),
        ]
    })
}

fn encode(encoding: Encoding, body: &[u8]) -> (Option<&'static str>, Vec<u8>) {
    match encoding {
        Encoding::None => (None, body.to_vec()),
        Encoding::SevenBit => (Some("7bit"), body.to_vec()),
        Encoding::EightBit => (Some("8bit"), body.to_vec()),
        Encoding::Unknown => (Some("x-uuencode"), body.to_vec()),
        Encoding::BrokenBase64 => (Some("base64"), body.to_vec()),
        Encoding::Base64 => {
            let text = base64::engine::general_purpose::STANDARD.encode(body);
            let mut out = Vec::with_capacity(text.len() + text.len() / 76 + 1);
            for line in text.as_bytes().chunks(76) {
                out.extend_from_slice(line);
                out.push(b'\n');
            }
            (Some("base64"), out)
        }
        Encoding::QuotedPrintable => {
            let mut out = Vec::with_capacity(body.len() * 2);
            let mut column = 0;
            for &b in body {
                if b == b'\n' {
                    out.push(b'\n');
                    column = 0;
                    continue;
                }
                if column > 72 {
                    out.extend_from_slice(b"=\n");
                    column = 0;
                }
                if (33..=126).contains(&b) && b != b'=' {
                    out.push(b);
                    column += 1;
                } else {
                    out.extend_from_slice(format!("={b:02X}").as_bytes());
                    column += 3;
                }
            }
            (Some("quoted-printable"), out)
        }
    }
}

/// The part's header lines (without the empty line) and body.
fn render(part: &Part) -> (String, Vec<u8>) {
    match part {
        Part::Leaf {
            content_type,
            encoding,
            attachment,
            body,
        } => {
            let (cte, body) = encode(*encoding, body);
            let mut headers = String::new();
            if let Some(ct) = content_type {
                headers.push_str(&format!("Content-Type: {ct}\n"));
            }
            if let Some(cte) = cte {
                headers.push_str(&format!("Content-Transfer-Encoding: {cte}\n"));
            }
            if *attachment {
                headers.push_str("Content-Disposition: attachment; filename=\"x.txt\"\n");
            }
            (headers, body)
        }
        Part::Multipart {
            subtype,
            boundary,
            preamble,
            children,
            unterminated,
        } => {
            let headers = format!("Content-Type: multipart/{subtype}; boundary=\"{boundary}\"\n");
            let mut body = format!("{preamble}\n").into_bytes();
            for child in children {
                let (h, b) = render(child);
                body.extend_from_slice(format!("--{boundary}\n{h}\n").as_bytes());
                body.extend_from_slice(&b);
                body.push(b'\n');
            }
            if !unterminated {
                body.extend_from_slice(format!("--{boundary}--\n").as_bytes());
            }
            (headers, body)
        }
        Part::Message {
            subject,
            encoding,
            inner,
        } => {
            let (h, b) = render(inner);
            let mut message = format!("Subject: {subject}\n{h}\n").into_bytes();
            message.extend_from_slice(&b);
            let (cte, body) = encode(*encoding, &message);
            let mut headers = "Content-Type: message/rfc822\n".to_string();
            if let Some(cte) = cte {
                headers.push_str(&format!("Content-Transfer-Encoding: {cte}\n"));
            }
            (headers, body)
        }
    }
}

/// A whole mail: optional mbox line, a subject (plain, encoded-word or folded), the tree,
/// line ends LF or CRLF.
fn mail() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<bool>(),
        prop_oneof![
            "[ -~]{0,60}",
            "=\\?(utf-8|iso-8859-1|x-bogus)\\?[BbQq]\\?[A-Za-z0-9+/=_?]{0,40}\\?=",
            Just("folded\n\tsubject line".to_string()),
            Just("x".repeat(2_000)),
        ],
        part(),
        any::<bool>(),
    )
        .prop_map(|(mbox, subject, tree, crlf)| {
            let (headers, body) = render(&tree);
            let mut raw = Vec::new();
            if mbox {
                raw.extend_from_slice(b"From root@pve1  Fri May 23 11:59:32 2025\n");
            }
            raw.extend_from_slice(
                format!("From: root@pve1\nSubject: {subject}\nMIME-Version: 1.0\n{headers}\n")
                    .as_bytes(),
            );
            raw.extend_from_slice(&body);
            if crlf {
                let mut out = Vec::with_capacity(raw.len() + raw.len() / 20);
                for &b in &raw {
                    if b == b'\n' {
                        out.push(b'\r');
                    }
                    out.push(b);
                }
                raw = out;
            }
            raw
        })
}

/// What every parse must satisfy.
fn check_parse(raw: &[u8]) -> Result<(), TestCaseError> {
    let mail = RawMail::from_bytes(raw.to_vec());
    let MailText { title, text } = extract_text(&mail);
    prop_assert!(text.len() <= TEXT_CAP + 1 + TRUNCATED_NOTE.len());
    prop_assert!(!title.contains(char::is_control), "{title:?}");
    let parts = original_parts(&mail);
    prop_assert!(parts.body_offset <= mail.len());
    for header in [
        &parts.mime_version,
        &parts.content_type,
        &parts.content_transfer_encoding,
    ]
    .into_iter()
    .flatten()
    {
        prop_assert!(!header.contains(char::is_control), "{header:?}");
    }
    prop_assert_eq!(message_key(&mail, None).unwrap().len(), 64);
    Ok(())
}

#[test]
fn structured_mime_never_breaks_the_parser() {
    runner(256).run(&mail(), |raw| check_parse(&raw)).unwrap();
}

/// The real binary on generated mails: exit 0, never a signal, within a time limit, and the
/// sendmail target gets the input byte for byte.
#[test]
fn structured_mime_is_forwarded_by_the_binary() {
    let dir = fixture::ConfigDir::new(
        "sendmail: archive\n\tmailto archive@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: system-mail\n\tmatch-field exact:type=system-mail\n\ttarget archive\n",
    );
    let sendmail = dir.file("sendmail");
    std::fs::write(
        &sendmail,
        format!("#!/bin/sh\ncat > '{}'\n", dir.file("input").display()),
    )
    .unwrap();
    std::fs::set_permissions(&sendmail, std::fs::Permissions::from_mode(0o755)).unwrap();
    let sendmail = sendmail.to_str().unwrap().to_string();
    runner(24)
        .run(&mail(), |raw| {
            let out = dir
                .cmd(&["--sendmail", &sendmail, "forward-mail", "--no-state"])
                .timeout(Duration::from_secs(60))
                .write_stdin(raw.clone())
                .output()
                .unwrap();
            prop_assert_eq!(out.status.signal(), None, "{}", fixture::stderr_of(&out));
            if raw.iter().all(u8::is_ascii_whitespace) {
                return Ok(());
            }
            prop_assert_eq!(out.status.code(), Some(0), "{}", fixture::stderr_of(&out));
            prop_assert!(std::fs::read(dir.file("input")).unwrap() == raw);
            Ok(())
        })
        .unwrap();
}

// ---- section config -----------------------------------------------------------------------

const TYPES: &[&str] = &[
    "sendmail", "smtp", "gotify", "webhook", "matcher", "group", "user", "Smtp", "",
];
const KEYS: &[&str] = &[
    "comment",
    "disable",
    "mailto",
    "mailto-user",
    "from-address",
    "author",
    "server",
    "port",
    "mode",
    "username",
    "password",
    "token",
    "method",
    "url",
    "header",
    "body",
    "secret",
    "match-field",
    "match-severity",
    "match-calendar",
    "invert-match",
    "target",
    "unknown-key",
];

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[ -~]{0,30}",
        Just("exact:type=system-mail".to_string()),
        Just("regex:hostname=^pve[0-9]+$".to_string()),
        Just("regex:x=(".to_string()),
        Just("mon..fri 08:00-17:00".to_string()),
        Just("name=X-A,value=dGVzdA==".to_string()),
        Just("1".to_string()),
        Just("99999999999999999999".to_string()),
        "\\PC{0,20}",
    ]
}

/// Section-config text: headers (well-formed or not), property lines indented with tabs or
/// spaces or not at all, blank lines, comments, CRLF, stray bytes.
fn config_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        4 => (proptest::sample::select(KEYS), value(), prop_oneof![Just("\t"), Just("  "), Just("")])
            .prop_map(|(k, v, indent)| format!("{indent}{k} {v}")),
        1 => (proptest::sample::select(TYPES), "[a-z0-9_-]{0,12}")
            .prop_map(|(t, n)| format!("{t}: {n}")),
        1 => Just(String::new()),
        1 => Just("# comment".to_string()),
        1 => "\\PC{0,40}",
    ];
    let section = (
        proptest::sample::select(TYPES),
        "[a-z0-9_-]{0,12}",
        proptest::collection::vec(line, 0..8),
    )
        .prop_map(|(t, n, lines)| {
            let mut s = format!("{t}: {n}\n");
            for l in lines {
                s.push_str(&l);
                s.push('\n');
            }
            s
        });
    (proptest::collection::vec(section, 0..8), any::<bool>()).prop_map(|(sections, crlf)| {
        let text = sections.join("\n");
        if crlf {
            text.replace('\n', "\r\n")
        } else {
            text
        }
    })
}

fn host() -> HostFacts {
    HostFacts {
        hostname: "pve1".into(),
        fqdn: "pve1.example.com".into(),
        sendmail_usable: None,
        sendmail_path: "/usr/sbin/sendmail".into(),
    }
}

#[test]
fn section_config_text_never_breaks_the_reader_or_the_loader() {
    runner(512)
        .run(
            &(config_text(), config_text(), config_text()),
            |(public, private, users)| {
                // The reader: every line is in a section, an error, or blank/outside.
                let raw = section::read(&public);
                for s in &raw.sections {
                    prop_assert!(s.line >= 1);
                    prop_assert!(s.properties.iter().all(|p| p.line > s.line));
                }
                let lines = public.lines().count();
                prop_assert!(raw.errors.iter().all(|e| e.line >= 1 && e.line <= lines));
                // The loader, over all four files.
                let sources = Sources::empty(Path::new("/etc/pve"))
                    .with_public(&public)
                    .with_private(&private)
                    .with_users(&users)
                    .with_datacenter("http_proxy: http://proxy:3128\n");
                let loaded = load_config(&sources, &host());
                for finding in &loaded.findings {
                    let shown = finding.to_string();
                    prop_assert!(!shown.contains('\n'), "{shown:?}");
                }
                Ok(())
            },
        )
        .unwrap();
}
