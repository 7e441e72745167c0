//! `pvenotify run -- COMMAND` end to end (noise.md §3): each way a command can end, what
//! the notification at the webhook mock says, the exit status passed on, signals passed on,
//! and the output printed when the notification itself fails.

mod common;
mod fixture;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Output;
use std::time::{Duration, Instant};

use common::{DEFAULT_TIMEOUT, RecordedRequest, services, unique_marker};
use fixture::{ConfigDir, stderr_of, stdout_of};

fn b64(text: &str) -> String {
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, text)
}

const BODY: &str = r#"{"title":"{{ escape title }}","message":"{{ escape message }}","severity":"{{ severity }}","fields":{{ json fields }}}"#;

/// A webhook `hook` to `/hook/MARKER` (or a failing one), matched by every event.
struct Setup {
    config: ConfigDir,
    marker: String,
}

impl Setup {
    fn new(name: &str, failing: bool) -> Setup {
        let svc = services();
        let marker = unique_marker(name);
        let path = if failing {
            format!("/status/500/{marker}")
        } else {
            format!("/hook/{marker}")
        };
        let config = ConfigDir::new(&format!(
            "webhook: hook\n\tmethod post\n\turl {}\n\tbody {}\n\n\
             matcher: default-matcher\n\tdisable true\n\nmatcher: all\n\ttarget hook\n",
            svc.http_url(&path),
            b64(BODY)
        ));
        Setup { config, marker }
    }

    fn command(&self, args: &[&str]) -> assert_cmd::Command {
        let mut cmd = self.config.cmd(&["run"]);
        cmd.args(args).timeout(Duration::from_secs(60));
        cmd
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().unwrap()
    }

    fn hits(&self) -> Vec<RecordedRequest> {
        services()
            .requests()
            .into_iter()
            .filter(|r| r.path().ends_with(&self.marker))
            .collect()
    }

    /// The one notification that arrived.
    fn notification(&self) -> serde_json::Value {
        let hits = self.hits();
        assert_eq!(hits.len(), 1, "expected one notification");
        hits[0].body_json().unwrap().clone()
    }
}

