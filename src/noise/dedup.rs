//! Duplicate suppression, decided per key and target (noise.md §1): what a record says,
//! its text form, whether an event is delivered or suppressed, and the note the first
//! delivery after suppressed ones carries. Pure: the clock and the record come in as values.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::notification::{Html, Notification, Severity};
use crate::render::escape_html;

/// Longest dedup key accepted, in bytes.
pub const MAX_KEY_BYTES: usize = 256;
/// The default `--cooldown`.
pub const DEFAULT_COOLDOWN: u64 = 3600;

/// First line of every record; another version is not understood.
const HEADER: &str = "pvenotify-dedup 1";

/// A usable key: non-empty, at most 256 bytes, no control characters.
pub fn check_key(key: &str) -> Result<(), String> {
    if key.is_empty() {
        return Err("a dedup key must not be empty".to_string());
    }
    if key.len() > MAX_KEY_BYTES {
        return Err(format!(
            "the dedup key is {} bytes long; at most {MAX_KEY_BYTES} are allowed",
            key.len()
        ));
    }
    if key.chars().any(char::is_control) {
        return Err(format!(
            "the dedup key '{}' contains a control character",
            key.escape_debug()
        ));
    }
    Ok(())
}

/// What the record of a key remembers about one target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Severity of the last successful delivery.
    pub severity: Severity,
    /// When it succeeded (epoch seconds).
    pub sent_at: i64,
    /// `sent_at` plus the cooldown of that run, for pruning.
    pub quiet_until: i64,
    /// Events suppressed since that delivery.
    pub suppressed: u64,
    /// When the first of them was suppressed.
    pub suppressed_since: Option<i64>,
}

/// The record of one key: the key itself (for `-vv` and to detect a hash collision) and an
/// entry per target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordData {
    pub key: String,
    pub targets: BTreeMap<String, Entry>,
}

/// Why an event is suppressed for a target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suppression {
    pub sent_at: i64,
    pub quiet_until: i64,
    /// Suppressed since `sent_at`, this one included.
    pub count: u64,
}

/// The note a delivery carries after a quiet period.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuppressedNote {
    pub count: u64,
    pub since: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Deliver(Option<SuppressedNote>),
    Suppress(Suppression),
}

/// Suppressed when the last successful delivery had the same severity and is less than
/// `cooldown` seconds ago; delivered otherwise, with the count of what was suppressed.
pub fn decide(entry: Option<&Entry>, severity: Severity, now: i64, cooldown: u64) -> Decision {
    let Some(entry) = entry else {
        return Decision::Deliver(None);
    };
    let quiet_until = entry.sent_at.saturating_add_unsigned(cooldown);
    if entry.severity == severity && now < quiet_until {
        return Decision::Suppress(Suppression {
            sent_at: entry.sent_at,
            quiet_until,
            count: entry.suppressed + 1,
        });
    }
    let note = (entry.suppressed > 0).then(|| SuppressedNote {
        count: entry.suppressed,
        since: entry.suppressed_since.unwrap_or(entry.sent_at),
    });
    Decision::Deliver(note)
}

/// The entry after a successful delivery: the cooldown starts again, nothing suppressed.
pub fn delivered(severity: Severity, now: i64, cooldown: u64) -> Entry {
    Entry {
        severity,
        sent_at: now,
        quiet_until: now.saturating_add_unsigned(cooldown),
        suppressed: 0,
        suppressed_since: None,
    }
}

/// The entry after one more suppressed event.
pub fn suppressed(entry: &Entry, now: i64) -> Entry {
    Entry {
        suppressed: entry.suppressed + 1,
        suppressed_since: Some(entry.suppressed_since.unwrap_or(now)),
        ..entry.clone()
    }
}

/// The last line of a delivery after suppressed ones; `since` is already formatted.
pub fn note_line(count: u64, since: &str) -> String {
    let what = if count == 1 {
        "notification"
    } else {
        "notifications"
    };
    format!("({count} similar {what} suppressed since {since})")
}

