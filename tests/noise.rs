//! `send --dedup-key/--cooldown` end to end (noise.md §1–2), delivering to the webhook mock
//! and the SMTP server of the test services and counting what arrived there: suppression
//! inside and after the cooldown, the count in the next delivery, severity changes, per
//! target records, dry-run leaving the state alone, concurrent runs, unusable state, a
//! run killed while it holds a record, and templated events (the note in the text and HTML
//! part, the count and time in the template data, one rendering per note).
//!
//! `PVENOTIFY_TEST_NOW` (a test-only override of the wall clock that noise control reads)
//! steps past a cooldown without sleeping; one test uses the real clock.

mod common;
mod fixture;

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::{DEFAULT_TIMEOUT, services, unique_marker};
use fixture::{ConfigDir, stderr_of, stdout_of};

const T0: i64 = 1_796_000_000; // 2026-11-30 00:53:20 UTC

fn b64(text: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
}

/// The webhook body: the message (with any note) as JSON.
const BODY: &str = r#"{"title":"{{ escape title }}","message":"{{ escape message }}","severity":"{{ severity }}"}"#;

/// A test's configuration and state: webhook `hook` to `/hook/MARKER`, optionally `bad`
/// (answers 500) and an smtp target `mail`, all matched by every event.
struct Setup {
    config: ConfigDir,
    state: tempfile::TempDir,
    marker: String,
}

impl Setup {
    fn new(name: &str, bad: bool, smtp: bool) -> Setup {
        let svc = services();
        let marker = unique_marker(name);
        let mut text = format!(
            "webhook: hook\n\tmethod post\n\turl {}\n\tbody {}\n\n",
            svc.http_url(&format!("/hook/{marker}")),
            b64(BODY)
        );
        let mut targets = vec!["hook"];
        if bad {
            text.push_str(&format!(
                "webhook: bad\n\tmethod post\n\turl {}\n\n",
                svc.http_url(&format!("/status/500/{marker}"))
            ));
            targets.push("bad");
        }
        if smtp {
            text.push_str(&format!(
                "smtp: mail\n\tserver 127.0.0.1\n\tport {}\n\tmode insecure\n\tmailto {marker}@example.com\n\tfrom-address pve@example.com\n\n",
                svc.smtp_plain_port
            ));
            targets.push("mail");
        }
        text.push_str("matcher: default-matcher\n\tdisable true\n\nmatcher: all\n");
        for target in targets {
            text.push_str(&format!("\ttarget {target}\n"));
        }
        Setup {
            config: ConfigDir::new(&text),
            state: tempfile::tempdir().unwrap(),
            marker,
        }
    }

    /// `send --dedup-key KEY --state-dir STATE ARGS…` at the wall-clock time `now`.
    fn send(&self, now: Option<i64>, key: &str, args: &[&str]) -> Output {
        let mut cmd = self.config.cmd(&[
            "send",
            "--title",
            &format!("Check {}", self.marker),
            "--body",
            "disk full",
            "--dedup-key",
            key,
            "--state-dir",
            self.state.path().to_str().unwrap(),
        ]);
        cmd.args(args);
        if let Some(now) = now {
            cmd.env("PVENOTIFY_TEST_NOW", now.to_string());
        }
        cmd.timeout(Duration::from_secs(60)).output().unwrap()
    }

    /// Requests that reached `/hook/MARKER` (or `/status/500/MARKER` for `bad`).
    fn hits(&self, target: &str) -> Vec<common::RecordedRequest> {
        let prefix = match target {
            "bad" => format!("/status/500/{}", self.marker),
            _ => format!("/hook/{}", self.marker),
        };
        services()
            .requests()
            .into_iter()
            .filter(|r| r.path() == prefix)
            .collect()
    }

