//! Validation errors and warnings (config.md §6): problems of a configuration that loads,
//! found on the merged result. Load errors are reported earlier, while parsing.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::matcher::calendar::{CalendarRule, Extension};

use super::HostFacts;
use super::NameMap;
use super::datacenter::{self, DatacenterLines};
use super::findings::Findings;
use super::model::{Config, Finding, FindingKind, Prop, Target, TargetKind};
use super::schema::printable;
use super::value::{self, Base64Problem};

/// Everything the checks look at besides the typed configuration (which carries the line
/// of every property): the names of sections that failed to load (not reported again as
/// missing), and facts about the files and the host.
pub struct Context<'a> {
    pub config: &'a Config,
    pub public_invalid: &'a BTreeSet<String>,
    pub private_invalid: &'a BTreeSet<String>,
    pub datacenter_lines: DatacenterLines,
    /// Permission bits of `priv/notifications.cfg` when it was read.
    pub private_mode: Option<u32>,
    /// Why `user.cfg` could not be read, if so.
    pub users_unreadable: Option<&'a str>,
    pub host: &'a HostFacts,
}

/// The findings of the checks, one collection per file.
pub struct Out<'a> {
    pub public: &'a mut Findings,
    pub private: &'a mut Findings,
    pub users: &'a mut Findings,
    pub datacenter: &'a mut Findings,
    pub other: &'a mut Vec<Finding>,
}

pub fn run(cx: &Context, out: &mut Out) {
    let targets = targets_by_name(cx);
    check_matchers(cx, &targets, out.public);
    check_mail_targets(cx, out);
    check_smtp(cx, out.public);
    check_gotify(cx, out.public);
    check_webhooks(cx, out);
    check_proxy(cx, out.datacenter);
    check_private_mode(cx, out.private);
    check_sendmail_program(cx, out.other);
    check_system_mail_route(cx, &targets, out.public);
}

/// The targets by name, hashed: the checks look names up once per matcher target, and
/// names often share long prefixes, which ordered comparison pays for.
fn targets_by_name<'a>(cx: &Context<'a>) -> NameMap<'a, &'a Target> {
    let mut map = NameMap::with_capacity_and_hasher(cx.config.targets.len(), Default::default());
    for (name, target) in &cx.config.targets {
        map.insert(name.as_str(), target);
    }
    map
}

fn check_matchers(cx: &Context, targets: &NameMap<&Target>, findings: &mut Findings) {
    for matcher in cx.config.matchers.values() {
        let name = &matcher.name;
        for target in &matcher.target {
            let wanted = &target.value;
            if targets.contains_key(wanted.as_str()) || cx.public_invalid.contains(wanted.as_str())
            {
                continue;
            }
            let note = if cx.config.matchers.contains_key(wanted) {
                " (it is a matcher)"
            } else {
                ""
            };
            findings.error(
                target.line,
                format!("matcher '{name}': target '{wanted}' does not exist{note}"),
            );
        }
        if matcher.target.is_empty() {
            findings.warning(matcher.line, format!("matcher '{name}' has no target"));
        }
        // Disabling the built-in default matcher is the documented way to switch off the
        // default route, so only other disabled matchers are worth a word.
        if matcher.disable && matcher.name != "default-matcher" {
            let at = matcher.lines.first(Prop::Disable).unwrap_or(matcher.line);
            findings.warning(
                at,
                format!("matcher '{name}' is disabled and has no effect"),
            );
        }
        for rule in &matcher.match_calendar {
            let (text, calendar) = &*rule.value;
            check_calendar(text, calendar, rule.line, findings);
        }
    }
}

fn check_calendar(text: &str, rule: &CalendarRule, line: usize, findings: &mut Findings) {
    if rule.is_empty() {
        findings.warning(
            line,
            format!(
                "{} '{text}' never matches (start equals end)",
                Prop::MatchCalendar
            ),
        );
    }
    let extensions: Vec<Extension> = rule.extensions();
    if !extensions.is_empty() {
        findings.warning(
            line,
            format!(
                "{} '{text}' is accepted by pvenotify but rejected by Proxmox VE",
                Prop::MatchCalendar
            ),
        );
    }
}

