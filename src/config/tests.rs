//! Tests of `parse` as a whole: every property, error, warning and message shape of config.md.

use std::path::Path;

use super::*;

const DIR: &str = "/etc/pve";
const PUB: &str = "/etc/pve/notifications.cfg";
const PRIV: &str = "/etc/pve/priv/notifications.cfg";
const USERS: &str = "user:root@pam:1:0:::admin@example.com:::\n\
                     user:alice@pve:1:0:::alice@example.com:::\n\
                     user:nomail@pve:1:0:::::\n\
                     user:loop@pve:1:0:::root@localhost:::\n";

const ROOT_MAIL_DROPPED: &str = "/etc/pve/notifications.cfg: warning: root's local mail (forward-mail: type=system-mail, severity unknown) would be dropped: no enabled matcher selects an existing, enabled target for it";

fn host() -> HostFacts {
    HostFacts {
        hostname: "pve1".into(),
        fqdn: "pve1.example.com".into(),
        sendmail_usable: None,
        sendmail_path: "/usr/sbin/sendmail".into(),
    }
}

fn sources() -> Sources {
    Sources::empty(Path::new(DIR)).with_users(USERS)
}

fn run(sources: Sources) -> Loaded {
    parse(&sources, &host())
}

fn public(text: &str) -> Loaded {
    run(sources().with_public(text))
}

fn both(public: &str, private: &str) -> Loaded {
    run(sources().with_public(public).with_private(private))
}

fn messages(loaded: &Loaded) -> Vec<String> {
    loaded.findings.iter().map(ToString::to_string).collect()
}

#[track_caller]
fn assert_findings(loaded: &Loaded, expected: &[&str]) {
    assert_eq!(messages(loaded), expected);
}

#[track_caller]
fn assert_clean(loaded: &Loaded) {
    assert_findings(loaded, &[]);
}

fn target<'a>(loaded: &'a Loaded, name: &str) -> &'a Target {
    loaded
        .config
        .targets
        .get(name)
        .unwrap_or_else(|| panic!("no target {name}"))
}

fn smtp<'a>(loaded: &'a Loaded, name: &str) -> &'a SmtpConfig {
    match &target(loaded, name).kind {
        TargetKind::Smtp(c) => c,
        other => panic!("{other:?}"),
    }
}

fn gotify<'a>(loaded: &'a Loaded, name: &str) -> &'a GotifyConfig {
    match &target(loaded, name).kind {
        TargetKind::Gotify(c) => c,
        other => panic!("{other:?}"),
    }
}

fn webhook<'a>(loaded: &'a Loaded, name: &str) -> &'a WebhookConfig {
    match &target(loaded, name).kind {
        TargetKind::Webhook(c) => c,
        other => panic!("{other:?}"),
    }
}

fn sendmail<'a>(loaded: &'a Loaded, name: &str) -> &'a SendmailConfig {
    match &target(loaded, name).kind {
        TargetKind::Sendmail(c) => c,
        other => panic!("{other:?}"),
    }
}

fn matcher<'a>(loaded: &'a Loaded, name: &str) -> &'a Matcher {
    loaded
        .config
        .matchers
        .get(name)
        .unwrap_or_else(|| panic!("no matcher {name}"))
}

// ---- files, built-ins, origin -------------------------------------------------------------

#[test]
fn missing_files_give_the_builtins() {
    let loaded = run(sources());
    assert_clean(&loaded);
    assert_eq!(
        loaded.config.targets.keys().collect::<Vec<_>>(),
        ["mail-to-root"]
    );
    assert_eq!(
        loaded.config.matchers.keys().collect::<Vec<_>>(),
        ["default-matcher"]
    );
    let mail = target(&loaded, "mail-to-root");
    assert_eq!(mail.origin, Origin::Builtin);
    assert_eq!(mail.line, 0);
    assert!(!mail.disable);
    assert_eq!(
        mail.comment.as_deref(),
        Some("Send mails to root@pam's email address")
    );
    assert_eq!(
        sendmail(&loaded, "mail-to-root"),
        &SendmailConfig {
            mailto: vec![],
            mailto_user: vec!["root@pam".into()],
            from_address: None,
            author: None,
        }
    );
    let default = matcher(&loaded, "default-matcher");
    assert_eq!(default.origin, Origin::Builtin);
    assert_eq!(default.mode, MatchMode::All);
    assert!(!default.invert_match && !default.disable && !default.has_rules());
    assert_eq!(
        default.target,
        vec![Located {
            value: "mail-to-root".into(),
            line: 0
        }]
    );
    assert_eq!(
        default.comment.as_deref(),
        Some("Route all notifications to mail-to-root")
    );
    assert_eq!(loaded.config.public_path, Path::new(PUB));
    assert_eq!(loaded.config.private_path, Path::new(PRIV));
    assert_eq!(loaded.config.dir, Path::new(DIR));
    assert_eq!(loaded.config.datacenter, Datacenter::default());
    assert!(!loaded.has_load_errors());
}

#[test]
fn empty_file_gives_the_builtins() {
    let loaded = public("");
    assert_clean(&loaded);
    assert_eq!(loaded.config.targets.len(), 1);
    assert_eq!(loaded.config.matchers.len(), 1);
    let loaded = public("\n  \n\t\n");
    assert_clean(&loaded);
}

#[test]
fn builtin_written_unchanged_keeps_origin_builtin() {
    // Other order, other white space, an origin line: still the built-in.
    let loaded = public(
        "matcher:default-matcher\n\
         \ttarget   mail-to-root\n\
         \tcomment Route all notifications to mail-to-root\n\
         \torigin modified-builtin\n\
         \tmode all\n\
         \n\
         sendmail: mail-to-root\n\
         \tcomment Send mails to root@pam's email address\n\
         \tmailto-user root@pam\n",
    );
    assert_clean(&loaded);
    assert_eq!(matcher(&loaded, "default-matcher").origin, Origin::Builtin);
    assert_eq!(matcher(&loaded, "default-matcher").line, 1);
    assert_eq!(target(&loaded, "mail-to-root").origin, Origin::Builtin);
    assert_eq!(target(&loaded, "mail-to-root").line, 7);
}

#[test]
fn changed_builtin_is_modified() {
    let loaded = public(
        "matcher: default-matcher\n\
         \tmode all\n\
         \ttarget mail-to-root\n\
         \tcomment Route all notifications to mail-to-root\n\
         \tdisable true\n\
         \n\
         sendmail: mail-to-root\n\
         \tmailto-user root@pam\n\
         \tcomment another comment\n",
    );
    // With the default matcher off, nothing routes root's mail (issue 10, item 5).
    assert_findings(&loaded, &[ROOT_MAIL_DROPPED]);
    let default = matcher(&loaded, "default-matcher");
    assert_eq!(default.origin, Origin::ModifiedBuiltin);
    assert!(default.disable);
    let mail = target(&loaded, "mail-to-root");
    assert_eq!(mail.origin, Origin::ModifiedBuiltin);
    assert_eq!(mail.comment.as_deref(), Some("another comment"));

    // `disable false` is a property too; a missing `mode all` is a difference.
    let loaded = public(
        "matcher: default-matcher\n\
         \ttarget mail-to-root\n\
         \tcomment Route all notifications to mail-to-root\n",
    );
    assert_eq!(
        matcher(&loaded, "default-matcher").origin,
        Origin::ModifiedBuiltin
    );
    let loaded = public(
        "sendmail: mail-to-root\n\
         \tmailto-user root@pam\n\
         \tcomment Send mails to root@pam's email address\n\
         \tdisable 0\n",
    );
    assert_eq!(
        target(&loaded, "mail-to-root").origin,
        Origin::ModifiedBuiltin
    );
}

#[test]
fn builtin_name_with_other_type_replaces_it() {
    let loaded = public("gotify: mail-to-root\n\tserver https://g\n");
    let mail = target(&loaded, "mail-to-root");
    assert_eq!(mail.origin, Origin::ModifiedBuiltin);
    assert_eq!(mail.kind.type_name(), "gotify");
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:1: gotify target 'mail-to-root' has no token in priv/notifications.cfg",
        ],
    );
    // A matcher of that name: the default matcher's target is then not a target.
    let loaded = public("matcher: mail-to-root\n\ttarget default-matcher\n");
    assert!(loaded.config.targets.is_empty());
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg: matcher 'default-matcher': target 'mail-to-root' does not exist (it is a matcher)",
            ROOT_MAIL_DROPPED,
            "/etc/pve/notifications.cfg:2: matcher 'mail-to-root': target 'default-matcher' does not exist (it is a matcher)",
        ],
    );
}

#[test]
fn origin_key_is_accepted_and_ignored() {
    let loaded = public("sendmail: mine\n\tmailto a@b\n\torigin builtin\n");
    assert_clean(&loaded);
    assert_eq!(target(&loaded, "mine").origin, Origin::UserCreated);
    let loaded = public("matcher: m1\n\ttarget mail-to-root\n\torigin modified-builtin\n");
    assert_eq!(matcher(&loaded, "m1").origin, Origin::UserCreated);
    assert_findings(
        &public("sendmail: mine\n\tmailto a@b\n\torigin Builtin\n"),
        &[
            "/etc/pve/notifications.cfg:3: property 'origin': 'Builtin' is not one of: user-created, builtin, modified-builtin",
        ],
    );
}

