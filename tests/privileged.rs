//! Privileged mode with a real set-uid copy, run by an unprivileged user as Postfix runs
//! root's `.forward` pipe: only forward-mail runs, and nothing the caller controls
//! (options naming paths, the environment) is trusted. Needs root to install the copy.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The unprivileged user the services set-up creates.
const USER: &str = "pvefwd";

struct SetuidCopy {
    dir: PathBuf,
}

impl SetuidCopy {
    /// `DIR/pvenotify-forward-mail`, owner root, mode 4755, in a directory the user can
    /// enter (tempdirs are 0700).
    fn install(tag: &str) -> Self {
        assert!(
            unsafe { libc::geteuid() } == 0,
            "this test installs a set-uid root copy and must run as root (tests/run-all.sh)"
        );
        let dir = PathBuf::from(format!(
            "/var/lib/pvefwd/setuid-{tag}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let copy = dir.join("pvenotify-forward-mail");
        // Copied by a child process: a file this multi-threaded test process held open for
        // writing could be inherited by another test's fork for a moment, and executing it
        // would then fail with "Text file busy".
        let status = Command::new("install")
            .args(["-m", "4755", "-o", "root", "-g", "root"])
            .arg(assert_cmd::cargo::cargo_bin("pvenotify"))
            .arg(&copy)
            .status()
            .expect("install (coreutils)");
        assert!(status.success(), "install of the set-uid copy failed");
        SetuidCopy { dir }
    }

    fn path(&self) -> PathBuf {
        self.dir.join("pvenotify-forward-mail")
    }

    /// Runs the copy as the unprivileged user, like the MTA does.
    fn run_as_user(&self, args: &[&str], envs: &[(&str, &str)], stdin: &[u8]) -> Output {
        let mut cmd = Command::new("setpriv");
        cmd.args(["--reuid", USER, "--regid", USER, "--clear-groups", "--"])
            .arg(self.path())
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("setpriv (util-linux)");
        use std::io::Write;
        let _ = child.stdin.take().unwrap().write_all(stdin);
        child.wait_with_output().unwrap()
    }
}

impl Drop for SetuidCopy {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const MAIL: &[u8] = b"Subject: smartd\nMessage-ID: <priv-test@pve1>\n\nDevice /dev/sda failing\n";

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn other_subcommands_are_refused_with_77() {
    let copy = SetuidCopy::install("refuse");
    for args in [
        &["send", "--title", "t"][..],
        &["list"],
        &["-v", "validate"],
    ] {
        let out = copy.run_as_user(args, &[], b"");
        assert_eq!(out.status.code(), Some(77), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("pvenotify: error: only forward-mail may run "),
            "{}",
            stderr(&out)
        );
    }
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn other_subcommands_are_refused_under_the_plain_name_too() {
    // The same binary under its own name, set-uid: elevated privileges refuse all but
    // forward-mail.
    let copy = SetuidCopy::install("plain");
    let plain = copy.dir.join("pvenotify");
    std::fs::rename(copy.path(), &plain).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid", USER, "--regid", USER, "--clear-groups", "--"])
        .arg(&plain)
        .args(["list"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(77), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "pvenotify: error: only forward-mail may run with elevated privileges\n"
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn overrides_and_environment_are_ignored() {
    // A configuration the caller controls, which would route to a sendmail of the
    // caller's choice, must not be used: the fixed /etc/pve is.
    let copy = SetuidCopy::install("ignore");
    let own = copy.dir.join("own-config");
    std::fs::create_dir_all(&own).unwrap();
    std::fs::write(
        own.join("notifications.cfg"),
        "sendmail: x1\n\tmailto a@example.com\n",
    )
    .unwrap();
    let own_str = own.to_str().unwrap();
    let pve = Path::new("/etc/pve");
    let out = copy.run_as_user(
        &["--config-dir", own_str, "--sendmail", "/bin/true", "-v"],
        &[
            ("PVENOTIFY_CONFIG_DIR", own_str),
            ("PVENOTIFY_STATE_DIR", own_str),
        ],
        MAIL,
    );
    let text = stderr(&out);
    assert!(
        text.contains("elevated privileges: --config-dir, --sendmail, --hostname and the environment are ignored"),
        "{text}"
    );
    assert!(
        !text.contains(own_str),
        "the caller's directory was used:\n{text}"
    );
    if !pve.exists() {
        // No Proxmox VE here: the fixed directory is missing, so the mail must stay
        // queued (75), never be dropped.
        assert_eq!(out.status.code(), Some(75), "{text}");
        assert!(text.contains("/etc/pve"), "{text}");
    }
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn the_multi_call_name_runs_forward_mail_without_privileges_too() {
    // Started under its multi-call name by root itself (no set-uid effect): forward-mail,
    // with the overrides honoured.
    let copy = SetuidCopy::install("multicall");
    let cfg = copy.dir.join("cfg");
    std::fs::create_dir_all(&cfg).unwrap();
    std::fs::write(
        cfg.join("notifications.cfg"),
        "matcher: default-matcher\n\tdisable true\n",
    )
    .unwrap();
    let mut child = Command::new(copy.path())
        .args(["--config-dir", cfg.to_str().unwrap(), "--no-state"])
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(MAIL).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no target selected; message not forwarded"),
        "{}",
        stderr(&out)
    );
}

/// Runs the set-uid copy as the user with `pve` (a directory of configuration files) as
/// /etc/pve, seen only by this process: an overlay on /etc in a private mount namespace, so
/// the machine's /etc stays untouched for every other test.
fn run_as_user_with_etc_pve(copy: &SetuidCopy, pve: &Path, stdin: &[u8]) -> Output {
    let overlay = copy.dir.join("overlay");
    for dir in ["upper", "work"] {
        std::fs::create_dir_all(overlay.join(dir)).unwrap();
    }
    let script = format!(
        "set -e\n\
         mount -t overlay overlay -o lowerdir=/etc,upperdir={o}/upper,workdir={o}/work /etc\n\
         mkdir -p /etc/pve\n\
         cp -r {pve}/. /etc/pve/\n\
         chmod 0700 /etc/pve/priv\n\
         chmod 0600 /etc/pve/priv/notifications.cfg\n\
         exec setpriv --reuid {USER} --regid {USER} --clear-groups -- {copy}\n",
        o = overlay.display(),
        pve = pve.display(),
        copy = copy.path().display(),
    );
    let mut child = Command::new("unshare")
        .args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            &script,
        ])
        .env("RUST_BACKTRACE", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("unshare (util-linux)");
    use std::io::Write;
    let _ = child.stdin.take().unwrap().write_all(stdin);
    child.wait_with_output().unwrap()
}

/// With elevated privileges, what is wrong in the root-only priv/notifications.cfg is shown
/// to the caller as file, line and kind only: its text (here a password pasted as a key
/// name) must not reach a user who could not read the file.
#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn findings_in_the_root_only_file_are_not_quoted_to_the_caller() {
    let copy = SetuidCopy::install("quote");
    let pve = copy.dir.join("pve");
    std::fs::create_dir_all(pve.join("priv")).unwrap();
    std::fs::write(
        pve.join("notifications.cfg"),
        "gotify: phone\n\tserver http://127.0.0.1:1\n",
    )
    .unwrap();
    std::fs::write(
        pve.join("priv/notifications.cfg"),
        "gotify: phone\n\ttoken t0ken\n\tHunter2-secret value\nPa55word-line\n",
    )
    .unwrap();
    let out = run_as_user_with_etc_pve(&copy, &pve, MAIL);
    let text = stderr(&out);
    assert_eq!(out.status.code(), Some(75), "the mail stays queued: {text}");
    for secret in ["Hunter2", "Pa55word", "t0ken"] {
        assert!(
            !text.contains(secret),
            "{secret} shown to the caller:\n{text}"
        );
    }
    let shown = "(not shown to this user; see the system log)";
    assert!(
        text.contains(&format!(
            "/etc/pve/priv/notifications.cfg:3: load error {shown}\n"
        )) && text.contains(&format!(
            "/etc/pve/priv/notifications.cfg:4: load error {shown}\n"
        )),
        "{text}"
    );
    assert!(
        text.contains("configuration cannot be loaded; the mail stays queued"),
        "{text}"
    );
}