fn is_local_root(address: &str, host: &HostFacts) -> bool {
    if address.eq_ignore_ascii_case("root") || address.eq_ignore_ascii_case("root@localhost") {
        return true;
    }
    let Some(domain) = address
        .get(..5)
        .filter(|user| user.eq_ignore_ascii_case("root@"))
        .map(|_| &address[5..])
    else {
        return false;
    };
    [&host.hostname, &host.fqdn]
        .into_iter()
        .filter(|name| !name.is_empty())
        .any(|name| domain.eq_ignore_ascii_case(name))
}

const LOOP_NOTE: &str = "forwarded system mail would loop back into forward-mail";

/// Recipients of sendmail and smtp targets: presence, `user.cfg` lookups, mail loops,
/// and control characters in `from-address` / `author`.
fn check_mail_targets(cx: &Context, out: &mut Out) {
    let mut unresolvable: Vec<&str> = Vec::new();
    for target in cx.config.targets.values() {
        let (mailto, mailto_user, from_address, author, kind) = match &target.kind {
            TargetKind::Sendmail(c) => (
                &c.mailto,
                &c.mailto_user,
                c.from_address.as_deref(),
                c.author.as_deref(),
                "sendmail",
            ),
            TargetKind::Smtp(c) => (
                &c.mailto,
                &c.mailto_user,
                Some(c.from_address.as_str()),
                c.author.as_deref(),
                "smtp",
            ),
            _ => continue,
        };
        let name = &target.name;
        if mailto.is_empty() && mailto_user.is_empty() {
            out.public.error(
                target.line,
                format!(
                    "{kind} target '{name}' has neither '{}' nor '{}' (no recipients)",
                    Prop::Mailto,
                    Prop::MailtoUser
                ),
            );
        }
        for (address, line) in mailto.iter().zip(target.lines.all(Prop::Mailto)) {
            if is_local_root(address, cx.host) {
                out.public.warning(
                    line,
                    format!(
                        "{kind} target '{name}': recipient '{}' is root on this host; {LOOP_NOTE}",
                        printable(address)
                    ),
                );
            }
        }
        for (user, line) in mailto_user.iter().zip(target.lines.all(Prop::MailtoUser)) {
            match cx.config.users.email(user) {
                Ok(Some(address)) if is_local_root(address, cx.host) => out.public.warning(
                    line,
                    format!(
                        "{kind} target '{name}': {} '{user}' has the address '{}', \
                         which is root on this host; {LOOP_NOTE}",
                        Prop::MailtoUser,
                        printable(address)
                    ),
                ),
                Ok(Some(_)) => {}
                Ok(None) => out.public.warning(
                    line,
                    format!(
                        "user '{user}' ({} of target '{name}') has no e-mail address \
                         in user.cfg; skipped",
                        Prop::MailtoUser
                    ),
                ),
                Err(_) => {
                    if !unresolvable.contains(&name.as_str()) {
                        unresolvable.push(name);
                    }
                }
            }
        }
        for (prop, text) in [(Prop::FromAddress, from_address), (Prop::Author, author)] {
            if let Some(text) = text
                && text.chars().any(char::is_control)
            {
                out.public.error(
                    target.lines.all(prop).next().unwrap_or(target.line),
                    format!("{kind} target '{name}': {prop} contains a control character"),
                );
            }
        }
    }
    if let Some(reason) = cx.users_unreadable {
        if unresolvable.is_empty() {
            out.users.warning(0, format!("cannot read: {reason}"));
        } else {
            out.users.error(
                0,
                format!(
                    "cannot read: {reason}; the {} entries of {} cannot be resolved",
                    Prop::MailtoUser,
                    quoted_list("target", &unresolvable)
                ),
            );
        }
    }
}

/// `target 'a'` or `targets 'a', 'b'`.
fn quoted_list(noun: &str, names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("'{n}'")).collect();
    let plural = if names.len() == 1 { "" } else { "s" };
    format!("{noun}{plural} {}", quoted.join(", "))
}