// ---- sendmail -----------------------------------------------------------------------------

#[test]
fn sendmail_properties_and_defaults() {
    let loaded = public(
        "sendmail: full\n\
         \tmailto a@example.com\n\
         \tmailto-user alice@pve\n\
         \tmailto b@example.com\n\
         \tfrom-address pve@example.com\n\
         \tauthor PVE  Cluster\n\
         \tcomment some  comment\n\
         \tdisable yes\n\
         \tfilter legacy\n\
         \n\
         sendmail: bare\n\
         \tmailto c@example.com\n",
    );
    assert_clean(&loaded);
    let full = target(&loaded, "full");
    assert_eq!(full.origin, Origin::UserCreated);
    assert_eq!(full.line, 1);
    assert!(full.disable);
    assert_eq!(full.comment.as_deref(), Some("some  comment"));
    assert_eq!(
        sendmail(&loaded, "full"),
        &SendmailConfig {
            mailto: vec!["a@example.com".into(), "b@example.com".into()],
            mailto_user: vec!["alice@pve".into()],
            from_address: Some("pve@example.com".into()),
            author: Some("PVE  Cluster".into()),
        }
    );
    let bare = target(&loaded, "bare");
    assert!(!bare.disable);
    assert_eq!(bare.comment, None);
    assert_eq!(
        sendmail(&loaded, "bare"),
        &SendmailConfig {
            mailto: vec!["c@example.com".into()],
            ..Default::default()
        }
    );
}

#[test]
fn recipient_limits() {
    let long = "a".repeat(65);
    let loaded = public(&format!(
        "sendmail: s1\n\tmailto x\n\tmailto-user {long}\n\tmailto a\x07b\n\tmailto {}\n",
        "b".repeat(64)
    ));
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:2: property 'mailto': value must be at least 2 characters long",
            "/etc/pve/notifications.cfg:3: property 'mailto-user': value may be at most 64 characters long",
            "/etc/pve/notifications.cfg:4: property 'mailto': value contains a control character",
        ],
    );
    assert!(loaded.has_load_errors());
    assert!(!loaded.config.targets.contains_key("s1"));
}

#[test]
fn comment_limits() {
    let ok = "c".repeat(128);
    assert_clean(&public(&format!(
        "sendmail: s1\n\tmailto ab\n\tcomment {ok}\n"
    )));
    assert_findings(
        &public(&format!("sendmail: s1\n\tmailto ab\n\tcomment {ok}c\n")),
        &[
            "/etc/pve/notifications.cfg:3: property 'comment': value may be at most 128 characters long",
        ],
    );
    assert_findings(
        &public("sendmail: s1\n\tmailto ab\n\tcomment a\tb\n"),
        &["/etc/pve/notifications.cfg:3: property 'comment': value contains a control character"],
    );
    // An empty comment is a comment.
    let loaded = public("sendmail: s1\n\tmailto ab\n\tcomment \n");
    assert_eq!(target(&loaded, "s1").comment.as_deref(), Some(""));
}

#[test]
fn booleans_in_sections() {
    for (word, expected) in [
        ("1", true),
        ("TRUE", true),
        ("On", true),
        ("no", false),
        ("0", false),
    ] {
        let loaded = public(&format!("sendmail: s1\n\tmailto ab\n\tdisable {word}\n"));
        assert_eq!(target(&loaded, "s1").disable, expected, "{word}");
    }
    assert_findings(
        &public("sendmail: s1\n\tmailto ab\n\tdisable maybe\n"),
        &[
            "/etc/pve/notifications.cfg:3: property 'disable': 'maybe' is not a boolean (use 1/0, on/off, yes/no, true/false)",
        ],
    );
    assert_findings(
        &public("sendmail: s1\n\tmailto ab\n\tdisable \n"),
        &[
            "/etc/pve/notifications.cfg:3: property 'disable': '' is not a boolean (use 1/0, on/off, yes/no, true/false)",
        ],
    );
}

// ---- smtp ---------------------------------------------------------------------------------

#[test]
fn smtp_properties_and_defaults() {
    let loaded = both(
        "smtp: relay\n\
         \tserver mail.example.com\n\
         \tport 2525\n\
         \tmode starttls\n\
         \tusername bob\n\
         \tmailto a@example.com\n\
         \tmailto-user alice@pve\n\
         \tfrom-address pve@example.com\n\
         \tauthor Me\n\
         \tcomment c\n\
         \n\
         smtp: plain\n\
         \tserver 10.0.0.1\n\
         \tfrom-address pve@example.com\n\
         \tmailto a@example.com\n",
        "smtp: relay\n\tpassword s3cret pass\n",
    );
    assert_clean(&loaded);
    let relay = smtp(&loaded, "relay");
    assert_eq!(relay.server, "mail.example.com");
    assert_eq!(relay.port, Some(2525));
    assert_eq!(relay.effective_port(), 2525);
    assert_eq!(relay.mode, SmtpMode::Starttls);
    assert_eq!(relay.username.as_deref(), Some("bob"));
    assert_eq!(
        relay.password.as_ref().map(Secret::expose),
        Some("s3cret pass")
    );
    assert_eq!(relay.mailto, ["a@example.com"]);
    assert_eq!(relay.mailto_user, ["alice@pve"]);
    assert_eq!(relay.from_address, "pve@example.com");
    assert_eq!(relay.author.as_deref(), Some("Me"));
    let plain = smtp(&loaded, "plain");
    assert_eq!(plain.port, None);
    assert_eq!(plain.mode, SmtpMode::Tls);
    assert_eq!(plain.effective_port(), 465);
    assert_eq!(plain.username, None);
    assert_eq!(plain.password, None);
    assert_eq!(plain.author, None);
}

#[test]
fn smtp_mode_and_port_values() {
    for (mode, port) in [("insecure", 25), ("starttls", 587), ("tls", 465)] {
        let loaded = public(&format!(
            "smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n\tmode {mode}\n"
        ));
        assert_clean(&loaded);
        assert_eq!(smtp(&loaded, "s1").effective_port(), port);
    }
    assert_findings(
        &public(
            "smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n\tmode TLS\n\tport 70000\n\tport x\n",
        ),
        &[
            "/etc/pve/notifications.cfg:5: property 'mode': 'TLS' is not one of: insecure, starttls, tls",
            "/etc/pve/notifications.cfg:6: property 'port': value 70000 is above the maximum 65535",
            "/etc/pve/notifications.cfg:7: duplicate property 'port' (only list properties may be repeated)",
        ],
    );
    assert_findings(
        &public("smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n\tport -1\n"),
        &["/etc/pve/notifications.cfg:5: property 'port': value -1 is below the minimum 0"],
    );
    assert_findings(
        &public("smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n\tport 2 5\n"),
        &["/etc/pve/notifications.cfg:5: property 'port': '2 5' is not an integer"],
    );
    let loaded = public("smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n\tport +25\n");
    assert_eq!(smtp(&loaded, "s1").port, Some(25));
    // Port 0 loads, but validate reports it.
    let loaded = public("smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n\tport 0\n");
    assert!(!loaded.has_load_errors());
    assert_eq!(smtp(&loaded, "s1").port, Some(0));
    assert_findings(
        &loaded,
        &["/etc/pve/notifications.cfg:5: smtp target 's1': port 0 cannot be used"],
    );
}

#[test]
fn smtp_required_properties() {
    assert_findings(
        &public("\n\nsmtp: relay\n\tmailto ab\n"),
        &[
            "/etc/pve/notifications.cfg:3: section 'smtp: relay': required property 'server' is missing",
            "/etc/pve/notifications.cfg:3: section 'smtp: relay': required property 'from-address' is missing",
        ],
    );
}

#[test]
fn smtp_username_checks() {
    let loaded = public(
        "smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n\tmode insecure\n\tusername u\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:5: warning: smtp target 's1': mode insecure with a username sends the password without encryption",
            "/etc/pve/notifications.cfg:6: smtp target 's1': 'username' is set but there is no password in priv/notifications.cfg",
        ],
    );
    // Password without username: fine (unused).
    assert_clean(&both(
        "smtp: s1\n\tserver h\n\tfrom-address f@x\n\tmailto ab\n",
        "smtp: s1\n\tpassword p\n",
    ));
}

// ---- gotify -------------------------------------------------------------------------------

#[test]
fn gotify_with_token() {
    let loaded = both(
        "gotify: phone\n\tserver https://gotify.example.com\n\tcomment c\n\tfilter old\n",
        "gotify: phone\n\ttoken Abc.123\n",
    );
    assert_clean(&loaded);
    let g = gotify(&loaded, "phone");
    assert_eq!(g.server, "https://gotify.example.com");
    assert_eq!(g.token.as_ref().map(Secret::expose), Some("Abc.123"));
}

