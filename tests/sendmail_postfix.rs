//! sendmail targets through a real Postfix `sendmail`, relaying to a real SMTP server
//! (aiosmtpd) that the test reads the delivered message back from.

mod common;
mod fixture;

use common::{DEFAULT_TIMEOUT, services, unique_marker};
use fixture::{ConfigDir, stderr_of};

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn send_delivers_through_postfix_with_headers_and_body() {
    let svc = services();
    let marker = unique_marker("pf-send");
    let dir = ConfigDir::new(&format!(
        "sendmail: team\n\
         \tmailto {marker}@example.com\n\
         \tmailto-user alice@pve\n\
         \tmailto-user nomail@pve\n\
         \tfrom-address pve@example.com\n\
         \tauthor Prüf-Cluster (pve)\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: backups\n\tmatch-field exact:type=vzdump\n\ttarget team\n"
    ));
    dir.write(
        "user.cfg",
        "user:alice@pve:1:0:Alice::alice@example.com:::\nuser:nomail@pve:1:0::::::\n",
    );
    let title = format!("Backup {marker} fehlgeschlagen – VM 100");
    let out = dir
        .cmd(&["--sendmail", svc.sendmail.to_str().unwrap(), "send"])
        .args([
            "--field",
            "type=vzdump",
            "--severity",
            "error",
            "--title",
            &title,
        ])
        .args(["--body", "Job 100: <failed>\nsee log\n"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("team (sendmail): delivered"));
    assert!(
        stderr_of(&out)
            .contains("user 'nomail@pve' (mailto-user of target 'team') has no e-mail address"),
        "{}",
        stderr_of(&out)
    );

    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        DEFAULT_TIMEOUT,
    );
    assert_eq!(mail.mail_from(), "pve@example.com");
    let mut rcpts = mail.rcpt_tos();
    rcpts.sort();
    let mut expected = vec![
        format!("{marker}@example.com"),
        "alice@example.com".to_string(),
    ];
    expected.sort();
    assert_eq!(rcpts, expected);
    assert!(
        mail.mail_options()
            .iter()
            .any(|o| o.eq_ignore_ascii_case("BODY=8BITMIME")),
        "-B 8BITMIME reaches the relay: {:?}",
        mail.mail_options()
    );
    let from = mail.header("From").expect("From header");
    assert!(from.ends_with("<pve@example.com>"), "{from}");
    assert!(
        from.contains("=?utf-8?"),
        "non-ASCII author RFC 2047-encoded: {from}"
    );
    assert_eq!(
        mail.header("To").as_deref(),
        Some(format!("{marker}@example.com, alice@example.com").as_str())
    );
    let subject = mail.header("Subject").expect("Subject");
    assert!(
        subject.contains("=?utf-8?"),
        "non-ASCII subject encoded: {subject}"
    );
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated;")
    );
    let message_id = mail.header("Message-ID").expect("Message-ID");
    assert!(message_id.ends_with("@pve1>"), "{message_id}");
    assert!(
        mail.header("Content-Type")
            .is_some_and(|c| c.starts_with("multipart/alternative")),
        "{:?}",
        mail.header("Content-Type")
    );
    let raw = mail.text();
    assert!(raw.contains("Job 100: <failed>"), "{raw}");
    assert!(raw.contains("<pre>Job 100: &lt;failed&gt;"), "{raw}");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn default_sender_root_is_qualified_by_postfix() {
    let svc = services();
    let marker = unique_marker("pf-root");
    let dir = ConfigDir::new("");
    dir.write(
        "user.cfg",
        &format!("user:root@pam:1:0:::{marker}@example.com:::\n"),
    );
    let out = dir
        .cmd(&["--sendmail", svc.sendmail.to_str().unwrap(), "send"])
        .args(["--title", &format!("root test {marker}"), "--body", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "mail-to-root (sendmail): delivered\n");
    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        DEFAULT_TIMEOUT,
    );
    // The built-in target sends as bare `root`; the MTA qualifies it (upstream behaviour).
    assert!(
        mail.mail_from().starts_with("root@"),
        "{}",
        mail.mail_from()
    );
    let from = mail.header("From").expect("From");
    assert!(from.starts_with("Proxmox VE <root"), "{from}");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn test_target_reaches_the_relay_through_postfix() {
    let svc = services();
    let marker = unique_marker("pf-test");
    let dir = ConfigDir::new(&format!(
        "sendmail: ops\n\tmailto {marker}@example.com\n\tfrom-address pve@example.com\n"
    ));
    let out = dir
        .cmd(&[
            "--sendmail",
            svc.sendmail.to_str().unwrap(),
            "test-target",
            "ops",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        DEFAULT_TIMEOUT,
    );
    assert_eq!(mail.header("Subject").as_deref(), Some("Test notification"));
    assert!(
        mail.text()
            .contains("This is a test of the notification target 'ops'.")
    );
}

/// A line holding only a dot ends a message that sendmail reads without `-i`: the rest of
/// the text and the whole HTML part were lost (as with upstream's arguments).
#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_line_holding_only_a_dot_does_not_cut_the_mail() {
    let svc = services();
    let marker = unique_marker("pf-dot");
    let dir = ConfigDir::new(&format!(
        "sendmail: ops\n\tmailto {marker}@example.com\n\tfrom-address pve@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: all\n\ttarget ops\n"
    ));
    let body = "before the dot\n.\nafter the dot\n..\nlast line";
    let out = dir
        .cmd(&["--sendmail", svc.sendmail.to_str().unwrap(), "send"])
        .args(["--title", "dot", "--body", body])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        DEFAULT_TIMEOUT,
    );
    let raw = mail.text();
    let (_, text, html) = common::mail_parts(raw.as_bytes());
    assert_eq!(text, body, "{raw}");
    assert_eq!(
        html,
        format!("<html><body><pre>{body}</pre></body></html>"),
        "{raw}"
    );
}
