//! forward-mail end to end through a real Postfix: mail for a local user whose
//! `.forward` pipes into `pvenotify forward-mail` reaches the SMTP server (sendmail
//! target) and the Gotify-API server; when a target is down, Postfix keeps the mail
//! queued and a later retry delivers only what is missing.

mod common;

use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{DEFAULT_TIMEOUT, Services, services, unique_marker};

/// The local user the services set-up creates for these tests.
const USER: &str = "pvefwd";
const HOME: &str = "/var/lib/pvefwd";

/// A pvenotify installation for one test under the user's home: the binary (copied, so
/// the MTA's pipe can run it whatever the permissions of the build directory), a
/// configuration, a state directory owned by the user, and `~/.forward+MARKER`.
struct Installation {
    root: PathBuf,
    marker: String,
}

impl Installation {
    fn new(marker: &str, notifications: &str, private: &str) -> Self {
        let root = Path::new(HOME).join(format!("t-{marker}"));
        let config = root.join("config");
        std::fs::create_dir_all(config.join("priv")).unwrap();
        std::fs::write(config.join("notifications.cfg"), notifications).unwrap();
        std::fs::write(config.join("priv/notifications.cfg"), private).unwrap();
        let binary = root.join("pvenotify");
        std::fs::copy(assert_cmd::cargo::cargo_bin("pvenotify"), &binary).unwrap();
        for dir in [&root, &config, &config.join("priv")] {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let state = root.join("state");
        std::fs::create_dir_all(&state).unwrap();
        chown_to_user(&state);
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o700)).unwrap();