#[test]
fn gotify_checks() {
    let loaded = public(
        "gotify: g1\n\tserver gotify.example.com\n\ngotify: g2\n\tserver http://10.0.0.5:8080\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:1: gotify target 'g1' has no token in priv/notifications.cfg",
            "/etc/pve/notifications.cfg:2: gotify target 'g1': server 'gotify.example.com' does not start with http:// or https://",
            "/etc/pve/notifications.cfg:4: gotify target 'g2' has no token in priv/notifications.cfg",
            "/etc/pve/notifications.cfg:5: warning: gotify target 'g2': server uses http://, so the token is sent without encryption",
        ],
    );
    assert!(!loaded.has_load_errors());
    // A query would come before `/message` and could echo back in errors; never quoted.
    let query = both(
        "gotify: g3\n\tserver https://g.example.com/?token=s3cr3t\n",
        "gotify: g3\n\ttoken t\n",
    );
    assert_findings(
        &query,
        &[
            "/etc/pve/notifications.cfg:2: gotify target 'g3': server must not contain a query string ('?'); give the base URL only",
        ],
    );
    // The target exists with an empty private part (README row 8).
    assert_eq!(gotify(&loaded, "g1").token, None);
    assert_findings(
        &public("gotify: g1\n\tfilter x\n"),
        &[
            "/etc/pve/notifications.cfg:1: section 'gotify: g1': required property 'server' is missing",
        ],
    );
}

#[test]
fn private_gotify_needs_token() {
    let loaded = both("gotify: g1\n\tserver https://g\n", "gotify: g1\n");
    assert_findings(
        &loaded,
        &[
            "/etc/pve/priv/notifications.cfg:1: section 'gotify: g1': required property 'token' is missing",
        ],
    );
}

// ---- webhook ------------------------------------------------------------------------------

const BODY: &str = "eyJ0aXRsZSI6Int7IHRpdGxlIH19In0="; // {"title":"{{ title }}"}

#[test]
fn webhook_properties() {
    let loaded = both(
        &format!(
            "webhook: hook\n\
             \tmethod put\n\
             \turl https://hooks.example.com/{{{{ secrets.id }}}}?a=1\n\
             \theader name=Content-Type,value=YXBwbGljYXRpb24vanNvbg==\n\
             \theader name=X-Empty\n\
             \theader \"name\"=x\n\
             \tbody {BODY}\n\
             \tsecret name=id\n\
             \tcomment c\n"
        )
        .replace("\theader \"name\"=x\n", ""),
        "webhook: hook\n\tsecret name=id,value=MTIz\n\tsecret name=empty\n",
    );
    assert_clean(&loaded);
    let w = webhook(&loaded, "hook");
    assert_eq!(w.method, HttpMethod::Put);
    assert_eq!(w.url, "https://hooks.example.com/{{ secrets.id }}?a=1");
    assert_eq!(
        w.header,
        vec![
            WebhookHeader {
                name: "Content-Type".into(),
                value: Some("YXBwbGljYXRpb24vanNvbg==".into())
            },
            WebhookHeader {
                name: "X-Empty".into(),
                value: None
            },
        ]
    );
    assert_eq!(w.body.as_deref(), Some(BODY));
    assert_eq!(
        w.secret,
        vec![
            WebhookSecret {
                name: "id".into(),
                value: Some(Secret::new("MTIz"))
            },
            WebhookSecret {
                name: "empty".into(),
                value: None
            },
        ]
    );
    // Without a private section: no secrets; the public `secret` lines are ignored.
    let loaded =
        public("webhook: hook\n\tmethod get\n\turl http://h\n\tsecret name=id,value=MTIz\n");
    assert_clean(&loaded);
    assert!(webhook(&loaded, "hook").secret.is_empty());
    assert_eq!(webhook(&loaded, "hook").method, HttpMethod::Get);
    assert_eq!(webhook(&loaded, "hook").body, None);
}

#[test]
fn webhook_load_errors() {
    assert_findings(
        &public(
            "webhook: w1\n\
             \tmethod POST\n\
             \turl https://h?a=1\n\
             \theader value=eA==\n\
             \theader name=a,colour=red\n\
             \tsecret zzsecretzz\n",
        ),
        &[
            "/etc/pve/notifications.cfg:2: property 'method': 'POST' is not one of: post, put, get",
            "/etc/pve/notifications.cfg:3: property 'url': value is not an HTTP URL (expected http:// or https://, a host name or IP address, an optional :PORT, then optionally / and a path)",
            "/etc/pve/notifications.cfg:4: property 'header': missing required key 'name'",
            "/etc/pve/notifications.cfg:5: property 'header': unknown key 'colour'",
            "/etc/pve/notifications.cfg:6: property 'secret': expected key=value, found '(hidden)'",
        ],
    );
    assert_findings(
        &public("webhook: w1\n\tbody x\n"),
        &[
            "/etc/pve/notifications.cfg:1: section 'webhook: w1': required property 'method' is missing",
            "/etc/pve/notifications.cfg:1: section 'webhook: w1': required property 'url' is missing",
        ],
    );
    assert_findings(
        &public("webhook: w1\n\tmethod post\n\turl https://{{ host }}/x\n"),
        &[
            "/etc/pve/notifications.cfg:3: property 'url': value is not an HTTP URL (expected http:// or https://, a host name or IP address, an optional :PORT, then optionally / and a path)",
        ],
    );
}

#[test]
fn webhook_validation() {
    let loaded = both(
        "webhook: w1\n\
         \tmethod post\n\
         \turl https://h/x\n\
         \theader name=Bad Name,value=eA==\n\
         \theader name=X-A,value=not*base64\n\
         \theader name=X-B,value=/w==\n\
         \tbody abc\n",
        "webhook: w1\n\
         \tsecret name=s,value=***\n\
         \tsecret name=s,value=eA==\n\
         \tsecret name=t,value=/w==\n",
    );
    assert!(!loaded.has_load_errors());
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:4: webhook target 'w1': 'Bad Name' is not a valid HTTP header name",
            "/etc/pve/notifications.cfg:5: webhook target 'w1': value of header 'X-A' is not valid base64",
            "/etc/pve/notifications.cfg:6: webhook target 'w1': value of header 'X-B' is not valid UTF-8 after base64 decoding",
            "/etc/pve/notifications.cfg:7: webhook target 'w1': body is not valid base64",
            "/etc/pve/priv/notifications.cfg:2: webhook target 'w1': value of secret 's' is not valid base64",
            "/etc/pve/priv/notifications.cfg:3: webhook target 'w1': secret 's' is defined more than once",
            "/etc/pve/priv/notifications.cfg:4: webhook target 'w1': value of secret 't' is not valid UTF-8 after base64 decoding",
        ],
    );
    // Unpadded base64 is not the standard form.
    assert_findings(
        &public("webhook: w1\n\tmethod post\n\turl https://h/x\n\tbody eA\n"),
        &["/etc/pve/notifications.cfg:4: webhook target 'w1': body is not valid base64"],
    );
}

// ---- matcher ------------------------------------------------------------------------------

#[test]
fn matcher_properties_and_defaults() {
    let loaded = public(
        "matcher: m1\n\
         \tmatch-field exact:type=vzdump,replication\n\
         \tmatch-severity warning, error\n\
         \tmatch-calendar mon..fri 9-17\n\
         \tmatch-field regex:hostname=^pve\\d\n\
         \tmode any\n\
         \tinvert-match true\n\
         \ttarget mail-to-root\n\
         \tcomment c\n\
         \n\
         matcher: m2\n\
         \ttarget mail-to-root\n",
    );
    assert_clean(&loaded);
    let m1 = matcher(&loaded, "m1");
    assert_eq!(m1.line, 1);
    assert_eq!(m1.mode, MatchMode::Any);
    assert!(m1.invert_match);
    assert_eq!(m1.comment.as_deref(), Some("c"));
    let fields: Vec<(&str, usize)> = m1
        .match_field
        .iter()
        .map(|r| (r.value.0.as_str(), r.line))
        .collect();
    assert_eq!(
        fields,
        [
            ("exact:type=vzdump,replication", 2),
            ("regex:hostname=^pve\\d", 5)
        ]
    );
    assert_eq!(
        m1.match_field[0].value.1,
        crate::matcher::field::FieldRule::parse("exact:type=vzdump,replication").unwrap()
    );
    assert_eq!(m1.match_severity.len(), 1);
    assert_eq!(m1.match_severity[0].value.0, "warning, error");
    assert_eq!(m1.match_severity[0].line, 3);
    assert_eq!(m1.match_calendar[0].value.0, "mon..fri 9-17");
    assert_eq!(m1.match_calendar[0].line, 4);
    assert_eq!(
        m1.target,
        vec![Located {
            value: "mail-to-root".into(),
            line: 8
        }]
    );
    let m2 = matcher(&loaded, "m2");
    assert_eq!(m2.mode, MatchMode::All);
    assert!(!m2.invert_match && !m2.disable && !m2.has_rules());
    assert_eq!(m2.comment, None);
}

