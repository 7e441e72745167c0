//! `send --template`, `--preview`, `test-target` and `validate` with notification
//! templates, end to end: the lookup through override, vendor and built-in files, the
//! rendering rules, bad input, and (with the test services) what each target kind puts
//! on the wire.

mod common;
mod fixture;

use std::process::Output;

use common::{DEFAULT_TIMEOUT, mail_parts, services, unique_marker};
use fixture::{ConfigDir, fake_sendmail, stderr_of, stdout_of};
use serde_json::{Value, json};

/// One sendmail target `ops` that every event reaches.
const SENDMAIL_ONLY: &str = "\
sendmail: ops
	mailto ops@example.com

matcher: default-matcher
	disable true

matcher: all
	target ops
";

/// Writes override template files under the config directory.
fn override_files(dir: &ConfigDir, files: &[(&str, &str)]) {
    for (name, text) in files {
        dir.write(&format!("notification-templates/default/{name}"), text);
    }
}

/// Writes vendor template files under `vendor/default/` of the config directory.
fn vendor_files(dir: &ConfigDir, files: &[(&str, &str)]) {
    for (name, text) in files {
        dir.write(&format!("vendor/default/{name}"), text);
    }
}

fn vendor_dir(dir: &ConfigDir) -> String {
    dir.file("vendor").display().to_string()
}

/// `pvenotify --template-dir DIR/vendor ARGS…` with the data written to a file.
fn run(dir: &ConfigDir, data: &Value, args: &[&str]) -> Output {
    let data_file = dir.file("data.json");
    std::fs::write(&data_file, data.to_string()).unwrap();
    let vendor = vendor_dir(dir);
    let mut all = vec!["--template-dir", vendor.as_str()];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--data", data_file.to_str().unwrap()]);
    dir.cmd(&all).output().unwrap()
}

