//! The worked examples of the specification (matching.md §5), with TZ fixed to UTC.

use chrono::Utc;

use super::*;
use crate::cli::explain::explain_text;
use crate::config::testing::config_from_text;
use crate::notification::{Fields, Severity};

/// Monday 2024-06-03 00:00:00 UTC.
const MON_03: i64 = 1_717_372_800;

fn at(day_of_june: i64, hour: i64, minute: i64, second: i64) -> i64 {
    MON_03 + (day_of_june - 3) * 86_400 + hour * 3600 + minute * 60 + second
}

fn event(timestamp: i64, severity: Severity, fields: &[(&str, &str)]) -> Notification {
    let fields: Fields = fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Notification::new("t", "b", severity, timestamp, fields)
}

const TARGETS_A: &str = "\
sendmail: archive
	mailto archive@example.com

sendmail: backup-team
	mailto backup@example.com

smtp: ops-mail
	server mail.example.com
	from-address pve@example.com
	mailto ops@example.com

gotify: phone
	server https://gotify.example.com

gotify: oncall
	server https://gotify.example.com

gotify: old-pager
	server https://gotify.example.com
	disable true

webhook: chat
	method post
	url https://chat.example.com/hook

webhook: lab-hook
	method post
	url https://lab.example.com/hook
";

const MATCHERS_A: &str = "\
matcher: default-matcher
	mode all
	target mail-to-root
	comment Route all notifications to mail-to-root
	disable true

matcher: backup-errors
	match-field exact:type=vzdump
	match-severity error
	target backup-team
	target ops-mail

matcher: cluster
	match-field exact:type=replication, fencing
	target ops-mail
	target phone
	target old-pager

matcher: office
	match-calendar mon..fri 9-17
	match-severity warning,error
	target chat

matcher: night
	match-calendar 22:00-06:00
	match-severity error,unknown
	target phone

matcher: fri-night
	match-calendar fri 22:00-06:00
	target oncall

matcher: lab
	mode any
	match-field regex:hostname=^pve1
	match-calendar sat,sun 0-24
	target lab-hook

matcher: catch-all
	invert-match true
	target archive

matcher: muted
	disable true
	target phone

matcher: typo
	match-severity unknown
	target mial-to-root
	target mail-to-root
";

fn config_a() -> Config {
    config_from_text(&format!("{TARGETS_A}\n{MATCHERS_A}"))
}

fn selected(config: &Config, event: &Notification) -> Vec<String> {
    route(config, event, &Utc)
        .selected
        .into_iter()
        .map(String::from)
        .collect()
}

use Severity::*;

/// (id, time, severity, fields, expected deliverable targets)
type Case = (
    &'static str,
    i64,
    Severity,
    &'static [(&'static str, &'static str)],
    &'static [&'static str],
);

#[test]
fn configuration_a() {
    let config = config_a();
    #[rustfmt::skip]
    let cases: &[Case] = &[
        ("A1", at(3, 10, 0, 0), Info, &[("type", "vzdump"), ("hostname", "pve1")], &["archive", "lab-hook"]),
        ("A2", at(3, 10, 0, 0), Error, &[("type", "vzdump"), ("hostname", "pve2")], &["archive", "backup-team", "chat", "ops-mail"]),
        ("A3", at(3, 17, 0, 0), Error, &[("type", "vzdump"), ("hostname", "pve2")], &["archive", "backup-team", "ops-mail"]),
        ("A4", at(3, 16, 59, 59), Warning, &[("type", "vzdump"), ("hostname", "pve2")], &["archive", "chat"]),
        ("A5", at(3, 9, 0, 0), Warning, &[], &["archive", "chat"]),
        ("A6", at(3, 23, 30, 0), Error, &[("type", "replication")], &["archive", "ops-mail", "phone"]),
        ("A7", at(4, 5, 59, 0), Unknown, &[("type", "system-mail"), ("hostname", "pve1")], &["archive", "lab-hook", "mail-to-root", "phone"]),
        ("A8", at(4, 6, 0, 0), Unknown, &[("type", "system-mail"), ("hostname", "pve1")], &["archive", "lab-hook", "mail-to-root"]),
        ("A9", at(7, 21, 59, 0), Info, &[("hostname", "pve3")], &["archive"]),
        ("A10", at(7, 22, 0, 0), Info, &[("hostname", "pve3")], &["archive", "oncall"]),
        ("A11", at(8, 5, 30, 0), Info, &[("hostname", "pve3")], &["archive", "lab-hook", "oncall"]),
        ("A12", at(8, 6, 0, 0), Info, &[("hostname", "pve3")], &["archive", "lab-hook"]),
        ("A13", at(8, 22, 30, 0), Info, &[("hostname", "pve3")], &["archive", "lab-hook"]),
        ("A14", at(9, 23, 59, 0), Notice, &[("hostname", "pve10")], &["archive", "lab-hook"]),
        ("A15", at(10, 0, 30, 0), Notice, &[("hostname", "node1")], &["archive"]),
        ("A16", at(3, 12, 0, 0), Error, &[("type", "fencing"), ("hostname", "pve2")], &["archive", "chat", "ops-mail", "phone"]),
        ("A17", at(3, 12, 0, 0), Error, &[("type", "Fencing")], &["archive", "chat"]),
        ("A18", at(3, 12, 0, 0), Error, &[("type", " fencing")], &["archive", "chat"]),
        ("A19", at(8, 12, 0, 0), Error, &[("type", "vzdump"), ("hostname", "pve2")], &["archive", "backup-team", "lab-hook", "ops-mail"]),
        ("A20", at(7, 23, 0, 0), Error, &[("type", "replication")], &["archive", "oncall", "ops-mail", "phone"]),
        ("A21", at(5, 3, 0, 0), Unknown, &[], &["archive", "mail-to-root", "phone"]),
        ("A22", at(6, 22, 0, 0), Warning, &[("type", "vzdump"), ("hostname", "pve1")], &["archive", "lab-hook"]),
        ("A23", at(9, 2, 0, 0), Error, &[("type", "vzdump"), ("hostname", "pve1")], &["archive", "backup-team", "lab-hook", "ops-mail", "phone"]),
    ];
    for (id, ts, severity, fields, expected) in cases {
        let got = selected(&config, &event(*ts, *severity, fields));
        assert_eq!(got, *expected, "case {id}");
    }
}

