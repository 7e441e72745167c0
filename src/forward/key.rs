//! The message key (spec forward-mail §7.1): a digest that stays the same when the MTA hands the
//! same queue entry over again, and changes when the same text is submitted again (a new queue
//! entry), so the retry state can tell which targets already got it without dropping a
//! resubmitted mail as "already forwarded".
//!
//! What marks the queue entry depends on the MTA (checked in their sources):
//! - Exim's pipe transport exports its message id as `MESSAGE_ID` (transports/pipe.c; spec
//!   "Environment for command execution"); its `From ` line carries `$tod_bsdinbox`, the time
//!   of the delivery attempt, which changes on every retry.
//! - Postfix's local(8) exports no queue id (local/command.c), and its `From ` line also carries
//!   the time of the attempt (`time(&now)` in global/mail_copy.c), not the arrival time. But the
//!   first `Received:` header is the one Postfix added when the mail entered its queue
//!   (pickup.c, smtpd.c: `... id QUEUE-ID; ARRIVAL-DATE`): the same on every retry, new for a
//!   new submission.
//! - Neither (a mail piped in by hand): Message-ID and body, as before.
//!
//! The body hash is part of every key, so whoever runs the program with a chosen `MESSAGE_ID`
//! or `Received:` can only name records of mails whose body they already have.
//!
//! This is deliberately a minimal header scan, not MIME parsing: in privileged mode it runs before
//! privileges are dropped.

use std::io::{self, Write};

use sha2::{Digest, Sha256};

use super::input::RawMail;

/// Header fields the key is built from when there is no `Message-ID`, in material order.
const FALLBACK_FIELDS: [&[u8]; 4] = [b"date", b"from", b"to", b"subject"];

/// The environment variable in which Exim's pipe transport names its message.
pub const EXIM_MESSAGE_ID: &str = "MESSAGE_ID";

/// Longest queue id accepted from the environment (Exim's are 16 or 23 characters).
const MAX_QUEUE_ID: usize = 64;

/// Exim's message id from `value` when it looks like one (letters, digits, `-`, `_`); anything
/// else is ignored, as if the variable were not set.
pub fn queue_id(value: Option<&std::ffi::OsStr>) -> Option<String> {
    let value = value?.to_str()?.trim();
    let plausible = !value.is_empty()
        && value.len() <= MAX_QUEUE_ID
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then(|| value.to_string())
}

/// Lower-case hex SHA-256 key of the message (§7.1, with the queue entry as above): `queue_id`
/// is the MTA's id for the message from the environment ([`queue_id`]). Fails only when the
/// spooled part of a large message cannot be read back.
pub fn message_key(mail: &RawMail, queue_id: Option<&str>) -> io::Result<String> {
    let head = mail.head();
    let start = skip_mbox_line(head);
    let block = header_block(head, start);
    let headers = unfolded_headers(&head[start..block.end]);

    let mut hasher = HashWriter(Sha256::new());
    if let Some(body_start) = block.body_start {
        mail.write_from(body_start as u64, &mut hasher)?;
    }
    let body_hash = hex(&hasher.0.finalize());

    let first = |name: &[u8]| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    };
    let mut material = Vec::new();
    if let Some(id) = queue_id {
        material.extend_from_slice(b"queue-id\0");
        material.extend_from_slice(id.as_bytes());
    } else if let Some(received) = first(b"received") {
        material.extend_from_slice(b"received\0");
        material.extend_from_slice(received);
    } else if let Some(mid) = first(b"message-id") {
        material.extend_from_slice(b"mid\0");
        material.extend_from_slice(mid);
    } else {
        material.extend_from_slice(b"nomid");
        for name in FALLBACK_FIELDS {
            material.push(0);
            material.extend_from_slice(first(name).unwrap_or_default());
        }
    }
    material.push(0);
    material.extend_from_slice(body_hash.as_bytes());
    Ok(hex(&Sha256::digest(&material)))
}

