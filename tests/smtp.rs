//! smtp targets end to end: the built binary talks to the real test SMTP servers
//! (aiosmtpd listeners for plain, STARTTLS, implicit TLS, untrusted TLS, a silent port and
//! a closed port), and every fault case checks the message, the exit status, and that
//! another target of the same run is still delivered.

mod common;
mod fixture;

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::Output;
use std::thread;
use std::time::{Duration, Instant};

use common::{ReceivedMail, Services, services, unique_marker};
use fixture::{ConfigDir, fake_sendmail, stderr_of, stdout_of};

const BODY: &str = "Job 100: <failed>\nsee the log\n";

/// One smtp target section.
struct SmtpTarget<'a> {
    name: &'a str,
    port: u16,
    mode: &'a str,
    mailto: &'a str,
    username: Option<&'a str>,
    password: Option<&'a str>,
    from: &'a str,
}

impl<'a> SmtpTarget<'a> {
    fn new(name: &'a str, mode: &'a str, port: u16, mailto: &'a str) -> Self {
        SmtpTarget {
            name,
            port,
            mode,
            mailto,
            username: None,
            password: None,
            from: "pve@example.com",
        }
    }

    fn login(mut self, username: &'a str, password: &'a str) -> Self {
        self.username = Some(username);
        self.password = Some(password);
        self
    }

    fn public(&self) -> String {
        let mut section = format!(
            "smtp: {}\n\tserver 127.0.0.1\n\tport {}\n\tmode {}\n\tmailto {}\n\tfrom-address {}\n\tauthor Backup Robot\n",
            self.name, self.port, self.mode, self.mailto, self.from
        );
        if let Some(username) = self.username {
            section.push_str(&format!("\tusername {username}\n"));
        }
        section
    }

    fn private(&self) -> String {
        match self.password {
            Some(password) => format!("smtp: {}\n\tpassword {password}\n", self.name),
            None => String::new(),
        }
    }
}

