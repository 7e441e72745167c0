//! What both mail targets (sendmail and smtp) share: resolving recipients and building the
//! MIME message. Header encoding and MIME are left to lettre and email-encoding.

use email_encoding::headers::writer::EmailWriter;
use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};

use std::sync::Arc;

use super::{DeliveryError, MailSource, OriginalMail};
use crate::config::{Prop, Users};
use crate::notification::{Html, Notification};

/// Recipients of a mail target: `mailto` entries, then the addresses of `mailto-user`
/// entries, duplicates removed keeping the first. Users without an address are skipped
/// with a warning; an empty result is a configuration failure.
pub fn resolve_recipients(
    target: &str,
    mailto: &[String],
    mailto_user: &[String],
    users: &Users,
    warnings: &mut Vec<String>,
) -> Result<Vec<String>, DeliveryError> {
    let mut recipients: Vec<String> = Vec::new();
    let mut add = |address: &str| {
        if !recipients.iter().any(|r| r == address) {
            recipients.push(address.to_string());
        }
    };
    for address in mailto {
        add(address);
    }
    for user in mailto_user {
        match users.email(user) {
            Ok(Some(address)) => add(address),
            Ok(None) => warnings.push(format!(
                "user '{user}' ({} of target '{target}') has no e-mail address in user.cfg; skipped",
                Prop::MailtoUser
            )),
            Err(reason) => {
                return Err(DeliveryError::configuration(format!(
                    "cannot resolve {} '{user}': user.cfg is unreadable: {reason}",
                    Prop::MailtoUser
                )));
            }
        }
    }
    if recipients.is_empty() {
        return Err(DeliveryError::configuration(format!(
            "no recipients ({} is empty and no {} has an e-mail address)",
            Prop::Mailto,
            Prop::MailtoUser
        )));
    }
    Ok(recipients)
}

/// The parts of a notification mail.
#[derive(Debug, Clone)]
pub struct MailContent<'a> {
    pub author: &'a str,
    /// Address in `From:`; may be a bare local part (`root`) for sendmail.
    pub from: &'a str,
    pub recipients: &'a [String],
    pub subject: &'a str,
    /// The text part.
    pub text: &'a str,
    /// The HTML part; `None` derives it from the text (`html_body`).
    pub html: Option<&'a str>,
    /// Host part of the `Message-ID`.
    pub message_id_host: &'a str,
}

/// Builds the `multipart/alternative` notification mail (targets.md §3).
///
/// `From:` and `To:` are written as pre-encoded raw headers because sendmail accepts bare
/// local parts (`root`), which lettre's `Address` rightly refuses; every address is
/// checked first so nothing can be injected into a header.
pub fn build_message(content: &MailContent<'_>) -> Result<Message, DeliveryError> {
    check_address(Prop::FromAddress.key(), content.from)?;
    for recipient in content.recipients {
        check_address("recipient", recipient)?;
    }
    let placeholder: Mailbox = "pvenotify <pvenotify@localhost.invalid>"
        .parse()
        .map_err(|e| DeliveryError::configuration(format!("internal: {e}")))?;
    let message_id = format!("<{}@{}>", uuid::Uuid::new_v4(), content.message_id_host);

    let mut message = Message::builder()
        .from(placeholder.clone())
        .to(placeholder)
        .subject(content.subject)
        .message_id(Some(message_id))
        .raw_header(HeaderValue::new(
            header_name("Auto-Submitted"),
            "auto-generated;".to_string(),
        ))
        .multipart(
            MultiPart::alternative()
                .singlepart(text_part(
                    ContentType::TEXT_PLAIN,
                    crlf_line_ends(content.text),
                ))
                .singlepart(text_part(
                    ContentType::TEXT_HTML,
                    match content.html {
                        Some(html) => crlf_line_ends(html),
                        None => crlf_line_ends(&html_body(content.text)),
                    },
                )),
        )
        .map_err(|e| DeliveryError::configuration(format!("cannot build the mail: {e}")))?;

    let from = format!("{} <{}>", encode_display_name(content.author), content.from);
    let to = content.recipients.join(", ");
    let headers = message.headers_mut();
    if let Some(encoded) = encode_long_subject(content.subject) {
        headers.insert_raw(HeaderValue::dangerous_new_pre_encoded(
            header_name("Subject"),
            content.subject.to_string(),
            encoded,
        ));
    }
    headers.insert_raw(HeaderValue::dangerous_new_pre_encoded(
        header_name("From"),
        from.clone(),
        from,
    ));
    headers.insert_raw(HeaderValue::dangerous_new_pre_encoded(
        header_name("To"),
        to.clone(),
        to,
    ));
    Ok(message)
}

