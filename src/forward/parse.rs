//! Raw mail → what the targets need (spec forward-mail §2.2, §3.2): title and text for the non-mail
//! targets, and the parts of the original an smtp target rebuilds its message from.
//!
//! MIME decoding is mail-parser's job, HTML conversion html2text's; this module only chooses
//! which part to show, repairs the few inputs mail-parser gives up on, and cuts to size. Nothing
//! here fails or panics: every input yields some title and text. The title and the smtp parts
//! need only the top header block (a flat parse); the body text needs the whole MIME tree, whose
//! nesting is bounded before it is parsed ([`MAX_NESTING`]) and, in forward-mail, parsed in a
//! child process ([`extract_text_isolated`]) so that no input can take the delivery down with it.

use std::borrow::Cow;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::Duration;

use mail_parser::{ContentType, HeaderName, Message, MessageParser, MimeHeaders, PartType};

use super::input::RawMail;
use super::isolate;
use super::key::{header_block, skip_mbox_line};

/// Longest text handed to non-mail targets (bytes of UTF-8).
pub const TEXT_CAP: usize = 1024 * 1024;
/// Appended (on its own line) when the text was cut to [`TEXT_CAP`].
pub const TRUNCATED_NOTE: &str = "[message truncated by pvenotify]";
/// The text's last line when the input exceeded the memory cap.
pub const OVERSIZE_NOTE: &str = "[message larger than 32 MiB; truncated by pvenotify]";
/// The start of the text when the body could not be read; the reason follows in parentheses.
pub const NOT_EXTRACTED_NOTE: &str = "[message text not extracted by pvenotify";
/// The end of that note: what still holds.
const NOT_EXTRACTED_END: &str = "mail targets get the original message]";
/// Most places where the MIME tree may nest one message inside another (each needs a
/// `message/...` type or a digest); beyond it the body is not parsed at all. mail-parser builds
/// nested messages as nested values whose drop recurses once per level, so 150 000 levels
/// overflow any stack; real mail nests a handful (a bounce quoting a forwarded mail: 3).
pub const MAX_NESTING: usize = 200;
/// How long the isolated body parse may take (it is linear: seconds at most for 32 MiB).
pub const ISOLATED_LIMIT: Duration = Duration::from_secs(60);
/// Most HTML source handed to html2text; its output is rarely larger than its input, so this
/// bounds the work without changing the result for anything under the text cap.
const HTML_SOURCE_CAP: usize = 4 * TEXT_CAP;
/// Line width for HTML conversion.
const HTML_WIDTH: usize = 80;
/// HTML with more tags than this goes to mail-parser's simple linear converter instead of
/// html2text: HTML5 tree building is quadratic in the nesting depth (20 000 nested `<li>` take
/// seconds even in release builds), and the tag count bounds the depth. Real notification mails
/// stay far below.
const HTML_TAG_LIMIT: usize = 10_000;

/// What non-mail targets get: title and text (§2.2), with the 1 MiB cut and the truncation notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailText {
    pub title: String,
    pub text: String,
}

/// What an smtp target needs to rebuild the message (§3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalParts {
    /// Decoded, control characters replaced by spaces; empty when absent.
    pub subject: String,
    pub mime_version: Option<String>,
    /// Rebuilt `type/subtype; name="value"...`; `None` when the original had none.
    pub content_type: Option<String>,
    pub content_transfer_encoding: Option<String>,
    /// Where the original body starts in the raw bytes (after the header block's empty line);
    /// the raw length when there is no body.
    pub body_offset: u64,
}

/// Title and text of the message for gotify/webhook targets, parsed in this process.
pub fn extract_text(mail: &RawMail) -> MailText {
    extract_text_with(mail, |source| Ok(body_text_of(source)))
}

/// [`extract_text`] with the body parsed in a child process: if mail-parser or html2text
/// crash, hang or overflow the stack on some input, the child dies, not forward-mail, and
/// the text says so while mail targets still get the whole message. Falls back to parsing
/// here when the process has other threads (fork would copy their locks, not them).
pub fn extract_text_isolated(mail: &RawMail) -> MailText {
    if !isolate::single_threaded() {
        return extract_text(mail);
    }
    extract_text_with(mail, |source| {
        isolate::run(ISOLATED_LIMIT, || body_text_of(source))
    })
}