#[test]
fn matcher_rule_errors() {
    let loaded = public(
        "matcher: m1\n\
         \tmatch-field type=vzdump\n\
         \tmatch-field regex:x=(\n\
         \tmatch-severity error,\n\
         \tmatch-severity Error\n\
         \tmatch-calendar mon-fry 9-17\n\
         \tmode ANY\n\
         \tinvert-match maybe\n\
         \ttarget x\n\
         \ttarget a b\n\
         \ttarget mail-to-root\n",
    );
    let found = messages(&loaded);
    assert_eq!(found.len(), 9, "{found:#?}");
    let prefixes = [
        "/etc/pve/notifications.cfg:2: property 'match-field': ",
        "/etc/pve/notifications.cfg:3: property 'match-field': ",
        "/etc/pve/notifications.cfg:4: property 'match-severity': ",
        "/etc/pve/notifications.cfg:5: property 'match-severity': ",
        "/etc/pve/notifications.cfg:6: property 'match-calendar': ",
    ];
    for (line, prefix) in found.iter().zip(prefixes) {
        assert!(line.starts_with(prefix), "{line}");
    }
    assert_eq!(
        found[4],
        "/etc/pve/notifications.cfg:6: property 'match-calendar': unable to parse 'mon-fry 9-17': unknown weekday 'fry'"
    );
    assert_eq!(
        &found[5..],
        [
            "/etc/pve/notifications.cfg:7: property 'mode': 'ANY' is not one of: all, any",
            "/etc/pve/notifications.cfg:8: property 'invert-match': 'maybe' is not a boolean (use 1/0, on/off, yes/no, true/false)",
            "/etc/pve/notifications.cfg:9: property 'target': invalid name 'x': must be at least 2 characters long",
            "/etc/pve/notifications.cfg:10: property 'target': invalid name 'a b': character ' ' is not allowed (only letters, digits, '_', '.' and '-')",
        ]
    );
    assert!(loaded.has_load_errors());
    assert!(!loaded.config.matchers.contains_key("m1"));
}

#[test]
fn matcher_validation() {
    let loaded = public(
        "matcher: m1\n\
         \ttarget backup-tema\n\
         \ttarget mail-to-root\n\
         \ttarget m2\n\
         \n\
         matcher: m2\n\
         \tmatch-severity error\n\
         \n\
         matcher: m3\n\
         \tdisable true\n\
         \ttarget mail-to-root\n\
         \n\
         matcher: m4\n\
         \tmatch-calendar 9:00-9:00\n\
         \tmatch-calendar mon-fri 22:00-06:00\n\
         \tmatch-calendar 18:00-24:00\n\
         \tmatch-calendar mon..fri 8-17\n\
         \ttarget mail-to-root\n",
    );
    assert!(!loaded.has_load_errors());
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:2: matcher 'm1': target 'backup-tema' does not exist",
            "/etc/pve/notifications.cfg:4: matcher 'm1': target 'm2' does not exist (it is a matcher)",
            "/etc/pve/notifications.cfg:6: warning: matcher 'm2' has no target",
            "/etc/pve/notifications.cfg:10: warning: matcher 'm3' is disabled and has no effect",
            "/etc/pve/notifications.cfg:14: warning: match-calendar '9:00-9:00' never matches (start equals end)",
            "/etc/pve/notifications.cfg:15: warning: match-calendar 'mon-fri 22:00-06:00' is accepted by pvenotify but rejected by Proxmox VE",
            "/etc/pve/notifications.cfg:16: warning: match-calendar '18:00-24:00' is accepted by pvenotify but rejected by Proxmox VE",
        ],
    );
    // The documented way to switch the default route off draws no warning about the
    // matcher; only the one saying that root's mail now goes nowhere (issue 10, item 5).
    assert_findings(
        &public(
            "matcher: default-matcher\n\tmode all\n\ttarget mail-to-root\n\
             \tcomment Route all notifications to mail-to-root\n\tdisable true\n",
        ),
        &[ROOT_MAIL_DROPPED],
    );
}

/// Issue 10, item 5: forward-mail's event (type=system-mail, severity unknown) is routed
/// through the model; a warning when it reaches nothing, at all or at some times.
#[test]
fn root_mail_that_would_be_dropped_is_a_warning() {
    const OFF: &str = "matcher: default-matcher\n\ttarget mail-to-root\n\tdisable true\n\n\
                       sendmail: archive\n\tmailto archive@example.com\n\n";
    let dropped_at_times = "/etc/pve/notifications.cfg: warning: root's local mail (forward-mail: type=system-mail, severity unknown) would be dropped at some times (match-calendar): no enabled matcher selects an existing, enabled target for it";
    let cases: &[(&str, &[&str])] = &[
        ("", &[ROOT_MAIL_DROPPED]),
        (
            "matcher: m1\n\tmatch-field exact:type=system-mail\n\ttarget archive\n",
            &[],
        ),
        (
            "matcher: m1\n\tmatch-severity unknown\n\ttarget archive\n",
            &[],
        ),
        (
            "matcher: m1\n\tmatch-field exact:hostname=pve1\n\ttarget archive\n",
            &[],
        ),
        // Rules that exclude the event, a disabled matcher, a disabled or missing target.
        (
            "matcher: m1\n\tmatch-severity error\n\ttarget archive\n",
            &[ROOT_MAIL_DROPPED],
        ),
        (
            "matcher: m1\n\tmatch-field exact:type=system-mail\n\tinvert-match true\n\ttarget archive\n",
            &[ROOT_MAIL_DROPPED],
        ),
        (
            "matcher: m1\n\tmatch-field exact:type=vzdump\n\tmatch-severity unknown\n\tmode any\n\ttarget archive\n",
            &[],
        ),
        // Time windows: part of the week, or the whole week in pieces.
        (
            "matcher: m1\n\tmatch-calendar mon..fri 8-17\n\ttarget archive\n",
            &[dropped_at_times],
        ),
        (
            "matcher: m1\n\tmatch-calendar 0-12\n\ttarget archive\n\n\
             matcher: n1\n\tmatch-calendar 12:00-24:00\n\ttarget archive\n",
            &[
                "/etc/pve/notifications.cfg:13: warning: match-calendar '12:00-24:00' is accepted by pvenotify but rejected by Proxmox VE",
            ],
        ),
        (
            "matcher: m1\n\tmatch-calendar 0-12\n\tmatch-calendar 12:00-24:00\n\tmode any\n\ttarget archive\n",
            &[
                "/etc/pve/notifications.cfg:10: warning: match-calendar '12:00-24:00' is accepted by pvenotify but rejected by Proxmox VE",
            ],
        ),
    ];
    for (matchers, expected) in cases {
        let loaded = public(&format!("{OFF}{matchers}"));
        assert_eq!(messages(&loaded), *expected, "{matchers}");
    }
    let disabled_target = public(
        "matcher: default-matcher\n\ttarget mail-to-root\n\tdisable true\n\n\
         sendmail: archive\n\tmailto archive@example.com\n\tdisable true\n\n\
         matcher: m1\n\ttarget archive\n\ttarget ghost\n",
    );
    assert_findings(
        &disabled_target,
        &[
            ROOT_MAIL_DROPPED,
            "/etc/pve/notifications.cfg:11: matcher 'm1': target 'ghost' does not exist",
        ],
    );
    let disabled_matcher = public(&format!(
        "{OFF}matcher: m1\n\tdisable true\n\ttarget archive\n"
    ));
    assert_findings(
        &disabled_matcher,
        &[
            ROOT_MAIL_DROPPED,
            "/etc/pve/notifications.cfg:9: warning: matcher 'm1' is disabled and has no effect",
        ],
    );
}

#[test]
fn target_in_a_broken_section_is_not_reported_missing() {
    let loaded = public("sendmail: broken\n\tmailto x\n\nmatcher: m1\n\ttarget broken\n");
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:2: property 'mailto': value must be at least 2 characters long",
        ],
    );
}

// ---- section syntax ------------------------------------------------------------------------

#[test]
fn header_forms() {
    for header in [
        "sendmail:s1",
        "sendmail: s1",
        "sendmail :  s1  ",
        "sendmail:\ts1",
    ] {
        let loaded = public(&format!("{header}\n\tmailto ab\n"));
        assert_clean(&loaded);
        assert!(loaded.config.targets.contains_key("s1"), "{header}");
    }
}

#[test]
fn unknown_section_types() {
    assert_findings(
        &public(
            "Sendmail: s1\n\tmailto ab\n\nGroup: g1\n\tfilter x\n\nFilter: f1\n\nsendmail: ok\n\tmailto ab\n",
        ),
        &[
            "/etc/pve/notifications.cfg:1: unknown section type 'Sendmail'",
            "/etc/pve/notifications.cfg:4: unknown section type 'Group'",
            "/etc/pve/notifications.cfg:7: unknown section type 'Filter'",
        ],
    );
    assert_findings(
        &both(
            "",
            "sendmail: mail-to-root\n\tmailto ab\n\nmatcher: m1\n\ttarget x\n",
        ),
        &[
            "/etc/pve/priv/notifications.cfg:1: unknown section type 'sendmail' (sendmail sections belong in notifications.cfg)",
            "/etc/pve/priv/notifications.cfg:4: unknown section type 'matcher' (matcher sections belong in notifications.cfg)",
        ],
    );
}