/// A config dir with `targets`, a sendmail target `witness` (a fake sendmail that records
/// its input) and one matcher sending everything to all of them. The built-in default
/// matcher is disabled so that `mail-to-root` stays out of the way.
fn config(targets: &[SmtpTarget<'_>]) -> ConfigDir {
    let mut public = String::new();
    let mut private = String::new();
    let mut matcher = String::from("matcher: everything\n\tmode all\n");
    for target in targets {
        public.push_str(&target.public());
        public.push('\n');
        private.push_str(&target.private());
        private.push('\n');
        matcher.push_str(&format!("\ttarget {}\n", target.name));
    }
    public.push_str("sendmail: witness\n\tmailto witness@example.com\n\n");
    matcher.push_str("\ttarget witness\n");
    public.push_str("matcher: default-matcher\n\tdisable true\n\n");
    public.push_str(&matcher);
    let dir = ConfigDir::new(&public);
    if !private.trim().is_empty() {
        dir.write("priv/notifications.cfg", &private);
    }
    fake_sendmail(dir.path(), 0, "");
    dir
}

struct Run {
    output: Output,
    elapsed: Duration,
}

impl Run {
    fn status(&self) -> Option<i32> {
        self.output.status.code()
    }

    fn stderr(&self) -> String {
        stderr_of(&self.output)
    }
}

/// `pvenotify send` with the test CA trusted and the witness's fake sendmail.
fn send(svc: &Services, dir: &ConfigDir, title: &str, extra: &[&str]) -> Run {
    let fake = dir.file("fake-sendmail");
    let started = Instant::now();
    let output = dir
        .cmd(&["--sendmail", fake.to_str().unwrap(), "send"])
        .args(extra)
        .args(["--title", title, "--body", BODY])
        .env("SSL_CERT_FILE", &svc.ca)
        .output()
        .unwrap();
    Run {
        output,
        elapsed: started.elapsed(),
    }
}

/// The witness target got this run's message although another target failed.
fn assert_witness_delivered(dir: &ConfigDir, run: &Run, title: &str) {
    assert!(
        run.stderr().contains("witness (sendmail): delivered"),
        "{}",
        run.stderr()
    );
    let input = std::fs::read_to_string(dir.file("sendmail.input")).unwrap_or_default();
    assert!(input.contains(title), "witness got the message: {input}");
}

/// The failure line of target `name`, e.g. `relay (smtp): failed (temporary): …`.
fn failure_of(run: &Run, name: &str) -> String {
    let prefix = format!("{name} (smtp): failed (");
    run.stderr()
        .lines()
        .find(|l| l.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no failure line for {name}: {}", run.stderr()))
        .to_string()
}

/// The mail this test sent to `marker`; sending is synchronous, so it is there already.
fn mail_to(svc: &Services, marker: &str) -> ReceivedMail {
    svc.find_mail(|m| m.rcpt_tos().iter().any(|r| r.contains(marker)))
        .unwrap_or_else(|| panic!("no mail to {marker} was received"))
}

fn nothing_sent_to(svc: &Services, marker: &str) -> bool {
    svc.find_mail(|m| m.contains(marker)).is_none()
}

/// Headers and body of a notification mail, the same for every mode.
fn assert_notification_mail(mail: &ReceivedMail, recipient: &str, title: &str) {
    assert_eq!(mail.mail_from(), "pve@example.com");
    assert_eq!(mail.rcpt_tos(), [recipient]);
    assert_eq!(mail.helo(), Some("pve1"), "EHLO uses the host name");
    assert_eq!(
        mail.header("From").as_deref(),
        Some("Backup Robot <pve@example.com>")
    );
    assert_eq!(mail.header("To").as_deref(), Some(recipient));
    assert_eq!(mail.header("Subject").as_deref(), Some(title));
    assert_eq!(
        mail.header("Auto-Submitted").as_deref(),
        Some("auto-generated;")
    );
    let id = mail.header("Message-ID").expect("Message-ID");
    assert!(id.starts_with('<') && id.ends_with("@pve1>"), "{id}");
    assert!(mail.header("Date").is_some());
    assert!(
        mail.header("Content-Type")
            .is_some_and(|c| c.starts_with("multipart/alternative")),
        "{:?}",
        mail.header("Content-Type")
    );
    let body = mail.body();
    assert!(body.contains("Job 100: <failed>\r\nsee the log"), "{body}");
    assert!(
        body.contains("<pre>Job 100: &lt;failed&gt;\r\nsee the log"),
        "{body}"
    );
}

// ------------------------------------------------------------------ delivery

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn insecure_mode_delivers_in_plain_text() {
    let svc = services();
    let marker = unique_marker("smtp-insecure");
    let rcpt = format!("{marker}@example.com");
    let dir = config(&[SmtpTarget::new(
        "relay",
        "insecure",
        svc.smtp_plain_port,
        &rcpt,
    )]);
    let title = format!("Backup failed {marker}");
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(0), "{}", run.stderr());
    assert!(run.stderr().contains("relay (smtp): delivered"));
    assert_witness_delivered(&dir, &run, &title);

    let mail = mail_to(&svc, &marker);
    assert_eq!(mail.listener(), "plain");
    assert!(!mail.tls());
    assert_eq!(mail.auth_mechanism(), None);
    assert_notification_mail(&mail, &rcpt, &title);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn starttls_mode_encrypts_before_sending() {
    let svc = services();
    let marker = unique_marker("smtp-starttls");
    let rcpt = format!("{marker}@example.com");
    let dir = config(&[SmtpTarget::new(
        "relay",
        "starttls",
        svc.smtp_starttls_port,
        &rcpt,
    )]);
    let title = format!("Backup failed {marker}");
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(0), "{}", run.stderr());
    assert!(run.stderr().contains("relay (smtp): delivered"));

    let mail = mail_to(&svc, &marker);
    assert_eq!(mail.listener(), "starttls");
    assert!(mail.tls(), "STARTTLS was used");
    assert_notification_mail(&mail, &rcpt, &title);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn tls_mode_uses_implicit_tls_and_auth_plain() {
    let svc = services();
    let marker = unique_marker("smtp-tls");
    let rcpt = format!("{marker}@example.com");
    let dir = config(&[SmtpTarget::new("relay", "tls", svc.smtp_tls_port, &rcpt)
        .login(&svc.smtp_user, &svc.smtp_password)]);
    let title = format!("Backup failed {marker}");
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(0), "{}", run.stderr());
    assert!(run.stderr().contains("relay (smtp): delivered"));

    let mail = mail_to(&svc, &marker);
    assert_eq!(mail.listener(), "tls");
    assert!(mail.tls());
    assert_eq!(
        mail.auth_mechanism(),
        Some("PLAIN"),
        "PLAIN is preferred when offered"
    );
    assert_eq!(mail.auth_user(), Some(svc.smtp_user.as_str()));
    assert_notification_mail(&mail, &rcpt, &title);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn starttls_with_required_authentication() {
    let svc = services();
    let marker = unique_marker("smtp-authreq");
    let rcpt = format!("{marker}@example.com");
    let dir = config(&[
        SmtpTarget::new("relay", "starttls", svc.smtp_auth_required_port, &rcpt)
            .login(&svc.smtp_user, &svc.smtp_password),
    ]);
    let title = format!("Backup failed {marker}");
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(0), "{}", run.stderr());

    let mail = mail_to(&svc, &marker);
    assert_eq!(mail.listener(), "auth-required");
    assert!(mail.tls());
    assert_eq!(mail.auth_mechanism(), Some("PLAIN"));
    assert_eq!(mail.auth_user(), Some(svc.smtp_user.as_str()));
}

/// A relay in front of the plain listener that forwards everything but rewrites the
/// server's EHLO `AUTH` capability line to `auth`: the test server offers PLAIN and
/// LOGIN and has no switch to offer less. Serves one connection.
fn auth_rewriting_relay(upstream: u16, auth: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    thread::spawn(move || {
        let Ok((mut client, _)) = listener.accept() else {
            return;
        };
        let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
            return;
        };
        let (Ok(mut to_server), Ok(mut from_client)) = (server.try_clone(), client.try_clone())
        else {
            return;
        };
        thread::spawn(move || {
            let _ = std::io::copy(&mut from_client, &mut to_server);
            let _ = to_server.shutdown(Shutdown::Write);
        });
        let mut from_server = BufReader::new(server);
        let mut line = String::new();
        while matches!(from_server.read_line(&mut line), Ok(n) if n > 0) {
            let rewritten = match line.get(..9) {
                Some(start @ ("250-AUTH " | "250 AUTH ")) => format!("{start}{auth}\r\n"),
                _ => line.clone(),
            };
            if client.write_all(rewritten.as_bytes()).is_err() {
                break;
            }
            line.clear();
        }
        let _ = client.shutdown(Shutdown::Write);
    });
    port
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn auth_login_is_used_when_the_server_offers_only_login() {
    let svc = services();
    let marker = unique_marker("smtp-login");
    let rcpt = format!("{marker}@example.com");
    let port = auth_rewriting_relay(svc.smtp_plain_port, "LOGIN");
    let dir =
        config(&[SmtpTarget::new("relay", "insecure", port, &rcpt)
            .login(&svc.smtp_user, &svc.smtp_password)]);
    let title = format!("Backup failed {marker}");
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(0), "{}", run.stderr());

    let mail = mail_to(&svc, &marker);
    assert_eq!(mail.auth_mechanism(), Some("LOGIN"));
    assert_eq!(mail.auth_user(), Some(svc.smtp_user.as_str()));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn no_supported_auth_mechanism_is_a_temporary_failure() {
    let svc = services();
    let marker = unique_marker("smtp-nomech");
    let rcpt = format!("{marker}@example.com");
    let port = auth_rewriting_relay(svc.smtp_plain_port, "CRAM-MD5");
    let dir =
        config(&[SmtpTarget::new("relay", "insecure", port, &rcpt)
            .login(&svc.smtp_user, &svc.smtp_password)]);
    let title = format!("No mechanism {marker}");
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(75), "{}", run.stderr());
    assert_eq!(
        failure_of(&run, "relay"),
        "relay (smtp): failed (temporary): server offers no supported authentication mechanism (PLAIN, LOGIN)"
    );
    assert_witness_delivered(&dir, &run, &title);
    assert!(nothing_sent_to(&svc, &marker));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn test_target_sends_the_test_notification() {
    let svc = services();
    let marker = unique_marker("smtp-test-target");
    let rcpt = format!("{marker}@example.com");
    let dir = config(&[SmtpTarget::new(
        "relay",
        "insecure",
        svc.smtp_plain_port,
        &rcpt,
    )]);
    let out = dir.cmd(&["test-target", "relay"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mail = mail_to(&svc, &marker);
    assert_eq!(mail.header("Subject").as_deref(), Some("Test notification"));
    assert!(
        mail.body()
            .contains("This is a test of the notification target 'relay'."),
        "{}",
        mail.body()
    );
}

// ------------------------------------------------------------------ faults

/// Runs `target` (named `relay`) next to the witness and checks the outcome line, the
/// exit status and that the witness still got the message.
fn assert_fails(svc: &Services, target: SmtpTarget<'_>, status: i32, expected: &str) -> Run {
    assert_eq!(target.name, "relay");
    let dir = config(&[target]);
    let title = format!("Fault {}", unique_marker("smtp-fault"));
    let run = send(svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(status), "{}", run.stderr());
    let class = if status == 78 {
        "configuration"
    } else {
        "temporary"
    };
    assert_eq!(
        failure_of(&run, "relay"),
        format!("relay (smtp): failed ({class}): {expected}")
    );
    assert_witness_delivered(&dir, &run, &title);
    run
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn connection_refused() {
    let svc = services();
    let port = svc.closed_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "insecure", port, "x@example.com"),
        75,
        &format!("connection to 127.0.0.1:{port} refused"),
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn server_that_never_answers_times_out() {
    let svc = services();
    let port = svc.smtp_hang_port;
    let run = assert_fails(
        &svc,
        SmtpTarget::new("relay", "tls", port, "x@example.com"),
        75,
        &format!("connection to 127.0.0.1:{port} timed out after 5 s"),
    );
    assert!(
        run.elapsed < Duration::from_secs(30),
        "took {:?}",
        run.elapsed
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn untrusted_certificate() {
    let svc = services();
    let port = svc.smtp_untrusted_tls_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "tls", port, "x@example.com"),
        75,
        &format!(
            "TLS handshake with 127.0.0.1:{port} failed: invalid peer certificate: UnknownIssuer"
        ),
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn starttls_required_but_not_offered() {
    let svc = services();
    let marker = unique_marker("smtp-nostarttls");
    let rcpt = format!("{marker}@example.com");
    let port = svc.smtp_plain_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "starttls", port, &rcpt),
        75,
        &format!("server 127.0.0.1:{port} does not offer STARTTLS"),
    );
    assert!(nothing_sent_to(&svc, &marker), "nothing sent in plain text");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn wrong_password() {
    let svc = services();
    let marker = unique_marker("smtp-wrongpw");
    let rcpt = format!("{marker}@example.com");
    let port = svc.smtp_tls_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "tls", port, &rcpt).login(&svc.smtp_user, "not-the-password"),
        75,
        &format!(
            "server 127.0.0.1:{port} rejected authentication: 535 5.7.8 Authentication credentials invalid"
        ),
    );
    assert!(nothing_sent_to(&svc, &marker));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn recipient_rejected_temporarily() {
    let svc = services();
    let marker = unique_marker("smtp-451");
    let rcpt = format!("tempfail+{marker}@example.com");
    let port = svc.smtp_plain_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "insecure", port, &rcpt),
        75,
        &format!(
            "server 127.0.0.1:{port} rejected RCPT TO for {rcpt}: 451 4.3.0 Temporary failure (test server: tempfail recipient)"
        ),
    );
    assert!(nothing_sent_to(&svc, &marker));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn recipient_rejected_permanently_is_still_temporary() {
    let svc = services();
    let marker = unique_marker("smtp-550");
    let rcpt = format!("reject+{marker}@example.com");
    let port = svc.smtp_starttls_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "starttls", port, &rcpt),
        75,
        &format!(
            "server 127.0.0.1:{port} rejected RCPT TO for {rcpt}: 550 5.1.1 Recipient rejected (test server: reject recipient)"
        ),
    );
    assert!(nothing_sent_to(&svc, &marker));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn message_rejected_after_data() {
    let svc = services();
    let marker = unique_marker("smtp-554");
    let rcpt = format!("rejectdata+{marker}@example.com");
    let port = svc.smtp_tls_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "tls", port, &rcpt),
        75,
        &format!(
            "server 127.0.0.1:{port} rejected the message after DATA: 554 5.6.0 Message rejected (test server: rejectdata recipient)"
        ),
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn sender_rejected_without_required_authentication() {
    let svc = services();
    let port = svc.smtp_auth_required_port;
    assert_fails(
        &svc,
        SmtpTarget::new("relay", "starttls", port, "x@example.com"),
        75,
        &format!("server 127.0.0.1:{port} rejected MAIL FROM: 530 5.7.0 Authentication required"),
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn unresolvable_host() {
    let svc = services();
    let dir = config(&[SmtpTarget::new("relay", "tls", 465, "x@example.com")]);
    // The only way to name another host: rewrite the server line.
    let public = std::fs::read_to_string(dir.file("notifications.cfg"))
        .unwrap()
        .replace("server 127.0.0.1", "server nonexistent.invalid");
    dir.write("notifications.cfg", &public);
    let title = format!("Fault {}", unique_marker("smtp-dns"));
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(75), "{}", run.stderr());
    let line = failure_of(&run, "relay");
    assert!(
        line.starts_with("relay (smtp): failed (temporary): cannot resolve nonexistent.invalid: "),
        "{line}"
    );
    assert_witness_delivered(&dir, &run, &title);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn username_without_password_is_a_configuration_failure() {
    let svc = services();
    let marker = unique_marker("smtp-nopw");
    let rcpt = format!("{marker}@example.com");
    let mut target = SmtpTarget::new("relay", "tls", svc.smtp_tls_port, &rcpt);
    target.username = Some("testuser");
    assert_fails(
        &svc,
        target,
        78,
        "username is set but no password is configured",
    );
    assert!(nothing_sent_to(&svc, &marker));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn bad_from_address_is_a_configuration_failure() {
    let svc = services();
    let marker = unique_marker("smtp-badfrom");
    let rcpt = format!("{marker}@example.com");
    let mut target = SmtpTarget::new("relay", "insecure", svc.smtp_plain_port, &rcpt);
    target.from = "root";
    assert_fails(
        &svc,
        target,
        78,
        "from-address: 'root' is not a valid e-mail address (Missing domain or user)",
    );
    assert!(nothing_sent_to(&svc, &marker));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn bad_mailto_user_address_names_the_user() {
    let svc = services();
    let dir = config(&[SmtpTarget::new(
        "relay",
        "insecure",
        svc.smtp_plain_port,
        "ok@example.com",
    )]);
    let public = std::fs::read_to_string(dir.file("notifications.cfg"))
        .unwrap()
        .replace("\tmailto ok@example.com\n", "\tmailto-user alice@pve\n");
    dir.write("notifications.cfg", &public);
    dir.write(
        "user.cfg",
        "user:alice@pve:1:0:Alice::alice.example.com:::\n",
    );
    let title = format!("Fault {}", unique_marker("smtp-baduser"));
    let run = send(&svc, &dir, &title, &[]);
    assert_eq!(run.status(), Some(78), "{}", run.stderr());
    let line = failure_of(&run, "relay");
    assert!(
        line.starts_with(
            "relay (smtp): failed (configuration): mailto-user of alice@pve: 'alice.example.com' is not a valid e-mail address"
        ),
        "{line}"
    );
    assert_witness_delivered(&dir, &run, &title);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn the_password_never_appears_in_any_output() {
    let svc = services();
    let password = "Sup3r-Secret/Pa55word";
    let port = svc.smtp_tls_port;
    for format in ["text", "json"] {
        let dir = config(&[
            SmtpTarget::new("relay", "tls", port, "x@example.com").login("testuser", password)
        ]);
        let title = format!("Secret {}", unique_marker("smtp-secret"));
        let run = send(&svc, &dir, &title, &["-vv", "--output-format", format]);
        assert_eq!(run.status(), Some(75), "{}", run.stderr());
        let all = format!("{}{}", stdout_of(&run.output), run.stderr());
        assert!(all.contains("rejected authentication: 535"), "{all}");
        for form in [
            password,
            "Sup3r-Secret%2FPa55word",
            "U3VwM3ItU2VjcmV0L1BhNTV3b3Jk",
        ] {
            assert!(!all.contains(form), "{form} leaked: {all}");
        }
    }
}

/// Through a real MTA (Postfix's smtpd, which relays to the test server): lines holding
/// only dots or starting with one, and lines longer than 76 bytes, which go as 7bit,
/// arrive exactly as sent in both parts.
#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn postfix_takes_the_mail_and_relays_every_line_as_sent() {
    let svc = services();
    let marker = unique_marker("smtp-postfix");
    let rcpt = format!("{marker}@example.com");
    let dir = config(&[SmtpTarget::new(
        "relay",
        "insecure",
        svc.postfix_smtp_port,
        &rcpt,
    )]);
    let long = "INFO: 1.00 GiB of 32.00 GiB (3%) in 10s, read: 102.4 MiB/s ".repeat(4);
    let body = format!(".\n..\n.leading dot\n{long}\nlast <line> & 'more'");
    let out = dir
        .cmd(&["--sendmail", dir.file("fake-sendmail").to_str().unwrap()])
        .args(["send", "--title", &marker, "--body", &body])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("relay (smtp): delivered"));
    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r == &rcpt),
        common::DEFAULT_TIMEOUT,
    );
    assert_eq!(mail.helo(), Some("pve.example"), "relayed by Postfix");
    let raw = mail.text();
    let (_, text, html) = common::mail_parts(raw.as_bytes());
    assert_eq!(text, body, "{raw}");
    assert_eq!(
        html,
        format!(
            "<html><body><pre>.\n..\n.leading dot\n{}\nlast &lt;line&gt; &amp; &#x27;more&#x27;</pre></body></html>",
            long.replace('=', "&#x3D;")
        ),
        "{raw}"
    );
    assert_eq!(
        raw.matches("Content-Transfer-Encoding: 7bit").count(),
        2,
        "{raw}"
    );
}