/// Title, text and notes, with `body` turning the parser input into the body text (and whether
/// the HTML had to be cut), or into the reason it could not.
fn extract_text_with(
    mail: &RawMail,
    body: impl FnOnce(&[u8]) -> Result<(String, bool), String>,
) -> MailText {
    let layout = Layout::of(mail);
    let source = layout.parser_input(mail.head());
    let (title, text, mut cut) = match parse_headers(&source) {
        Some(headers) => {
            let title = subject(&headers);
            let body = match nesting_estimate(&source) {
                n if n > MAX_NESTING => Err(format!(
                    "more than {MAX_NESTING} nested messages or digests"
                )),
                _ => body(&source),
            };
            match body {
                Ok((text, html_cut)) => (title, text, html_cut),
                Err(reason) => (
                    title,
                    format!("{NOT_EXTRACTED_NOTE} ({reason}); {NOT_EXTRACTED_END}"),
                    false,
                ),
            }
        }
        None => {
            // Nothing mail-like at all: show the input itself. Decoding a little more than the
            // cap is enough, as lossy decoding never makes text shorter than its input.
            let raw = mail.head();
            let raw = &raw[..raw.len().min(TEXT_CAP + 4)];
            (
                String::new(),
                String::from_utf8_lossy(raw).into_owned(),
                false,
            )
        }
    };

    let mut text = text;
    if text.len() > TEXT_CAP {
        text.truncate(text.floor_char_boundary(TEXT_CAP));
        cut = true;
    }
    if cut {
        push_line(&mut text, TRUNCATED_NOTE);
    }
    if mail.is_truncated() {
        push_line(&mut text, OVERSIZE_NOTE);
    }
    MailText { title, text }
}

/// The body text of the whole MIME tree.
fn body_text_of(source: &[u8]) -> (String, bool) {
    match parse(source) {
        Some(message) => body_text(&message),
        None => (String::new(), false),
    }
}

/// An upper bound of how deep mail-parser can nest messages in `source`: each level needs a
/// `message/rfc822` (or `message/global`) type, or is a part of a `multipart/digest`, so the
/// count of `message/` and `digest` (any case) bounds it. Encoded (base64, quoted-printable)
/// message parts, which RFC 2046 forbids but mail-parser decodes, can hide more levels; the
/// isolated parse covers those.
fn nesting_estimate(source: &[u8]) -> usize {
    let mut count = 0;
    for (i, &b) in source.iter().enumerate() {
        let rest = &source[i..];
        let starts =
            |word: &[u8]| rest.len() >= word.len() && rest[..word.len()].eq_ignore_ascii_case(word);
        if matches!(b, b'm' | b'M') && starts(b"message/")
            || matches!(b, b'd' | b'D') && starts(b"digest")
        {
            count += 1;
        }
    }
    count
}

/// The original's subject, MIME headers and body position, for the message an smtp target sends.
pub fn original_parts(mail: &RawMail) -> OriginalParts {
    let layout = Layout::of(mail);
    let source = layout.parser_input(mail.head());
    let body_offset = layout.body_start.map_or(mail.len(), |start| start as u64);
    let Some(message) = parse_headers(&source) else {
        return OriginalParts {
            subject: String::new(),
            mime_version: None,
            content_type: None,
            content_transfer_encoding: None,
            body_offset,
        };
    };
    let text_header = |name: HeaderName<'static>| {
        message
            .header(name)
            .and_then(|value| value.as_text())
            .map(clean_line)
            .filter(|value| !value.is_empty())
    };
    OriginalParts {
        subject: subject(&message),
        mime_version: text_header(HeaderName::MimeVersion),
        content_type: message.content_type().and_then(rebuild_content_type),
        content_transfer_encoding: text_header(HeaderName::ContentTransferEncoding),
        body_offset,
    }
}

/// Where things are in the raw bytes: the mbox line, the header block, the body.
struct Layout {
    /// Start of the headers (after a leading mbox `From ` line).
    start: usize,
    /// Start of the body in the raw bytes, `None` when there is none.
    body_start: Option<usize>,
    /// The body starts at a line that is not a header although no empty line precedes it
    /// (missing separator): the parser must be given the separator.
    missing_separator: bool,
}

impl Layout {
    fn of(mail: &RawMail) -> Layout {
        let head = mail.head();
        let start = skip_mbox_line(head);
        let block = header_block(head, start);
        if let Some(body_start) = block.body_start {
            return Layout {
                start,
                body_start: Some(body_start),
                missing_separator: false,
            };
        }
        // No empty line: the body, if any, starts at the first line that is neither a header
        // field nor a continuation. mail-parser would silently skip such lines as broken headers.
        let mut line = start;
        let mut body_start = None;
        for text in head[start..block.end].split_inclusive(|&b| b == b'\n') {
            if !is_header_line(text) && !matches!(text.first(), Some(b' ' | b'\t')) {
                body_start = Some(line);
                break;
            }
            line += text.len();
        }
        Layout {
            start,
            body_start,
            missing_separator: body_start.is_some(),
        }
    }

    /// The bytes to hand to mail-parser: without the mbox line (mail-parser would take it for a
    /// header named `From sender@host  Fri May 23 11`), with an empty line inserted where a
    /// missing separator belongs.
    fn parser_input<'a>(&self, head: &'a [u8]) -> Cow<'a, [u8]> {
        match (self.missing_separator, self.body_start) {
            (true, Some(body)) => {
                let mut repaired = Vec::with_capacity(head.len() - self.start + 1);
                repaired.extend_from_slice(&head[self.start..body]);
                repaired.push(b'\n');
                repaired.extend_from_slice(&head[body..]);
                Cow::Owned(repaired)
            }
            _ => Cow::Borrowed(&head[self.start..]),
        }
    }
}