#[test]
fn section_names() {
    let loaded = public(
        "sendmail: a\n\tmailto ab\n\n\
         sendmail: \n\tmailto ab\n\n\
         sendmail: -ab\n\tmailto ab\n\n\
         sendmail: a b\n\tmailto ab\n\n\
         sendmail: abcdefghijabcdefghijabcdefghijabc\n\tmailto ab\n\n\
         sendmail: _a.b-c\n\tmailto ab\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:1: invalid section name 'a': must be at least 2 characters long",
            "/etc/pve/notifications.cfg:4: invalid section name '': must be at least 2 characters long",
            "/etc/pve/notifications.cfg:7: invalid section name '-ab': must start with a letter, a digit or '_', not '-'",
            "/etc/pve/notifications.cfg:10: invalid section name 'a b': character ' ' is not allowed (only letters, digits, '_', '.' and '-')",
            "/etc/pve/notifications.cfg:13: invalid section name 'abcdefghijabcdefghijabcdefghijabc': may be at most 32 characters long",
        ],
    );
    assert!(loaded.config.targets.contains_key("_a.b-c"));
}

#[test]
fn private_names_of_smtp_and_gotify_are_not_checked() {
    let loaded = both(
        "",
        "smtp: \n\tpassword p\n\ngotify: x y!\n\ttoken t\n\nwebhook: a b\n\tsecret name=x\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/priv/notifications.cfg:1: warning: private section 'smtp: ' has no matching target; ignored",
            "/etc/pve/priv/notifications.cfg:4: warning: private section 'gotify: x y!' has no matching target; ignored",
            "/etc/pve/priv/notifications.cfg:7: invalid section name 'a b': character ' ' is not allowed (only letters, digits, '_', '.' and '-')",
        ],
    );
}

#[test]
fn property_line_errors() {
    assert_findings(
        &public(
            "smtp: s1\n\
             \tserver\n\
             \tadress x\n\
             \tpassword hunter2\n\
             \tmailto ab\n\
             \tfrom-address f@x\n",
        ),
        &[
            "/etc/pve/notifications.cfg:1: section 'smtp: s1': required property 'server' is missing",
            "/etc/pve/notifications.cfg:2: property 'server' has no value",
            "/etc/pve/notifications.cfg:3: unknown property 'adress' for section type 'smtp'",
            "/etc/pve/notifications.cfg:4: unknown property 'password' for section type 'smtp' (secrets belong in priv/notifications.cfg)",
        ],
    );
    assert_findings(
        &public("gotify: g1\n\tserver https://g\n\ttoken abc\n"),
        &[
            "/etc/pve/notifications.cfg:3: unknown property 'token' for section type 'gotify' (secrets belong in priv/notifications.cfg)",
        ],
    );
    assert_findings(
        &both(
            "gotify: g1\n\tserver https://g\n",
            "gotify: g1\n\ttoken t\n\tserver https://g\n\tcomment c\n\tfoo bar\n",
        ),
        &[
            "/etc/pve/priv/notifications.cfg:3: unknown property 'server' for section type 'gotify' (this property belongs in notifications.cfg)",
            "/etc/pve/priv/notifications.cfg:4: unknown property 'comment' for section type 'gotify' (this property belongs in notifications.cfg)",
            "/etc/pve/priv/notifications.cfg:5: unknown property 'foo' for section type 'gotify'",
        ],
    );
    // Keys are case-sensitive.
    assert_findings(
        &public("sendmail: s1\n\tMailto ab\n\tmailto ab\n"),
        &["/etc/pve/notifications.cfg:2: unknown property 'Mailto' for section type 'sendmail'"],
    );
}

#[test]
fn comment_lines_are_errors_with_a_hint() {
    assert_findings(
        &public("# notifications\nsendmail: s1\n\t# a comment\n\tmailto ab\n\t#x\n#end\n"),
        &[
            "/etc/pve/notifications.cfg:1: syntax error: expected a section header 'TYPE: NAME' (comment lines are not supported in this file)",
            "/etc/pve/notifications.cfg:3: unknown property '#' for section type 'sendmail' (comment lines are not supported in this file)",
            "/etc/pve/notifications.cfg:5: unknown property '#x' for section type 'sendmail' (comment lines are not supported in this file)",
            "/etc/pve/notifications.cfg:6: syntax error: expected an indented property line or a blank line (comment lines are not supported in this file)",
        ],
    );
    assert_findings(
        &public("  # indented comment between sections\n"),
        &[
            "/etc/pve/notifications.cfg:1: syntax error: expected a section header 'TYPE: NAME' (comment lines are not supported in this file)",
        ],
    );
}

#[test]
fn sections_need_a_blank_line_between_them() {
    let loaded = public("sendmail: s1\n\tmailto ab\nsendmail: s2\n\tmailto cd\n");
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:3: syntax error: expected an indented property line or a blank line",
        ],
    );
    assert!(!loaded.config.targets.contains_key("s1"));
    assert!(!loaded.config.targets.contains_key("s2"));
}

#[test]
fn tab_only_line_ends_the_section() {
    assert_findings(
        &public("sendmail: s1\n\tmailto ab\n\t\n\tmailto cd\n"),
        &["/etc/pve/notifications.cfg:4: syntax error: expected a section header 'TYPE: NAME'"],
    );
}

#[test]
fn list_properties_repeat_and_others_do_not() {
    let loaded = public(
        "sendmail: s1\n\tmailto ab\n\tmailto cd\n\tmailto-user alice@pve\n\tmailto-user root@pam\n",
    );
    assert_clean(&loaded);
    assert_eq!(sendmail(&loaded, "s1").mailto, ["ab", "cd"]);
    assert_eq!(
        sendmail(&loaded, "s1").mailto_user,
        ["alice@pve", "root@pam"]
    );
    for key in [
        "comment c",
        "disable 1",
        "from-address f",
        "author a",
        "filter f",
        "origin builtin",
    ] {
        let loaded = public(&format!("sendmail: s1\n\tmailto ab\n\t{key}\n\t{key}\n"));
        let name = key.split(' ').next().unwrap();
        assert_findings(
            &loaded,
            &[&format!(
                "/etc/pve/notifications.cfg:4: duplicate property '{name}' (only list properties may be repeated)"
            )],
        );
    }
}

#[test]
fn crlf_and_missing_final_newline() {
    let loaded =
        public("sendmail: s1\r\n\tmailto ab\r\n\tcomment x y\r\n\r\nmatcher: m1\r\n\ttarget s1");
    assert_clean(&loaded);
    assert_eq!(target(&loaded, "s1").comment.as_deref(), Some("x y"));
    assert_eq!(matcher(&loaded, "m1").target[0].value, "s1");
    assert_eq!(matcher(&loaded, "m1").target[0].line, 6);
}

#[test]
fn duplicate_section_names() {
    let loaded = public(
        "sendmail: twice\n\tmailto ab\n\n\
         gotify: twice\n\tserver https://g\n\n\
         sendmail: s2\n\tmailto cd\n\n\
         matcher: s2\n\ttarget twice\n",
    );
    assert!(!loaded.has_load_errors());
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:4: section name 'twice' already used at line 1; the earlier section is ignored",
            "/etc/pve/notifications.cfg:4: gotify target 'twice' has no token in priv/notifications.cfg",
            "/etc/pve/notifications.cfg:10: section name 's2' already used at line 7; the earlier section is ignored",
        ],
    );
    let kinds: Vec<FindingKind> = loaded.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds[0], FindingKind::ValidationError);
    // The later section replaced the earlier one completely.
    assert_eq!(target(&loaded, "twice").kind.type_name(), "gotify");
    assert!(!loaded.config.targets.contains_key("s2"));
    assert!(loaded.config.matchers.contains_key("s2"));
}

/// Matchers are collected and built into their map at the end: a later section of the
/// same name still replaces them, whatever it is, as it replaces a target.
#[test]
fn later_sections_replace_collected_ones() {
    let loaded = public(
        "matcher: m1\n\tcomment first\n\n\
         matcher: m1\n\tcomment second\n\n\
         matcher: gone\n\tcomment valid\n\n\
         matcher: gone\n\tmode sometimes\n\n\
         matcher: was-matcher\n\n\
         sendmail: was-matcher\n\tmailto ab\n\n\
         matcher: back\n\tcomment one\n\n\
         matcher: back\n\tmode sometimes\n\n\
         matcher: back\n\tcomment three\n\n\
         sendmail: gone-target\n\tmailto ab\n\n\
         sendmail: gone-target\n\tmailto x\n",
    );
    let names: Vec<&str> = loaded.config.matchers.keys().map(|n| n.as_str()).collect();
    assert_eq!(names, ["back", "default-matcher", "m1"]);
    assert_eq!(matcher(&loaded, "m1").comment.as_deref(), Some("second"));
    assert_eq!(matcher(&loaded, "back").comment.as_deref(), Some("three"));
    assert_eq!(matcher(&loaded, "back").line, 24);
    assert_eq!(target(&loaded, "was-matcher").kind.type_name(), "sendmail");
    assert!(!loaded.config.targets.contains_key("gone-target"));
}