/// The message an smtp target sends for forwarded mail (forward-mail.md §3.2): new headers
/// around the original body, which is read from its source while it is sent.
pub fn build_forwarded(
    author: &str,
    from: &str,
    recipients: &[String],
    original: &OriginalMail<'_>,
    message_id_host: &str,
) -> Result<Outgoing, DeliveryError> {
    let mut message = build_message(&MailContent {
        author,
        from,
        recipients,
        subject: original.subject,
        text: "",
        html: None,
        message_id_host,
    })?;
    let headers = message.headers_mut();
    for name in ["Content-Type", "Content-Transfer-Encoding", "MIME-Version"] {
        headers.remove_raw(name);
    }
    let copied = [
        ("MIME-Version", Some(original.mime_version.unwrap_or("1.0"))),
        ("Content-Type", original.content_type),
        (
            "Content-Transfer-Encoding",
            original.content_transfer_encoding,
        ),
    ];
    for (name, value) in copied {
        // Only values that cannot break the header block are copied.
        if let Some(value) =
            value.filter(|v| v.chars().all(|c| c.is_ascii() && !c.is_ascii_control()))
        {
            headers.insert_raw(HeaderValue::dangerous_new_pre_encoded(
                header_name(name),
                value.to_string(),
                value.to_string(),
            ));
        }
    }
    let mut head = message.headers().to_string().into_bytes();
    head.extend_from_slice(b"\r\n");
    Ok(Outgoing::Forwarded {
        head,
        source: Arc::clone(&original.source),
        body_offset: original.body_offset,
    })
}

/// A message for SMTP's DATA step.
///
/// A forwarded mail may be hundreds of megabytes (the part over 32 MiB spooled to disk), so it
/// is not assembled: [`Outgoing::chunks`] reads the body from its source a piece at a time,
/// with CRLF line ends, and lettre's `message_iter` sends each piece as it comes. Memory stays
/// at one piece, where building the whole CRLF message first (and lettre copying it again to
/// add dot-stuffing) held it three or four times over. Memory-mapping the spool file would
/// avoid the copies too, but still put the whole file in the resident set while it is sent.
pub enum Outgoing {
    /// Built in memory: a notification (small), CRLF already.
    Built(Vec<u8>),
    /// The new header block (with its empty line) and where the original body starts.
    Forwarded {
        head: Vec<u8>,
        source: Arc<dyn MailSource>,
        body_offset: u64,
    },
}

/// Size of the pieces a forwarded body is read and sent in.
const PIECE: usize = 64 * 1024;

impl Outgoing {
    /// Whether every byte is ASCII (else the server must offer 8BITMIME); reads a forwarded
    /// body once to find out.
    pub fn is_ascii(&self) -> std::io::Result<bool> {
        let mut ascii = true;
        self.for_each_piece(|piece| {
            ascii = piece.is_ascii();
            ascii
        })?;
        Ok(ascii)
    }

    /// The message in pieces as SMTP wants it: every line ending in CRLF, except that the final
    /// CRLF is left out, because lettre ends the data with `CRLF . CRLF` in any case (an
    /// ending CRLF of ours would add an empty line to every mail). A read error ends the
    /// pieces early and is put into `error`; the caller must then fail the delivery.
    pub fn chunks<'a>(
        &'a self,
        error: &'a std::cell::RefCell<Option<std::io::Error>>,
    ) -> impl Iterator<Item = Vec<u8>> + 'a {
        let mut crlf = CrlfPieces::default();
        let mut reader = self.reader();
        let mut finished = false;
        std::iter::from_fn(move || {
            while !finished {
                match reader.next_piece() {
                    Ok(Some(piece)) => {
                        let out = crlf.convert(&piece);
                        if !out.is_empty() {
                            return Some(out);
                        }
                    }
                    Ok(None) => {
                        finished = true;
                        let out = crlf.finish();
                        if !out.is_empty() {
                            return Some(out);
                        }
                    }
                    Err(e) => {
                        finished = true;
                        *error.borrow_mut() = Some(e);
                    }
                }
            }
            None
        })
    }

    /// Calls `f` with each raw piece until it returns false or the message ends.
    fn for_each_piece(&self, mut f: impl FnMut(&[u8]) -> bool) -> std::io::Result<()> {
        let mut reader = self.reader();
        while let Some(piece) = reader.next_piece()? {
            if !f(&piece) {
                break;
            }
        }
        Ok(())
    }

    fn reader(&self) -> PieceReader<'_> {
        PieceReader {
            outgoing: self,
            head_done: false,
            offset: match self {
                Outgoing::Built(_) => 0,
                Outgoing::Forwarded { body_offset, .. } => *body_offset,
            },
        }
    }
}

