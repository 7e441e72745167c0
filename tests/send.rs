//! `send` end to end: the dry-run contract scripts rely on, explain, bad input and exit
//! statuses, time zones, and delivery through a sendmail program.

mod fixture;

use fixture::{ConfigDir, fake_sendmail, stderr_of, stdout_of};

const TARGETS: &str = "\
sendmail: archive
	mailto archive@example.com

sendmail: backup-team
	mailto backup@example.com
	mailto-user alice@pve
	from-address pve@example.com
	author Backup Robot

gotify: phone
	server https://gotify.example.com

gotify: old-pager
	server https://gotify.example.com
	disable true
";

const MATCHERS: &str = "\
matcher: default-matcher
	mode all
	target mail-to-root
	comment Route all notifications to mail-to-root
	disable true

matcher: backup-errors
	match-field exact:type=vzdump
	match-severity error
	target backup-team
	target archive

matcher: night
	match-calendar 22:00-06:00
	match-severity error
	target phone
	target old-pager

matcher: typo
	match-severity unknown
	target mial-to-root
";

fn config() -> ConfigDir {
    let dir = ConfigDir::new(&format!("{TARGETS}\n{MATCHERS}"));
    dir.write(
        "user.cfg",
        "user:root@pam:1:0:::root@example.com:::\nuser:alice@pve:1:0:Alice::alice@example.com:::\n",
    );
    dir
}

/// Monday 2024-06-03 23:30 UTC.
const MONDAY_NIGHT: &str = "1717457400";
/// Monday 2024-06-03 12:00 UTC.
const MONDAY_NOON: &str = "1717416000";