    fn messages(&self) -> Vec<String> {
        self.hits("hook")
            .iter()
            .map(|r| {
                r.body_json().unwrap()["message"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    }

    fn dedup_dir(&self) -> PathBuf {
        self.state.path().join("dedup")
    }
}

fn all(out: &Output) -> String {
    format!("{}{}", stdout_of(out), stderr_of(out))
}

fn assert_status(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", all(out));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn repeats_are_suppressed_until_the_cooldown_ends_and_the_next_one_counts_them() {
    let s = Setup::new("dedup-cooldown", false, true);
    let first = s.send(Some(T0), "disk:/var", &["--severity", "error"]);
    assert_status(&first, 0);
    assert!(stderr_of(&first).contains("hook (webhook): delivered"));

    let second = s.send(Some(T0 + 60), "disk:/var", &["--severity", "error"]);
    assert_status(&second, 0);
    assert!(
        stderr_of(&second).contains(
            "hook (webhook): suppressed (same key sent 2026-11-30 00:53:20, quiet until 01:53:20, 1 suppressed)"
        ),
        "{}",
        all(&second)
    );
    assert!(stderr_of(&second).contains("mail (smtp): suppressed ("));

    let third = s.send(
        Some(T0 + 3599),
        "disk:/var",
        &["--severity", "error", "--cooldown", "1h"],
    );
    assert_status(&third, 0);
    assert!(
        stderr_of(&third).contains("2 suppressed)"),
        "{}",
        all(&third)
    );
    let json_run = {
        let mut cmd = s.config.cmd(&[
            "--output-format",
            "json",
            "send",
            "--title",
            "x",
            "--severity",
            "error",
            "--dedup-key",
            "disk:/var",
            "--state-dir",
            s.state.path().to_str().unwrap(),
        ]);
        cmd.env("PVENOTIFY_TEST_NOW", (T0 + 3599).to_string());
        cmd.output().unwrap()
    };
    let json: serde_json::Value = serde_json::from_slice(&json_run.stdout).unwrap();
    let hook = &json["results"][0];
    assert_eq!(hook["target"], "hook", "{json}");
    assert_eq!(hook["status"], "suppressed");
    assert_eq!(hook["sent-at"], T0);
    assert_eq!(hook["quiet-until"], T0 + 3600);
    assert_eq!(hook["suppressed-count"], 3);
    assert_eq!(json["exit-status"], 0);
    assert_eq!(s.hits("hook").len(), 1, "only the first went out");

    // The cooldown is over: delivered, with the count of what was suppressed.
    let after = s.send(Some(T0 + 3600), "disk:/var", &["--severity", "error"]);
    assert_status(&after, 0);
    assert!(stderr_of(&after).contains("hook (webhook): delivered"));
    let messages = s.messages();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0], "disk full");
    assert_eq!(
        messages[1],
        "disk full\n\n(3 similar notifications suppressed since 2026-11-30 00:54:20)"
    );
    let mail = services().wait_for_mail(
        |m| {
            m.rcpt_tos().contains(&format!("{}@example.com", s.marker))
                && m.text().contains("similar notifications")
        },
        DEFAULT_TIMEOUT,
    );
    let text = mail.text();
    let note = "(3 similar notifications suppressed since 2026-11-30 00:54:20)";
    assert_eq!(text.matches(note).count(), 2, "text and HTML part:\n{text}");
    assert!(text.contains("text/html"), "{text}");

    // And the cooldown starts again with the count back at zero.
    let again = s.send(Some(T0 + 3660), "disk:/var", &["--severity", "error"]);
    assert!(
        stderr_of(&again).contains("quiet until 02:53:20, 1 suppressed)"),
        "{}",
        all(&again)
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn the_real_clock_suppresses_and_cooldown_zero_does_not() {
    let s = Setup::new("dedup-wall", false, false);
    assert_status(&s.send(None, "k", &[]), 0);
    let second = s.send(None, "k", &["--cooldown", "1d"]);
    assert_status(&second, 0);
    assert!(stderr_of(&second).contains("hook (webhook): suppressed (same key sent "));
    assert_eq!(s.hits("hook").len(), 1);
    let third = s.send(None, "k", &["--cooldown", "0"]);
    assert!(stderr_of(&third).contains("hook (webhook): delivered"));
    // Another key is another event.
    assert!(stderr_of(&s.send(None, "other", &[])).contains("hook (webhook): delivered"));
    assert_eq!(s.hits("hook").len(), 3);
    // --timestamp is the event's time, not noise control's clock.
    let old = s.send(None, "k", &["--timestamp", "0"]);
    assert!(stderr_of(&old).contains("suppressed"), "{}", all(&old));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn another_severity_passes_at_once_and_restarts_the_cooldown() {
    let s = Setup::new("dedup-severity", false, false);
    s.send(Some(T0), "vm:101", &["--severity", "error"]);
    let repeat = s.send(Some(T0 + 10), "vm:101", &["--severity", "error"]);
    assert!(stderr_of(&repeat).contains("suppressed"));
    let recovery = s.send(Some(T0 + 20), "vm:101", &["--severity", "info"]);
    assert!(
        stderr_of(&recovery).contains("hook (webhook): delivered"),
        "{}",
        all(&recovery)
    );
    let recovery_again = s.send(Some(T0 + 30), "vm:101", &["--severity", "info"]);
    assert!(stderr_of(&recovery_again).contains("suppressed (same key sent 2026-11-30 00:53:40"));
    let back = s.send(Some(T0 + 40), "vm:101", &["--severity", "error"]);
    assert!(stderr_of(&back).contains("delivered"));
    let severities: Vec<String> = s
        .hits("hook")
        .iter()
        .map(|r| {
            r.body_json().unwrap()["severity"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(severities, ["error", "info", "error"]);
    assert!(
        s.messages()[1].ends_with("(1 similar notification suppressed since 2026-11-30 00:53:30)")
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn each_target_has_its_own_record_and_failures_start_no_cooldown() {
    let s = Setup::new("dedup-per-target", true, false);
    let first = s.send(Some(T0), "k", &[]);
    assert_status(&first, 75);
    assert!(stderr_of(&first).contains("bad (webhook): failed (temporary)"));
    assert!(stderr_of(&first).contains("hook (webhook): delivered"));
    let second = s.send(Some(T0 + 1), "k", &[]);
    assert_status(&second, 75);
    assert!(
        stderr_of(&second).contains("bad (webhook): failed (temporary)"),
        "{}",
        all(&second)
    );
    assert!(stderr_of(&second).contains("hook (webhook): suppressed"));
    assert_eq!(
        s.hits("bad").len(),
        2,
        "the failing target is tried each time"
    );
    assert_eq!(s.hits("hook").len(), 1);
    let record = std::fs::read_dir(s.dedup_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .unwrap();
    let text = std::fs::read_to_string(record).unwrap();
    assert!(
        text.contains("key k\n") && text.contains("target hook info"),
        "{text}"
    );
    assert!(!text.contains("target bad"), "{text}");
}

// ------------------------------------------------------------------ templates

/// Override files of template `check`: text and HTML parts that do not use the noise
/// fields, and a subject that prints them.
const CHECK_FILES: &[(&str, &str)] = &[
    (
        "check-subject.txt.hbs",
        "Check {{name}} [{{suppressed-count}} {{suppressed-since}}]",
    ),
    ("check-body.txt.hbs", "Disk {{disk}} is full.\n"),
    (
        "check-body.html.hbs",
        "<html>\n<body>\n<p>Disk {{disk}} is full.</p>\n</body>\n</html>\n",
    ),
];

impl Setup {
    /// `[GLOBAL…] send --template check --data … --dedup-key KEY` at wall-clock time `now`,
    /// with the template files of `CHECK_FILES` as overrides and no vendor files.
    fn send_templated(&self, now: i64, key: &str, global: &[&str]) -> Output {
        for (name, text) in CHECK_FILES {
            self.config
                .write(&format!("notification-templates/default/{name}"), text);
        }
        let data = serde_json::json!({"name": self.marker, "disk": "/var"});
        self.config.write("data.json", &data.to_string());
        let vendor = self.config.file("vendor");
        let data = self.config.file("data.json");
        let mut args = vec!["--template-dir", vendor.to_str().unwrap()];
        args.extend_from_slice(global);
        args.extend_from_slice(&[
            "send",
            "--severity",
            "error",
            "--template",
            "check",
            "--data",
            data.to_str().unwrap(),
            "--dedup-key",
            key,
            "--state-dir",
            self.state.path().to_str().unwrap(),
        ]);
        let out = self
            .config
            .cmd(&args)
            .env("PVENOTIFY_TEST_NOW", now.to_string())
            .timeout(Duration::from_secs(60))
            .output()
            .unwrap();
        assert_status(&out, 0);
        out
    }

    /// Title and message of each request that reached `/PREFIX/MARKER`.
    fn titled_messages(&self, prefix: &str) -> Vec<(String, String)> {
        let path = format!("/{prefix}/{}", self.marker);
        services()
            .requests()
            .into_iter()
            .filter(|r| r.path() == path)
            .map(|r| {
                let json = r.body_json().unwrap();
                let text = |key: &str| json[key].as_str().unwrap().to_string();
                (text("title"), text("message"))
            })
            .collect()
    }
}

/// Subject, text and HTML part of the mail to `MARKER@example.com` whose subject
/// contains `subject`, line ends as LF.
fn mail_parts(marker: &str, subject: &str) -> (String, String, String) {
    let mail = services().wait_for_mail(
        |m| {
            m.rcpt_tos().contains(&format!("{marker}@example.com"))
                && m.header("Subject").is_some_and(|s| s.contains(subject))
        },
        DEFAULT_TIMEOUT,
    );
    common::mail_parts(&mail.raw)
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_templated_event_after_suppressed_ones_has_the_count_in_text_html_and_data() {
    let s = Setup::new("dedup-template", false, true);
    let first = s.send_templated(T0, "disk:/var", &[]);
    assert!(stderr_of(&first).contains("hook (webhook): delivered"));
    assert!(stderr_of(&first).contains("mail (smtp): delivered"));
    for now in [T0 + 60, T0 + 120] {
        let quiet = s.send_templated(now, "disk:/var", &[]);
        assert!(
            stderr_of(&quiet).contains("hook (webhook): suppressed (")
                && stderr_of(&quiet).contains("mail (smtp): suppressed ("),
            "{}",
            all(&quiet)
        );
    }
    let after = s.send_templated(T0 + 3600, "disk:/var", &[]);
    assert!(stderr_of(&after).contains("mail (smtp): delivered"));

    let marker = &s.marker;
    let note = "(2 similar notifications suppressed since 2026-11-30 00:54:20)";
    // Without suppressed ones the data has no such keys; the parts that do not use them
    // render as they always do, and the note comes last.
    assert_eq!(
        s.titled_messages("hook"),
        [
            (
                format!("Check {marker} [ ]"),
                "Disk /var is full.\n".to_string()
            ),
            (
                format!("Check {marker} [2 {}]", T0 + 60),
                format!("Disk /var is full.\n\n{note}")
            ),
        ]
    );
    let (subject, text, html) = mail_parts(marker, "[ ]");
    assert_eq!(subject, format!("Check {marker} [ ]"));
    assert_eq!(text, "Disk /var is full.\n");
    assert_eq!(
        html,
        "<html>\n<body>\n<p>Disk /var is full.</p>\n</body>\n</html>\n"
    );
    let (subject, text, html) = mail_parts(marker, "[2 ");
    assert_eq!(subject, format!("Check {marker} [2 {}]", T0 + 60));
    assert_eq!(text, format!("Disk /var is full.\n\n{note}"));
    assert_eq!(
        html,
        format!("<html>\n<body>\n<p>Disk /var is full.</p>\n<p>{note}</p>\n</body>\n</html>\n")
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn targets_with_different_notes_get_their_own_rendering() {
    let s = Setup::new("dedup-template-notes", false, false);
    s.send_templated(T0, "k", &[]);
    let quiet = s.send_templated(T0 + 60, "k", &[]);
    assert!(stderr_of(&quiet).contains("hook (webhook): suppressed ("));
    // A second target joins: it has no record, so no note.
    let svc = services();
    s.config.write(
        "notifications.cfg",
        &format!(
            "webhook: hook\n\tmethod post\n\turl {}\n\tbody {body}\n\n\
             webhook: late\n\tmethod post\n\turl {}\n\tbody {body}\n\n\
             matcher: default-matcher\n\tdisable true\n\nmatcher: all\n\ttarget hook\n\ttarget late\n",
            svc.http_url(&format!("/hook/{}", s.marker)),
            svc.http_url(&format!("/late/{}", s.marker)),
            body = b64(BODY)
        ),
    );
    let after = s.send_templated(T0 + 3600, "k", &["-v"]);
    let stderr = stderr_of(&after);
    assert!(stderr.contains("late (webhook): delivered"), "{stderr}");
    assert_eq!(
        stderr
            .matches("template 'check': subject from override")
            .count(),
        1,
        "rendered twice, told once: {stderr}"
    );

    let marker = &s.marker;
    let hook = s.titled_messages("hook");
    assert_eq!(hook.len(), 2, "{hook:?}");
    assert_eq!(
        hook[1],
        (
            format!("Check {marker} [1 {}]", T0 + 60),
            "Disk /var is full.\n\n(1 similar notification suppressed since 2026-11-30 00:54:20)"
                .to_string()
        )
    );
    assert_eq!(
        s.titled_messages("late"),
        [(
            format!("Check {marker} [ ]"),
            "Disk /var is full.\n".to_string()
        )]
    );
}

/// Every file under `dir` with its bytes and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (Vec<u8>, std::time::SystemTime, u32)> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let meta = std::fs::metadata(&path).unwrap();
        let bytes = if meta.is_dir() {
            Vec::new()
        } else {
            std::fs::read(&path).unwrap()
        };
        files.insert(
            path.clone(),
            (bytes, meta.modified().unwrap(), meta.permissions().mode()),
        );
        if meta.is_dir() {
            files.extend(snapshot(&path));
        }
    }
    files
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn dry_run_and_explain_show_suppression_and_change_nothing() {
    let s = Setup::new("dedup-dry", true, false);
    // Without any state yet, dry-run creates none.
    let dry = s.send(Some(T0), "k", &["--dry-run"]);
    assert_eq!(stdout_of(&dry), "bad\nhook\n");
    assert!(!s.dedup_dir().exists());

    s.send(Some(T0), "k", &["--severity", "error"]);
    let before = snapshot(s.state.path());
    let dry = s.send(Some(T0 + 60), "k", &["--severity", "error", "--dry-run"]);
    assert_status(&dry, 0);
    assert_eq!(stdout_of(&dry), "bad\n");
    assert!(
        stderr_of(&dry).contains("hook: suppressed until 01:53:20 (same key sent 00:53:20)"),
        "{}",
        all(&dry)
    );
    let explain = s.send(Some(T0 + 60), "k", &["--severity", "error", "--explain"]);
    assert!(
        stdout_of(&explain).contains("noise control: hook: suppressed until "),
        "{}",
        all(&explain)
    );
    let json = s.send(
        Some(T0 + 60),
        "k",
        &[
            "--severity",
            "error",
            "--dry-run",
            "--output-format",
            "json",
        ],
    );
    assert_eq!(stdout_of(&json), "[\"bad\"]\n");
    // Another severity would go out.
    let other = s.send(Some(T0 + 60), "k", &["--severity", "info", "--dry-run"]);
    assert_eq!(stdout_of(&other), "bad\nhook\n");
    assert_eq!(
        snapshot(s.state.path()),
        before,
        "dry-run and explain changed the state"
    );
    assert_eq!(s.hits("hook").len(), 1);
}

fn concurrent(s: &Setup, keys: &[String]) -> Vec<Output> {
    let threads: Vec<_> = keys
        .iter()
        .map(|key| {
            let mut cmd = s.config.cmd(&[
                "send",
                "--title",
                &s.marker,
                "--body",
                "b",
                "--dedup-key",
                key,
                "--state-dir",
                s.state.path().to_str().unwrap(),
            ]);
            cmd.timeout(Duration::from_secs(120));
            std::thread::spawn(move || cmd.output().unwrap())
        })
        .collect();
    threads.into_iter().map(|t| t.join().unwrap()).collect()
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn ten_concurrent_sends_with_one_key_deliver_once() {
    let s = Setup::new("dedup-concurrent-one", false, false);
    let outputs = concurrent(&s, &vec!["same".to_string(); 10]);
    let mut suppressed = 0;
    for out in &outputs {
        assert_status(out, 0);
        suppressed += usize::from(stderr_of(out).contains("hook (webhook): suppressed"));
    }
    assert_eq!(suppressed, 9);
    assert_eq!(s.hits("hook").len(), 1);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn ten_concurrent_sends_with_ten_keys_deliver_ten() {
    let s = Setup::new("dedup-concurrent-ten", false, false);
    let keys: Vec<String> = (0..10).map(|i| format!("key-{i}")).collect();
    for out in concurrent(&s, &keys) {
        assert_status(&out, 0);
        assert!(stderr_of(&out).contains("hook (webhook): delivered"));
    }
    assert_eq!(s.hits("hook").len(), 10);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn unusable_state_warns_once_and_delivers() {
    // The state directory is a file.
    let s = Setup::new("dedup-unusable", false, false);
    std::fs::remove_dir(s.state.path()).unwrap();
    std::fs::write(s.state.path(), "not a directory").unwrap();
    for _ in 0..2 {
        let out = s.send(Some(T0), "k", &[]);
        assert_status(&out, 0);
        assert_eq!(
            stderr_of(&out)
                .matches("pvenotify: warning: noise control state not usable")
                .count(),
            1,
            "{}",
            all(&out)
        );
        assert!(stderr_of(&out).contains("hook (webhook): delivered"));
    }
    assert_eq!(s.hits("hook").len(), 2);
    std::fs::remove_file(s.state.path()).unwrap();
    std::fs::create_dir(s.state.path()).unwrap();

    // A directory others may write to.
    let s = Setup::new("dedup-open-dir", false, false);
    std::fs::create_dir(s.dedup_dir()).unwrap();
    std::fs::set_permissions(s.dedup_dir(), std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = s.send(Some(T0), "k", &[]);
    assert_status(&out, 0);
    assert!(
        stderr_of(&out).contains("writable by group or others"),
        "{}",
        all(&out)
    );
    assert!(stderr_of(&out).contains("hook (webhook): delivered"));

    // A damaged record: delivered, then started afresh.
    let s = Setup::new("dedup-damaged", false, false);
    s.send(Some(T0), "k", &[]);
    let record = std::fs::read_dir(s.dedup_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .unwrap();
    std::fs::write(
        &record,
        "pvenotify-dedup 1\nkey k\ntarget hook info garbage\n",
    )
    .unwrap();
    let out = s.send(Some(T0 + 1), "k", &[]);
    assert_status(&out, 0);
    assert!(
        stderr_of(&out).contains("pvenotify: warning: dedup record damaged"),
        "{}",
        all(&out)
    );
    assert!(stderr_of(&out).contains("hook (webhook): delivered"));
    assert!(stderr_of(&s.send(Some(T0 + 2), "k", &[])).contains("suppressed"));
    assert_eq!(s.hits("hook").len(), 2);
}

#[test]
fn bad_noise_options_are_usage_errors() {
    let config = ConfigDir::new("");
    let cases: [&[&str]; 5] = [
        &["--cooldown", "1h"],
        &["--dedup-key", ""],
        &["--dedup-key", "a\nb"],
        &["--dedup-key", &"k".repeat(257)],
        &["--dedup-key", "k", "--cooldown", "5"],
    ];
    for args in cases {
        let out = config
            .cmd(&["send", "--title", "t", "--body", "b"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", all(&out));
    }
    let ok = config
        .cmd(&["send", "--title", "t", "--body", "b", "--dry-run"])
        .args(["--dedup-key", &"k".repeat(256), "--cooldown", "1h 30m"])
        .output()
        .unwrap();
    assert_eq!(ok.status.code(), Some(0), "{}", all(&ok));
}

/// A sendmail that records its pid and then never ends, and one that delivers to a file.
fn sendmails(dir: &Path) -> (PathBuf, PathBuf) {
    let hang = dir.join("hanging-sendmail");
    std::fs::write(
        &hang,
        format!(
            "#!/bin/sh\necho $$ > '{}'\nexec sleep 600\n",
            dir.join("hang.pid").display()
        ),
    )
    .unwrap();
    let good = dir.join("good-sendmail");
    std::fs::write(
        &good,
        format!("#!/bin/sh\ncat >> '{}'\n", dir.join("delivered").display()),
    )
    .unwrap();
    for p in [&hang, &good] {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    (hang, good)
}

#[test]
fn a_run_killed_while_holding_the_record_loses_nothing_and_blocks_nobody() {
    let config = ConfigDir::new(
        "sendmail: mail\n\tmailto root@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\nmatcher: all\n\ttarget mail\n",
    );
    let state = tempfile::tempdir().unwrap();
    let (hang, good) = sendmails(config.path());
    let send = |sendmail: &Path, severity: &str| {
        let mut cmd = config.cmd(&[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--title",
            "t",
            "--body",
            "b",
            "--severity",
            severity,
            "--dedup-key",
            "k",
            "--state-dir",
            state.path().to_str().unwrap(),
        ]);
        cmd.env("PVENOTIFY_TEST_NOW", T0.to_string());
        cmd
    };
    let first = send(&good, "error")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(
        stderr_of(&first).contains("mail (sendmail): delivered"),
        "{}",
        all(&first)
    );

    // Another severity goes out, but its sendmail hangs while the record is locked.
    let mut held = std::process::Command::new(assert_cmd::cargo::cargo_bin!("pvenotify"));
    held.env("TZ", "UTC")
        .env("PVENOTIFY_TEST_NOW", T0.to_string())
        .env_remove("PVENOTIFY_STATE_DIR")
        .args(["--hostname", "pve1", "--config-dir"])
        .arg(config.path())
        .arg("--sendmail")
        .arg(&hang)
        .args(["send", "--title", "t", "--body", "b", "--severity", "info"])
        .args(["--dedup-key", "k", "--state-dir"])
        .arg(state.path());
    let mut child = held
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let pid_file = config.path().join("hang.pid");
    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    while !pid_file.exists()
        || std::fs::read_to_string(&pid_file)
            .unwrap()
            .trim()
            .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "the hanging sendmail never started"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    // It holds the lock on the record of the key right now.
    let record = std::fs::read_dir(state.path().join("dedup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| !p.file_name().unwrap().to_str().unwrap().starts_with('.'))
        .unwrap();
    let inode = std::os::unix::fs::MetadataExt::ino(&std::fs::metadata(&record).unwrap());
    let locks = std::fs::read_to_string("/proc/locks").unwrap();
    assert!(
        locks.lines().any(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            f.get(1) == Some(&"FLOCK")
                && f.get(4) == Some(&child.id().to_string().as_str())
                && f.get(5)
                    .is_some_and(|id| id.ends_with(&format!(":{inode}")))
        }),
        "pid {} holds no lock on {}:\n{locks}",
        child.id(),
        record.display()
    );
    child.kill().unwrap();
    child.wait().unwrap();
    let sleeper: i32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    unsafe_kill(sleeper);

    // The next run neither hangs nor lost the record: the old one (error) is still there.
    let started = Instant::now();
    let next = send(&good, "error")
        .timeout(Duration::from_secs(30))
        .output()
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        stderr_of(&next).contains("mail (sendmail): suppressed (same key sent"),
        "{}",
        all(&next)
    );
    let leftovers: Vec<_> = std::fs::read_dir(state.path().join("dedup"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

fn unsafe_kill(pid: i32) {
    let _ = std::process::Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status();
}