fn all(out: &Output) -> String {
    format!("{}{}", stdout_of(out), stderr_of(out))
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn success_notifies_nothing_and_prints_nothing() {
    let s = Setup::new("run-ok", false);
    let out = s.run(&["--", "sh", "-c", "echo fine; echo also fine >&2"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(all(&out), "");
    assert!(s.hits().is_empty());
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn failure_notifies_with_the_output_in_arrival_order_and_passes_the_status_on() {
    let s = Setup::new("run-fail", false);
    let script = "echo out-1; echo err-1 >&2; echo out-2; echo err-2 >&2; exit 3";
    let out = s.run(&["--field", "job=backup", "--", "sh", "-c", script]);
    assert_eq!(out.status.code(), Some(3), "{}", all(&out));
    assert_eq!(stdout_of(&out), "");
    assert!(stderr_of(&out).contains("hook (webhook): delivered"));
    let n = s.notification();
    assert_eq!(n["title"], "'sh' failed on pve1 (exit 3)");
    assert_eq!(n["severity"], "error");
    assert_eq!(
        n["fields"],
        serde_json::json!({"type": "command", "command": "sh", "hostname": "pve1", "job": "backup"})
    );
    let message = n["message"].as_str().unwrap();
    assert!(
        message.starts_with(&format!("Command: sh -c '{script}'\nStarted: ")),
        "{message}"
    );
    assert!(message.contains("\nDuration: "), "{message}");
    assert!(message.contains("\nExit status: 3\n"), "{message}");
    assert!(
        message.ends_with("\nOutput:\nout-1\nerr-1\nout-2\nerr-2\n"),
        "{message}"
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn always_notifies_success_as_info_and_options_replace_defaults() {
    let s = Setup::new("run-always", false);
    let out = s.run(&["--always", "--field", "type=backup", "--", "true"]);
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    let n = s.notification();
    assert_eq!(n["title"], "'true' succeeded on pve1");
    assert_eq!(n["severity"], "info");
    assert_eq!(n["fields"]["type"], "backup");
    assert!(n["message"].as_str().unwrap().ends_with("No output.\n"));

    let s = Setup::new("run-title", false);
    let out = s.run(&[
        "--title",
        "Backup check",
        "--severity",
        "warning",
        "--",
        "false",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let n = s.notification();
    assert_eq!(n["title"], "Backup check");
    assert_eq!(n["severity"], "warning");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_command_killed_by_a_signal_exits_128_plus_n() {
    let s = Setup::new("run-signal", false);
    let out = s.run(&["--", "sh", "-c", "echo before; kill -KILL $$"]);
    assert_eq!(out.status.code(), Some(137), "{}", all(&out));
    let n = s.notification();
    assert_eq!(n["title"], "'sh' failed on pve1 (signal SIGKILL)");
    assert!(
        n["message"]
            .as_str()
            .unwrap()
            .contains("Exit status: 137 (signal SIGKILL)\n")
    );
}

/// Starts `run` over a command that marks itself started in `dir` and then waits.
fn start_waiting(s: &Setup, dir: &Path, extra: &[&str]) -> std::process::Child {
    let ready = dir.join("ready");
    let script = format!("touch '{}'; exec sleep 60", ready.display());
    let mut cmd = std::process::Command::new(assert_cmd::cargo::cargo_bin!("pvenotify"));
    cmd.env("TZ", "UTC")
        .args(["--hostname", "pve1", "--config-dir"])
        .arg(s.config.path())
        .arg("run")
        .args(extra)
        .args(["--", "sh", "-c", &script])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let deadline = Instant::now() + DEFAULT_TIMEOUT;
    while !ready.exists() {
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(10));
    }
    child
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn signals_to_pvenotify_are_passed_on_to_the_command() {
    for (signal, name, status) in [
        (libc::SIGTERM, "SIGTERM", 143),
        (libc::SIGINT, "SIGINT", 130),
        (libc::SIGHUP, "SIGHUP", 129),
    ] {
        let s = Setup::new(&format!("run-forward-{name}"), false);
        let dir = tempfile::tempdir().unwrap();
        let child = start_waiting(&s, dir.path(), &[]);
        // SAFETY: kill(2) on our own child.
        assert_eq!(unsafe { libc::kill(child.id() as i32, signal) }, 0);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.status.code(), Some(status), "{name}: {}", all(&out));
        let n = s.notification();
        assert_eq!(n["title"], format!("'sh' failed on pve1 (signal {name})"));
    }
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn timeout_stops_the_command_with_124() {
    let s = Setup::new("run-timeout", false);
    let started = Instant::now();
    let out = s.run(&[
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        "echo waiting; exec sleep 30",
    ]);
    assert_eq!(out.status.code(), Some(124), "{}", all(&out));
    assert!(started.elapsed() < Duration::from_secs(20));
    let n = s.notification();
    assert_eq!(n["title"], "'sh' failed on pve1 (timed out after 1s)");
    assert!(
        n["message"]
            .as_str()
            .unwrap()
            .ends_with("Output:\nwaiting\n")
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_command_ignoring_sigterm_gets_sigkill_ten_seconds_later() {
    let s = Setup::new("run-timeout-kill", false);
    let started = Instant::now();
    // The shell ignores SIGTERM, and its sleep (which inherits that) keeps the pipe open.
    let out = s.run(&[
        "--timeout",
        "1s",
        "--",
        "sh",
        "-c",
        "trap '' TERM; sleep 30; true",
    ]);
    let took = started.elapsed();
    assert_eq!(out.status.code(), Some(124), "{}", all(&out));
    assert!(took >= Duration::from_secs(11), "{took:?}");
    assert!(took < Duration::from_secs(25), "{took:?}");
    assert_eq!(
        s.notification()["title"],
        "'sh' failed on pve1 (timed out after 1s)"
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_missing_or_unexecutable_command_is_127_or_126() {
    let s = Setup::new("run-missing", false);
    let out = s.run(&["--", "no-such-command-pvenotify"]);
    assert_eq!(out.status.code(), Some(127), "{}", all(&out));
    assert_eq!(
        s.notification()["title"],
        "'no-such-command-pvenotify' failed on pve1 (could not start: not found)"
    );

    let s = Setup::new("run-noexec", false);
    let script = s.config.path().join("script.sh");
    std::fs::write(&script, "#!/bin/sh\necho hi\n").unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = s.run(&["--", script.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(126), "{}", all(&out));
    assert_eq!(
        s.notification()["title"],
        "'script.sh' failed on pve1 (could not start: permission denied)"
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn a_failed_notification_prints_the_output_on_stderr() {
    let s = Setup::new("run-target-fails", true);
    let out = s.run(&[
        "--",
        "sh",
        "-c",
        "echo the-output; echo the-error >&2; exit 2",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    let stderr = stderr_of(&out);
    assert!(
        stderr.contains("hook (webhook): failed (temporary): HTTP 500"),
        "{stderr}"
    );
    assert!(
        stderr.contains("the notification about 'sh' failed"),
        "{stderr}"
    );
    assert!(stderr.ends_with("the-output\nthe-error\n"), "{stderr}");
    assert_eq!(s.hits().len(), 1, "it was tried");
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn long_output_keeps_the_last_64_kib_and_says_how_much_was_cut() {
    let s = Setup::new("run-long", false);
    let out = s.run(&["--", "sh", "-c", "seq 1 100000; exit 1"]);
    assert_eq!(out.status.code(), Some(1));
    let message = s.notification()["message"].as_str().unwrap().to_string();
    let output = message.split_once("Output:\n").unwrap().1;
    let total: usize = (1..=100_000).map(|i: u32| i.to_string().len() + 1).sum();
    let (first, kept) = output.split_once('\n').unwrap();
    assert_eq!(
        first,
        format!("[{} bytes of earlier output cut]", total - 65_536)
    );
    assert_eq!(kept.len(), 65_536);
    assert!(kept.ends_with("\n99999\n100000\n"));
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn dedup_dry_run_and_explain_with_run() {
    let s = Setup::new("run-dedup", false);
    let state = tempfile::tempdir().unwrap();
    let state = state.path().to_str().unwrap();
    for _ in 0..3 {
        let out = s.run(&["--dedup-key", "job", "--state-dir", state, "--", "false"]);
        assert_eq!(out.status.code(), Some(1));
    }
    assert_eq!(
        s.hits().len(),
        1,
        "a failing cron job notifies once per cooldown"
    );
    // Recovery with --always gets through once.
    for _ in 0..2 {
        let out = s.run(&[
            "--always",
            "--dedup-key",
            "job",
            "--state-dir",
            state,
            "--",
            "true",
        ]);
        assert_eq!(out.status.code(), Some(0));
    }
    assert_eq!(s.hits().len(), 2);

    let dry = s.run(&["--dry-run", "--", "sh", "-c", "exit 4"]);
    assert_eq!(dry.status.code(), Some(4));
    assert_eq!(stdout_of(&dry), "hook\n");
    let explain = s.run(&["--explain", "--", "false"]);
    assert_eq!(explain.status.code(), Some(1));
    assert!(stdout_of(&explain).contains("selected: hook"));
    assert_eq!(s.hits().len(), 2, "dry-run and explain deliver nothing");
}

#[test]
fn usage_errors_are_64_and_the_command_does_not_run() {
    let config = ConfigDir::new("");
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran");
    let touch = ["touch", marker.to_str().unwrap()];
    let cases: [&[&str]; 5] = [
        &["--cooldown", "1h"],
        &["--timeout", "0"],
        &["--timeout", "soon"],
        &["--field", "bad key=1"],
        &["--title", " "],
    ];
    for args in cases {
        let out = config
            .cmd(&["run"])
            .args(args)
            .arg("--")
            .args(touch)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", all(&out));
        assert!(!marker.exists(), "{args:?}: the command ran");
    }
    let out = config.cmd(&["run"]).output().unwrap();
    assert_eq!(out.status.code(), Some(64), "no command: {}", all(&out));
    // Without any configuration a successful command still just succeeds.
    let out = config.cmd(&["run", "--"]).args(touch).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", all(&out));
    assert!(marker.exists());
}
