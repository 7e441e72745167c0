//! forward-mail end to end without services: what sendmail targets receive, the exit
//! status policy, and the retry state across runs.

mod common;
mod fixture;

use std::os::unix::fs::PermissionsExt;

use fixture::{ConfigDir, stderr_of, stdout_of};

/// A sendmail that appends one line per call to `calls` and keeps the last input.
fn counting_sendmail(dir: &ConfigDir) -> String {
    let program = dir.file("sendmail");
    std::fs::write(
        &program,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{calls}'\ncat > '{input}'\n",
            calls = dir.file("calls").display(),
            input = dir.file("input").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
    program.to_str().unwrap().to_string()
}

fn calls(dir: &ConfigDir) -> Vec<String> {
    std::fs::read_to_string(dir.file("calls"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

const CONFIG: &str = "\
sendmail: archive
	mailto archive@example.com
	from-address pve@example.com

matcher: default-matcher
	disable true

matcher: system-mail
	match-field exact:type=system-mail
	target archive
";

/// A mail as Postfix's local(8) hands it to a command: mbox line and trace headers first.
const MAIL: &[u8] = b"From root@pve1  Fri May 23 11:59:32 2025\n\
Return-Path: <root@pve1>\n\
X-Original-To: root\n\
Delivered-To: root@pve1\n\
From: Cron Daemon <root@pve1>\n\
To: root@pve1\n\
Subject: Cron <root@pve1> /usr/local/bin/check-disks\n\
Message-ID: <cron.1234@pve1>\n\
Content-Type: text/plain; charset=UTF-8\n\
\n\
/dev/sda: 93% used\n";

#[test]
fn sendmail_targets_get_the_original_bytes_with_dsn_off() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = counting_sendmail(&dir);
    let out = dir
        .cmd(&["--sendmail", &sendmail, "forward-mail", "--no-state"])
        .write_stdin(MAIL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "archive (sendmail): delivered\n");
    assert_eq!(
        calls(&dir),
        ["-N never -f pve@example.com -- archive@example.com"]
    );
    assert_eq!(
        std::fs::read(dir.file("input")).unwrap(),
        MAIL,
        "forwarded as is"
    );
}

#[test]
fn retry_state_skips_targets_that_already_have_the_mail() {
    let dir = ConfigDir::new(&format!(
        "{CONFIG}\n\
         gotify: phone\n\tserver http://127.0.0.1:12998\n\n\
         matcher: to-phone\n\tmatch-severity unknown\n\ttarget phone\n"
    ));
    dir.write("priv/notifications.cfg", "gotify: phone\n\ttoken t0ken\n");
    let state = tempfile::tempdir().unwrap();
    let sendmail = counting_sendmail(&dir);
    let run = || {
        dir.cmd(&["--sendmail", &sendmail, "forward-mail", "--state-dir"])
            .arg(state.path())
            .write_stdin(MAIL)
            .output()
            .unwrap()
    };

    // phone cannot be reached: the MTA must keep the mail (75); archive got it.
    let first = run();
    assert_eq!(first.status.code(), Some(75), "{}", stderr_of(&first));
    assert!(stderr_of(&first).contains("archive (sendmail): delivered"));
    assert!(stderr_of(&first).contains("phone (gotify): failed (temporary)"));
    assert_eq!(calls(&dir).len(), 1);

    // The retry (same message, new trace headers) does not mail archive again.
    let retried: Vec<u8> = [&b"Received: from localhost by pve1; today\n"[..], MAIL].concat();
    let second = dir
        .cmd(&["--sendmail", &sendmail, "forward-mail", "--state-dir"])
        .arg(state.path())
        .write_stdin(retried)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(75));
    assert!(
        stderr_of(&second).contains("archive (sendmail): already delivered"),
        "{}",
        stderr_of(&second)
    );
    assert_eq!(calls(&dir).len(), 1, "archive not delivered twice");

    // The failing target is switched off: the message is now complete, exit 0, and a
    // later copy of it is recognised as already forwarded.
    dir.write(
        "notifications.cfg",
        &format!("{CONFIG}\ngotify: phone\n\tserver http://127.0.0.1:12998\n\tdisable true\n"),
    );
    let third = run();
    assert_eq!(third.status.code(), Some(0), "{}", stderr_of(&third));
    let fourth = run();
    assert_eq!(fourth.status.code(), Some(0));
    assert!(
        stderr_of(&fourth).contains("already forwarded"),
        "{}",
        stderr_of(&fourth)
    );
    assert_eq!(calls(&dir).len(), 1);

    let record = std::fs::read_dir(state.path().join("forward-mail"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let mode = std::fs::metadata(&record).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let text = std::fs::read_to_string(record).unwrap();
    assert!(text.starts_with("pvenotify-forward-state 1\n"), "{text}");
    assert_eq!(text.matches("delivered archive ").count(), 1, "{text}");
    assert!(text.contains("\ncomplete "), "{text}");
}

#[test]
fn json_result_marks_already_delivered_targets() {
    let dir = ConfigDir::new(CONFIG);
    let state = tempfile::tempdir().unwrap();
    let sendmail = counting_sendmail(&dir);
    let run = |extra: &str| {
        dir.cmd(&[
            "--output-format",
            "json",
            "--sendmail",
            &sendmail,
            "forward-mail",
            "--state-dir",
        ])
        .arg(state.path())
        .write_stdin([MAIL, extra.as_bytes()].concat())
        .output()
        .unwrap()
    };
    let out = run("");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["results"][0]["status"], "delivered");
    assert_eq!(json["event"]["severity"], "unknown");
    assert_eq!(json["event"]["fields"]["type"], "system-mail");
    assert_eq!(json["event"]["fields"]["hostname"], "pve1");
    assert_eq!(
        json["event"]["title"],
        "Cron <root@pve1> /usr/local/bin/check-disks"
    );
    assert_eq!(json["exit-status"], 0);
}

#[test]
fn a_mail_without_subject_gets_a_fallback_title() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = counting_sendmail(&dir);
    let mail = b"From: cron@pve1\n\nno subject here\n";
    let out = dir
        .cmd(&[
            "--output-format",
            "json",
            "--sendmail",
            &sendmail,
            "forward-mail",
            "--no-state",
        ])
        .write_stdin(&mail[..])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["event"]["title"], "(no subject)");
    // The mail target still gets the mail as it was.
    assert_eq!(std::fs::read(dir.file("input")).unwrap(), mail);
}

#[test]
fn empty_input_is_not_an_error() {
    let dir = ConfigDir::new(CONFIG);
    for input in [&b""[..], b"\n \n"] {
        let out = dir
            .cmd(&["forward-mail", "--no-state"])
            .write_stdin(input)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(stderr_of(&out).contains("empty message; nothing to forward"));
    }
}

#[test]
fn configuration_errors_keep_the_mail_queued() {
    let dir = ConfigDir::new("sendmail: archive\n\tmailto a@example.com\n\tbogus 1\n");
    let out = dir
        .cmd(&["forward-mail", "--no-state"])
        .write_stdin(MAIL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
    assert!(
        stderr_of(&out).contains("unknown property 'bogus'"),
        "{}",
        stderr_of(&out)
    );

    let out = fixture::pvenotify()
        .args([
            "--config-dir",
            "/nonexistent/pve",
            "forward-mail",
            "--no-state",
        ])
        .write_stdin(MAIL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
}

#[test]
fn bad_arguments_keep_the_mail_queued() {
    let out = fixture::pvenotify()
        .args(["forward-mail", "--no-such-option"])
        .write_stdin(MAIL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
}

#[test]
fn missing_targets_only_keep_the_mail_queued() {
    let dir =
        ConfigDir::new("matcher: default-matcher\n\tdisable true\n\nmatcher: m1\n\ttarget ghost\n");
    let out = dir
        .cmd(&["forward-mail", "--no-state"])
        .write_stdin(MAIL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr_of(&out));

    let dir = ConfigDir::new("matcher: default-matcher\n\tdisable true\n");
    let out = dir
        .cmd(&["forward-mail", "--no-state"])
        .write_stdin(MAIL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(stderr_of(&out).contains("no target selected; message not forwarded"));
}

#[test]
fn binary_and_broken_input_is_forwarded_not_dropped() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = counting_sendmail(&dir);
    let garbage: Vec<u8> = (0..4096u32).map(|i| (i * 7 % 256) as u8).collect();
    let out = dir
        .cmd(&["--sendmail", &sendmail, "forward-mail", "--no-state"])
        .write_stdin(garbage.clone())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(std::fs::read(dir.file("input")).unwrap(), garbage);
    assert!(!stderr_of(&out).contains("panicked"));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn unusable_state_directory_warns_and_still_delivers() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = counting_sendmail(&dir);
    let state = tempfile::tempdir().unwrap();
    let shared = state.path().join("forward-mail");
    std::fs::create_dir(&shared).unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o777)).unwrap();
    let out = dir
        .cmd(&["--sendmail", &sendmail, "forward-mail", "--state-dir"])
        .arg(state.path())
        .write_stdin(MAIL)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("retry state unusable"),
        "{}",
        stderr_of(&out)
    );
    assert_eq!(calls(&dir).len(), 1);
}

/// smtp targets get new envelope headers around the original content (upstream's way).
#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn smtp_targets_get_the_original_content_under_new_headers() {
    let svc = common::services();
    let marker = common::unique_marker("fwd-smtp");
    let dir = ConfigDir::new(&format!(
        "smtp: relay\n\tserver 127.0.0.1\n\tport {}\n\tmode insecure\n\
         \tfrom-address pve@example.com\n\tauthor PVE Relay\n\tmailto {marker}@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: system-mail\n\tmatch-field exact:type=system-mail\n\ttarget relay\n",
        svc.smtp_plain_port
    ));
    let mail = format!(
        "From root@pve1  Fri May 23 11:59:32 2025\n\
         Delivered-To: root@pve1\n\
         From: smartd <root@pve1>\n\
         To: root@pve1\n\
         Subject: =?UTF-8?Q?SMART_error_=E2=80=93_{marker}?=\n\
         Message-ID: <smartd.{marker}@pve1>\n\
         MIME-Version: 1.0\n\
         Content-Type: multipart/alternative; boundary=\"b-{marker}\"\n\
         \n\
         --b-{marker}\n\
         Content-Type: text/plain; charset=utf-8\n\
         \n\
         Device: /dev/sda, 8 Currently unreadable sectors\n\
         --b-{marker}\n\
         Content-Type: text/html; charset=utf-8\n\
         \n\
         <p>Device: /dev/sda</p>\n\
         --b-{marker}--\n"
    );
    let out = dir
        .cmd(&["forward-mail", "--no-state"])
        .write_stdin(mail)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "relay (smtp): delivered\n");

    let got = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        common::DEFAULT_TIMEOUT,
    );
    assert_eq!(got.mail_from(), "pve@example.com");
    assert_eq!(
        got.header("From").as_deref(),
        Some("PVE Relay <pve@example.com>")
    );
    assert_eq!(
        got.header("To").as_deref(),
        Some(format!("{marker}@example.com").as_str())
    );
    let subject = got.header("Subject").expect("Subject");
    assert!(subject.contains("=?utf-8?"), "re-encoded: {subject}");
    assert_eq!(got.header("MIME-Version").as_deref(), Some("1.0"));
    assert_eq!(
        got.header("Content-Type").as_deref(),
        Some(format!("multipart/alternative; boundary=\"b-{marker}\"").as_str())
    );
    assert_eq!(
        got.header("Auto-Submitted").as_deref(),
        Some("auto-generated;")
    );
    assert!(
        got.header("Delivered-To").is_none(),
        "original trace headers dropped"
    );
    assert!(
        !got.header("Message-ID")
            .unwrap_or_default()
            .contains("smartd."),
        "new Message-ID"
    );
    let text = got.text();
    assert!(
        text.contains("Device: /dev/sda, 8 Currently unreadable sectors"),
        "{text}"
    );
    assert!(
        text.contains(&format!("--b-{marker}--")),
        "original MIME body kept: {text}"
    );
}

#[test]
fn a_fifo_in_place_of_notifications_cfg_keeps_the_mail_queued() {
    let dir = ConfigDir::new("");
    let fifo = dir.file("notifications.cfg");
    let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(path.as_ptr(), 0o600) }, 0);
    let out = dir
        .cmd(&["forward-mail", "--no-state"])
        .write_stdin(MAIL)
        .timeout(std::time::Duration::from_secs(10))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75), "{}", stderr_of(&out));
    let expected = format!(
        "{}: cannot read: not a regular file (a FIFO)",
        fifo.display()
    );
    assert!(stderr_of(&out).contains(&expected), "{}", stderr_of(&out));
}