/// `Name: value` with an RFC 5322 field name (printable ASCII except `:`, white space allowed
/// only before the colon).
fn is_header_line(line: &[u8]) -> bool {
    let Some(colon) = line.iter().position(|&b| b == b':') else {
        return false;
    };
    let name = line[..colon].trim_ascii_end();
    !name.is_empty() && name.iter().all(|&b| (33..=126).contains(&b))
}

/// mail-parser, shielded: its internal consistency checks are debug assertions, and one slip
/// there must not cost root's mail.
fn parse(bytes: &[u8]) -> Option<Message<'_>> {
    catch_unwind(AssertUnwindSafe(|| MessageParser::default().parse(bytes))).ok()?
}

/// Only the top header block, flat: what the title and the smtp copy need, at no depth.
fn parse_headers(bytes: &[u8]) -> Option<Message<'_>> {
    catch_unwind(AssertUnwindSafe(|| {
        MessageParser::default().parse_headers(bytes)
    }))
    .ok()?
}

fn subject(message: &Message<'_>) -> String {
    message.subject().map(clean_line).unwrap_or_default()
}

/// One line of header text: control characters (line breaks, tabs, …) become spaces.
fn clean_line(value: &str) -> String {
    let cleaned: String = value
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cleaned.trim().to_string()
}

/// The text to show and whether the HTML source had to be cut: the first text/plain part in MIME
/// tree order, else the first text/html part converted, else (a multipart whose boundary never
/// shows up) the undivided body, else nothing.
fn body_text(message: &Message<'_>) -> (String, bool) {
    // `parts` lists the MIME tree in pre-order; attachments are left out.
    let candidates = || {
        message.parts.iter().filter(|part| {
            !part
                .content_disposition()
                .is_some_and(|disposition| disposition.is_attachment())
        })
    };
    let plain = candidates().find_map(|part| match &part.body {
        PartType::Text(text)
            if part.content_type().is_none_or(|ct| {
                ct.ctype().eq_ignore_ascii_case("text")
                    && ct
                        .subtype()
                        .is_none_or(|sub| sub.eq_ignore_ascii_case("plain"))
            }) =>
        {
            Some(text)
        }
        _ => None,
    });
    if let Some(text) = plain {
        return (capped(text), false);
    }
    if let Some(html) = candidates().find_map(|part| match &part.body {
        PartType::Html(html) => Some(html),
        _ => None,
    }) {
        return html_to_text(html);
    }
    match (&message.root_part().body, message.content_type()) {
        (PartType::Text(text), Some(ct)) if ct.ctype().eq_ignore_ascii_case("multipart") => {
            (capped(text), false)
        }
        _ => (String::new(), false),
    }
}

/// A copy of `text` that is still longer than [`TEXT_CAP`] when `text` is, without copying
/// megabytes that will be cut anyway.
fn capped(text: &str) -> String {
    text[..text.floor_char_boundary(TEXT_CAP + 4)].to_string()
}

/// Plain text from HTML: no table borders, link text kept without footnotes; whether the source
/// was cut first.
fn html_to_text(html: &str) -> (String, bool) {
    let cut = html.len() > HTML_SOURCE_CAP;
    let html = &html[..html.floor_char_boundary(HTML_SOURCE_CAP)];
    if html.bytes().filter(|&b| b == b'<').count() > HTML_TAG_LIMIT {
        return (mail_parser::decoders::html::html_to_text(html), cut);
    }
    let converted = html2text::config::plain_no_decorate()
        .no_table_borders()
        .link_footnotes(false)
        .allow_width_overflow()
        .string_from_read(html.as_bytes(), HTML_WIDTH);
    match converted {
        Ok(text) => (text, cut),
        // html2text only fails on unrenderable layouts; mail-parser's simpler converter
        // still drops the tags.
        Err(_) => (mail_parser::decoders::html::html_to_text(html), cut),
    }
}

/// `type/subtype; name="value"...` from the parsed header, values quoted (RFC 2045 quoted-string,
/// control characters dropped so the header stays one line).
fn rebuild_content_type(ct: &ContentType<'_>) -> Option<String> {
    let ctype = clean_token(ct.ctype());
    if ctype.is_empty() {
        return None;
    }
    let mut out = ctype;
    if let Some(sub) = ct.subtype().map(clean_token).filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(&sub);
    }
    for attr in ct.attributes().unwrap_or_default() {
        let name = clean_token(&attr.name);
        // A decoded RFC 2231 value (a file name) may not be ASCII; it cannot go into a
        // plain header and is not needed to read the body, unlike boundary and charset.
        if name.is_empty() || !attr.value.is_ascii() {
            continue;
        }
        out.push_str("; ");
        out.push_str(&name);
        out.push_str("=\"");
        for c in attr.value.chars().filter(|c| !c.is_control()) {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push('"');
    }
    Some(out)
}

/// A MIME token as mail-parser read it, without anything that would break the header.
fn clean_token(token: &str) -> String {
    token
        .chars()
        .filter(|c| c.is_ascii_graphic() && !matches!(c, ';' | '"' | '=' | '\\'))
        .collect()
}