        let forward = Path::new(HOME).join(format!(".forward+{marker}"));
        std::fs::write(
            &forward,
            format!(
                "\"|{} --config-dir {} forward-mail --state-dir {}\"\n",
                binary.display(),
                config.display(),
                state.display()
            ),
        )
        .unwrap();
        chown_to_user(&forward);
        std::fs::set_permissions(&forward, std::fs::Permissions::from_mode(0o644)).unwrap();
        Installation {
            root,
            marker: marker.to_string(),
        }
    }

    fn address(&self) -> String {
        format!("{USER}+{}@localhost", self.marker)
    }

    /// Mails the local user through Postfix's sendmail, as a cron job would.
    fn send_mail(&self, svc: &Services, subject: &str, body: &str) {
        let message = format!(
            "From: Cron Daemon <root@pve.example>\nTo: {}\nSubject: {subject}\n\
             Content-Type: text/plain; charset=UTF-8\n\n{body}\n",
            self.address()
        );
        self.submit(svc, &message);
    }

    /// Hands `message` to Postfix's sendmail for the local user, with `-i` as cron does.
    fn submit(&self, svc: &Services, message: &str) {
        let mut child = Command::new(&svc.sendmail)
            .args(["-i", "-f", "root@pve.example", "--", &self.address()])
            .stdin(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        assert!(child.wait().unwrap().success(), "sendmail failed");
    }

    fn state_files(&self) -> Vec<String> {
        let dir = self.root.join("state/forward-mail");
        std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter_map(|e| std::fs::read_to_string(e.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl Drop for Installation {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(Path::new(HOME).join(format!(".forward+{}", self.marker)));
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn chown_to_user(path: &Path) {
    let status = Command::new("chown")
        .arg(format!("{USER}:{USER}"))
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "chown {}", path.display());
}

/// Entries of Postfix's queue for `recipient` (`postqueue -j`, one JSON object a line).
fn queued_for(recipient: &str) -> Vec<serde_json::Value> {
    let out = Command::new("postqueue").arg("-j").output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|entry| {
            entry["recipients"]
                .as_array()
                .is_some_and(|r| r.iter().any(|r| r["address"] == recipient))
        })
        .collect()
}

/// Polls `condition` until it holds or `timeout` passes (bounded wait, not a sleep).
fn wait_until(what: &str, timeout: Duration, condition: impl Fn() -> bool) {
    let deadline = Instant::now() + timeout;
    while !condition() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A Gotify-API server of our own, started on demand (the test services' script).
struct GotifyServer {
    child: Child,
    dir: tempfile::TempDir,
}

impl GotifyServer {
    fn start(svc: &Services, port: u16) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/services/http_mock.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .args(["--host", "127.0.0.1", "--http-port", &port.to_string()])
            .args(["--token", &svc.gotify_token, "--outdir"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        wait_until("the Gotify-API server to listen", DEFAULT_TIMEOUT, || {
            TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        GotifyServer { child, dir }
    }

    fn requests_in(&self, svc: &Services) -> Services {
        let mut own = svc.clone();
        own.request_dir = self.dir.path().to_path_buf();
        own
    }
}

impl Drop for GotifyServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The copy of this test's mail that the sendmail target `archive` passed on.
fn archive_copy(svc: &Services, marker: &str) -> common::ReceivedMail {
    let archive = format!("{marker}-archive@example.com");
    svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r == &archive),
        DEFAULT_TIMEOUT,
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn config(marker: &str, gotify_port: u16) -> (String, String) {
    let public = format!(
        "sendmail: archive\n\tmailto {marker}-archive@example.com\n\tfrom-address pve@example.com\n\n\
         gotify: phone\n\tserver http://127.0.0.1:{gotify_port}\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: system-mail\n\tmatch-field exact:type=system-mail\n\tmatch-severity unknown\n\
         \ttarget archive\n\ttarget phone\n"
    );
    let private = "gotify: phone\n\ttoken testtoken\n".to_string();
    (public, private)
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn local_mail_reaches_mail_and_gotify_targets() {
    let svc = services();
    let marker = unique_marker("fwd");
    let (public, private) = config(&marker, svc.http_port);
    let install = Installation::new(&marker, &public, &private);
    let subject = format!("Cron <root@pve1> backup check {marker}");
    install.send_mail(&svc, &subject, "disk usage: 93%\nall good otherwise");

    // The sendmail target gets the original message, as is, with -N never.
    let mail = archive_copy(&svc, &marker);
    assert_eq!(mail.header("Subject").as_deref(), Some(subject.as_str()));
    assert_eq!(
        mail.header("From").as_deref(),
        Some("Cron Daemon <root@pve.example>")
    );
    assert!(mail.text().contains("disk usage: 93%"));
    assert!(
        mail.rcpt_dsn()
            .iter()
            .any(|o| o.eq_ignore_ascii_case("NOTIFY=NEVER")),
        "{:?}",
        mail.rcpt_dsn()
    );
    assert_eq!(mail.mail_from(), "pve@example.com");

    // The Gotify target gets subject and text.
    let request = svc.wait_for_request_containing(&marker, DEFAULT_TIMEOUT);
    assert_eq!(request.path(), "/message");
    let json = request.body_json().expect("JSON body");
    assert_eq!(json["title"], subject.as_str());
    assert!(
        json["message"]
            .as_str()
            .unwrap()
            .contains("disk usage: 93%")
    );
    assert_eq!(json["priority"], 3, "severity unknown");

    // Postfix counts the delivery as done: nothing left in the queue.
    wait_until("the queue to drain", DEFAULT_TIMEOUT, || {
        queued_for(&install.address()).is_empty()
    });
    wait_until("the state to be complete", DEFAULT_TIMEOUT, || {
        install
            .state_files()
            .iter()
            .any(|s| s.contains("\ncomplete "))
    });
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_down_target_defers_the_mail_and_the_retry_delivers_only_what_is_missing() {
    let svc = services();
    let marker = unique_marker("fwd-retry");
    let port = free_port();
    let (public, private) = config(&marker, port);
    let install = Installation::new(&marker, &public, &private);
    let subject = format!("smartd warning {marker}");
    install.send_mail(
        &svc,
        &subject,
        "Device: /dev/sda, 8 Currently unreadable sectors",
    );

    // First attempt: the mail target gets it, Gotify is down, so forward-mail exits 75
    // and Postfix defers the mail: it stays queued.
    let archive = format!("{marker}-archive@example.com");
    svc.wait_for_mail(|m| m.rcpt_tos().contains(&archive), DEFAULT_TIMEOUT);
    wait_until("Postfix to defer the mail", DEFAULT_TIMEOUT, || {
        queued_for(&install.address()).iter().any(|e| {
            e["recipients"][0]["delay_reason"]
                .as_str()
                .is_some_and(|r| !r.is_empty())
        })
    });
    let reason = queued_for(&install.address())[0]["recipients"][0]["delay_reason"].to_string();
    assert!(reason.contains("phone (gotify): failed"), "{reason}");

    // Bring Gotify up and flush the queue: the retry delivers to Gotify exactly once and
    // does not deliver to the mail target a second time.
    let gotify = GotifyServer::start(&svc, port);
    let status = Command::new("postqueue").arg("-f").status().unwrap();
    assert!(status.success());
    let received = gotify.requests_in(&svc);
    received.wait_for_request_containing(&marker, DEFAULT_TIMEOUT);
    wait_until("the queue to drain", DEFAULT_TIMEOUT, || {
        queued_for(&install.address()).is_empty()
    });
    let gotify_count = received
        .requests()
        .iter()
        .filter(|r| r.body().contains(&marker))
        .count();
    assert_eq!(gotify_count, 1, "Gotify notified exactly once");
    let mail_count = svc
        .mails()
        .iter()
        .filter(|m| m.rcpt_tos().contains(&archive))
        .count();
    assert_eq!(mail_count, 1, "the mail target was not delivered again");
    let state = install.state_files().concat();
    assert!(state.contains("delivered archive "), "{state}");
    assert!(state.contains("delivered phone "), "{state}");
    assert!(state.contains("\ncomplete "), "{state}");
}

/// The same text (same Message-ID, same body) submitted twice is two queue entries and
/// reaches the targets twice; the key comes from the Received line Postfix wrote for each
/// (before, the second was dropped as "already forwarded" while Postfix logged "sent").
#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn the_same_mail_submitted_twice_is_forwarded_twice() {
    let svc = services();
    let marker = unique_marker("fwd-twice");
    let (public, private) = config(&marker, svc.http_port);
    let install = Installation::new(&marker, &public, &private);
    let message = format!(
        "From: Cron Daemon <root@pve.example>\nTo: {}\nSubject: twice {marker}\n\
         Message-ID: <{marker}@pve.example>\n\nthe same text\n",
        install.address()
    );
    install.submit(&svc, &message);
    wait_until("the first state to be complete", DEFAULT_TIMEOUT, || {
        install
            .state_files()
            .iter()
            .filter(|s| s.contains("\ncomplete "))
            .count()
            == 1
    });
    install.submit(&svc, &message);
    wait_until("the second state to be complete", DEFAULT_TIMEOUT, || {
        install
            .state_files()
            .iter()
            .filter(|s| s.contains("\ncomplete "))
            .count()
            == 2
    });
    let archived = |m: &common::ReceivedMail| {
        m.rcpt_tos()
            .iter()
            .any(|r| r == &format!("{marker}-archive@example.com"))
    };
    wait_until("both copies at the archive", DEFAULT_TIMEOUT, || {
        svc.mails().iter().filter(|m| archived(m)).count() == 2
    });
    wait_until(
        "both requests at the Gotify server",
        DEFAULT_TIMEOUT,
        || {
            svc.requests()
                .iter()
                .filter(|r| r.body().contains(&marker))
                .count()
                == 2
        },
    );
}

/// A line holding only a dot reaches the local pipe (cron submits with `-i`); passed on to
/// a sendmail target without `-i`, it ended the copy there.
#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_line_holding_only_a_dot_is_forwarded_whole() {
    let svc = services();
    let marker = unique_marker("fwd-dot");
    let (public, private) = config(&marker, svc.http_port);
    let install = Installation::new(&marker, &public, &private);
    let body = format!("before the dot\n.\nafter the dot {marker}");
    install.send_mail(&svc, &format!("dot {marker}"), &body);
    let mail = archive_copy(&svc, &marker);
    assert!(
        mail.body()
            .replace("\r\n", "\n")
            .ends_with(&format!("{body}\n")),
        "{}",
        mail.text()
    );
    let request = svc.wait_for_request_containing(&marker, DEFAULT_TIMEOUT);
    let json = request.body_json().expect("JSON body");
    assert!(json["message"].as_str().unwrap().contains(&body), "{json}");
}
