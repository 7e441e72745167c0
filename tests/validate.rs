//! `validate` end to end: exit statuses, every finding reported, the shipped example.

mod fixture;

use fixture::{ConfigDir, stderr_of, stdout_of};

#[test]
fn valid_directory_exits_0() {
    let dir = ConfigDir::new("sendmail: t1\n\tmailto a@example.com\n");
    dir.write("user.cfg", "user:root@pam:1:0:::root@example.com:::\n");
    let out = dir
        .cmd(&["--sendmail", "/bin/sh", "validate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    assert_eq!(stdout_of(&out), "configuration is valid\n");
}

#[test]
fn every_error_is_reported_and_exit_is_78() {
    let dir = ConfigDir::new(
        "sendmail: t1\n\tmailto a@example.com\n\tadress x\n\n\
         matcher: m1\n\tmatch-calendar mon-fry 9-17\n\ttarget t1\n\n\
         matcher: n1\n\ttarget backup-tema\n",
    );
    let out = dir.cmd(&["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    let text = stdout_of(&out);
    let file = dir.file("notifications.cfg");
    let file = file.display();
    for expected in [
        format!("{file}:3: unknown property 'adress' for section type 'sendmail'"),
        format!(
            "{file}:6: property 'match-calendar': unable to parse 'mon-fry 9-17': unknown weekday 'fry'"
        ),
        format!("{file}:10: matcher 'n1': target 'backup-tema' does not exist"),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    let last = text.lines().last().unwrap();
    assert!(
        last.ends_with("warnings") || last.ends_with("warning"),
        "{last}"
    );
    assert!(last.starts_with("3 errors"), "{last}");
}

#[test]
fn pvenotify_only_syntax_is_a_warning_with_exit_0_unless_strict() {
    let dir = ConfigDir::new(
        "sendmail: t1\n\tmailto a@example.com\n\n\
         matcher: m1\n\tmatch-calendar mon-fri 22:00-06:00\n\tmatch-calendar 18:00-24:00\n\ttarget t1\n",
    );
    dir.write("user.cfg", "user:root@pam:1:0:::root@example.com:::\n");
    let out = dir
        .cmd(&["--sendmail", "/bin/sh", "validate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let text = stdout_of(&out);
    assert!(
        text.contains("accepted by pvenotify but rejected by Proxmox VE"),
        "{text}"
    );
    assert!(text.contains(":5: warning: "), "{text}");
    assert!(text.contains(":6: warning: "), "{text}");
    assert!(
        text.lines()
            .last()
            .unwrap()
            .starts_with("configuration is valid, "),
        "{text}"
    );

    let out = dir
        .cmd(&["--sendmail", "/bin/sh", "validate", "--strict"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
}

#[test]
fn json_findings() {
    let dir = ConfigDir::new("bogus: x\n");
    let out = dir
        .cmd(&["--output-format", "json", "validate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["valid"], false);
    assert!(json["errors"].as_u64().unwrap() >= 1);
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["line"] == 1)
        .expect("finding on line 1");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["message"], "unknown section type 'bogus'");
}

#[test]
fn quiet_prints_only_errors() {
    let dir = ConfigDir::new("sendmail: t1\n\tmailto a@example.com\n\tadress x\n");
    let out = dir.cmd(&["-q", "validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    let text = stdout_of(&out);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(!text.contains("warning"), "{text}");
}

#[test]
fn unreadable_file_is_an_error() {
    let dir = ConfigDir::new("");
    std::fs::create_dir(dir.file("notifications.cfg")).unwrap();
    let out = dir.cmd(&["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(stdout_of(&out).contains(&dir.file("notifications.cfg").display().to_string()));
    assert!(!stderr_of(&out).contains("panicked"));
}

#[test]
fn shipped_example_is_valid() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/pve");
    let out = fixture::pvenotify()
        .args(["--config-dir", example, "--sendmail", "/bin/sh", "validate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    // It shows off pvenotify-only calendar syntax, which validate points out.
    assert!(stdout_of(&out).contains("accepted by pvenotify but rejected by Proxmox VE"));
}

#[test]
fn each_kind_of_bad_config_names_file_line_and_key() {
    let dir = ConfigDir::new(
        "matcher: m1\n\tmode ALL\n\tmatch-field regex:type=(abc\n\ttarget t1\n\n\
         smtp: relay\n\tserver mail.example.com\n\n\
         sendmail: t1\n\tmailto a@example.com\n\n\
         sendmail: t1\n\tmailto b@example.com\n\n\
         gotify: ph\n\tserver https://g.example.com\n",
    );
    let out = dir.cmd(&["validate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(78));
    let text = stdout_of(&out);
    let file = dir.file("notifications.cfg");
    let file = file.display();
    for expected in [
        format!("{file}:2: property 'mode': 'ALL' is not one of: all, any"),
        format!("{file}:3: property 'match-field': invalid regex '(abc': "),
        format!("{file}:6: section 'smtp: relay': required property 'from-address' is missing"),
        format!("{file}:12: section name 't1' already used at line 9"),
        format!("{file}:15: gotify target 'ph' has no token"),
    ] {
        assert!(text.contains(&expected), "missing {expected:?} in:\n{text}");
    }
    // One line per finding, no panics, errors never on stderr twice.
    assert!(text.lines().all(|l| !l.contains('\r')));
    assert!(!stderr_of(&out).contains("panicked"));
}

/// A FIFO where a configuration file should be: a clear error naming the file, at once
/// (opening it for reading would wait for a writer forever).
#[test]
fn a_fifo_in_place_of_a_config_file_is_an_error_not_a_hang() {
    for name in [
        "notifications.cfg",
        "priv/notifications.cfg",
        "user.cfg",
        "datacenter.cfg",
    ] {
        let dir = ConfigDir::new("");
        std::fs::create_dir_all(dir.file("priv")).unwrap();
        let fifo = dir.file(name);
        let path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(
            unsafe { libc::mkfifo(path.as_ptr(), 0o600) },
            0,
            "mkfifo {name}"
        );
        let out = dir
            .cmd(&["validate"])
            .timeout(std::time::Duration::from_secs(10))
            .output()
            .unwrap();
        let text = stdout_of(&out);
        let expected = format!(
            "{}: cannot read: not a regular file (a FIFO)",
            fifo.display()
        );
        assert!(
            text.contains(&expected),
            "{name}: missing {expected:?} in:\n{text}"
        );
        // user.cfg too: the built-in mail-to-root target needs it.
        assert_eq!(out.status.code(), Some(78), "{name}: {text}");
    }
}

/// Issue 10, item 5: with the default matcher off and nothing for system mail, forward-mail
/// would accept root's mail and send it nowhere; validate says so (a warning).
#[test]
fn root_mail_routed_nowhere_is_a_warning() {
    let dir = ConfigDir::new(
        "matcher: default-matcher\n\ttarget mail-to-root\n\tdisable true\n\n\
         sendmail: archive\n\tmailto archive@example.com\n\n\
         matcher: backups\n\tmatch-field exact:type=vzdump\n\ttarget archive\n",
    );
    dir.write("user.cfg", "user:root@pam:1:0:::root@example.com:::\n");
    let out = dir
        .cmd(&["--sendmail", "/bin/sh", "validate"])
        .output()
        .unwrap();
    let file = dir.file("notifications.cfg");
    assert_eq!(
        stdout_of(&out),
        format!(
            "{}: warning: root's local mail (forward-mail: type=system-mail, severity unknown) \
             would be dropped: no enabled matcher selects an existing, enabled target for it\n\
             configuration is valid, 1 warning\n",
            file.display()
        )
    );
    assert_eq!(out.status.code(), Some(0));
    dir.write(
        "notifications.cfg",
        "matcher: default-matcher\n\ttarget mail-to-root\n\tdisable true\n\n\
         sendmail: archive\n\tmailto archive@example.com\n\n\
         matcher: backups\n\tmatch-field exact:type=system-mail\n\ttarget archive\n",
    );
    let out = dir
        .cmd(&["--sendmail", "/bin/sh", "validate"])
        .output()
        .unwrap();
    assert_eq!(stdout_of(&out), "configuration is valid\n");
}