fn check_smtp(cx: &Context, findings: &mut Findings) {
    for target in cx.config.targets.values() {
        let TargetKind::Smtp(smtp) = &target.kind else {
            continue;
        };
        let name = &target.name;
        let lines = &target.lines;
        if smtp.port == Some(0) {
            findings.error(
                lines.first(Prop::Port).unwrap_or(target.line),
                format!("smtp target '{name}': port 0 cannot be used"),
            );
        }
        if smtp.username.is_some() {
            let username_line = lines.first(Prop::Username).unwrap_or(target.line);
            if smtp.password.is_none() && !cx.private_invalid.contains(name.as_str()) {
                findings.error(
                    username_line,
                    format!(
                        "smtp target '{name}': '{}' is set but there is no {} \
                         in priv/notifications.cfg",
                        Prop::Username,
                        Prop::Password
                    ),
                );
            }
            if smtp.mode == super::model::SmtpMode::Insecure {
                findings.warning(
                    lines.first(Prop::Mode).unwrap_or(username_line),
                    format!(
                        "smtp target '{name}': mode insecure with a username sends the password \
                         without encryption"
                    ),
                );
            }
        }
    }
}

fn check_gotify(cx: &Context, findings: &mut Findings) {
    for target in cx.config.targets.values() {
        let TargetKind::Gotify(gotify) = &target.kind else {
            continue;
        };
        let name = &target.name;
        if gotify.token.is_none() && !cx.private_invalid.contains(name.as_str()) {
            findings.error(
                target.line,
                format!("gotify target '{name}' has no token in priv/notifications.cfg"),
            );
        }
        let server_line = target.lines.first(Prop::Server).unwrap_or(target.line);
        if gotify.server.starts_with("http://") {
            findings.warning(
                server_line,
                format!(
                    "gotify target '{name}': server uses http://, so the token is sent without \
                     encryption"
                ),
            );
        } else if !gotify.server.starts_with("https://") {
            findings.error(
                server_line,
                format!(
                    "gotify target '{name}': server '{}' does not start with http:// or https://",
                    printable(&gotify.server)
                ),
            );
        }
        // `/message` is appended to the server: a query would end up before it (and the
        // token after it), and it could echo back in error messages. Not quoted, since it
        // may hold a secret.
        if gotify.server.contains('?') {
            findings.error(
                server_line,
                format!(
                    "gotify target '{name}': server must not contain a query string ('?'); \
                     give the base URL only"
                ),
            );
        }
    }
}

/// What is wrong with a base64 value, if anything, as a finding says it.
fn base64_problem(text: &str) -> Option<&'static str> {
    match value::decode_base64_text(text) {
        Err(Base64Problem::NotBase64) => Some("is not valid base64"),
        Err(Base64Problem::NotUtf8) => Some("is not valid UTF-8 after base64 decoding"),
        Ok(_) => None,
    }
}

fn check_webhooks(cx: &Context, out: &mut Out) {
    for target in cx.config.targets.values() {
        let TargetKind::Webhook(webhook) = &target.kind else {
            continue;
        };
        let name = &target.name;
        for (header, line) in webhook.header.iter().zip(target.lines.all(Prop::Header)) {
            if !value::is_http_header_name(&header.name) {
                out.public.error(
                    line,
                    format!(
                        "webhook target '{name}': '{}' is not a valid HTTP header name",
                        printable(&header.name)
                    ),
                );
            }
            if let Some(problem) = header.value.as_deref().and_then(base64_problem) {
                out.public.error(
                    line,
                    format!(
                        "webhook target '{name}': value of header '{}' {problem}",
                        printable(&header.name)
                    ),
                );
            }
        }
        if let Some(body) = &webhook.body
            && let Some(problem) = base64_problem(body)
        {
            out.public.error(
                target.lines.all(Prop::Body).next().unwrap_or(target.line),
                format!("webhook target '{name}': {} {problem}", Prop::Body),
            );
        }
        let mut seen: Vec<&str> = Vec::new();
        let private_lines = target.private_lines.all(Prop::Secret);
        for (secret, line) in webhook.secret.iter().zip(private_lines) {
            let secret_name = secret.name.as_str();
            if seen.contains(&secret_name) {
                out.private.error(
                    line,
                    format!(
                        "webhook target '{name}': secret '{}' is defined more than once",
                        printable(secret_name)
                    ),
                );
            }
            seen.push(secret_name);
            if let Some(problem) = (secret.value.as_ref())
                .map(|v| v.expose())
                .and_then(base64_problem)
            {
                out.private.error(
                    line,
                    format!(
                        "webhook target '{name}': value of secret '{}' {problem}",
                        printable(secret_name)
                    ),
                );
            }
        }
    }
}