/// Offset just past a leading mbox envelope line (`From ` at the very start), else 0.
pub(super) fn skip_mbox_line(raw: &[u8]) -> usize {
    if !raw.starts_with(b"From ") {
        return 0;
    }
    raw.iter()
        .position(|&b| b == b'\n')
        .map_or(raw.len(), |nl| nl + 1)
}

/// Where the header block ends, as §7.1 defines it.
pub(super) struct HeaderBlock {
    /// End of the header lines (start of the empty line, or the end of the data).
    pub end: usize,
    /// Start of the body (just after the empty line); `None` when there is no empty line.
    pub body_start: Option<usize>,
}

/// Finds the first empty line (`\n` or `\r\n`) at or after `start`, which must be a line start.
pub(super) fn header_block(raw: &[u8], start: usize) -> HeaderBlock {
    let mut line = start;
    while line < raw.len() {
        let rest = &raw[line..];
        if rest.starts_with(b"\n") {
            return HeaderBlock {
                end: line,
                body_start: Some(line + 1),
            };
        }
        if rest.starts_with(b"\r\n") {
            return HeaderBlock {
                end: line,
                body_start: Some(line + 2),
            };
        }
        match rest.iter().position(|&b| b == b'\n') {
            Some(nl) => line += nl + 1,
            None => break,
        }
    }
    HeaderBlock {
        end: raw.len(),
        body_start: None,
    }
}