/// Puts the note `line` last in the event's text body and, for a rendered HTML part,
/// into it as a paragraph before `</body>` (or at its end); an HTML part derived from the
/// body gets the note with the body.
pub fn add_note(event: &mut Notification, line: &str) {
    let body = &mut event.body;
    if !body.is_empty() {
        body.push_str(if body.ends_with('\n') { "\n" } else { "\n\n" });
    }
    body.push_str(line);
    if let Html::Rendered(html) = &mut event.html {
        let paragraph = format!("<p>{}</p>\n", escape_html(line));
        let body_end = html
            .as_bytes()
            .windows(7)
            .rposition(|w| w.eq_ignore_ascii_case(b"</body>"));
        match body_end {
            Some(end) => html.insert_str(end, &paragraph),
            None => {
                if !html.is_empty() && !html.ends_with('\n') {
                    html.push('\n');
                }
                html.push_str(&paragraph);
            }
        }
    }
}

impl RecordData {
    /// The text form: a header, `key KEY`, then one `target` line per target.
    pub fn to_text(&self) -> String {
        let mut text = format!("{HEADER}\nkey {}\n", self.key);
        for (name, e) in &self.targets {
            let since = e
                .suppressed_since
                .map_or_else(|| "-".to_string(), |s| s.to_string());
            let _ = writeln!(
                text,
                "target {name} {} {} {} {} {since}",
                e.severity, e.sent_at, e.quiet_until, e.suppressed
            );
        }
        text
    }

    /// Reads the text form. An empty text is a new record; anything not written by
    /// [`RecordData::to_text`] is an error (the caller then starts afresh).
    pub fn parse(text: &[u8]) -> Result<Option<RecordData>, String> {
        if text.is_empty() {
            return Ok(None);
        }
        let text = std::str::from_utf8(text).map_err(|_| "not UTF-8".to_string())?;
        let mut lines = text.lines();
        if lines.next() != Some(HEADER) {
            return Err("unknown format".to_string());
        }
        let key = lines
            .next()
            .and_then(|line| line.strip_prefix("key "))
            .ok_or("no key line")?;
        let mut record = RecordData {
            key: key.to_string(),
            targets: BTreeMap::new(),
        };
        for line in lines {
            let (name, entry) = parse_target(line)
                .ok_or_else(|| format!("malformed line '{}'", line.escape_debug()))?;
            record.targets.insert(name, entry);
        }
        Ok(Some(record))
    }

    /// The latest quiet-until of any target (for pruning).
    pub fn quiet_until(&self) -> Option<i64> {
        self.targets.values().map(|e| e.quiet_until).max()
    }
}