/// The raw pieces of an [`Outgoing`]: the built bytes or the new head, then the body.
struct PieceReader<'a> {
    outgoing: &'a Outgoing,
    head_done: bool,
    offset: u64,
}

impl PieceReader<'_> {
    fn next_piece(&mut self) -> std::io::Result<Option<Vec<u8>>> {
        match self.outgoing {
            Outgoing::Built(bytes) => {
                if self.head_done {
                    return Ok(None);
                }
                self.head_done = true;
                Ok(Some(bytes.clone()))
            }
            Outgoing::Forwarded { head, source, .. } => {
                if !self.head_done {
                    self.head_done = true;
                    return Ok(Some(head.clone()));
                }
                let mut buf = vec![0u8; PIECE];
                let n = source.read_at(self.offset, &mut buf)?;
                if n == 0 {
                    return Ok(None);
                }
                buf.truncate(n);
                self.offset += n as u64;
                Ok(Some(buf))
            }
        }
    }
}

/// LF → CRLF across piece boundaries, holding back a trailing CR or CRLF until it is known
/// whether more follows (the final CRLF is dropped, see [`Outgoing::chunks`]).
#[derive(Default)]
struct CrlfPieces {
    /// The previous input byte was CR (a following LF is already a line end).
    after_cr: bool,
    /// Output held back: empty, `\r` or `\r\n`.
    held: Vec<u8>,
}

impl CrlfPieces {
    fn convert(&mut self, piece: &[u8]) -> Vec<u8> {
        let mut out = std::mem::take(&mut self.held);
        out.reserve(piece.len() + piece.len() / 32);
        for &byte in piece {
            if byte == b'\n' && !self.after_cr {
                out.push(b'\r');
            }
            out.push(byte);
            self.after_cr = byte == b'\r';
        }
        let keep = if out.ends_with(b"\r\n") {
            2
        } else if out.ends_with(b"\r") {
            1
        } else {
            0
        };
        self.held = out.split_off(out.len() - keep);
        out
    }

    /// What is still held at the end: nothing for a final CRLF, a lone CR as it is.
    fn finish(&mut self) -> Vec<u8> {
        let held = std::mem::take(&mut self.held);
        if held == b"\r\n" { Vec::new() } else { held }
    }
}

/// The HTML part of a mail for a plain-text body: the body escaped inside `<pre>`, as
/// upstream does when no HTML template exists (with its template engine's escaping).
pub fn html_body(body: &str) -> String {
    crate::render::html_from_text(body)
}

/// The HTML part an event asks for: `None` to derive it from the text; an event whose
/// HTML template could not be rendered fails mail targets.
pub fn event_html(event: &Notification) -> Result<Option<&str>, DeliveryError> {
    match &event.html {
        Html::FromBody => Ok(None),
        Html::Rendered(html) => Ok(Some(html)),
        Html::Unavailable(message) => Err(DeliveryError::configuration(message.clone())),
    }
}

/// A MIME part of `text` (CRLF line ends): `7bit` when the text is fit to be sent as is
/// (targets.md §3), else lettre's choice of quoted-printable or base64. lettre sends as is
/// only lines under 76 bytes, so a log with longer lines grew by a third in
/// quoted-printable, and took that much longer to build, send and take in.
fn text_part(content_type: ContentType, text: String) -> SinglePart {
    let body = if fit_for_7bit(text.as_bytes()) {
        Body::dangerous_pre_encoded(text.into_bytes(), ContentTransferEncoding::SevenBit)
    } else {
        Body::new(text)
    };
    SinglePart::builder().header(content_type).body(body)
}