#[test]
fn errors_are_collected_across_sections_and_files() {
    let loaded = both(
        "smtp: s1\n\tserver h\n\tbogus 1\n\tmailto ab\n\tfrom-address f\n\n\
         garbage line\n\tmailto x\n\n\
         sendmail: s2\n\tmailto a\n\tmailto ab\n\n\
         sendmail: good\n\tmailto ab\n",
        "gotify: g1\n\tbad\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:3: unknown property 'bogus' for section type 'smtp'",
            "/etc/pve/notifications.cfg:7: syntax error: expected a section header 'TYPE: NAME'",
            "/etc/pve/notifications.cfg:11: property 'mailto': value must be at least 2 characters long",
            "/etc/pve/priv/notifications.cfg:1: section 'gotify: g1': required property 'token' is missing",
            "/etc/pve/priv/notifications.cfg:2: property 'bad' has no value",
        ],
    );
    assert_eq!(loaded.load_errors().count(), 5);
    // The usable rest: the valid section plus the built-ins.
    assert_eq!(
        loaded.config.targets.keys().collect::<Vec<_>>(),
        ["good", "mail-to-root"]
    );
}

#[test]
fn invalid_header_skips_its_body() {
    assert_findings(
        &public("groups: g1\n\tbogus\n\tx y\nsendmail: hidden\n\nsendmail: s1\n\tmailto ab\n"),
        &["/etc/pve/notifications.cfg:1: unknown section type 'groups'"],
    );
}

/// Proxmox VE 8.0's `group` and `filter` sections (issue 11): PVE 8 drops them on load,
/// PVE 9 rejects them; here they are skipped, body and all, with a warning, and a `filter`
/// property stays accepted on sendmail and gotify targets (upstream), not on others.
#[test]
fn legacy_group_and_filter_sections_are_ignored_with_a_warning() {
    let loaded = both(
        "filter: only-errors\n\tmin-severity error\n\tmode and\n\n\
         group: ops\n\tendpoint mail1\n\tendpoint phone\n\tfilter only-errors\n\tbogus\n\n\
         sendmail: mail1\n\tmailto ops@example.com\n\tfilter only-errors\n\n\
         gotify: phone\n\tserver https://gotify.example.com\n\tfilter only-errors\n\n\
         group: mail1\n\tendpoint mail1\n",
        "gotify: phone\n\ttoken t\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:1: warning: legacy 'filter' section 'only-errors' (Proxmox VE 8.0) ignored: Proxmox VE 8 drops it on load, Proxmox VE 9 rejects a file containing it; remove it",
            "/etc/pve/notifications.cfg:5: warning: legacy 'group' section 'ops' (Proxmox VE 8.0) ignored: Proxmox VE 8 drops it on load, Proxmox VE 9 rejects a file containing it; remove it",
            "/etc/pve/notifications.cfg:19: warning: legacy 'group' section 'mail1' (Proxmox VE 8.0) ignored: Proxmox VE 8 drops it on load, Proxmox VE 9 rejects a file containing it; remove it",
        ],
    );
    assert!(!loaded.has_load_errors());
    assert_eq!(
        loaded.config.targets.keys().collect::<Vec<_>>(),
        ["mail-to-root", "mail1", "phone"]
    );
    assert!(
        loaded
            .config
            .matchers
            .keys()
            .all(|name| name == "default-matcher")
    );
    for section in [
        "smtp: s1\n\tserver h\n\tfrom-address a@b\n\tmailto ab\n\tfilter f1\n",
        "webhook: w1\n\tmethod post\n\turl https://h/\n\tfilter f1\n",
        "matcher: m1\n\tfilter f1\n",
    ] {
        let loaded = public(section);
        assert!(
            messages(&loaded)
                .iter()
                .any(|m| m.contains("unknown property 'filter'")),
            "{section}: {:?}",
            messages(&loaded)
        );
    }
    // Only the public file: in the private one they stay unknown.
    assert_findings(
        &both("", "group: g1\n\tendpoint x\n"),
        &["/etc/pve/priv/notifications.cfg:1: unknown section type 'group'"],
    );
}

// ---- private join ---------------------------------------------------------------------------

#[test]
fn private_join_cases() {
    let loaded = both(
        "smtp: mail\n\tserver h\n\tfrom-address f\n\tmailto ab\n\tusername u\n\n\
         gotify: phone\n\tserver https://g\n\n\
         webhook: hook\n\tmethod post\n\turl https://h/\n",
        "gotify: mail\n\ttoken t\n\n\
         gotify: phone\n\ttoken t\n\n\
         gotify: stray\n\ttoken t\n\n\
         smtp: default-matcher\n\tpassword p\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:5: smtp target 'mail': 'username' is set but there is no password in priv/notifications.cfg",
            "/etc/pve/priv/notifications.cfg:1: private section for 'mail' has type 'gotify' but the target is 'smtp'",
            "/etc/pve/priv/notifications.cfg:7: warning: private section 'gotify: stray' has no matching target; ignored",
            "/etc/pve/priv/notifications.cfg:10: warning: private section 'smtp: default-matcher' has no matching target; ignored",
        ],
    );
    assert_eq!(smtp(&loaded, "mail").password, None);
    assert!(gotify(&loaded, "phone").token.is_some());
    assert!(webhook(&loaded, "hook").secret.is_empty());
}

#[test]
fn private_section_failing_to_load_is_not_reported_again() {
    let loaded = both(
        "gotify: phone\n\tserver https://g\n",
        "gotify: phone\n\ttoken t\n\tbogus x\n",
    );
    assert_findings(
        &loaded,
        &["/etc/pve/priv/notifications.cfg:3: unknown property 'bogus' for section type 'gotify'"],
    );
    // A private section whose public section failed to load draws no "no matching target".
    let loaded = both(
        "gotify: phone\n\tbogus x\n\tserver https://g\n",
        "gotify: phone\n\ttoken t\n",
    );
    assert_findings(
        &loaded,
        &["/etc/pve/notifications.cfg:2: unknown property 'bogus' for section type 'gotify'"],
    );
}

// ---- user.cfg -------------------------------------------------------------------------------

#[test]
fn mailto_user_lookups() {
    let loaded = run(sources().with_public(
        "sendmail: s1\n\tmailto-user alice@pve\n\tmailto-user nomail@pve\n\tmailto-user ghost@pve\n",
    ));
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:3: warning: user 'nomail@pve' (mailto-user of target 's1') has no e-mail address in user.cfg; skipped",
            "/etc/pve/notifications.cfg:4: warning: user 'ghost@pve' (mailto-user of target 's1') has no e-mail address in user.cfg; skipped",
        ],
    );
    assert_eq!(
        loaded.config.users.email("alice@pve"),
        Ok(Some("alice@example.com"))
    );
    assert_eq!(loaded.config.users.email("nomail@pve"), Ok(None));
}

#[test]
fn missing_user_cfg_warns_for_each_lookup() {
    let loaded = parse(&Sources::empty(Path::new(DIR)), &host());
    assert_eq!(loaded.config.users, Users::Missing);
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg: warning: user 'root@pam' (mailto-user of target 'mail-to-root') has no e-mail address in user.cfg; skipped",
        ],
    );
    assert!(!loaded.has_load_errors());
}

#[test]
fn unreadable_user_cfg_fails_the_targets_that_need_it() {
    let mut sources = Sources::empty(Path::new(DIR));
    sources.users.content = FileContent::Unreadable("Permission denied (os error 13)".into());
    let loaded = parse(&sources, &host());
    assert!(!loaded.has_load_errors());
    assert_eq!(
        loaded.config.users.email("root@pam"),
        Err("cannot read /etc/pve/user.cfg: Permission denied (os error 13)")
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/user.cfg: cannot read: Permission denied (os error 13); the mailto-user entries of target 'mail-to-root' cannot be resolved",
        ],
    );
    assert_eq!(loaded.findings[0].kind, FindingKind::ValidationError);
    // Nobody needs it: only a warning.
    let loaded = parse(
        &sources.with_public("sendmail: mail-to-root\n\tmailto ab\n"),
        &host(),
    );
    assert_findings(
        &loaded,
        &["/etc/pve/user.cfg: warning: cannot read: Permission denied (os error 13)"],
    );
}

#[test]
fn recipients_that_loop_back_to_root() {
    let loaded = public(
        "sendmail: s1\n\tmailto root\n\tmailto ROOT@localhost\n\tmailto root@pve1\n\
         \tmailto root@pve1.example.com\n\tmailto root@pve2\n\tmailto-user loop@pve\n\n\
         smtp: s2\n\tserver h\n\tfrom-address f\n\tmailto root\n",
    );
    let note = "forwarded system mail would loop back into forward-mail";
    assert_findings(
        &loaded,
        &[
            &format!(
                "/etc/pve/notifications.cfg:2: warning: sendmail target 's1': recipient 'root' is root on this host; {note}"
            ),
            &format!(
                "/etc/pve/notifications.cfg:3: warning: sendmail target 's1': recipient 'ROOT@localhost' is root on this host; {note}"
            ),
            &format!(
                "/etc/pve/notifications.cfg:4: warning: sendmail target 's1': recipient 'root@pve1' is root on this host; {note}"
            ),
            &format!(
                "/etc/pve/notifications.cfg:5: warning: sendmail target 's1': recipient 'root@pve1.example.com' is root on this host; {note}"
            ),
            &format!(
                "/etc/pve/notifications.cfg:7: warning: sendmail target 's1': mailto-user 'loop@pve' has the address 'root@localhost', which is root on this host; {note}"
            ),
            &format!(
                "/etc/pve/notifications.cfg:12: warning: smtp target 's2': recipient 'root' is root on this host; {note}"
            ),
        ],
    );
}

