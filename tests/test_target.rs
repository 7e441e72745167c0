//! `test-target` end to end: the fixed test notification, bypassing matchers.

mod fixture;

use fixture::{ConfigDir, fake_sendmail, stderr_of, stdout_of};

const CONFIG: &str = "\
sendmail: ops
	mailto ops@example.com

sendmail: paused
	mailto paused@example.com
	disable true

matcher: default-matcher
	disable true

matcher: never
	match-severity error
	invert-match true
	match-severity error
	target ops
";

#[test]
fn delivers_the_test_notification_bypassing_matchers() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "test-target",
            "ops",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "ops (sendmail): delivered\n");
    assert_eq!(stdout_of(&out), "");
    let args = std::fs::read_to_string(dir.file("sendmail.args")).unwrap();
    assert_eq!(args, "-i\n-B\n8BITMIME\n-f\nroot\n--\nops@example.com\n");
    let input = std::fs::read_to_string(dir.file("sendmail.input")).unwrap();
    assert!(input.contains("Subject: Test notification\n"), "{input}");
    assert!(
        input.contains("This is a test of the notification target 'ops'."),
        "{input}"
    );
}

#[test]
fn a_disabled_target_is_tested_with_a_note() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "test-target",
            "paused",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "pvenotify: note: target 'paused' is disabled; sent because it was named explicitly\n\
         paused (sendmail): delivered\n"
    );
}

#[test]
fn missing_target_or_matcher_name_exits_69() {
    let dir = ConfigDir::new(CONFIG);
    for name in ["nope", "never"] {
        let out = dir.cmd(&["test-target", name]).output().unwrap();
        assert_eq!(out.status.code(), Some(69), "{name}");
        assert_eq!(
            stderr_of(&out),
            format!("pvenotify: error: target '{name}' does not exist\n")
        );
    }
}

#[test]
fn failure_exit_status_follows_the_class() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = fake_sendmail(dir.path(), 1, "boom");
    let out = dir
        .cmd(&[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "test-target",
            "ops",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
    assert!(
        stderr_of(&out).contains("ops (sendmail): failed (temporary): "),
        "{}",
        stderr_of(&out)
    );
    assert!(
        stderr_of(&out).ends_with("exited with status 1: boom\n"),
        "{}",
        stderr_of(&out)
    );

    let out = dir
        .cmd(&["--sendmail", "/nonexistent/sendmail", "test-target", "ops"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
}

#[test]
fn json_result() {
    let dir = ConfigDir::new(CONFIG);
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "--output-format",
            "json",
            "--sendmail",
            sendmail.to_str().unwrap(),
            "test-target",
            "ops",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["event"]["title"], "Test notification");
    assert_eq!(json["event"]["severity"], "info");
    assert_eq!(json["event"]["fields"], serde_json::json!({}));
    assert_eq!(json["results"][0]["target"], "ops");
    assert_eq!(json["results"][0]["type"], "sendmail");
    assert_eq!(json["results"][0]["status"], "delivered");
    assert_eq!(json["exit-status"], 0);
}

#[test]
fn load_errors_exit_78() {
    let dir = ConfigDir::new("sendmail: ops\n\tmailto ops@example.com\n\tbogus 1\n");
    let out = dir.cmd(&["test-target", "ops"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
}