/// Whether CRLF text may go as `7bit` (RFC 5322 §2.1.1, RFC 2045 §2.7): ASCII without NUL,
/// every CR part of a CRLF, and no line longer than 998 bytes.
fn fit_for_7bit(text: &[u8]) -> bool {
    const MAX_LINE: usize = 998;
    if !text.is_ascii() || memchr::memchr(0, text).is_some() {
        return false;
    }
    let mut start = 0;
    let mut line_feeds = 0;
    for end in memchr::memchr_iter(b'\n', text) {
        // the line is text[start..end - 1], without its CR
        if end == start || text[end - 1] != b'\r' || end - start > MAX_LINE + 1 {
            return false;
        }
        start = end + 1;
        line_feeds += 1;
    }
    // every LF has its CR, so equal counts leave no CR of its own
    text.len() - start <= MAX_LINE && memchr::memchr_iter(b'\r', text).count() == line_feeds
}

/// Text with CRLF line ends, as lettre would make it: handed over this way, lettre has
/// nothing left to convert, and its own conversion inserts one `\r` at a time, which
/// takes seconds for a long log (quadratic in its lines).
fn crlf_line_ends(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 32);
    for line in text.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(content) if !content.ends_with('\r') => {
                out.push_str(content);
                out.push_str("\r\n");
            }
            _ => out.push_str(line),
        }
    }
    out
}

fn header_name(name: &'static str) -> HeaderName {
    HeaderName::new_from_ascii_str(name)
}

/// An address usable in a header and on a command line: either a full address lettre
/// can parse, or a bare local part that the local MTA qualifies.
fn check_address(what: &str, address: &str) -> Result<(), DeliveryError> {
    let usable = if address.contains('@') {
        address.parse::<lettre::Address>().is_ok()
    } else {
        !address.is_empty()
            && !address.starts_with('-')
            && address
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
    };
    if usable {
        Ok(())
    } else {
        Err(DeliveryError::configuration(format!(
            "{what} '{}' is not a usable e-mail address",
            address.escape_debug()
        )))
    }
}

/// The subject RFC 2047-encoded (by email-encoding, which also folds it), when lettre's own
/// folding, which breaks only at spaces, would leave a line longer than RFC 5322's 78
/// characters: a word that long (a path, a run without spaces) could otherwise exceed
/// the hard limit of 998 bytes per line, which MTAs reject or cut.
fn encode_long_subject(subject: &str) -> Option<String> {
    const LINE_LIMIT: usize = 78;
    let prefix = "Subject: ".len();
    if subject
        .split(' ')
        .all(|word| prefix + word.len() <= LINE_LIMIT)
    {
        return None;
    }
    let mut out = String::new();
    {
        let mut writer = EmailWriter::new(&mut out, prefix, 0, false);
        // Writing into a String cannot fail.
        let _ = email_encoding::headers::rfc2047::encode(subject, &mut writer);
    }
    Some(out)
}

