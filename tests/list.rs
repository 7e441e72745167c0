//! `list` end to end: tables and JSON, and no secret in any output.

mod fixture;

use fixture::{ConfigDir, stderr_of, stdout_of};

const PUBLIC: &str = "\
smtp: relay
	server mail.example.com
	mode starttls
	username pve1
	from-address pve@example.com
	mailto ops@example.com

gotify: phone
	server https://gotify.example.com/
	comment On-call phone

webhook: chat
	method post
	url https://chat.example.com/hooks/T000/B000/XXXXSECRETPATH
	header name=Authorization,value=QmVhcmVyIGhlYWRlci1zZWNyZXQtdmFsdWU=
	body eyJ0ZXh0IjogInt7IHRpdGxlIH19In0=
";

const PRIVATE: &str = "\
smtp: relay
	password smtp-secret-password

gotify: phone
	token gotify-secret-token

webhook: chat
	secret name=channel,value=d2ViaG9vay1zZWNyZXQtdmFsdWU=
";

const SECRETS: &[&str] = &[
    "smtp-secret-password",
    "gotify-secret-token",
    "webhook-secret-value",
    "d2ViaG9vay1zZWNyZXQtdmFsdWU",
    "header-secret-value",
    "QmVhcmVyIGhlYWRlci1zZWNyZXQtdmFsdWU",
    "XXXXSECRETPATH",
    "proxy-secret-password",
];

fn config() -> ConfigDir {
    let dir = ConfigDir::new(PUBLIC);
    dir.write("priv/notifications.cfg", PRIVATE);
    dir.write(
        "datacenter.cfg",
        "http_proxy: http://user:proxy-secret-password@proxy:3128\n",
    );
    dir
}

fn assert_no_secret(output: &std::process::Output) {
    for text in [stdout_of(output), stderr_of(output)] {
        for secret in SECRETS {
            assert!(!text.contains(secret), "secret {secret:?} printed:\n{text}");
        }
    }
}

#[test]
fn text_tables() {
    let dir = config();
    let out = dir.cmd(&["list"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_no_secret(&out);
    let text = stdout_of(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("NAME "), "{text}");
    assert!(lines[0].contains("  TYPE  "), "{text}");
    let row = |name: &str| {
        *lines
            .iter()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row {name} in:\n{text}"))
    };
    assert!(row("relay").contains("password=(set)"), "{text}");
    assert!(row("relay").contains("mode=starttls port=587"), "{text}");
    assert!(
        row("phone").contains("server=https://gotify.example.com token=(set)"),
        "{text}"
    );
    assert!(row("chat").contains("url=https://chat.example.com/… header=Authorization body=(set, 23 bytes) secret=channel"), "{text}");
    assert!(row("mail-to-root").contains("builtin"), "{text}");
    assert!(
        row("default-matcher").contains("(none: always matches)"),
        "{text}"
    );
    // Targets first, then a blank line, then matchers.
    let blank = lines.iter().position(|l| l.is_empty()).unwrap();
    assert!(lines[blank + 1].starts_with("NAME "), "{text}");
    assert!(lines[blank + 1].contains("RULES"), "{text}");
}

#[test]
fn json_shapes() {
    let dir = config();
    let out = dir
        .cmd(&["--output-format", "json", "list", "targets"])
        .output()
        .unwrap();
    assert_no_secret(&out);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("matchers").is_none());
    let targets = json["targets"].as_array().unwrap();
    let relay = targets.iter().find(|t| t["name"] == "relay").unwrap();
    assert_eq!(relay["password-set"], true);
    assert_eq!(relay["port"], 587);
    assert_eq!(relay["comment"], serde_json::Value::Null);
    let chat = targets.iter().find(|t| t["name"] == "chat").unwrap();
    assert_eq!(chat["header"], serde_json::json!(["Authorization"]));
    assert_eq!(chat["body-bytes"], 23);

    let out = dir
        .cmd(&["--output-format", "json", "list", "matchers"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json.get("targets").is_none());
    assert_eq!(json["matchers"][0]["name"], "default-matcher");
    assert_eq!(json["matchers"][0]["origin"], "builtin");
}

#[test]
fn secrets_never_printed_by_validate_or_send() {
    let dir = config();
    // A broken line next to the secrets, so validate has errors to report.
    dir.write(
        "priv/notifications.cfg",
        &format!("{PRIVATE}\tbogus smtp-secret-password\n"),
    );
    let out = dir.cmd(&["-vv", "validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert_no_secret(&out);
    dir.write("priv/notifications.cfg", PRIVATE);
    let out = dir
        .cmd(&[
            "-vv",
            "--output-format",
            "json",
            "send",
            "--explain",
            "--title",
            "t",
            "--body",
            "",
        ])
        .output()
        .unwrap();
    assert_no_secret(&out);
}

#[test]
fn closed_stdout_is_not_an_error() {
    let dir = config();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pvenotify"))
        .args(["--config-dir", dir.path().to_str().unwrap(), "list"])
        .env("RUST_BACKTRACE", "0")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(!stderr_of(&out).contains("panicked"), "{}", stderr_of(&out));
}