#[test]
fn missing_target_warns_and_others_still_selected() {
    let config = config_a();
    let routing = route(&config, &event(at(4, 5, 59, 0), Unknown, &[]), &Utc);
    assert_eq!(
        routing.warnings,
        ["matcher 'typo' names target 'mial-to-root', which does not exist"]
    );
    assert!(routing.selected.contains(&"mail-to-root"));
    assert!(!routing.all_selected_missing());
    let missing = routing
        .skipped
        .iter()
        .find(|s| s.target == "mial-to-root")
        .expect("missing target listed as skipped");
    assert_eq!(missing.reason, SkipReason::DoesNotExist);
    assert_eq!(missing.named_by, ["typo"]);
}

#[test]
fn disabled_target_is_skipped_with_every_matcher_that_named_it() {
    let config = config_a();
    let routing = route(
        &config,
        &event(at(3, 23, 30, 0), Error, &[("type", "replication")]),
        &Utc,
    );
    assert_eq!(
        routing.skipped,
        [Skipped {
            target: "old-pager",
            reason: SkipReason::Disabled,
            named_by: vec!["cluster"],
        }]
    );
}

#[test]
fn explain_trace_of_a6() {
    let config = config_a();
    let routing = route(
        &config,
        &event(at(3, 23, 30, 0), Error, &[("type", "replication")]),
        &Utc,
    );
    let text = explain_text(&routing);
    let expected_parts = [
        "matcher backup-errors (mode all): no match\n  match-field exact:type=vzdump ........ false\n  match-severity error ................. true\n  => all(false, true) = false\n",
        "matcher catch-all (mode all, invert-match): match (no rules: always matches)\n  => targets: archive\n",
        "matcher default-matcher: skipped (disabled)\n",
        "matcher night (mode all): match\n  match-calendar 22:00-06:00 ........... true (local time Mon 2024-06-03 23:30 +00:00)\n  match-severity error,unknown ......... true\n  => all(true, true) = true\n  => targets: phone\n",
        "matcher office (mode all): no match\n",
        "selected: archive, ops-mail, phone\nnot delivered: old-pager (disabled; named by cluster)\n",
    ];
    for part in expected_parts {
        assert!(text.contains(part), "missing {part:?} in:\n{text}");
    }
    // Matchers appear in name order.
    let order: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("matcher "))
        .map(|l| l.split([' ', ':']).next().unwrap_or(""))
        .collect();
    let mut sorted = order.clone();
    sorted.sort();
    assert_eq!(order, sorted);
}

#[test]
fn explain_shows_inversion() {
    let config = config_from_text(
        "sendmail: t1\n\tmailto a@example.com\n\nmatcher: m1\n\tinvert-match true\n\tmatch-severity error\n\ttarget t1\n",
    );
    let routing = route(&config, &event(0, Error, &[]), &Utc);
    let text = explain_text(&routing);
    assert!(
        text.contains("matcher m1 (mode all, invert-match): no match\n"),
        "{text}"
    );
    assert!(text.contains("  => not all(true) = false\n"), "{text}");
}

const MATCHERS_B: &str = "\
matcher: default-matcher
	mode all
	target mail-to-root
	comment Route all notifications to mail-to-root
	disable true

matcher: b1
	match-severity error
	match-severity warning,error
	target t-b1