/// Appends `line` on a line of its own.
fn push_line(text: &mut String, line: &str) {
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(line);
}

#[cfg(test)]
mod tests {
    use super::super::key::message_key;
    use super::*;

    macro_rules! fixture {
        ($name:literal) => {
            include_bytes!(concat!("../../tests/fixtures/mail/", $name, ".eml"))
        };
    }

    fn mail(raw: &[u8]) -> RawMail {
        RawMail::from_bytes(raw.to_vec())
    }

    fn text_of(raw: &[u8]) -> MailText {
        extract_text(&mail(raw))
    }

    /// The original body as an smtp target would send it.
    fn body_after_offset(raw: &[u8]) -> Vec<u8> {
        let mail = mail(raw);
        let mut out = Vec::new();
        mail.write_from(original_parts(&mail).body_offset, &mut out)
            .unwrap();
        out
    }

    fn nested(levels: usize) -> Vec<u8> {
        let mut raw = b"Subject: nested\n".to_vec();
        raw.extend(b"Content-Type: message/rfc822\n\n".repeat(levels));
        raw.extend(b"Subject: inner\n\ninnermost\n");
        raw
    }

    #[test]
    fn nesting_beyond_the_bound_is_not_parsed_and_says_so() {
        let deep = text_of(&nested(MAX_NESTING + 1));
        assert_eq!(deep.title, "nested");
        assert_eq!(
            deep.text,
            "[message text not extracted by pvenotify (more than 200 nested messages or \
             digests); mail targets get the original message]"
        );
        // Within the bound the tree is parsed (the text sits in nested messages, which are
        // attachments, so there is none) and the title is the outer subject.
        let within = text_of(&nested(MAX_NESTING - 10));
        assert_eq!(
            within,
            MailText {
                title: "nested".into(),
                text: String::new()
            }
        );
        assert_eq!(
            nesting_estimate(b"Message/RFC822 multipart/DIGEST message/"),
            3
        );
    }

    #[test]
    fn cron_job_output() {
        let t = text_of(fixture!("cron-plain"));
        assert_eq!(
            t.title,
            "Cron <root@pve1> test -x /usr/sbin/anacron || { cd / && run-parts --report /etc/cron.daily; }"
        );
        assert_eq!(
            t.text,
            "/etc/cron.daily/logrotate:\n\
             error: error creating output file /var/log/pveproxy/access.log.1.gz: No space left on device\n\
             run-parts: /etc/cron.daily/logrotate exited with return code 1\n"
        );
    }

    #[test]
    fn quoted_printable_body() {
        let t = text_of(fixture!("quoted-printable"));
        assert_eq!(
            t.title,
            "vzdump backup status (pve1.example.com): backup successful"
        );
        assert_eq!(
            t.text,
            "Backup of VM 101 (web-01) finished with warnings.\n\
             The datastore is 91 % full; this line is long enough that it must be wrapped by the quoted-printable encoder.\n\
             Non-ASCII: Grüße, naïve café, 10 € — done.\n"
        );
    }

    #[test]
    fn base64_body() {
        let t = text_of(fixture!("base64"));
        assert_eq!(
            t.text,
            "Hello from a base64 body.\nZeile mit Umlauten: äöü ÄÖÜ ß.\n日本語のテキスト\n"
        );
    }

    #[test]
    fn encoded_subjects() {
        assert_eq!(
            text_of(fixture!("subject-utf8-b")).title,
            "Speicherplatz fast voll: „local-zfs“ (92 %)"
        );
        assert_eq!(
            text_of(fixture!("subject-utf8-q")).title,
            "Rückmeldung: Sicherung erfolgreich ✓ (node pve1)"
        );
        assert_eq!(
            text_of(fixture!("subject-latin1")).title,
            "Prüfung der Festplatte für « sda »"
        );
        assert_eq!(text_of(fixture!("subject-latin1")).text, "body\n");
    }

    #[test]
    fn control_characters_in_subject_become_spaces() {
        let t = text_of(b"Subject: a\x01b\tc =?UTF-8?Q?caf=C3=A9=0Ax?=\n\nb\n");
        assert_eq!(t.title, "a b c café x");
        let folded = text_of(b"Subject: first\r\n  second\r\n\r\nbody");
        // mail-parser unfolds (and collapses) the folding white space.
        assert_eq!(folded.title, "first second");
    }

    #[test]
    fn multipart_alternative_prefers_plain_text() {
        let t = text_of(fixture!("multipart-alternative"));
        assert_eq!(t.title, "Replication job 100-0 failed");
        assert_eq!(
            t.text,
            "Replication job '100-0' with target 'pve2' and schedule '*/15' failed!\n\
             Error: no route to host\n"
        );
    }