#[test]
fn mail_targets_need_recipients_and_clean_headers() {
    let loaded = public(
        "sendmail: s1\n\tcomment nobody\n\n\
         smtp: s2\n\tserver h\n\tfrom-address a\x01b\n\tauthor x\x1by\n",
    );
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg:1: sendmail target 's1' has neither 'mailto' nor 'mailto-user' (no recipients)",
            "/etc/pve/notifications.cfg:4: smtp target 's2' has neither 'mailto' nor 'mailto-user' (no recipients)",
            "/etc/pve/notifications.cfg:6: smtp target 's2': from-address contains a control character",
            "/etc/pve/notifications.cfg:7: smtp target 's2': author contains a control character",
        ],
    );
    assert!(
        loaded
            .findings
            .iter()
            .all(|f| f.kind == FindingKind::ValidationError)
    );
}

// ---- datacenter.cfg ---------------------------------------------------------------------------

#[test]
fn datacenter_values() {
    let loaded = run(sources().with_datacenter(
        "keyboard: en-us\nemail_from: pve@example.com\nhttp_proxy: http://u:pw@proxy:3128\n",
    ));
    assert_clean(&loaded);
    assert_eq!(
        loaded.config.datacenter.email_from.as_deref(),
        Some("pve@example.com")
    );
    assert_eq!(
        loaded
            .config
            .datacenter
            .http_proxy
            .as_ref()
            .map(Secret::expose),
        Some("http://u:pw@proxy:3128")
    );
}

#[test]
fn unusable_proxy_matters_only_with_http_targets() {
    let dc = "email_from: a@b\nhttp_proxy: https://user:topsecret@proxy:3128\n";
    assert_clean(&run(sources().with_datacenter(dc)));
    let loaded = run(sources()
        .with_datacenter(dc)
        .with_public(
            "gotify: g1\n\tserver https://g\n\nwebhook: w1\n\tmethod post\n\turl https://h\n",
        )
        .with_private("gotify: g1\n\ttoken t\n"));
    assert_findings(
        &loaded,
        &[
            "/etc/pve/datacenter.cfg:2: http_proxy cannot be used (proxy scheme 'https' is not supported (only http)); needed by targets 'g1', 'w1'",
        ],
    );
    assert!(!loaded.has_load_errors());
}

#[test]
fn unreadable_datacenter_cfg_is_a_load_error() {
    let mut sources = sources();
    sources.datacenter.content = FileContent::Unreadable("not valid UTF-8 (at byte 3)".into());
    assert_findings(
        &parse(&sources, &host()),
        &["/etc/pve/datacenter.cfg: cannot read: not valid UTF-8 (at byte 3)"],
    );
}

// ---- whole files, host facts, order -------------------------------------------------------------

#[test]
fn unreadable_notification_files_are_load_errors() {
    let mut sources = sources();
    sources.public.content = FileContent::Unreadable("is a directory".into());
    sources.private.content = FileContent::Unreadable("larger than 4 MiB".into());
    sources.private_mode = Some(0o644);
    let loaded = parse(&sources, &host());
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg: cannot read: is a directory",
            "/etc/pve/priv/notifications.cfg: cannot read: larger than 4 MiB",
        ],
    );
    assert!(loaded.has_load_errors());
    assert_eq!(loaded.config.targets.len(), 1);
}

#[test]
fn private_file_mode() {
    let mut sources = sources().with_private("");
    sources.private_mode = Some(0o100644);
    assert_findings(
        &parse(&sources, &host()),
        &[
            "/etc/pve/priv/notifications.cfg: warning: readable by group or others (mode 0644) although it contains secrets",
        ],
    );
    sources.private_mode = Some(0o100640);
    assert_eq!(parse(&sources, &host()).findings.len(), 1);
    sources.private_mode = Some(0o100600);
    assert_clean(&parse(&sources, &host()));
    // No file, no warning.
    let mut sources = self::sources();
    sources.private_mode = Some(0o644);
    assert_clean(&parse(&sources, &host()));
}

#[test]
fn sendmail_program_missing() {
    let mut host = host();
    host.sendmail_usable = Some(false);
    let loaded = parse(&sources(), &host);
    assert_findings(
        &loaded,
        &[
            "/usr/sbin/sendmail: warning: sendmail program is missing or not executable; sendmail target 'mail-to-root' cannot deliver",
        ],
    );
    host.sendmail_usable = Some(true);
    assert_clean(&parse(&sources(), &host));
    // No sendmail target, no warning.
    host.sendmail_usable = Some(false);
    assert_clean(&parse(
        &sources()
            .with_public("gotify: mail-to-root\n\tserver https://g\n")
            .with_private("gotify: mail-to-root\n\ttoken t\n"),
        &host,
    ));
}

#[test]
fn missing_directory_is_a_load_error() {
    let mut sources = Sources::empty(Path::new("/nonexistent"));
    sources.dir_error = Some("the configuration directory does not exist".into());
    let loaded = parse(&sources, &host());
    assert!(loaded.has_load_errors());
    assert_eq!(
        loaded
            .load_errors()
            .next()
            .map(ToString::to_string)
            .as_deref(),
        Some("/nonexistent: the configuration directory does not exist")
    );
}

#[test]
fn findings_are_ordered_by_file_then_line() {
    let mut host = host();
    host.sendmail_usable = Some(false);
    let mut sources = Sources::empty(Path::new(DIR))
        .with_public(
            "sendmail: s1\n\tmailto ab\n\tbogus x\n\nsendmail: s2\n\tmailto-user nobody@pve\n",
        )
        .with_private("gotify: lonely\n\ttoken t\n")
        .with_datacenter("http_proxy: ftp://x\n");
    sources.private_mode = Some(0o644);
    sources.datacenter.content = FileContent::Unreadable("Permission denied".into());
    let loaded = parse(&sources, &host);
    assert_findings(
        &loaded,
        &[
            "/etc/pve/notifications.cfg: warning: user 'root@pam' (mailto-user of target 'mail-to-root') has no e-mail address in user.cfg; skipped",
            "/etc/pve/notifications.cfg:3: unknown property 'bogus' for section type 'sendmail'",
            "/etc/pve/notifications.cfg:6: warning: user 'nobody@pve' (mailto-user of target 's2') has no e-mail address in user.cfg; skipped",
            "/etc/pve/priv/notifications.cfg: warning: readable by group or others (mode 0644) although it contains secrets",
            "/etc/pve/priv/notifications.cfg:1: warning: private section 'gotify: lonely' has no matching target; ignored",
            "/etc/pve/datacenter.cfg: cannot read: Permission denied",
            "/usr/sbin/sendmail: warning: sendmail program is missing or not executable; sendmail targets 'mail-to-root', 's2' cannot deliver",
        ],
    );
}

#[test]
fn secrets_never_appear_in_findings() {
    let secret = "TOPSECRET";
    let loaded = run(sources()
        .with_public(&format!(
            "smtp: s1\n\tserver h\n\tfrom-address f\n\tmailto ab\n\tpassword {secret}\n\n\
             gotify: g1\n\tserver https://g\n\ttoken {secret}\n\n\
             webhook: w1\n\tmethod post\n\turl https://h\n\tsecret {secret}\n\tsecret name=a,value=\"{secret}\n"
        ))
        .with_private(&format!(
            "smtp: s1\n\tpassword {secret}\n\tpassword {secret}\n\tpass {secret}\n\n\
             gotify: g1\n\ttoken {secret}\n\ttoken {secret}\n\n\
             webhook: w1\n\tsecret {secret}\n\tsecret name=a,value={secret}*\n\tsecret name=b,{secret}\n\
             \tsecret name=c,value=\"{secret}\"{secret}\n\n\
             webhook: w2\n\tsecret name=a,value={secret}*\n"
        ))
        .with_datacenter(&format!("http_proxy: socks://u:{secret}@p\n")));
    assert!(loaded.findings.len() > 8, "{:#?}", messages(&loaded));
    for line in messages(&loaded) {
        assert!(!line.contains(secret), "{line}");
    }
    let debug = format!("{:?}", loaded.config);
    assert!(!debug.contains(secret));
}