fn check_proxy(cx: &Context, findings: &mut Findings) {
    let Some(proxy) = &cx.config.datacenter.http_proxy else {
        return;
    };
    let users: Vec<&str> = cx
        .config
        .targets
        .values()
        .filter(|t| matches!(t.kind, TargetKind::Gotify(_) | TargetKind::Webhook(_)))
        .map(|t| t.name.as_str())
        .collect();
    if users.is_empty() {
        return;
    }
    if let Err(reason) = datacenter::parse_http_proxy(proxy.expose()) {
        findings.error(
            cx.datacenter_lines.http_proxy,
            format!(
                "http_proxy cannot be used ({reason}); needed by {}",
                quoted_list("target", &users)
            ),
        );
    }
}

fn check_private_mode(cx: &Context, findings: &mut Findings) {
    if let Some(mode) = cx.private_mode
        && mode & 0o077 != 0
    {
        findings.warning(
            0,
            format!(
                "readable by group or others (mode {:04o}) although it contains secrets",
                mode & 0o7777
            ),
        );
    }
}

/// Warns when root's local mail, which `forward-mail` turns into an event of severity
/// `unknown` with `type=system-mail` and `hostname`, would reach no target and be dropped.
///
/// The event is routed through the model as it is. Only `match-calendar` makes the result
/// depend on time, and only on the local weekday and minute, and it changes only at the
/// minutes where some window opens or closes: one moment per weekday and such stretch
/// covers the week. Nowhere at all gives one warning, nowhere at some moments another.
/// Matchers without calendar rules are asked first, so the usual configuration (a matcher
/// for all mail) costs one evaluation.
fn check_system_mail_route(cx: &Context, targets: &NameMap<&Target>, findings: &mut Findings) {
    use crate::matcher::{self, calendar::CalendarRule};
    use crate::notification::{Fields, Severity};
    use chrono::Weekday;

    let fields = Fields::from([
        ("type".to_string(), "system-mail".to_string()),
        ("hostname".to_string(), cx.host.hostname.clone()),
    ]);
    let delivers = |m: &super::model::Matcher| {
        m.target.iter().any(|t| {
            targets
                .get(t.value.as_str())
                .is_some_and(|target| !target.disable)
        })
    };
    let matches = |m: &super::model::Matcher, weekday: Weekday, minute: u16| {
        matcher::matches_at(m, &fields, Severity::Unknown, weekday, u32::from(minute))
    };
    // Matching is cheaper than looking the targets up, so it is asked first.
    let enabled = || cx.config.matchers.values().filter(|m| !m.disable);
    if enabled().any(|m| m.match_calendar.is_empty() && matches(m, Weekday::Mon, 0) && delivers(m))
    {
        return;
    }
    let timed: Vec<&super::model::Matcher> = enabled()
        .filter(|m| !m.match_calendar.is_empty() && delivers(m))
        .collect();
    let mut edges: BTreeSet<u16> = timed
        .iter()
        .flat_map(|m| &m.match_calendar)
        .flat_map(|rule| CalendarRule::edges(&rule.value.1))
        .filter(|minute| *minute < 24 * 60)
        .collect();
    edges.insert(0);
    let (mut routed, mut moments) = (0, 0);
    for day in 0..7u8 {
        let weekday = Weekday::try_from(day).unwrap_or(Weekday::Mon);
        for minute in &edges {
            moments += 1;
            if timed.iter().any(|m| matches(m, weekday, *minute)) {
                routed += 1;
            }
        }
    }
    if routed == moments {
        return;
    }
    let when = if routed == 0 {
        String::new()
    } else {
        format!(" at some times ({})", Prop::MatchCalendar)
    };
    findings.warning(
        0,
        format!(
            "root's local mail (forward-mail: type=system-mail, severity unknown) would be \
             dropped{when}: no enabled matcher selects an existing, enabled target for it"
        ),
    );
}

fn check_sendmail_program(cx: &Context, other: &mut Vec<Finding>) {
    if cx.host.sendmail_usable != Some(false) {
        return;
    }
    let users: Vec<&str> = cx
        .config
        .targets
        .values()
        .filter(|t| matches!(t.kind, TargetKind::Sendmail(_)))
        .map(|t| t.name.as_str())
        .collect();
    if users.is_empty() {
        return;
    }
    other.push(Finding {
        file: PathBuf::from(&cx.host.sendmail_path),
        line: None,
        kind: FindingKind::Warning,
        message: format!(
            "sendmail program is missing or not executable; {} cannot deliver",
            quoted_list("sendmail target", &users)
        ),
    });
}