    #[test]
    fn html_only_is_converted() {
        let t = text_of(fixture!("html-only"));
        assert_eq!(t.title, "Weekly status");
        let text = &t.text;
        assert!(text.contains("Weekly status"), "{text}");
        assert!(
            text.contains("Fish & chips <tag> café €5 \"quoted\""),
            "{text}"
        );
        assert!(
            text.contains("first line\nsecond line\nthird line"),
            "{text}"
        );
        assert!(text.contains("the full report"), "{text}");
        assert!(!text.contains("https://"), "{text}");
        assert!(!text.contains("SCRIPT-CONTENT"), "{text}");
        assert!(!text.contains("trackingPixel"), "{text}");
        assert!(!text.contains("secret-style-rule"), "{text}");
        assert!(!text.contains("ignored title"), "{text}");
        for tag in ["<p>", "<br", "<td", "<a ", "&amp;", "&eacute;"] {
            assert!(!text.contains(tag), "{tag} in {text}");
        }
        // Table cells are kept, without box drawing.
        assert!(text.contains("pve2"), "{text}");
        assert!(text.contains("offline"), "{text}");
        assert!(!text.contains(['│', '─', '┼', '|']), "{text}");
        let pve1 = text.lines().find(|l| l.contains("pve1")).unwrap();
        assert_eq!(
            pve1.split_whitespace().collect::<Vec<_>>(),
            ["pve1", "online"]
        );
    }

    #[test]
    fn attachment_is_not_part_of_the_text() {
        let raw = fixture!("attachment-zip");
        let t = text_of(raw);
        assert_eq!(t.title, "Logs attached");
        assert_eq!(t.text, "The requested logs are attached.\n");
        // Neither the zip's base64 nor its content.
        assert!(!t.text.contains("UEsDB"));
        assert!(!t.text.contains("PK"));
        assert!(!t.text.contains("ZIP-PAYLOAD"));
    }

    #[test]
    fn text_attachment_is_skipped_for_a_later_body() {
        let raw = b"Subject: s\nContent-Type: multipart/mixed; boundary=b\n\n\
--b\nContent-Type: text/plain\nContent-Disposition: attachment; filename=a.txt\n\nATTACHED\n\
--b\nContent-Type: text/html\n\n<p>the <i>body</i></p>\n--b--\n";
        let t = text_of(raw);
        assert!(t.text.contains("the body"), "{}", t.text);
        assert!(!t.text.contains("ATTACHED"));
    }

    #[test]
    fn non_utf8_charsets() {
        assert_eq!(
            text_of(fixture!("latin1-body")).text,
            "Grüße aus Köln, 20 °C, naïve façade.\n"
        );
        assert_eq!(
            text_of(fixture!("windows-1252-body")).text,
            "Costs: €50 – “smart quotes” and … ellipsis.\n"
        );
    }

    #[test]
    fn unknown_charset_and_invalid_bytes_are_decoded_lossily() {
        let t = text_of(
            b"Subject: x\nContent-Type: text/plain; charset=x-unknown\n\nabc \xe9\xff def\n",
        );
        assert_eq!(t.text, "abc \u{fffd}\u{fffd} def\n");
        let t =
            text_of(b"Subject: x\nContent-Type: text/plain; charset=utf-8\n\nok \xc3\x28 end\n");
        assert_eq!(t.text, "ok \u{fffd}( end\n");
    }

    #[test]
    fn broken_headers() {
        let t = text_of(fixture!("broken-headers"));
        assert_eq!(t.title, "Stra\u{fffd}e 8-bit \u{fffd} header");
        assert_eq!(
            t.text,
            "Body after broken headers, with a stray byte \u{fffd} here.\n"
        );
        let raw = fixture!("broken-headers");
        let body = body_after_offset(raw);
        assert!(body.starts_with(b"Body after broken headers"));
        assert!(raw.ends_with(&body));
    }

    #[test]
    fn no_subject_gives_empty_title() {
        let t = text_of(fixture!("no-subject"));
        assert_eq!(t.title, "");
        assert_eq!(t.text, "A message without a subject.\n");
        assert_eq!(original_parts(&mail(fixture!("no-subject"))).subject, "");
    }

    #[test]
    fn missing_separator_keeps_the_body() {
        let raw = fixture!("missing-separator");
        let t = text_of(raw);
        assert_eq!(t.title, "Cron <root@pve1> /usr/local/bin/check-raid");
        let expected = "Array /dev/md0 is degraded, one member was removed\n\
                        Number   Major   Minor   RaidDevice State\n   \
                        0       8        1        0      active sync   /dev/sda1\n   \
                        -       0        0        1      removed\n";
        assert_eq!(t.text, expected);
        assert_eq!(body_after_offset(raw), expected.as_bytes());
    }

    #[test]
    fn header_shaped_first_body_line_counts_as_header_without_separator() {
        // Inherent ambiguity: without the empty line, `Word: text` is a header field.
        let t = text_of(b"Subject: s\nmdadm: array degraded\nplain line\n");
        assert_eq!(t.text, "plain line\n");
    }

    #[test]
    fn headers_only() {
        let raw = b"Subject: only headers\nFrom: a@b\n";
        let t = text_of(raw);
        assert_eq!(t.title, "only headers");
        assert_eq!(t.text, "");
        assert_eq!(original_parts(&mail(raw)).body_offset, raw.len() as u64);
    }