/// Header fields as (name, value) with continuation lines unfolded (line breaks removed, the
/// folding white space kept) and both parts trimmed. Lines without a colon are ignored.
fn unfolded_headers(block: &[u8]) -> Vec<(Vec<u8>, Vec<u8>)> {
    let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    // Whether continuation lines belong to the last field (not to an ignored line).
    let mut open = false;
    for line in block.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if matches!(line.first(), Some(b' ' | b'\t')) {
            if open && let Some((_, value)) = fields.last_mut() {
                value.extend_from_slice(line);
            }
            continue;
        }
        open = false;
        if let Some(colon) = line.iter().position(|&b| b == b':') {
            fields.push((line[..colon].to_vec(), line[colon + 1..].to_vec()));
            open = true;
        }
    }
    for (name, value) in &mut fields {
        *name = name.trim_ascii().to_vec();
        *value = value.trim_ascii().to_vec();
    }
    fields
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Feeds everything written to it into a SHA-256 hasher (so the spooled body is streamed).
struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(raw: &[u8]) -> String {
        message_key(&RawMail::from_bytes(raw.to_vec()), None).unwrap()
    }

    fn sha_hex(data: &[u8]) -> String {
        hex(&Sha256::digest(data))
    }

    const PLAIN: &[u8] = b"Date: Fri, 23 May 2025 11:59:32 +0200\n\
From: root <root@pve.example.com>\n\
To: root@pve.example.com\n\
Subject: Cron <root@pve> run-parts /etc/cron.daily\n\
Message-ID: <20250523095932.1A2B3C@pve.example.com>\n\
\n\
run-parts: /etc/cron.daily/logrotate exited with return code 1\n";

    #[test]
    fn message_id_material_is_exact() {
        let body = b"run-parts: /etc/cron.daily/logrotate exited with return code 1\n";
        let material = format!(
            "mid\0<20250523095932.1A2B3C@pve.example.com>\0{}",
            sha_hex(body)
        );
        assert_eq!(key(PLAIN), sha_hex(material.as_bytes()));
        assert_eq!(key(PLAIN).len(), 64);
        assert!(
            key(PLAIN)
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
    }

    #[test]
    fn no_message_id_material_is_exact() {
        let raw = b"subject:  Hello\n  World \nFROM: a@b\nX-Other: 1\nSubject: second\n\nbody";
        let material = format!("nomid\0\0a@b\0\0Hello  World\0{}", sha_hex(b"body"));
        assert_eq!(key(raw), sha_hex(material.as_bytes()));
    }

    /// What Postfix's local(8) puts before the queued mail on each attempt: the `From ` line
    /// with the time of the attempt, Return-Path, X-Original-To, Delivered-To.
    fn postfix_attempt(at: &str, queued: &[u8]) -> Vec<u8> {
        let mut raw = format!(
            "From root@pve.example.com  {at}\n\
             Return-Path: <root@pve.example.com>\n\
             X-Original-To: root\n\
             Delivered-To: root@pve.example.com\n"
        )
        .into_bytes();
        raw.extend_from_slice(queued);
        raw
    }

    /// The queue file's content: Postfix's pickup put its Received header (queue id, arrival
    /// time) on top of what the program submitted.
    fn postfix_queued(queue_id: &str, submitted: &[u8]) -> Vec<u8> {
        let mut raw = format!(
            "Received: by pve.example.com (Postfix, from userid 0)\n\
             \tid {queue_id}; Fri, 23 May 2025 11:59:32 +0200 (CEST)\n"
        )
        .into_bytes();
        raw.extend_from_slice(submitted);
        raw
    }

    #[test]
    fn postfix_retries_share_a_key_and_a_resubmission_gets_a_new_one() {
        let queued = postfix_queued("1A2B3C", PLAIN);
        let first = postfix_attempt("Fri May 23 11:59:33 2025", &queued);
        let retry = postfix_attempt("Fri May 23 12:04:33 2025", &queued);
        assert_eq!(
            key(&retry),
            key(&first),
            "the From line's time is not part of it"
        );
        let resubmitted =
            postfix_attempt("Fri May 23 12:10:00 2025", &postfix_queued("4D5E6F", PLAIN));
        assert_ne!(key(&resubmitted), key(&first), "same text, new queue entry");
        let material = format!(
            "received\0by pve.example.com (Postfix, from userid 0)\tid 1A2B3C; Fri, 23 May 2025 \
             11:59:32 +0200 (CEST)\0{}",
            sha_hex(b"run-parts: /etc/cron.daily/logrotate exited with return code 1\n")
        );
        assert_eq!(key(&first), sha_hex(material.as_bytes()));
    }

    #[test]
    fn exim_retries_share_a_key_and_a_resubmission_gets_a_new_one() {
        // Exim's `From ` line and Delivery-date change on every attempt; its message id does not.
        let attempt = |at: &str| {
            let mut raw = format!(
                "From root@pve.example.com {at}\nEnvelope-to: root@pve.example.com\n\
                 Delivery-date: {at}\n"
            )
            .into_bytes();
            raw.extend_from_slice(PLAIN);
            RawMail::from_bytes(raw)
        };
        let first = attempt("Fri May 23 11:59:33 2025");
        let retry = attempt("Fri May 23 12:04:33 2025");
        let key_of = |mail: &RawMail, id: &str| message_key(mail, Some(id)).unwrap();
        assert_eq!(
            key_of(&retry, "1uJ9vT-000Abc-4x"),
            key_of(&first, "1uJ9vT-000Abc-4x")
        );
        assert_ne!(
            key_of(&retry, "1uJ9vZ-000Xyz-7q"),
            key_of(&first, "1uJ9vT-000Abc-4x")
        );
        // The id is not all of it: another body under the same id is another key.
        let other = RawMail::from_bytes(
            String::from_utf8_lossy(PLAIN)
                .replace("code 1", "code 2")
                .into(),
        );
        assert_ne!(
            key_of(&other, "1uJ9vT-000Abc-4x"),
            key_of(&first, "1uJ9vT-000Abc-4x")
        );
    }

    #[test]
    fn queue_ids_from_the_environment_are_checked() {
        use std::ffi::OsStr;
        assert_eq!(
            queue_id(Some(OsStr::new("1uJ9vT-000Abc-4x"))).as_deref(),
            Some("1uJ9vT-000Abc-4x")
        );
        assert_eq!(
            queue_id(Some(OsStr::new(" 1uJ9vT-000Abc-4x\n"))).as_deref(),
            Some("1uJ9vT-000Abc-4x")
        );
        assert_eq!(queue_id(None), None);
        assert_eq!(queue_id(Some(OsStr::new(""))), None);
        assert_eq!(queue_id(Some(OsStr::new("a b"))), None);
        assert_eq!(queue_id(Some(OsStr::new(&"a".repeat(65)))), None);
    }

    #[test]
    fn without_queue_entry_mbox_line_and_trace_headers_do_not_change_the_key() {
        let mut retried = b"From MAILER-DAEMON  Fri May 23 11:59:33 2025\n\
Return-Path: <root@pve.example.com>\n\
X-Original-To: root\n\
Delivered-To: root@pve.example.com\n\
Envelope-to: root@pve.example.com\n\
Delivery-date: Fri, 23 May 2025 11:59:40 +0200\n"
            .to_vec();
        retried.extend_from_slice(PLAIN);
        assert_eq!(key(&retried), key(PLAIN));

        // Also without a Message-ID.
        let no_mid: Vec<u8> = String::from_utf8_lossy(PLAIN)
            .lines()
            .filter(|l| !l.starts_with("Message-ID"))
            .flat_map(|l| format!("{l}\n").into_bytes())
            .collect();
        let mut retried = b"From root@pve.example.com  Fri May 23 11:59:32 2025\n\
Delivered-To: root@pve.example.com\n"
            .to_vec();
        retried.extend_from_slice(&no_mid);
        assert_eq!(key(&retried), key(&no_mid));
        assert_ne!(key(&no_mid), key(PLAIN));
    }

    #[test]
    fn different_bodies_with_the_same_message_id_differ() {
        let other = String::from_utf8_lossy(PLAIN).replace("return code 1", "return code 2");
        assert_ne!(key(other.as_bytes()), key(PLAIN));
    }

    #[test]
    fn header_names_are_case_insensitive_and_values_trimmed() {
        let a = b"message-id:   <x@y>  \n\nbody";
        let b = b"MESSAGE-ID: <x@y>\n\nbody";
        let c = b"Message-Id:\n <x@y>\n\nbody";
        assert_eq!(key(a), key(b));
        assert_eq!(key(a), key(c));
    }

    #[test]
    fn crlf_input() {
        let crlf = String::from_utf8_lossy(PLAIN).replace('\n', "\r\n");
        let body = b"run-parts: /etc/cron.daily/logrotate exited with return code 1\r\n";
        let material = format!(
            "mid\0<20250523095932.1A2B3C@pve.example.com>\0{}",
            sha_hex(body)
        );
        assert_eq!(key(crlf.as_bytes()), sha_hex(material.as_bytes()));
        let with_trace =
            format!("From x  Fri May 23 11:59:32 2025\r\nDelivered-To: root\r\n{crlf}");
        assert_eq!(key(with_trace.as_bytes()), key(crlf.as_bytes()));
    }

    #[test]
    fn no_separator_means_empty_body() {
        let raw = b"Subject: only headers\nMessage-ID: <a@b>\n";
        let material = format!("mid\0<a@b>\0{}", sha_hex(b""));
        assert_eq!(key(raw), sha_hex(material.as_bytes()));
        // An empty input and a lone mbox line have keys too.
        assert_eq!(key(b""), key(b"From x\n"));
    }

    #[test]
    fn body_of_a_spooled_message_is_hashed_completely() {
        let dir = tempfile::tempdir().unwrap();
        let mut raw = PLAIN.to_vec();
        raw.extend(std::iter::repeat_n(b'a', 100_000));
        let spooled = RawMail::read(&raw[..], dir.path(), 1000).unwrap();
        assert!(spooled.is_truncated());
        let in_memory = RawMail::from_bytes(raw.clone());
        assert_eq!(
            message_key(&spooled, None).unwrap(),
            message_key(&in_memory, None).unwrap()
        );
        // A change in the spooled part changes the key.
        *raw.last_mut().unwrap() = b'b';
        let changed = RawMail::read(&raw[..], dir.path(), 1000).unwrap();
        assert_ne!(
            message_key(&changed, None).unwrap(),
            message_key(&spooled, None).unwrap()
        );
    }
}