#[test]
fn dry_run_prints_sorted_deliverable_targets_only() {
    let dir = config();
    let out = dir
        .cmd(&[
            "send",
            "--dry-run",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
            "--timestamp",
            MONDAY_NIGHT,
            "--title",
            "Backup failed",
            "--body",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    // old-pager is disabled: not printed; phone via night; de-duplicated and sorted.
    assert_eq!(stdout_of(&out), "archive\nbackup-team\nphone\n");
}

#[test]
fn dry_run_with_nothing_selected_prints_nothing_and_exits_0() {
    let dir = config();
    let out = dir
        .cmd(&[
            "send",
            "--dry-run",
            "--timestamp",
            MONDAY_NOON,
            "--title",
            "t",
            "--body",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn dry_run_warns_about_missing_targets_on_stderr_only() {
    let dir = config();
    let out = dir
        .cmd(&[
            "send",
            "--dry-run",
            "--severity",
            "UNKNOWN",
            "--title",
            "t",
            "--body",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "");
    assert!(
        stderr_of(&out).contains(
            "pvenotify: warning: matcher 'typo' names target 'mial-to-root', which does not exist"
        ),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn dry_run_json_is_an_array() {
    let dir = config();
    let out = dir
        .cmd(&[
            "--output-format",
            "json",
            "send",
            "--dry-run",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
            "--timestamp",
            MONDAY_NOON,
            "--title",
            "t",
            "--body",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(stdout_of(&out), "[\"archive\",\"backup-team\"]\n");
}

#[test]
fn explain_text_and_json() {
    let dir = config();
    let args = [
        "send",
        "--explain",
        "--severity",
        "error",
        "--timestamp",
        MONDAY_NIGHT,
        "--title",
        "t",
        "--body",
        "",
    ];
    let out = dir.cmd(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    assert!(text.contains("matcher night (mode all): match\n"), "{text}");
    assert!(
        text.contains(
            "match-calendar 22:00-06:00 ........... true (local time Mon 2024-06-03 23:30 +00:00)"
        ),
        "{text}"
    );
    assert!(
        text.contains("matcher default-matcher: skipped (disabled)\n"),
        "{text}"
    );
    assert!(text.contains("selected: phone\n"), "{text}");
    assert!(
        text.contains("not delivered: old-pager (disabled; named by night)"),
        "{text}"
    );

    let out = dir
        .cmd(&[&["--output-format", "json"][..], &args[..]].concat())
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["selected"], serde_json::json!(["phone"]));
    assert_eq!(json["event"]["severity"], "error");
    assert_eq!(json["event"]["timestamp"], 1717457400);
    assert_eq!(json["event"]["fields"]["hostname"], "pve1");
    assert!(json["event"].get("body").is_none());
    let night = json["matchers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "night")
        .unwrap();
    assert_eq!(night["matched"], true);
    assert_eq!(night["rules"][0]["kind"], "match-calendar");
    assert_eq!(json["skipped"][0]["reason"], "disabled");
}

#[test]
fn hostname_field_defaults_and_overrides() {
    let dir = ConfigDir::new(
        "sendmail: t1\n\tmailto a@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: m1\n\tmatch-field regex:hostname=.\n\ttarget t1\n",
    );
    let run = |extra: &[&str]| {
        let mut args = vec!["send", "--dry-run", "--title", "t", "--body", ""];
        args.extend_from_slice(extra);
        stdout_of(&dir.cmd(&args).output().unwrap())
    };
    assert_eq!(run(&[]), "t1\n", "--hostname pve1 is the default field");
    assert_eq!(run(&["--no-hostname"]), "", "no field, regex false");
    assert_eq!(run(&["--no-hostname", "--field", "hostname=x"]), "t1\n");
}

#[test]
fn usage_errors_exit_64() {
    let dir = config();
    for args in [
        &["send", "--body", "x"][..],
        &["send", "--title", "t", "--severity", "critical"],
        &["send", "--title", "t", "--field", "novalue"],
        &["send", "--title", "t", "--field", "a=1", "--field", "a=2"],
        &["send", "--title", "t", "--field", "bad key=1"],
        &["send", "--title", "\n\t"],
        &[
            "send",
            "--title",
            "t",
            "--body",
            "x",
            "--body-file",
            "/dev/null",
        ],
        &["--sendmail", "relative/sendmail", "send", "--title", "t"],
        &["-v", "-q", "send", "--title", "t"],
        &["frobnicate"],
    ] {
        let out = dir.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr_of(&out));
        assert!(!stderr_of(&out).contains("panicked"));
    }
}

#[test]
fn bad_input_data_exits_65() {
    let dir = config();
    let body_file = dir.file("body.bin");
    std::fs::write(&body_file, [0x66, 0xff, 0x00]).unwrap();
    let body_file = body_file.to_str().unwrap();
    for args in [
        &["send", "--title", "t", "--timestamp", "yesterday"][..],
        &["send", "--title", "t", "--body-file", "/nonexistent/body"],
        &["send", "--title", "t", "--body-file", body_file],
    ] {
        let out = dir.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(65), "{args:?}: {}", stderr_of(&out));
        assert!(
            stderr_of(&out).starts_with("pvenotify: error: "),
            "{}",
            stderr_of(&out)
        );
    }
    // Non-UTF-8 on stdin as well.
    let out = dir
        .cmd(&["send", "--dry-run", "--title", "t"])
        .write_stdin(vec![0xc3, 0x28])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
}

#[test]
fn load_errors_exit_78_naming_file_and_line() {
    let dir = ConfigDir::new("sendmail: t1\n\tmailto a@example.com\n\tadress x\n");
    let out = dir
        .cmd(&["send", "--dry-run", "--title", "t", "--body", ""])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    let expected = format!(
        "{}:3: unknown property 'adress' for section type 'sendmail'",
        dir.file("notifications.cfg").display()
    );
    assert!(stderr_of(&out).contains(&expected), "{}", stderr_of(&out));
    assert_eq!(stdout_of(&out), "");
}

#[test]
fn missing_config_dir_exits_78() {
    let out = fixture::pvenotify()
        .args([
            "--config-dir",
            "/nonexistent/pve",
            "send",
            "--dry-run",
            "--title",
            "t",
            "--body",
            "",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stderr_of(&out));
    assert!(
        stderr_of(&out).contains("/nonexistent/pve"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn config_dir_from_environment() {
    let dir = config();
    let out = fixture::pvenotify()
        .env("PVENOTIFY_CONFIG_DIR", dir.path())
        .args([
            "send",
            "--dry-run",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
        ])
        .args(["--timestamp", MONDAY_NOON, "--title", "t", "--body", ""])
        .output()
        .unwrap();
    assert_eq!(
        stdout_of(&out),
        "archive\nbackup-team\n",
        "{}",
        stderr_of(&out)
    );
}

/// Matching uses local wall-clock time from TZ, across daylight-saving changes.
#[test]
fn calendar_uses_local_time_across_dst_in_berlin() {
    let dir = ConfigDir::new(
        "sendmail: two-to-three\n\tmailto a@example.com\n\n\
         sendmail: one-to-two\n\tmailto a@example.com\n\n\
         sendmail: at-noon\n\tmailto a@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: ma\n\tmatch-calendar sun 2:00-3:00\n\ttarget two-to-three\n\n\
         matcher: mb\n\tmatch-calendar 1-2\n\ttarget one-to-two\n\n\
         matcher: mc\n\tmatch-calendar 14:00-14:01\n\ttarget at-noon\n",
    );
    let routed = |timestamp: &str| {
        let out = dir
            .cmd(&[
                "send",
                "--dry-run",
                "--timestamp",
                timestamp,
                "--title",
                "t",
                "--body",
                "",
            ])
            .env("TZ", "Europe/Berlin")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
        stdout_of(&out)
    };
    // Spring 2024-03-31: 01:59:59 CET, then 03:00 CEST; 02:xx never exists locally.
    assert_eq!(routed("2024-03-31T00:59:59Z"), "one-to-two\n");
    assert_eq!(routed("2024-03-31T01:00:00Z"), "");
    // Autumn 2024-10-27: 02:30 happens twice, both match.
    assert_eq!(routed("2024-10-27T00:30:00Z"), "two-to-three\n");
    assert_eq!(routed("2024-10-27T01:30:00Z"), "two-to-three\n");
    assert_eq!(routed("2024-10-27T02:30:00Z"), "");
    // 12:00 UTC is 14:00 in summer (CEST) but 13:00 in winter (CET).
    assert_eq!(routed("2024-07-01T12:00:00Z"), "at-noon\n");
    assert_eq!(routed("2024-01-08T12:00:00Z"), "");
    assert_eq!(routed("2024-01-08T13:00:00Z"), "at-noon\n");
}

#[test]
fn sendmail_delivery_passes_upstream_arguments_and_a_mime_message() {
    let dir = config();
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
            "--timestamp",
            MONDAY_NOON,
            "--title",
            "Backup failed",
            "--body",
            "vm 100: <error>",
        ])
        .output()
        .unwrap();
    // archive and backup-team both run the same fake; the last one's files remain.
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "archive (sendmail): delivered\nbackup-team (sendmail): delivered\n"
    );
    assert_eq!(stdout_of(&out), "");
    let args = std::fs::read_to_string(dir.file("sendmail.args")).unwrap();
    assert_eq!(
        args,
        "-i\n-B\n8BITMIME\n-f\npve@example.com\n--\nbackup@example.com\nalice@example.com\n"
    );
    let input = std::fs::read_to_string(dir.file("sendmail.input")).unwrap();
    assert!(!input.contains('\r'), "LF line ends for sendmail");
    assert!(
        input.contains("\nFrom: Backup Robot <pve@example.com>\n")
            || input.starts_with("From: Backup Robot <pve@example.com>\n"),
        "{input}"
    );
    assert!(
        input.contains("To: backup@example.com, alice@example.com\n"),
        "{input}"
    );
    assert!(input.contains("Subject: Backup failed\n"), "{input}");
    assert!(
        input.contains("Auto-Submitted: auto-generated;\n"),
        "{input}"
    );
    assert!(input.contains("vm 100: <error>"), "{input}");
    assert!(
        input.contains("<pre>vm 100: &lt;error&gt;</pre>"),
        "{input}"
    );
}

#[test]
fn default_from_address_comes_from_datacenter_cfg_else_root() {
    let dir = ConfigDir::new("");
    dir.write("user.cfg", "user:root@pam:1:0:::root@example.com:::\n");
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let send = || {
        dir.cmd(&[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--title",
            "t",
            "--body",
            "b",
        ])
        .output()
        .unwrap()
    };
    let out = send();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let args = std::fs::read_to_string(dir.file("sendmail.args")).unwrap();
    assert_eq!(args, "-i\n-B\n8BITMIME\n-f\nroot\n--\nroot@example.com\n");

    dir.write(
        "datacenter.cfg",
        "keyboard: de\nemail_from: pve@example.com\n",
    );
    assert_eq!(send().status.code(), Some(0));
    let args = std::fs::read_to_string(dir.file("sendmail.args")).unwrap();
    assert_eq!(
        args,
        "-i\n-B\n8BITMIME\n-f\npve@example.com\n--\nroot@example.com\n"
    );
}

#[test]
fn failing_sendmail_exits_75_and_other_targets_are_still_tried() {
    let dir = config();
    let sendmail = fake_sendmail(
        dir.path(),
        75,
        "postdrop: warning: unable to look up public/pickup\nmore",
    );
    let out = dir
        .cmd(&[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
            "--timestamp",
            MONDAY_NOON,
            "--title",
            "t",
            "--body",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(75));
    let stderr = stderr_of(&out);
    let line = format!(
        "archive (sendmail): failed (temporary): {} exited with status 75: postdrop: warning: unable to look up public/pickup",
        sendmail.display()
    );
    assert!(stderr.contains(&line), "{stderr}");
    assert!(
        stderr.contains("backup-team (sendmail): failed (temporary)"),
        "{stderr}"
    );
}

#[test]
fn missing_sendmail_program_exits_78() {
    let dir = config();
    let out = dir
        .cmd(&[
            "--sendmail",
            "/nonexistent/sendmail",
            "send",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
            "--timestamp",
            MONDAY_NOON,
            "--title",
            "t",
            "--body",
            "b",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78));
    assert!(
        stderr_of(&out).contains(
            "archive (sendmail): failed (configuration): cannot run /nonexistent/sendmail: "
        ),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn json_result_lists_every_outcome_and_the_exit_status() {
    let dir = config();
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "--output-format",
            "json",
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--severity",
            "error",
            "--timestamp",
            MONDAY_NIGHT,
            "--field",
            "type=vzdump",
            "--title",
            "t",
            "--body",
            "b",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = json["results"].as_array().unwrap();
    let names: Vec<&str> = results
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["archive", "backup-team", "phone"]);
    assert_eq!(results[0]["status"], "delivered");
    // `phone` has no private section, so no token: a configuration failure before
    // anything is sent, reported and never silently skipped (README row 8).
    assert_eq!(results[2]["status"], "failed");
    assert_eq!(results[2]["class"], "configuration");
    assert!(
        results[2]["error"]
            .as_str()
            .unwrap()
            .starts_with("no token configured"),
        "{}",
        results[2]
    );
    assert_eq!(json["exit-status"], 78);
    assert_eq!(out.status.code(), Some(78));
    assert_eq!(json["skipped"][0]["target"], "old-pager");
}

#[test]
fn nothing_configured_exits_69() {
    let dir = ConfigDir::new("matcher: default-matcher\n\tdisable true\n");
    let out = dir
        .cmd(&["send", "--title", "t", "--body", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69));
    assert!(
        stderr_of(&out).contains("nothing is configured to deliver"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn all_selected_targets_missing_exits_69() {
    let dir = ConfigDir::new(
        "sendmail: t1\n\tmailto a@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\n\
         matcher: real\n\tmatch-severity error\n\ttarget t1\n\n\
         matcher: typo\n\ttarget ghost\n",
    );
    let out = dir
        .cmd(&["send", "--title", "t", "--body", "b"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(69), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("target 'ghost', which does not exist"));
}

#[test]
fn quiet_leaves_only_failures() {
    let dir = config();
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = dir
        .cmd(&[
            "-q",
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
            "--timestamp",
            MONDAY_NIGHT,
            "--title",
            "t",
            "--body",
            "b",
        ])
        .output()
        .unwrap();
    let stderr = stderr_of(&out);
    assert!(!stderr.contains("delivered"), "{stderr}");
    assert!(
        stderr.contains("phone (gotify): failed (configuration): no token configured"),
        "{stderr}"
    );
}

#[test]
fn send_that_selects_no_target_says_so_unless_quiet() {
    let dir = config();
    let args = [
        "send",
        "--timestamp",
        MONDAY_NOON,
        "--title",
        "t",
        "--body",
        "b",
    ];
    let out = dir.cmd(&args).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(
        stderr_of(&out),
        "pvenotify: warning: no matcher selected a target; nothing was sent\n"
    );
    assert_eq!(stdout_of(&out), "");

    let mut quiet = vec!["-q"];
    quiet.extend(args);
    let out = dir.cmd(&quiet).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert_eq!(stderr_of(&out), "");
}

#[test]
fn hostname_with_spaces_or_control_characters_exits_64() {
    let dir = config();
    let sendmail = fake_sendmail(dir.path(), 0, "");
    // The fixture's command already has `--hostname pve1`; this one starts bare.
    let cmd = |args: &[&str]| {
        let mut cmd = assert_cmd::Command::cargo_bin("pvenotify").unwrap();
        cmd.env_remove("PVENOTIFY_SENDMAIL")
            .arg("--config-dir")
            .arg(dir.path())
            .args(args);
        cmd
    };
    for bad in [
        "pve 1",
        "pve1\r\nX-Injected: 1",
        "pve1\u{7}",
        "",
        "pve..x",
        "pve1>",
    ] {
        let out = cmd(&[
            "--hostname",
            bad,
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--severity",
            "error",
            "--field",
            "type=vzdump",
            "--title",
            "t",
        ])
        .output()
        .unwrap();
        let stderr = stderr_of(&out);
        assert_eq!(out.status.code(), Some(64), "{bad:?}: {stderr}");
        assert!(stderr.contains("is not a host name"), "{bad:?}: {stderr}");
    }
    for good in ["pve1", "pve1.example.com", "node_2-a.lan"] {
        let out = cmd(&["--hostname", good, "send", "--dry-run", "--title", "t"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{good}: {}", stderr_of(&out));
    }
}