#[test]
fn load_reads_a_directory() {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    let dir = std::env::temp_dir().join(format!("pvenotify-config-{}", uuid::Uuid::new_v4()));
    let found = load(&dir, &host());
    assert_eq!(
        messages(&found),
        [format!(
            "{}: the configuration directory does not exist",
            dir.display()
        )]
    );
    fs::write(&dir, "x").unwrap();
    assert_eq!(
        messages(&load(&dir, &host())),
        [format!(
            "{}: the configuration directory is not a directory",
            dir.display()
        )]
    );
    fs::remove_file(&dir).unwrap();
    fs::create_dir_all(dir.join("priv")).unwrap();
    fs::write(dir.join("notifications.cfg"), "sendmail: s1\n\tmailto ab\n").unwrap();
    fs::write(
        dir.join("priv/notifications.cfg"),
        "smtp: x\n\tpassword p\n",
    )
    .unwrap();
    fs::set_permissions(
        dir.join("priv/notifications.cfg"),
        fs::Permissions::from_mode(0o640),
    )
    .unwrap();
    fs::write(dir.join("user.cfg"), USERS).unwrap();
    fs::write(dir.join("datacenter.cfg"), b"email_from: a@b\n\xff\n").unwrap();
    let sources = Sources::read(&dir);
    assert_eq!(sources.private_mode.map(|m| m & 0o777), Some(0o640));
    assert_eq!(
        sources.datacenter.content,
        FileContent::Unreadable("not valid UTF-8 (at byte 16)".into())
    );
    let loaded = parse(&sources, &host());
    assert!(loaded.config.targets.contains_key("s1"));
    let path = |name: &str| dir.join(name).display().to_string();
    assert_eq!(
        messages(&loaded),
        [
            format!(
                "{}: warning: readable by group or others (mode 0640) although it contains secrets",
                path("priv/notifications.cfg")
            ),
            format!(
                "{}:1: warning: private section 'smtp: x' has no matching target; ignored",
                path("priv/notifications.cfg")
            ),
            format!(
                "{}: cannot read: not valid UTF-8 (at byte 16)",
                path("datacenter.cfg")
            ),
        ]
    );
    // A directory in place of a file, and a file over 4 MiB.
    fs::remove_file(dir.join("user.cfg")).unwrap();
    fs::create_dir(dir.join("user.cfg")).unwrap();
    fs::write(
        dir.join("notifications.cfg"),
        vec![b'\n'; 4 * 1024 * 1024 + 1],
    )
    .unwrap();
    let sources = Sources::read(&dir);
    assert_eq!(
        sources.users.content,
        FileContent::Unreadable("is a directory".into())
    );
    assert_eq!(
        sources.public.content,
        FileContent::Unreadable("larger than 4 MiB".into())
    );
    fs::write(dir.join("notifications.cfg"), vec![b'\n'; 4 * 1024 * 1024]).unwrap();
    assert!(matches!(
        Sources::read(&dir).public.content,
        FileContent::Text(_)
    ));
    fs::remove_dir_all(&dir).unwrap();
}

// ---- property tests ---------------------------------------------------------------------------

mod properties {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::super::findings::Findings;
    use super::super::schema::Section;
    use super::super::schema::Side;
    use super::super::{Event, FileContent, SourceFile, read_notifications};
    use super::*;

    const TYPES: &[&str] = &[
        "sendmail", "smtp", "gotify", "webhook", "matcher", "group", "Smtp",
    ];
    const KEYS: &[&str] = &[
        "comment",
        "disable",
        "origin",
        "mailto",
        "mailto-user",
        "from-address",
        "author",
        "filter",
        "server",
        "port",
        "mode",
        "username",
        "password",
        "token",
        "method",
        "url",
        "header",
        "body",
        "secret",
        "match-field",
        "match-severity",
        "match-calendar",
        "invert-match",
        "target",
        "#",
        "bogus",
    ];

    fn value() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::sample::select(vec![
                "",
                "true",
                "no",
                "0",
                "70000",
                "-3",
                "+25",
                "all",
                "any",
                "tls",
                "insecure",
                "post",
                "get",
                "builtin",
                "root@pam",
                "alice@pve",
                "root",
                "a@b",
                "https://h.example/{{ x }}",
                "http://10.0.0.1:8080",
                "https://h?a=1",
                "exact:type=vzdump,replication",
                "regex:host=^pve\\d",
                "regex:x=(",
                "type=x",
                "error,warning",
                "error,",
                "Error",
                "mon..fri 9-17",
                "mon-fri 22:00-06:00",
                "9:00-9:00",
                "18:00-24:00",
                "sat,sun 0-24",
                "mon-fry 9-17",
                "name=X-A,value=eA==",
                "name=\"a,b\\\"c\",value=/w==",
                "name=a,bad",
                "value=eA==",
                "eyJ4IjoxfQ==",
                "not*base64",
                "mail-to-root",
                "default-matcher",
                "m1",
                "t1",
            ])
            .prop_map(String::from),
            "[a-z0-9@.:=,\"\\\\ \t#/{}()*+-]{0,14}",
            "\\PC{0,8}",
        ]
    }

    fn line() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            prop::sample::select(vec![
                "mail-to-root",
                "default-matcher",
                "m1",
                "t1",
                "t2",
                ""
            ])
            .prop_map(String::from),
            "[a-z0-9_.-]{0,4}",
        ];
        let indent = prop::sample::select(vec![" ", "\t", "  ", "\t "]);
        let separator = prop::sample::select(vec![" ", "\t", "  ", ""]);
        prop_oneof![
            4 => (prop::sample::select(TYPES), name).prop_map(|(t, n)| format!("{t}: {n}")),
            8 => (indent, prop::sample::select(KEYS), separator, value())
                .prop_map(|(i, k, s, v)| format!("{i}{k}{s}{v}")),
            3 => Just(String::new()),
            1 => prop::sample::select(vec!["\t", "# comment", " # x", "garbage"]).prop_map(String::from),
        ]
    }

    fn file() -> impl Strategy<Value = String> {
        (prop::collection::vec(line(), 0..30), any::<bool>())
            .prop_map(|(lines, crlf)| lines.join(if crlf { "\r\n" } else { "\n" }))
    }

    fn host_facts() -> HostFacts {
        HostFacts {
            sendmail_usable: Some(false),
            ..host()
        }
    }

    type Shape = Vec<(String, String, BTreeMap<String, Vec<String>>)>;

    /// The valid sections of `text` read as `side`, and the canonical text of them: each
    /// valid section's property lines as written (the typed model keeps no text).
    fn accepted(text: &str, side: Side) -> (Shape, String) {
        let source = SourceFile {
            path: Path::new(PUB).to_path_buf(),
            content: FileContent::Text(text.to_string()),
        };
        let mut findings = Findings::new(Path::new(PUB));
        let mut valid: BTreeMap<String, Section> = BTreeMap::new();
        read_notifications(&source.content, side, &mut findings, |event| match event {
            Event::Keep(section) => {
                valid.insert(section.name.to_string(), section);
            }
            Event::Forget(name) => {
                valid.remove(name);
            }
        });
        let raw = super::super::section::read(text);
        let mut out = String::new();
        let mut shape = Vec::new();
        for section in valid.values() {
            let section_type = section.section_type.as_str();
            // The last section of a name is the one kept.
            let Some(written) = raw
                .sections
                .iter()
                .rev()
                .find(|r| r.name == section.name.as_str() && r.section_type == section_type)
            else {
                panic!("no raw section for {section_type}: {}", section.name);
            };
            out.push_str(&format!("{section_type}: {}\n", section.name));
            let mut canonical: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for property in &written.properties {
                out.push_str(&format!("\t{} {}\n", property.key, property.value));
                if property.key != Prop::Origin.key() {
                    canonical
                        .entry(property.key.to_string())
                        .or_default()
                        .push(property.value.to_string());
                }
            }
            out.push('\n');
            shape.push((
                section_type.to_string(),
                section.name.to_string(),
                canonical,
            ));
        }
        (shape, out)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]

        #[test]
        fn parse_never_panics_on_any_text(a in any::<String>(), b in any::<String>(), c in any::<String>()) {
            let sources = Sources::empty(Path::new(DIR))
                .with_public(&a)
                .with_private(&b)
                .with_users(&c)
                .with_datacenter(&a);
            let _ = parse(&sources, &host_facts());
        }

        #[test]
        fn parse_never_panics_on_structured_files(public in file(), private in file(), proxy in value()) {
            let sources = Sources::empty(Path::new(DIR))
                .with_public(&public)
                .with_private(&private)
                .with_users(USERS)
                .with_datacenter(&format!("http_proxy: {proxy}\n"));
            let loaded = parse(&sources, &host_facts());
            // Findings come in file order, then line order.
            let rank = |f: &Finding| [PUB, PRIV, "/etc/pve/user.cfg", "/etc/pve/datacenter.cfg"]
                .iter()
                .position(|p| f.file == Path::new(p))
                .unwrap_or(4);
            let keys: Vec<(usize, usize)> =
                loaded.findings.iter().map(|f| (rank(f), f.line.unwrap_or(0))).collect();
            let mut sorted = keys.clone();
            sorted.sort();
            prop_assert_eq!(keys, sorted);
            // The built-in names always exist in some form.
            prop_assert!(loaded.config.targets.len() + loaded.config.matchers.len() >= 1);
        }

        #[test]
        fn accepted_sections_round_trip(text in file(), private in any::<bool>()) {
            let side = if private { Side::Private } else { Side::Public };
            let (shape, canonical) = accepted(&text, side);
            let (again, canonical_again) = accepted(&canonical, side);
            prop_assert_eq!(&again, &shape);
            prop_assert_eq!(canonical_again, canonical.clone());
            // The canonical text has no load errors of its own.
            let sources = if private {
                Sources::empty(Path::new(DIR)).with_private(&canonical)
            } else {
                Sources::empty(Path::new(DIR)).with_public(&canonical)
            };
            let loaded = parse(&sources, &host_facts());
            prop_assert!(!loaded.has_load_errors(), "{canonical:?}: {:?}", loaded.findings);
        }
    }
}