    #[test]
    fn broken_boundary_shows_the_undivided_body() {
        let t = text_of(fixture!("broken-boundary"));
        assert_eq!(t.title, "broken boundary");
        assert!(
            t.text
                .contains("Text inside a part whose boundary was never declared."),
            "{}",
            t.text
        );
    }

    #[test]
    fn unterminated_multipart() {
        let raw = b"Subject: cut\nContent-Type: multipart/mixed; boundary=\"abc\"\n\n--abc\n\
Content-Type: text/plain\n\nhello, the closing boundary never comes\n";
        assert_eq!(
            text_of(raw).text,
            "hello, the closing boundary never comes\n"
        );
    }

    #[test]
    fn daemon_mails() {
        let smartd = text_of(fixture!("smartd"));
        assert_eq!(
            smartd.title,
            "SMART error (CurrentPendingSector) detected on host: pve1"
        );
        assert!(
            smartd
                .text
                .starts_with("This message was generated by the smartd daemon")
        );
        assert!(
            smartd
                .text
                .contains("Device: /dev/sdb [SAT], 8 Currently unreadable (pending) sectors\n")
        );

        let zed = text_of(fixture!("zfs-zed"));
        assert_eq!(zed.title, "ZFS device fault for pool rpool on pve1");
        assert!(zed.text.contains("  state: FAULTED\n"));
        assert!(zed.text.ends_with("   pool: rpool (0x1234ABCD5678EF90)\n"));

        let apt = text_of(fixture!("apt-listchanges"));
        assert_eq!(apt.title, "apt-listchanges: news for pve1");
        assert!(
            apt.text
                .starts_with("openssl (3.0.16-1~deb12u1) bookworm; urgency=medium\n")
        );
        assert!(
            apt.text
                .contains(" -- Jane Maintainer <jane@example.org>  Tue")
        );
    }

    #[test]
    fn postfix_envelope_and_trace_headers() {
        let raw = fixture!("postfix-mbox");
        let t = text_of(raw);
        assert_eq!(t.title, "mdadm monitoring");
        assert_eq!(
            t.text,
            "This is an automatically generated mail message from mdadm\nrunning on pve1\n\n\
             A DegradedArray event had been detected on md device /dev/md/0.\n"
        );
        let parts = original_parts(&mail(raw));
        assert_eq!(parts.subject, "mdadm monitoring");
        assert_eq!(parts.content_type, None);
        assert_eq!(parts.mime_version, None);
        assert!(body_after_offset(raw).starts_with(b"This is an automatically"));

        // The same message without envelope and trace headers has the same key.
        let text = std::str::from_utf8(raw).unwrap();
        let bare: String = text
            .split_inclusive('\n')
            .skip(1)
            .filter(|l| {
                ![
                    "Return-Path:",
                    "X-Original-To:",
                    "Delivered-To:",
                    "Received:",
                    "\t",
                ]
                .iter()
                .any(|p| l.starts_with(p))
            })
            .collect();
        assert!(bare.starts_with("From: root"));
        assert_eq!(text_of(bare.as_bytes()), t);

        // What local(8) adds on each attempt is not part of the key; the Received header of
        // the queue entry is (key.rs).
        let queued: String = text
            .split_inclusive('\n')
            .skip(1)
            .filter(|l| {
                !["Return-Path:", "X-Original-To:", "Delivered-To:"]
                    .iter()
                    .any(|p| l.starts_with(p))
            })
            .collect();
        assert!(queued.starts_with("Received:"));
        assert_eq!(
            message_key(&mail(queued.as_bytes()), None).unwrap(),
            message_key(&mail(raw), None).unwrap()
        );
    }

    #[test]
    fn empty_and_blank_input() {
        let empty = mail(b"");
        assert!(empty.is_blank());
        assert_eq!(
            extract_text(&empty),
            MailText {
                title: String::new(),
                text: String::new()
            }
        );
        assert_eq!(original_parts(&empty).body_offset, 0);
        assert_eq!(original_parts(&empty).content_type, None);

        let blank = mail(b" \r\n\t\n  ");
        assert!(blank.is_blank());
        assert_eq!(extract_text(&blank).title, "");
    }

    #[test]
    fn input_without_headers_is_shown_as_is() {
        let t = text_of(b"\x00\x01\xff binary garbage \x80");
        assert_eq!(t.title, "");
        assert_eq!(t.text, "\0\u{1}\u{fffd} binary garbage \u{fffd}");
        let raw = b"just some text\nwith lines\n";
        assert_eq!(text_of(raw).text, "just some text\nwith lines\n");
        assert_eq!(original_parts(&mail(raw)).body_offset, 0);
    }

    fn big_plain(body: &str) -> Vec<u8> {
        let mut raw = b"Subject: big\nContent-Type: text/plain; charset=utf-8\n\n".to_vec();
        raw.extend_from_slice(body.as_bytes());
        raw
    }