/// `--preview` as JSON.
fn preview(dir: &ConfigDir, template: &str, data: &Value) -> Value {
    let out = run(
        dir,
        data,
        &[
            "--output-format",
            "json",
            "send",
            "--template",
            template,
            "--preview",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

// ------------------------------------------------------------------ the job template

/// Override templates of a template `job` exercising helpers, a table and escaping.
const JOB_FILES: &[(&str, &str)] = &[
    (
        "job-subject.txt.hbs",
        "Job {{ name }} on {{ hostname }}: {{ human-bytes size }}",
    ),
    (
        "job-body.txt.hbs",
        "Name: {{ name }}\nDuration: {{ duration secs }}\n{{ table rows }}Note: {{ note }}\n",
    ),
    (
        "job-body.html.hbs",
        "<p>{{ name }}: {{ note }}</p>\n{{ table rows }}",
    ),
];

fn job_data(name: &str) -> Value {
    json!({
        "name": name,
        "size": 1536,
        "secs": 3725,
        "note": "<script>&\"'",
        "rows": {
            "schema": {"columns": [
                {"label": "Guest", "id": "g"},
                {"label": "Size", "id": "s", "renderer": "human-bytes"}
            ]},
            "data": [{"g": "web", "s": 1024}]
        }
    })
}

fn job_subject(name: &str) -> String {
    format!("Job {name} on pve1: 1.5 KiB")
}

fn job_text(name: &str) -> String {
    format!(
        "Name: {name}\nDuration: 1h 2m 5s\nGuest    Size     \nweb      1 KiB    \nNote: <script>&\"'\n"
    )
}

fn job_html(name: &str) -> String {
    format!(
        "<p>{name}: &lt;script&gt;&amp;&quot;&#x27;</p>\n\
         <table style=\"border: 1px solid\";border-style=\"collapse\">\n  <tr>\n    \
         <th style=\"border: 1px solid\">Guest</th>\n    <th style=\"border: 1px solid\">Size</th>\n  </tr>\n  \
         <tr>\n    <td style=\"border: 1px solid\">web</td>\n    <td style=\"border: 1px solid\">1 KiB</td>\n  \
         </tr>\n</table>\n"
    )
}

/// A mail carrying the job template rendered for `name`, part by part.
fn assert_job_mail(raw: &[u8], name: &str) {
    let (subject, text, html) = mail_parts(raw);
    assert_eq!(subject, job_subject(name));
    assert_eq!(text, job_text(name));
    assert_eq!(html, job_html(name));
}

#[test]
fn preview_renders_all_parts_and_names_their_files() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(&dir, JOB_FILES);
    let json = preview(&dir, "job", &job_data("nightly"));
    assert_eq!(json["subject"], job_subject("nightly"));
    assert_eq!(json["text"], job_text("nightly"));
    assert_eq!(json["html"], job_html("nightly"));
    let override_dir = dir.file("notification-templates/default");
    for (index, file) in [
        "job-subject.txt.hbs",
        "job-body.txt.hbs",
        "job-body.html.hbs",
    ]
    .iter()
    .enumerate()
    {
        let attempts = json["parts"][index]["attempts"].as_array().unwrap();
        assert_eq!(attempts.len(), 1, "{attempts:?}");
        assert_eq!(attempts[0]["source"], "override");
        assert_eq!(
            attempts[0]["file"],
            override_dir.join(file).display().to_string()
        );
    }

    // Text form: each part under a header naming its file.
    let out = run(
        &dir,
        &job_data("nightly"),
        &["send", "--template", "job", "--preview"],
    );
    assert_eq!(out.status.code(), Some(0));
    let text = stdout_of(&out);
    let expected = format!(
        "==> subject: override {}/job-subject.txt.hbs <==\n{}\n==> text: override {}/job-body.txt.hbs <==\n{}==> html: override {}/job-body.html.hbs <==\n{}",
        override_dir.display(),
        job_subject("nightly"),
        override_dir.display(),
        job_text("nightly"),
        override_dir.display(),
        job_html("nightly"),
    );
    assert_eq!(text, expected);
}

#[test]
fn preview_of_the_built_in_vzdump_template() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    dir.write(
        "corosync.conf",
        "totem {\n  cluster_name: prod\n  version: 2\n}\n",
    );
    let data = json!({
        "status-text": "backup failed",
        "error": "job errors",
        "total-time": 61,
        "total-size": 1073741824,
        "guest-table": {
            "schema": {"columns": [
                {"label": "VMID", "id": "vmid"},
                {"label": "Name", "id": "name"},
                {"label": "Status", "id": "status"},
                {"label": "Time", "id": "time", "renderer": "duration"},
                {"label": "Size", "id": "size", "renderer": "human-bytes"},
                {"label": "Filename", "id": "filename"}
            ]},
            "data": [
                {"vmid": "100", "name": "web", "status": "ok", "time": 60, "size": 1073741824, "filename": "a.vma.zst"},
                {"vmid": "101", "name": "db", "status": "err", "time": 1, "size": 0}
            ]
        },
        "logs": "INFO: start\nERROR: <disk> gone\n"
    });
    let json = preview(&dir, "vzdump", &data);
    assert_eq!(json["subject"], "Backup job on pve1: backup failed");
    assert_eq!(
        json["text"],
        "Error: job errors\n\n\
         VMID    Name    Status    Time    Size     Filename     \n\
         100     web     ok        1m      1 GiB    a.vma.zst    \n\
         101     db      err       1s      0 B      null         \n\
         \n\
         Total time: 1m 1s\n\
         Total size: 1 GiB\n\
         \n\
         Log:\n\
         INFO: start\nERROR: <disk> gone\n\n"
    );
    let html = json["html"].as_str().unwrap();
    assert!(html.starts_with("<html>\n<body>\n<h2>Backup job on pve1: backup failed</h2>\n<p><b>Error:</b> job errors</p>\n<table"), "{html}");
    assert!(
        html.ends_with("<pre>INFO: start\nERROR: &lt;disk&gt; gone\n</pre>\n</body>\n</html>\n"),
        "{html}"
    );
    assert_eq!(json["parts"][0]["attempts"][2]["source"], "built-in");

    // The common data includes cluster-name from corosync.conf, hostname and fqdn.
    override_files(
        &dir,
        &[
            (
                "who-subject.txt.hbs",
                "{{ hostname }}|{{ fqdn }}|{{ cluster-name }}",
            ),
            ("who-body.txt.hbs", ""),
        ],
    );
    let json = preview(&dir, "who", &json!({}));
    assert_eq!(json["subject"], "pve1|pve1|prod");
    let json = preview(
        &dir,
        "who",
        &json!({"hostname": "given", "cluster-name": "mine"}),
    );
    assert_eq!(json["subject"], "given|pve1|mine");
}

#[test]
fn subject_newlines_become_spaces_and_missing_variables_render_empty() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(
        &dir,
        &[
            ("x-subject.txt.hbs", "Line {{ a }}\n"),
            ("x-body.txt.hbs", "[{{ missing }}][{{ a.b }}]"),
        ],
    );
    let json = preview(&dir, "x", &json!({"a": "one\ntwo"}));
    assert_eq!(json["subject"], "Line one two ");
    assert_eq!(json["text"], "[][]");
    // No HTML file anywhere: the text, escaped, in <pre>.
    assert_eq!(json["html"], "<html><body><pre>[][]</pre></body></html>");
}