fn parse_target(line: &str) -> Option<(String, Entry)> {
    let words: Vec<&str> = line.split(' ').collect();
    let ["target", name, severity, sent_at, quiet_until, count, since] = words.as_slice() else {
        return None;
    };
    let entry = Entry {
        severity: severity.parse().ok()?,
        sent_at: sent_at.parse().ok()?,
        quiet_until: quiet_until.parse().ok()?,
        suppressed: count.parse().ok()?,
        suppressed_since: match *since {
            "-" => None,
            number => Some(number.parse().ok()?),
        },
    };
    (!name.is_empty()).then(|| (name.to_string(), entry))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Severity::*;

    const HOUR: u64 = 3600;

    #[test]
    fn first_event_is_delivered() {
        assert_eq!(decide(None, Error, 100, HOUR), Decision::Deliver(None));
    }

    #[test]
    fn same_severity_inside_cooldown_is_suppressed_and_counted() {
        let entry = delivered(Error, 1000, HOUR);
        let decision = decide(Some(&entry), Error, 1000 + 3599, HOUR);
        assert_eq!(
            decision,
            Decision::Suppress(Suppression {
                sent_at: 1000,
                quiet_until: 4600,
                count: 1
            })
        );
        let entry = suppressed(&entry, 1300);
        let entry = suppressed(&entry, 1600);
        assert_eq!(entry.suppressed, 2);
        assert_eq!(entry.suppressed_since, Some(1300));
        assert!(matches!(
            decide(Some(&entry), Error, 2000, HOUR),
            Decision::Suppress(Suppression { count: 3, .. })
        ));
    }

    #[test]
    fn after_cooldown_delivers_with_note() {
        let entry = suppressed(&delivered(Error, 1000, HOUR), 1300);
        assert_eq!(
            decide(Some(&entry), Error, 4600, HOUR),
            Decision::Deliver(Some(SuppressedNote {
                count: 1,
                since: 1300
            }))
        );
    }

    #[test]
    fn other_severity_is_delivered_at_once() {
        let entry = suppressed(&delivered(Error, 1000, HOUR), 1300);
        assert_eq!(
            decide(Some(&entry), Info, 1400, HOUR),
            Decision::Deliver(Some(SuppressedNote {
                count: 1,
                since: 1300
            }))
        );
        let plain = delivered(Error, 1000, HOUR);
        assert_eq!(
            decide(Some(&plain), Info, 1001, HOUR),
            Decision::Deliver(None)
        );
    }

    #[test]
    fn cooldown_of_the_current_run_decides() {
        let entry = delivered(Error, 1000, 10 * HOUR);
        assert_eq!(
            decide(Some(&entry), Error, 1000, 0),
            Decision::Deliver(None)
        );
        assert!(matches!(
            decide(Some(&entry), Error, 1000 + 7200, 3 * HOUR),
            Decision::Suppress(_)
        ));
    }

    #[test]
    fn keys() {
        assert!(check_key("backup:101").is_ok());
        assert!(check_key("with spaces and ümlauts").is_ok());
        assert!(check_key(&"k".repeat(256)).is_ok());
        assert!(check_key(&"k".repeat(257)).is_err());
        assert!(check_key("").is_err());
        for bad in ["a\nb", "tab\there", "nul\0", "del\u{7f}", "c1\u{85}"] {
            assert!(check_key(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_form_reads_back() {
        let mut record = RecordData {
            key: "check: disk /var".to_string(),
            targets: BTreeMap::new(),
        };
        record
            .targets
            .insert("mail".into(), delivered(Error, 1000, HOUR));
        record
            .targets
            .insert("phone".into(), suppressed(&delivered(Info, 5, 0), 7));
        let text = record.to_text();
        assert_eq!(
            text,
            "pvenotify-dedup 1\nkey check: disk /var\n\
             target mail error 1000 4600 0 -\ntarget phone info 5 5 1 7\n"
        );
        assert_eq!(RecordData::parse(text.as_bytes()), Ok(Some(record.clone())));
        assert_eq!(record.quiet_until(), Some(4600));
        assert_eq!(RecordData::parse(b""), Ok(None));
    }

    #[test]
    fn damaged_text_is_an_error() {
        for bad in [
            &b"pvenotify-dedup 2\nkey k\n"[..],
            b"pvenotify-dedup 1\n",
            b"pvenotify-dedup 1\nkey k\ntarget a error 1 2\n",
            b"pvenotify-dedup 1\nkey k\ntarget a fatal 1 2 0 -\n",
            b"pvenotify-dedup 1\nkey k\ntarget a error 1 2 0 -\ntarg",
            b"\xff",
        ] {
            assert!(RecordData::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn note_wording() {
        assert_eq!(
            note_line(3, "2026-12-01 10:00:05"),
            "(3 similar notifications suppressed since 2026-12-01 10:00:05)"
        );
        assert_eq!(
            note_line(1, "x"),
            "(1 similar notification suppressed since x)"
        );
    }

    fn event(body: &str, html: Html) -> Notification {
        let mut event = Notification::new("t", body, Error, 0, Default::default());
        event.html = html;
        event
    }

    #[test]
    fn note_goes_last_into_the_text_and_into_a_rendered_html_part() {
        let line = "(2 similar notifications suppressed since 10:00 <&>)";
        let mut literal = event("disk full", Html::FromBody);
        add_note(&mut literal, line);
        assert_eq!(literal.body, format!("disk full\n\n{line}"));
        assert_eq!(
            literal.html,
            Html::FromBody,
            "derived from the body, note included"
        );

        let mut rendered = event(
            "text\n",
            Html::Rendered("<html>\n<BODY>\n<p>x</p>\n</Body>\n</html>\n".into()),
        );
        add_note(&mut rendered, line);
        assert_eq!(rendered.body, format!("text\n\n{line}"));
        let note = "<p>(2 similar notifications suppressed since 10:00 &lt;&amp;&gt;)</p>\n";
        assert_eq!(
            rendered.html,
            Html::Rendered(format!(
                "<html>\n<BODY>\n<p>x</p>\n{note}</Body>\n</html>\n"
            ))
        );

        let mut fragment = event("", Html::Rendered("<p>x</p>".into()));
        add_note(&mut fragment, line);
        assert_eq!(fragment.body, line);
        assert_eq!(fragment.html, Html::Rendered(format!("<p>x</p>\n{note}")));

        let mut unavailable = event("b", Html::Unavailable("no HTML".into()));
        add_note(&mut unavailable, line);
        assert_eq!(unavailable.html, Html::Unavailable("no HTML".into()));
    }
}