    #[test]
    fn text_is_cut_at_a_char_boundary() {
        // 1 MiB is not a multiple of 3, so the cap falls inside a '€'.
        assert_ne!(TEXT_CAP % 3, 0);
        let t = text_of(&big_plain(&"€".repeat(400_000)));
        let kept = TEXT_CAP / 3;
        assert_eq!(t.text.len(), kept * 3 + 1 + TRUNCATED_NOTE.len());
        assert!(t.text.starts_with(&"€".repeat(kept)));
        assert!(t.text.ends_with(&format!("€\n{TRUNCATED_NOTE}")));

        // Exactly at the cap: nothing is cut.
        let exact = "x".repeat(TEXT_CAP);
        assert_eq!(text_of(&big_plain(&exact)).text, exact);
        // One more byte: cut, and the note gets its own line.
        let t = text_of(&big_plain(&format!("{exact}y")));
        assert_eq!(t.text, format!("{exact}\n{TRUNCATED_NOTE}"));
    }

    #[test]
    fn oversized_html_gets_the_note() {
        let html = format!(
            "<html><body>{}</body></html>",
            "<p>a short paragraph of text</p>".repeat(150_000)
        );
        let mut raw = b"Subject: h\nContent-Type: text/html\n\n".to_vec();
        raw.extend_from_slice(html.as_bytes());
        let t = text_of(&raw);
        assert!(t.text.ends_with(&format!("\n{TRUNCATED_NOTE}")));
        assert!(t.text.len() <= TEXT_CAP + 1 + TRUNCATED_NOTE.len());
        assert!(!t.text.contains("<p>"));
    }

    #[test]
    fn deeply_nested_html_uses_the_linear_converter() {
        let mut raw = b"Subject: deep\nContent-Type: text/html\n\n".to_vec();
        raw.extend_from_slice("<ul><li>".repeat(HTML_TAG_LIMIT).as_bytes());
        raw.extend_from_slice(b"innermost &amp; last");
        let started = std::time::Instant::now();
        let t = text_of(&raw);
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
        assert_eq!(t.text.trim(), "innermost & last");
    }

    /// 20 MiB: a short text part and a large base64 attachment.
    fn twenty_mib_message() -> Vec<u8> {
        let mut raw = b"From root@pve1  Fri May 23 11:59:32 2025\n\
Subject: huge\nMessage-ID: <huge@pve1>\nMIME-Version: 1.0\n\
Content-Type: multipart/mixed; boundary=\"XX\"\n\n--XX\nContent-Type: text/plain\n\n\
see attachment\n--XX\nContent-Type: application/octet-stream\n\
Content-Disposition: attachment; filename=dump.bin\nContent-Transfer-Encoding: base64\n\n"
            .to_vec();
        let line = b"QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5\n";
        while raw.len() < 20 * 1024 * 1024 {
            raw.extend_from_slice(line);
        }
        raw.extend_from_slice(b"--XX--\n");
        raw
    }

    #[test]
    fn twenty_mib_message_in_memory_and_spooled() {
        let raw = twenty_mib_message();
        let whole = mail(&raw);
        let t = extract_text(&whole);
        assert_eq!(t.title, "huge");
        // The line break before a boundary belongs to the boundary.
        assert_eq!(t.text, "see attachment");

        let dir = tempfile::tempdir().unwrap();
        let spooled = RawMail::read(&raw[..], dir.path(), 1024 * 1024).unwrap();
        assert!(spooled.is_truncated());
        assert_eq!(spooled.len(), raw.len() as u64);
        let mut back = Vec::new();
        spooled.write_to(&mut back).unwrap();
        assert!(back == raw, "spooled message differs");
        let t = extract_text(&spooled);
        assert_eq!(t.title, "huge");
        assert_eq!(t.text, format!("see attachment\n{OVERSIZE_NOTE}"));
        assert_eq!(
            message_key(&spooled, None).unwrap(),
            message_key(&whole, None).unwrap()
        );
        assert_eq!(original_parts(&spooled), original_parts(&whole));
    }

    #[test]
    fn oversize_note_is_the_last_line_after_the_cut_note() {
        let raw = big_plain(&"z".repeat(3 * 1024 * 1024));
        let dir = tempfile::tempdir().unwrap();
        let spooled = RawMail::read(&raw[..], dir.path(), 2 * 1024 * 1024).unwrap();
        let t = extract_text(&spooled);
        assert!(
            t.text
                .ends_with(&format!("z\n{TRUNCATED_NOTE}\n{OVERSIZE_NOTE}"))
        );
    }

    #[test]
    fn non_ascii_parameters_are_left_out_of_the_rebuilt_content_type() {
        let raw = concat!(
            "Subject: x\n",
            "Content-Type: multipart/mixed; boundary=\"b1\";\n",
            " name*=utf-8''%E2%82%AC%20rates.txt\n",
            "\n",
            "body"
        )
        .as_bytes();
        let parts = original_parts(&mail(raw));
        assert_eq!(
            parts.content_type.as_deref(),
            Some("multipart/mixed; boundary=\"b1\"")
        );
    }