matcher: b2
	mode any
	match-severity error
	match-field exact:type=vzdump
	target t-b2

matcher: b3
	invert-match true
	match-severity info
	target t-b3

matcher: b4
	mode any
	invert-match true
	match-field exact:type=vzdump
	match-field exact:type=replication
	target t-b4

matcher: b5
	match-calendar mon..fri 9-17
	match-calendar sat 10-12
	target t-b5

matcher: b6
	mode any
	match-calendar mon..fri 9-17
	match-calendar sat 10-12
	target t-b6

matcher: b7
	match-field regex:type=.
	target t-b7

matcher: b8
	match-field exact:type=
	target t-b8
";

fn one_target_per_matcher(matchers: &str, names: &[&str]) -> Config {
    let mut text = String::new();
    for name in names {
        text.push_str(&format!("sendmail: t-{name}\n\tmailto x@example.com\n\n"));
    }
    text.push_str(matchers);
    config_from_text(&text)
}

#[test]
fn configuration_b() {
    let config = one_target_per_matcher(
        MATCHERS_B,
        &["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8"],
    );
    #[rustfmt::skip]
    let cases: &[Case] = &[
        ("B1", at(3, 10, 0, 0), Info, &[("type", "vzdump")], &["t-b2", "t-b6", "t-b7"]),
        ("B2", at(8, 11, 0, 0), Error, &[], &["t-b1", "t-b2", "t-b3", "t-b4", "t-b6"]),
        ("B3", at(9, 11, 0, 0), Warning, &[("type", "")], &["t-b3", "t-b4", "t-b8"]),
        ("B4", at(3, 8, 59, 0), Notice, &[("type", "replication")], &["t-b3", "t-b7"]),
    ];
    for (id, ts, severity, fields, expected) in cases {
        assert_eq!(
            selected(&config, &event(*ts, *severity, fields)),
            *expected,
            "case {id}"
        );
    }
}

#[test]
fn configuration_c() {
    let config = one_target_per_matcher(
        "matcher: c1\n\tmatch-calendar sat..mon 20:00-24:00\n\ttarget t-c1\n\n\
         matcher: c2\n\tmatch-calendar sun 23:00-01:00\n\ttarget t-c2\n\n\
         matcher: c3\n\tmatch-calendar sat-sun 8-20\n\ttarget t-c3\n\n\
         matcher: default-matcher\n\tdisable true\n",
        &["c1", "c2", "c3"],
    );
    #[rustfmt::skip]
    let cases: &[(&str, i64, &[&str])] = &[
        ("C1", at(10, 23, 59, 0), &["t-c1"]),
        ("C2", at(10, 0, 30, 0), &["t-c2"]),
        ("C3", at(11, 21, 0, 0), &[]),
        ("C4", at(9, 19, 59, 0), &["t-c3"]),
        ("C5", at(9, 20, 0, 0), &["t-c1"]),
    ];
    for (id, ts, expected) in cases {
        assert_eq!(
            selected(&config, &event(*ts, Info, &[])),
            *expected,
            "case {id}"
        );
    }
}

#[test]
fn empty_configuration_routes_everything_to_mail_to_root() {
    let config = config_from_text("");
    assert_eq!(selected(&config, &event(0, Info, &[])), ["mail-to-root"]);
    assert!(anything_deliverable(&config));
}

#[test]
fn all_selected_missing_is_detected() {
    let config = config_from_text(
        "matcher: default-matcher\n\tdisable true\n\nmatcher: m1\n\ttarget ghost\n",
    );
    let routing = route(&config, &event(0, Info, &[]), &Utc);
    assert!(routing.selected.is_empty());
    assert!(routing.all_selected_missing());
    assert!(!anything_deliverable(&config));
}

#[test]
fn a_target_named_by_several_matchers_is_selected_once() {
    let config = config_from_text(
        "sendmail: t1\n\tmailto a@example.com\n\n\
         matcher: m1\n\ttarget t1\n\n\
         matcher: m2\n\ttarget t1\n\ttarget t1\n",
    );
    assert_eq!(
        selected(&config, &event(0, Info, &[])),
        ["mail-to-root", "t1"]
    );
}

#[test]
fn unrepresentable_timestamp_counts_as_no_match_with_warning() {
    let config = config_from_text(
        "sendmail: t1\n\tmailto a@example.com\n\nmatcher: m1\n\tmatch-calendar 0-24\n\ttarget t1\n\n\
         matcher: default-matcher\n\tdisable true\n",
    );
    let routing = route(&config, &event(i64::MAX, Info, &[]), &Utc);
    assert!(routing.selected.is_empty());
    assert_eq!(routing.warnings.len(), 1, "{:?}", routing.warnings);
    assert!(routing.warnings[0].starts_with("matcher 'm1' could not be evaluated"));
}
