//! No secret ever reaches any output: distinct values for every secret property, then
//! every command that prints something, with failing deliveries and verbose output.

mod fixture;

use base64::Engine;
use fixture::{ConfigDir, fake_sendmail, stderr_of, stdout_of};

/// Nothing listens here, so every network target fails fast (connection refused).
const CLOSED: &str = "127.0.0.1:12998";

struct Secret {
    what: &'static str,
    value: &'static str,
}

const SECRETS: &[Secret] = &[
    Secret {
        what: "smtp password",
        value: "Smtp-Pass-4f9a1c",
    },
    Secret {
        what: "gotify token",
        value: "Gotify-Tok-7d2e8b",
    },
    Secret {
        what: "webhook secret",
        value: "Hook-Secret-5c3a9f",
    },
    Secret {
        what: "webhook header value",
        value: "Header-Secret-1b8d4e",
    },
    Secret {
        what: "webhook url path",
        value: "UrlPath-Secret-9e7f2a",
    },
    Secret {
        what: "proxy password",
        value: "Proxy-Pass-3a6c0d",
    },
];

fn b64(text: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(text)
}

fn config() -> ConfigDir {
    let header = b64("Bearer Header-Secret-1b8d4e");
    let body = b64("{\"text\": \"{{ escape title }}\", \"key\": \"{{ secrets.key }}\"}");
    let dir = ConfigDir::new(&format!(
        "sendmail: local\n\tmailto ops@example.com\n\n\
         smtp: relay\n\tserver 127.0.0.1\n\tport 12998\n\tmode insecure\n\tusername pve\n\
         \tfrom-address pve@example.com\n\tmailto ops@example.com\n\n\
         gotify: phone\n\tserver http://{CLOSED}\n\n\
         webhook: chat\n\tmethod post\n\turl http://{CLOSED}/hook/UrlPath-Secret-9e7f2a/{{{{ secrets.key }}}}\n\
         \theader name=Authorization,value={header}\n\tbody {body}\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: all\n\ttarget local\n\ttarget relay\n\ttarget phone\n\ttarget chat\n"
    ));
    dir.write(
        "priv/notifications.cfg",
        &format!(
            "smtp: relay\n\tpassword Smtp-Pass-4f9a1c\n\n\
             gotify: phone\n\ttoken Gotify-Tok-7d2e8b\n\n\
             webhook: chat\n\tsecret name=key,value={}\n",
            b64("Hook-Secret-5c3a9f")
        ),
    );
    // The proxy is only used by gotify/webhook; it is as unreachable as the targets.
    dir.write(
        "datacenter.cfg",
        &format!("http_proxy: http://pveuser:Proxy-Pass-3a6c0d@{CLOSED}\n"),
    );
    dir
}

fn assert_no_secret(what: &str, output: &std::process::Output) {
    let texts = [stdout_of(output), stderr_of(output)];
    for text in &texts {
        for secret in SECRETS {
            for form in [
                secret.value.to_string(),
                b64(secret.value),
                secret.value.to_lowercase(),
            ] {
                assert!(
                    !text.contains(&form),
                    "{what}: the {} appears in the output:\n{text}",
                    secret.what
                );
            }
        }
    }
}

#[test]
fn list_shows_no_secret() {
    let dir = config();
    for args in [
        &["list"][..],
        &["--output-format", "json", "list"],
        &["-vv", "list"],
    ] {
        let out = dir.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        assert_no_secret("list", &out);
    }
}

#[test]
fn validate_with_errors_shows_no_secret() {
    let dir = config();
    // Bad lines that quote secret values, so the error messages have something to leak.
    dir.write(
        "priv/notifications.cfg",
        "smtp: relay\n\tpassword Smtp-Pass-4f9a1c\n\tpassword Smtp-Pass-4f9a1c\n\n\
         gotify: phone\n\ttoken Gotify-Tok-7d2e8b\n\tbogus Gotify-Tok-7d2e8b\n\n\
         webhook: chat\n\tsecret name=key,value=Hook-Secret-5c3a9f!\n",
    );
    dir.write(
        "datacenter.cfg",
        "http_proxy: ftp://pveuser:Proxy-Pass-3a6c0d@proxy:3128\n",
    );
    for args in [
        &["validate"][..],
        &["-vv", "--output-format", "json", "validate"],
    ] {
        let out = dir.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(78), "{}", stdout_of(&out));
        assert_no_secret("validate", &out);
    }
}

#[test]
fn failing_send_shows_no_secret_even_verbose() {
    let dir = config();
    let sendmail = fake_sendmail(dir.path(), 0, "");
    for format in ["text", "json"] {
        let out = dir
            .cmd(&[
                "-vv",
                "--output-format",
                format,
                "--sendmail",
                sendmail.to_str().unwrap(),
            ])
            .args(["send", "--title", "t", "--body", "b"])
            .output()
            .unwrap();
        // relay, phone and chat fail (connection refused): temporary, and local succeeds.
        assert_eq!(out.status.code(), Some(75), "{}", stderr_of(&out));
        let stderr = stderr_of(&out);
        for name in [
            "relay (smtp): failed",
            "phone (gotify): failed",
            "chat (webhook): failed",
        ] {
            assert!(stderr.contains(name), "{name} missing:\n{stderr}");
        }
        assert!(stderr.contains("local (sendmail): delivered"), "{stderr}");
        assert_no_secret("send", &out);
    }
}

#[test]
fn test_target_shows_no_secret() {
    let dir = config();
    for target in ["relay", "phone", "chat"] {
        let out = dir.cmd(&["-vv", "test-target", target]).output().unwrap();
        assert_eq!(out.status.code(), Some(75), "{target}: {}", stderr_of(&out));
        assert_no_secret("test-target", &out);
    }
}

#[test]
fn explain_shows_no_secret() {
    let dir = config();
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
    assert_eq!(out.status.code(), Some(0));
    assert_no_secret("explain", &out);
}