/// The display name as an RFC 5322 phrase: as is when it is printable ASCII without
/// specials, in double quotes when it has specials, RFC 2047-encoded (by email-encoding)
/// when it is not ASCII.
fn encode_display_name(name: &str) -> String {
    const SPECIALS: &str = "()<>@,;:\\\"[]=";
    if name.chars().all(|c| c.is_ascii() && !c.is_ascii_control()) {
        if !name.is_empty() && name.trim() == name && !name.contains(|c| SPECIALS.contains(c)) {
            return name.to_string();
        }
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        return format!("\"{escaped}\"");
    }
    let mut out = String::new();
    {
        let mut writer = EmailWriter::new(&mut out, "From: ".len(), 0, false);
        // Writing into a String cannot fail.
        let _ = email_encoding::headers::quoted_string::encode(name, &mut writer);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn users() -> Users {
        Users::Loaded(BTreeMap::from([
            ("root@pam".to_string(), "root@example.com".to_string()),
            ("alice@pve".to_string(), "ops@example.com".to_string()),
        ]))
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recipients_mailto_first_then_users_without_duplicates() {
        let mut warnings = Vec::new();
        let got = resolve_recipients(
            "t",
            &strings(&["ops@example.com", "b@example.com"]),
            &strings(&["root@pam", "alice@pve", "nobody@pve"]),
            &users(),
            &mut warnings,
        )
        .unwrap();
        assert_eq!(
            got,
            ["ops@example.com", "b@example.com", "root@example.com"]
        );
        assert_eq!(
            warnings,
            [
                "user 'nobody@pve' (mailto-user of target 't') has no e-mail address in user.cfg; skipped"
            ]
        );
    }

    #[test]
    fn no_recipients_is_a_configuration_failure() {
        let err = resolve_recipients("t", &[], &strings(&["x@pve"]), &users(), &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Configuration);
        assert!(err.message.starts_with("no recipients"), "{}", err.message);
    }

    #[test]
    fn unreadable_user_cfg_fails_the_target() {
        let users = Users::Unreadable("permission denied".into());
        let err = resolve_recipients("t", &[], &strings(&["root@pam"]), &users, &mut Vec::new())
            .unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Configuration);
        assert!(err.message.contains("user.cfg"), "{}", err.message);
    }

    fn message(author: &str, from: &str, subject: &str, body: &str) -> String {
        let recipients = strings(&["a@example.com", "root"]);
        let message = build_message(&MailContent {
            author,
            from,
            recipients: &recipients,
            subject,
            text: body,
            html: None,
            message_id_host: "pve1.example.com",
        })
        .unwrap();
        String::from_utf8(message.formatted()).unwrap()
    }

    fn header<'a>(mail: &'a str, name: &str) -> Vec<&'a str> {
        let head = mail.split("\r\n\r\n").next().unwrap_or("");
        head.split("\r\n")
            .filter_map(|l| l.strip_prefix(name).and_then(|l| l.strip_prefix(": ")))
            .collect()
    }

    #[test]
    fn headers_of_a_notification_mail() {
        let mail = message(
            crate::config::SendmailConfig::default().author(),
            "root",
            "Backup failed",
            "line 1\nline 2",
        );
        assert_eq!(header(&mail, "From"), ["Proxmox VE <root>"]);
        assert_eq!(header(&mail, "To"), ["a@example.com, root"]);
        assert_eq!(header(&mail, "Subject"), ["Backup failed"]);
        assert_eq!(header(&mail, "Auto-Submitted"), ["auto-generated;"]);
        assert_eq!(header(&mail, "MIME-Version"), ["1.0"]);
        assert_eq!(header(&mail, "Date").len(), 1);
        let id = header(&mail, "Message-ID");
        assert_eq!(id.len(), 1);
        assert!(
            id[0].starts_with('<') && id[0].ends_with("@pve1.example.com>"),
            "{id:?}"
        );
        let content_type = header(&mail, "Content-Type");
        assert!(
            content_type[0].starts_with("multipart/alternative;"),
            "{content_type:?}"
        );
        let plain = mail
            .find("Content-Type: text/plain; charset=utf-8")
            .unwrap();
        let html = mail.find("Content-Type: text/html; charset=utf-8").unwrap();
        assert!(plain < html, "text part first");
        assert!(mail.contains("line 1\r\nline 2"));
        assert!(mail.contains("<html><body><pre>line 1\r\nline 2</pre></body></html>"));
    }

    #[test]
    fn authors_with_specials_are_quoted_and_non_ascii_encoded() {
        let mail = message("PVE (node1)", "pve@example.com", "x", "");
        assert_eq!(header(&mail, "From"), ["\"PVE (node1)\" <pve@example.com>"]);
        let mail = message(
            "Jürgen",
            "pve@example.com",
            "Sicherung fehlgeschlagen: Jürgen",
            "",
        );
        assert_eq!(
            header(&mail, "From"),
            ["=?utf-8?b?SsO8cmdlbg==?= <pve@example.com>"]
        );
        assert!(
            header(&mail, "Subject")[0].contains("=?utf-8?"),
            "subject encoded"
        );
    }

    #[test]
    fn unusable_addresses_are_configuration_failures() {
        for bad in [
            "a b@example.com",
            "x>@y",
            "root\r\nBcc: evil@example.com",
            "",
            "-oQ/tmp",
        ] {
            let recipients = vec![bad.to_string()];
            let err = build_message(&MailContent {
                author: "a",
                from: "root",
                recipients: &recipients,
                subject: "s",
                text: "",
                html: None,
                message_id_host: "h",
            })
            .unwrap_err();
            assert_eq!(
                err.class,
                crate::exit::FailureClass::Configuration,
                "{bad:?}"
            );
        }
    }

    struct Bytes(&'static [u8]);

    impl crate::endpoints::MailSource for Bytes {
        fn write_from(&self, offset: u64, out: &mut dyn std::io::Write) -> std::io::Result<()> {
            out.write_all(&self.0[offset as usize..])
        }

        fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
            let rest = &self.0[(offset as usize).min(self.0.len())..];
            // Small pieces, so that line ends fall across piece boundaries.
            let n = rest.len().min(buf.len()).min(3);
            buf[..n].copy_from_slice(&rest[..n]);
            Ok(n)
        }
    }

    /// Everything `chunks` yields, joined; panics on a read error.
    fn sent(outgoing: &Outgoing) -> Vec<u8> {
        let error = std::cell::RefCell::new(None);
        let bytes = outgoing.chunks(&error).flatten().collect();
        assert!(error.borrow().is_none());
        bytes
    }

    fn forwarded(body: &'static [u8]) -> Vec<u8> {
        sent(&Outgoing::Forwarded {
            head: b"Subject: x\r\n\r\n".to_vec(),
            source: Arc::new(Bytes(body)),
            body_offset: 0,
        })
    }

    /// lettre ends the data with CRLF . CRLF itself, so the message's own final CRLF is left
    /// out; before, `line one\n` arrived as `line one\r\n\r\n`.
    #[test]
    fn forwarded_body_gets_crlf_and_no_final_line_end() {
        assert_eq!(forwarded(b"line one\n"), b"Subject: x\r\n\r\nline one");
        assert_eq!(forwarded(b"line one\r\n"), b"Subject: x\r\n\r\nline one");
        assert_eq!(
            forwarded(b"a\nbb\r\nccc\n\nd"),
            b"Subject: x\r\n\r\na\r\nbb\r\nccc\r\n\r\nd"
        );
        // Only one line end is lettre's: an empty last line stays.
        assert_eq!(forwarded(b"a\n\n"), b"Subject: x\r\n\r\na\r\n");
        // A lone CR is kept as it is, also at the end.
        assert_eq!(forwarded(b"a\rb\r"), b"Subject: x\r\n\r\na\rb\r");
        assert_eq!(forwarded(b""), b"Subject: x\r\n");
        assert_eq!(
            sent(&Outgoing::Built(b"S: x\r\n\r\nbody\r\n".to_vec())),
            b"S: x\r\n\r\nbody"
        );
    }

    #[test]
    fn ascii_check_reads_the_forwarded_body() {
        let outgoing = |body: &'static [u8]| Outgoing::Forwarded {
            head: b"Subject: x\r\n\r\n".to_vec(),
            source: Arc::new(Bytes(body)),
            body_offset: 0,
        };
        assert!(outgoing(b"plain\n").is_ascii().unwrap());
        assert!(!outgoing("caf\u{e9}\n".as_bytes()).is_ascii().unwrap());
    }

    #[test]
    fn forwarded_mail_keeps_subject_mime_headers_and_body() {
        let raw: &'static [u8] =
            b"From: cron@pve1\nSubject: x\nContent-Type: text/plain\n\nline 1\nline 2\r\n";
        let source = Arc::new(Bytes(raw));
        let body_offset = raw.windows(2).position(|w| w == b"\n\n").unwrap() as u64 + 2;
        let original = OriginalMail {
            source,
            subject: "Cron <root@pve1> run-parts",
            mime_version: None,
            content_type: Some("text/plain; charset=\"us-ascii\""),
            content_transfer_encoding: Some("7bit"),
            body_offset,
        };
        let recipients = strings(&["a@example.com"]);
        let outgoing =
            build_forwarded("PVE", "pve@example.com", &recipients, &original, "pve1").unwrap();
        let mail = String::from_utf8(sent(&outgoing)).unwrap();
        assert_eq!(header(&mail, "From"), ["PVE <pve@example.com>"]);
        assert_eq!(header(&mail, "To"), ["a@example.com"]);
        assert_eq!(header(&mail, "Subject"), ["Cron <root@pve1> run-parts"]);
        assert_eq!(header(&mail, "MIME-Version"), ["1.0"]);
        assert_eq!(
            header(&mail, "Content-Type"),
            ["text/plain; charset=\"us-ascii\""]
        );
        assert_eq!(header(&mail, "Content-Transfer-Encoding"), ["7bit"]);
        assert_eq!(header(&mail, "Auto-Submitted"), ["auto-generated;"]);
        assert!(mail.ends_with("\r\n\r\nline 1\r\nline 2"), "{mail:?}");
        assert!(!mail.contains("cron@pve1"), "original From dropped");
    }

    #[test]
    fn text_fit_for_7bit() {
        let line = |n: usize| "x".repeat(n);
        for fit in [
            String::new(),
            "a\r\nb".to_string(),
            "a\r\n\r\n".to_string(),
            "\r\n".to_string(),
            line(998),
            format!("{}\r\n{}\r\n", line(998), line(998)),
        ] {
            assert!(fit_for_7bit(fit.as_bytes()), "{fit:?}");
        }
        for unfit in [
            line(999),
            format!("{}\r\nb", line(999)),
            format!("a\r\n{}", line(999)),
            "ä".to_string(),
            "a\0b".to_string(),
            "a\nb".to_string(),
            "\n".to_string(),
            "a\rb".to_string(),
            "a\r".to_string(),
            "a\r\r\nb".to_string(),
            "a\nb\r\r\n".to_string(),
        ] {
            assert!(!fit_for_7bit(unfit.as_bytes()), "{unfit:?}");
        }
    }

    #[test]
    fn parts_go_as_they_are_when_they_can() {
        let log = "INFO: ".repeat(30);
        let encodings = |mail: &str| -> Vec<String> {
            mail.split("\r\n")
                .filter_map(|l| l.strip_prefix("Content-Transfer-Encoding: "))
                .map(str::to_string)
                .collect()
        };
        let mail = message("a", "root", "s", &format!("{log}\n.\n=3D"));
        assert_eq!(encodings(&mail), ["7bit", "7bit"]);
        assert!(
            mail.contains(&format!("\r\n\r\n{log}\r\n.\r\n=3D\r\n")),
            "{mail}"
        );
        let mail = message("a", "root", "s", "Prüfung");
        assert_eq!(encodings(&mail), ["quoted-printable", "quoted-printable"]);
        let mail = message("a", "root", "s", &"x".repeat(999));
        assert_eq!(encodings(&mail), ["quoted-printable", "quoted-printable"]);
    }

    #[test]
    fn long_ascii_lines_get_a_safe_encoding() {
        let long = "x".repeat(2000);
        let mail = message("a", "root", "s", &long);
        assert!(
            mail.lines().all(|l| l.len() <= 998),
            "no line over 998 bytes"
        );
    }

    #[test]
    fn long_subjects_stay_within_998_bytes_per_line_and_decode_back() {
        let subjects = [
            "x".repeat(2000),
            "word ".repeat(400).trim_end().to_string(),
            format!("{} {}", "a".repeat(1500), "b".repeat(1500)),
            "ä".repeat(1000),
            format!("Backup of {} failed: {}", "vm".repeat(600), "ü".repeat(50)),
        ];
        for subject in subjects {
            let mail = message("a", "root", &subject, "body");
            let head = mail.split("\r\n\r\n").next().unwrap_or("");
            for line in head.split("\r\n") {
                assert!(line.len() <= 998, "{}-byte header line", line.len());
            }
            assert_eq!(header(&mail, "Subject").len(), 1);
            let parsed = mail_parser::MessageParser::default()
                .parse(mail.as_bytes())
                .unwrap();
            assert_eq!(parsed.subject(), Some(subject.as_str()));
        }
    }

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            html_body("a<b>&\"'`=c\nd"),
            "<html><body><pre>a&lt;b&gt;&amp;&quot;&#x27;&#x60;&#x3D;c\nd</pre></body></html>"
        );
    }

    #[test]
    fn line_ends_become_crlf_once() {
        assert_eq!(crlf_line_ends("a\nb\r\nc\n\nü"), "a\r\nb\r\nc\r\n\r\nü");
        assert_eq!(crlf_line_ends("\n"), "\r\n");
        assert_eq!(crlf_line_ends(""), "");
        assert_eq!(crlf_line_ends("\r"), "\r");
    }

    #[test]
    fn empty_body() {
        assert_eq!(html_body(""), "<html><body><pre></pre></body></html>");
    }
}