#[test]
fn timestamps_follow_tz_across_a_dst_change() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(
        &dir,
        &[
            (
                "t-subject.txt.hbs",
                "{{ timestamp a }}|{{ timestamp b }}|{{ timestamp c }}",
            ),
            ("t-body.txt.hbs", ""),
        ],
    );
    let data = dir.file("data.json");
    // 2024-03-31 00:59:59 and 01:00:00 UTC: the last second of CET, the first of CEST.
    std::fs::write(&data, r#"{"a": 1711846799, "b": "1711846800", "c": 1.5}"#).unwrap();
    let out = dir
        .cmd(&[
            "--output-format",
            "json",
            "send",
            "--template",
            "t",
            "--data",
            data.to_str().unwrap(),
            "--preview",
        ])
        .env("TZ", "Europe/Berlin")
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        json["subject"],
        "2024-03-31 01:59:59|2024-03-31 03:00:00|ERROR"
    );
}

#[test]
fn lookup_falls_through_broken_overrides_with_a_warning() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(
        &dir,
        &[
            ("job-subject.txt.hbs", "{{#if x}}never closed"),
            ("job-body.txt.hbs", "override text {{ x }}"),
        ],
    );
    vendor_files(
        &dir,
        &[
            ("job-subject.txt.hbs", "vendor subject"),
            ("job-body.txt.hbs", "vendor text"),
            ("job-body.html.hbs", "<p>vendor {{ x }}</p>"),
        ],
    );
    let out = run(
        &dir,
        &json!({"x": "<b>"}),
        &[
            "--output-format",
            "json",
            "send",
            "--template",
            "job",
            "--preview",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["subject"], "vendor subject");
    assert_eq!(json["text"], "override text <b>");
    assert_eq!(json["html"], "<p>vendor &lt;b&gt;</p>");
    let stderr = stderr_of(&out);
    assert!(
        stderr.starts_with("pvenotify: warning: failed to render override template 'job-subject.txt.hbs': line 1, column "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn an_override_text_without_html_becomes_the_html_part_when_no_vendor_html_exists() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(&dir, &[("job-body.txt.hbs", "a & b")]);
    vendor_files(
        &dir,
        &[("job-subject.txt.hbs", "s"), ("job-body.txt.hbs", "vendor")],
    );
    let json = preview(&dir, "job", &json!({}));
    assert_eq!(
        json["html"],
        "<html><body><pre>a &amp; b</pre></body></html>"
    );
    let used = &json["parts"][2]["attempts"][2];
    assert_eq!(used["source"], "override");
    assert_eq!(used["from-text"], true);
}

#[test]
fn send_delivers_the_rendered_parts_to_a_mail_target() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(&dir, JOB_FILES);
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = run(
        &dir,
        &job_data("nightly"),
        &[
            "-v",
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--template",
            "job",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let stderr = stderr_of(&out);
    assert!(stderr.contains("ops (sendmail): delivered\n"), "{stderr}");
    assert!(
        stderr.contains("pvenotify: note: template 'job': html from override "),
        "{stderr}"
    );
    let raw = std::fs::read(dir.file("sendmail.input")).unwrap();
    assert_job_mail(&raw, "nightly");
}

#[test]
fn a_template_that_renders_nowhere_fails_every_target_with_78() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let out = run(
        &dir,
        &json!({}),
        &[
            "--sendmail",
            sendmail.to_str().unwrap(),
            "send",
            "--template",
            "nope",
        ],
    );
    assert_eq!(out.status.code(), Some(78));
    let stderr = stderr_of(&out);
    let override_dir = dir.file("notification-templates/default");
    let vendor = dir.file("vendor/default");
    let expected = format!(
        "ops (sendmail): failed (configuration): template 'nope': cannot render the subject part; tried \
         override {o}/nope-subject.txt.hbs (not found), vendor {v}/nope-subject.txt.hbs (not found); \
         template 'nope': cannot render the text part; tried override {o}/nope-body.txt.hbs (not found), \
         vendor {v}/nope-body.txt.hbs (not found)\n",
        o = override_dir.display(),
        v = vendor.display()
    );
    assert_eq!(stderr, expected);
    assert!(!dir.file("sendmail.input").exists(), "nothing was sent");

    let out = run(
        &dir,
        &json!({}),
        &["send", "--template", "nope", "--preview"],
    );
    assert_eq!(out.status.code(), Some(78));
}

#[test]
fn under_noise_control_a_template_that_renders_nowhere_fails_and_starts_no_cooldown() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let state = dir.file("state");
    let args = [
        "--sendmail",
        sendmail.to_str().unwrap(),
        "send",
        "--template",
        "nope",
        "--dedup-key",
        "k",
        "--state-dir",
        state.to_str().unwrap(),
    ];
    for _ in 0..2 {
        let out = run(&dir, &json!({}), &args);
        assert_eq!(out.status.code(), Some(78), "{}", stderr_of(&out));
        assert!(
            stderr_of(&out).starts_with("ops (sendmail): failed (configuration): template 'nope': cannot render the subject part;"),
            "{}",
            stderr_of(&out)
        );
    }
    assert!(!dir.file("sendmail.input").exists(), "nothing was sent");
}

#[test]
fn bad_data_exits_65_and_bad_combinations_64() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    for (content, message) in [
        ("[1, 2]", "is not a JSON object"),
        ("{\"a\": ", "is not valid JSON"),
        ("\"text\"", "is not a JSON object"),
    ] {
        std::fs::write(dir.file("bad.json"), content).unwrap();
        let out = dir
            .cmd(&[
                "send",
                "--template",
                "vzdump",
                "--data",
                dir.file("bad.json").to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(65), "{content}");
        assert!(stderr_of(&out).contains(message), "{}", stderr_of(&out));
    }
    let out = dir
        .cmd(&[
            "send",
            "--template",
            "vzdump",
            "--data",
            "/nonexistent/data.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(4 * 1024 * 1024));
    let out = dir
        .cmd(&["send", "--template", "vzdump", "--data", "-"])
        .write_stdin(big)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    assert!(
        stderr_of(&out).contains("larger than 4 MiB"),
        "{}",
        stderr_of(&out)
    );

    for args in [
        &["send", "--template", "vzdump", "--title", "x"][..],
        &["send", "--template", "vzdump", "--body", "x"],
        &["send", "--template", "vzdump", "--body-file", "-"],
        &["send", "--title", "x", "--data", "-"],
        &["send", "--title", "x", "--preview"],
        &["send", "--template", "../etc/passwd"],
        &["send"],
    ] {
        let out = dir.cmd(args).output().unwrap();
        assert_eq!(out.status.code(), Some(64), "{args:?}: {}", stderr_of(&out));
    }
}

#[test]
fn data_from_standard_input() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(
        &dir,
        &[("s-subject.txt.hbs", "{{ a }}"), ("s-body.txt.hbs", "")],
    );
    let out = dir
        .cmd(&[
            "--output-format",
            "json",
            "send",
            "--template",
            "s",
            "--data",
            "-",
            "--preview",
        ])
        .write_stdin(r#"{"a": "from stdin"}"#)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["subject"], "from stdin");
}

#[test]
fn explain_shows_the_lookup_of_every_part() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(&dir, &[("job-body.txt.hbs", "{{#if}}")]);
    let out = run(
        &dir,
        &json!({}),
        &["send", "--template", "test", "--explain"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let text = stdout_of(&out);
    let o = dir.file("notification-templates/default");
    let v = dir.file("vendor/default");
    let expected = format!(
        "template 'test':\n\
         \x20 subject: not found: override {o}/test-subject.txt.hbs\n\
         \x20 subject: not found: vendor {v}/test-subject.txt.hbs\n\
         \x20 subject: used: built-in test-subject.txt.hbs\n\
         \x20 text: not found: override {o}/test-body.txt.hbs\n\
         \x20 text: not found: vendor {v}/test-body.txt.hbs\n\
         \x20 text: used: built-in test-body.txt.hbs\n\
         \x20 html: not found: override {o}/test-body.html.hbs\n\
         \x20 html: not found: vendor {v}/test-body.html.hbs\n\
         \x20 html: not found: override {o}/test-body.txt.hbs (as HTML)\n\
         \x20 html: not found: vendor {v}/test-body.txt.hbs (as HTML)\n\
         \x20 html: used: built-in test-body.html.hbs\n",
        o = o.display(),
        v = v.display()
    );
    assert!(text.ends_with(&expected), "{text}");

    let out = run(
        &dir,
        &json!({}),
        &[
            "--output-format",
            "json",
            "send",
            "--template",
            "job",
            "--explain",
        ],
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["template"]["name"], "job");
    let failed = &json["template"]["parts"][1]["attempts"][0];
    assert_eq!(failed["source"], "override");
    assert!(
        failed["error"].as_str().unwrap().starts_with("line 1"),
        "{failed}"
    );
    assert!(
        json["template"]["error"]
            .as_str()
            .unwrap()
            .contains("cannot render the subject part")
    );
}

#[test]
fn test_target_renders_the_admins_test_template() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(
        &dir,
        &[
            ("test-subject.txt.hbs", "Test for {{ target }}\n"),
            (
                "test-body.txt.hbs",
                "Hello {{ target }} on [{{ hostname }}]",
            ),
        ],
    );
    let sendmail = fake_sendmail(dir.path(), 0, "");
    let vendor = vendor_dir(&dir);
    let out = dir
        .cmd(&[
            "--template-dir",
            &vendor,
            "--sendmail",
            sendmail.to_str().unwrap(),
            "test-target",
            "ops",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let raw = std::fs::read(dir.file("sendmail.input")).unwrap();
    let (subject, text, html) = mail_parts(&raw);
    // No common data for the test template, as upstream: hostname is empty.
    assert_eq!(subject, "Test for ops");
    assert_eq!(text, "Hello ops on []");
    // Override text without an HTML file: the HTML part comes from that text.
    assert_eq!(html, "<html><body><pre>Hello ops on []</pre></body></html>");
}

#[test]
fn validate_checks_override_files() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(
        &dir,
        &[
            ("good-subject.txt.hbs", "{{ human-bytes x }}"),
            ("job-subject.txt.hbs", "ok\n{{#if x}}\nnever closed\n"),
            (
                "job-body.txt.hbs",
                "a\n{{#each xs}}\n{{ human-byte size }}\n{{/each}}\n",
            ),
        ],
    );
    vendor_files(&dir, &[("job-body.html.hbs", "<p></p>")]);
    let vendor = vendor_dir(&dir);
    let out = dir
        .cmd(&["--template-dir", &vendor, "validate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(78), "{}", stdout_of(&out));
    let o = dir.file("notification-templates/default");
    let text = stdout_of(&out);
    // The default configuration has warnings of its own; only the template lines here.
    let lines: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("notification-templates") || !l.starts_with('/'))
        .collect();
    assert_eq!(
        lines[0],
        format!(
            "{}/job-body.txt.hbs:3: unknown helper 'human-byte'",
            o.display()
        )
    );
    assert!(
        lines[1].starts_with(&format!("{}/job-subject.txt.hbs:4: ", o.display())),
        "{text}"
    );
    assert_eq!(
        lines[2],
        format!(
            "{o}/job-body.txt.hbs: warning: overrides the text body of template 'job' but not its HTML body: mails keep the HTML part of {v}/default/job-body.html.hbs (add job-body.html.hbs here)",
            o = o.display(),
            v = vendor
        )
    );
    assert!(lines[3].starts_with("2 errors, "), "{text}");
    assert_eq!(lines.len(), 4, "{text}");
}

#[test]
fn validate_accepts_good_overrides() {
    let dir = ConfigDir::new(SENDMAIL_ONLY);
    override_files(&dir, JOB_FILES);
    let out = dir
        .cmd(&["--template-dir", "/nonexistent", "validate"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout_of(&out));
    let text = stdout_of(&out);
    assert!(!text.contains("notification-templates"), "{text}");
    assert!(
        text.lines()
            .last()
            .is_some_and(|l| l.starts_with("configuration is valid")),
        "{text}"
    );
}

// ------------------------------------------------------------------ real services

/// A config with `target` as the only target every event reaches.
fn single_target(target: &str, private: Option<&str>) -> ConfigDir {
    let dir = ConfigDir::new(&format!(
        "{target}\n\nmatcher: default-matcher\n\tdisable true\n\nmatcher: all\n\ttarget tt\n"
    ));
    if let Some(private) = private {
        dir.write("priv/notifications.cfg", private);
    }
    override_files(&dir, JOB_FILES);
    dir
}

fn send_job(dir: &ConfigDir, name: &str, extra: &[&str]) -> Output {
    let mut args: Vec<&str> = extra.to_vec();
    args.extend_from_slice(&["send", "--severity", "error", "--template", "job"]);
    let out = run(dir, &job_data(name), &args);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    out
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn template_through_postfix_sendmail() {
    let svc = services();
    let marker = unique_marker("tpl-postfix");
    let dir = single_target(
        &format!("sendmail: tt\n\tmailto {marker}@example.com\n\tfrom-address pve@example.com"),
        None,
    );
    send_job(
        &dir,
        &marker,
        &["--sendmail", svc.sendmail.to_str().unwrap()],
    );
    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        DEFAULT_TIMEOUT,
    );
    assert_job_mail(&mail.raw, &marker);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn template_through_smtp() {
    let svc = services();
    let marker = unique_marker("tpl-smtp");
    let dir = single_target(
        &format!(
            "smtp: tt\n\tserver {}\n\tport {}\n\tmode insecure\n\tmailto {marker}@example.com\n\tfrom-address pve@example.com",
            svc.host, svc.smtp_plain_port
        ),
        None,
    );
    send_job(&dir, &marker, &[]);
    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        DEFAULT_TIMEOUT,
    );
    assert_job_mail(&mail.raw, &marker);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn template_to_gotify() {
    let svc = services();
    let marker = unique_marker("tpl-gotify");
    let dir = single_target(
        &format!("gotify: tt\n\tserver {}", svc.http_url("")),
        Some(&format!("gotify: tt\n\ttoken {}\n", svc.gotify_token)),
    );
    send_job(&dir, &marker, &[]);
    let request = svc.wait_for_request(|r| r.body().contains(&marker), DEFAULT_TIMEOUT);
    let body = request.body_json().expect("JSON body");
    assert_eq!(body["title"], job_subject(&marker));
    assert_eq!(body["message"], format!("```\n{}\n```", job_text(&marker)));
    assert_eq!(body["priority"], 9);
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn template_to_webhook() {
    let svc = services();
    let marker = unique_marker("tpl-webhook");
    let body = base64_encode("{{ title }}|{{ message }}");
    let dir = single_target(
        &format!(
            "webhook: tt\n\tmethod post\n\turl {}\n\tbody {body}",
            svc.http_url(&format!("/{marker}"))
        ),
        None,
    );
    send_job(&dir, &marker, &[]);
    let request = svc.wait_for_request_containing(&marker, DEFAULT_TIMEOUT);
    assert_eq!(
        request.body(),
        format!("{}|{}", job_subject(&marker), job_text(&marker))
    );
}

#[test]
#[ignore = "needs test services: run tests/run-all.sh"]
fn built_in_vzdump_through_smtp() {
    let svc = services();
    let marker = unique_marker("tpl-vzdump");
    let dir = ConfigDir::new(&format!(
        "smtp: tt\n\tserver {}\n\tport {}\n\tmode insecure\n\tmailto {marker}@example.com\n\tfrom-address pve@example.com\n\n\
         matcher: default-matcher\n\tdisable true\n\nmatcher: all\n\ttarget tt\n",
        svc.host, svc.smtp_plain_port
    ));
    let data = json!({
        "status-text": "backup successful",
        "total-time": 3725,
        "total-size": 1536,
        "guest-table": {
            "schema": {"columns": [
                {"label": "VMID", "id": "vmid"},
                {"label": "Time", "id": "time", "renderer": "duration"},
                {"label": "Size", "id": "size", "renderer": "human-bytes"}
            ]},
            "data": [{"vmid": "100", "time": 3725, "size": 1536}]
        },
        "logs": format!("INFO: {marker} done")
    });
    let out = run(&dir, &data, &["send", "--template", "vzdump"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let mail = svc.wait_for_mail(
        |m| m.rcpt_tos().iter().any(|r| r.contains(&marker)),
        DEFAULT_TIMEOUT,
    );
    let (subject, text, html) = mail_parts(&mail.raw);
    assert_eq!(subject, "Backup job on pve1: backup successful");
    assert_eq!(
        text,
        format!(
            "VMID    Time        Size       \n100     1h 2m 5s    1.5 KiB    \n\n\
             Total time: 1h 2m 5s\nTotal size: 1.5 KiB\n\nLog:\nINFO: {marker} done\n"
        )
    );
    assert_eq!(
        html,
        format!(
            "<html>\n<body>\n<h2>Backup job on pve1: backup successful</h2>\n\
             <table style=\"border: 1px solid\";border-style=\"collapse\">\n  <tr>\n    \
             <th style=\"border: 1px solid\">VMID</th>\n    <th style=\"border: 1px solid\">Time</th>\n    \
             <th style=\"border: 1px solid\">Size</th>\n  </tr>\n  <tr>\n    \
             <td style=\"border: 1px solid\">100</td>\n    <td style=\"border: 1px solid\">1h 2m 5s</td>\n    \
             <td style=\"border: 1px solid\">1.5 KiB</td>\n  </tr>\n</table>\n\n\
             <p>Total time: 1h 2m 5s<br>\nTotal size: 1.5 KiB</p>\n<h3>Log</h3>\n<pre>INFO: {marker} done</pre>\n</body>\n</html>\n"
        )
    );
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}