    #[test]
    fn content_type_is_rebuilt_with_quoted_parameters() {
        let raw = concat!(
            "Subject: x\n",
            "Content-Type: multipart/mixed;\n",
            " boundary=simple; charset=utf-8;\n",
            "\tname=\"a \\\"b\\\" c\"\n",
            "MIME-Version: 1.0 (generated)\n",
            "Content-Transfer-Encoding: 7bit\n",
            "\n",
            "body"
        )
        .as_bytes();
        let parts = original_parts(&mail(raw));
        assert_eq!(
            parts.content_type.as_deref(),
            Some(r#"multipart/mixed; boundary="simple"; charset="utf-8"; name="a \"b\" c""#)
        );
        assert_eq!(parts.mime_version.as_deref(), Some("1.0 (generated)"));
        assert_eq!(parts.content_transfer_encoding.as_deref(), Some("7bit"));
        assert_eq!(parts.subject, "x");

        let alt = original_parts(&mail(fixture!("multipart-alternative")));
        assert_eq!(
            alt.content_type.as_deref(),
            Some(r#"multipart/alternative; boundary="----=_Part_4711_0.1748326500""#)
        );
        assert_eq!(alt.mime_version.as_deref(), Some("1.0"));
        assert_eq!(alt.content_transfer_encoding, None);

        let qp = original_parts(&mail(fixture!("quoted-printable")));
        assert_eq!(
            qp.content_type.as_deref(),
            Some(r#"text/plain; charset="utf-8""#)
        );
        assert_eq!(
            qp.content_transfer_encoding.as_deref(),
            Some("quoted-printable")
        );
    }

    #[test]
    fn missing_content_type_is_none() {
        let parts = original_parts(&mail(fixture!("smartd")));
        assert_eq!(parts.content_type, None);
        assert_eq!(parts.mime_version, None);
        assert_eq!(parts.content_transfer_encoding, None);
    }

    #[test]
    fn body_offset_lf_and_crlf() {
        for name in [
            "cron-plain",
            "multipart-alternative",
            "attachment-zip",
            "postfix-mbox",
        ] {
            let raw: &[u8] = match name {
                "cron-plain" => fixture!("cron-plain"),
                "multipart-alternative" => fixture!("multipart-alternative"),
                "attachment-zip" => fixture!("attachment-zip"),
                _ => fixture!("postfix-mbox"),
            };
            let text = std::str::from_utf8(raw).unwrap();
            let lf = text.find("\n\n").unwrap() + 2;
            assert_eq!(original_parts(&mail(raw)).body_offset, lf as u64, "{name}");
            assert_eq!(body_after_offset(raw), &raw[lf..], "{name}");

            let crlf = text.replace('\n', "\r\n");
            let at = crlf.find("\r\n\r\n").unwrap() + 4;
            let parts = original_parts(&mail(crlf.as_bytes()));
            assert_eq!(parts.body_offset, at as u64, "{name} CRLF");
            assert_eq!(parts, {
                let mut lf_parts = original_parts(&mail(raw));
                lf_parts.body_offset = at as u64;
                lf_parts
            });
            // Text extraction is the same modulo line endings.
            assert_eq!(
                text_of(crlf.as_bytes()).text.replace("\r\n", "\n"),
                text_of(raw).text,
                "{name}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        #[test]
        fn never_panics_on_arbitrary_bytes(raw in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
            check_total(&raw);
        }

        #[test]
        fn never_panics_on_mail_shaped_bytes(
            prefix in proptest::sample::select(vec![
                "", "From x  Fri May 23 11:59:32 2025\n", "Subject: s\n",
                "Content-Type: multipart/mixed; boundary=b\n\n--b\n",
                "Content-Type: multipart/alternative; boundary=\"b\"\n\n--b\nContent-Type: text/html\n\n",
                "Content-Type: message/rfc822\n\n",
                "Content-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64\n\n",
                "Subject: =?utf-8?b?", "Content-Type: text/html; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n",
            ]),
            tail in "(\\PC|[\r\n\t :;=\"<>/-]|--b|\n--b--\n){0,200}",
            raw_tail in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256),
        ) {
            let mut raw = prefix.as_bytes().to_vec();
            raw.extend_from_slice(tail.as_bytes());
            raw.extend_from_slice(&raw_tail);
            check_total(&raw);
        }
    }

    fn check_total(raw: &[u8]) {
        let mail = mail(raw);
        let t = extract_text(&mail);
        assert!(t.text.len() <= TEXT_CAP + 1 + TRUNCATED_NOTE.len());
        assert!(!t.title.contains(char::is_control));
        let parts = original_parts(&mail);
        assert!(parts.body_offset <= mail.len());
        for header in [
            &parts.mime_version,
            &parts.content_type,
            &parts.content_transfer_encoding,
        ]
        .into_iter()
        .flatten()
        {
            assert!(!header.contains(char::is_control), "{header:?}");
        }
        assert!(!parts.subject.contains(char::is_control));
        assert_eq!(message_key(&mail, None).unwrap().len(), 64);
    }
}
