//! `list`: targets and matchers as tables or JSON. Secrets are shown only as set/unset,
//! webhook header values and bodies not at all (they often hold literal tokens), URLs
//! reduced.

use serde_json::{Map, Value, json};

use super::args::{ListArgs, ListWhat};
use super::{Host, Output};
use crate::config::{Config, Located, Matcher, Name, Prop, Rule, Target, TargetKind, value};
use crate::exit::ExitStatus;
use crate::redact::reduce_url;

pub(super) fn run(args: &ListArgs, host: &Host<'_>, out: &Output) -> ExitStatus {
    let loaded = match host.load_config(out) {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    let config = &loaded.config;
    let targets = args.what != Some(ListWhat::Matchers);
    let matchers = args.what != Some(ListWhat::Targets);

    if out.is_json() {
        let mut doc = serde_json::Map::new();
        if targets {
            let list = config.targets.values().map(target_json).collect();
            doc.insert("targets".into(), Value::Array(list));
        }
        if matchers {
            let list = config.matchers.values().map(matcher_json).collect();
            doc.insert("matchers".into(), Value::Array(list));
        }
        out.json(&Value::Object(doc));
        return ExitStatus::Ok;
    }

    let mut text = String::new();
    if targets {
        text.push_str(&target_table(config));
    }
    if targets && matchers {
        text.push('\n');
    }
    if matchers {
        text.push_str(&matcher_table(config));
    }
    out.stdout(&text);
    ExitStatus::Ok
}

fn target_table(config: &Config) -> String {
    let mut rows = vec![row(&[
        "NAME", "TYPE", "ORIGIN", "DISABLED", "COMMENT", "SETTINGS",
    ])];
    for t in config.targets.values() {
        rows.push(vec![
            t.name.to_string(),
            t.kind.type_name().to_string(),
            t.origin.as_str().to_string(),
            yes_no(t.disable),
            cell(t.comment.as_deref()),
            cell(Some(&target_settings(t).join(" "))),
        ]);
    }
    table(&rows)
}

fn matcher_table(config: &Config) -> String {
    let mut rows = vec![row(&[
        "NAME", "ORIGIN", "DISABLED", "MODE", "INVERT", "RULES", "TARGETS", "COMMENT",
    ])];
    for m in config.matchers.values() {
        let rules = matcher_rules(m);
        let rules = if rules.is_empty() {
            "(none: always matches)".to_string()
        } else {
            rules.join("; ")
        };
        let targets: Vec<&str> = m.target.iter().map(|t| t.value.as_str()).collect();
        rows.push(vec![
            m.name.to_string(),
            m.origin.as_str().to_string(),
            yes_no(m.disable),
            m.mode.as_str().to_string(),
            yes_no(m.invert_match),
            rules,
            cell(Some(&targets.join(","))),
            cell(m.comment.as_deref()),
        ]);
    }
    table(&rows)
}

/// The rules in file order, as `field …`, `severity …`, `calendar …`.
fn matcher_rules(m: &Matcher) -> Vec<String> {
    let mut rules: Vec<(usize, String)> = Vec::new();
    rules.extend(
        m.match_field
            .iter()
            .map(|r| (r.line, format!("field {}", r.value.0))),
    );
    rules.extend(
        m.match_severity
            .iter()
            .map(|r| (r.line, format!("severity {}", r.value.0))),
    );
    rules.extend(
        m.match_calendar
            .iter()
            .map(|r| (r.line, format!("calendar {}", r.value.0))),
    );
    rules.sort_by_key(|(line, _)| *line);
    rules.into_iter().map(|(_, text)| text).collect()
}

/// `KEY=VALUE` settings of a target, never a secret.
fn target_settings(t: &Target) -> Vec<String> {
    let mut s = Settings::default();
    match &t.kind {
        TargetKind::Sendmail(c) => {
            s.list(Prop::Mailto, &c.mailto);
            s.list(Prop::MailtoUser, &c.mailto_user);
            s.opt(Prop::FromAddress, c.from_address.as_deref());
            s.opt(Prop::Author, c.author.as_deref());
        }
        TargetKind::Smtp(c) => {
            s.add(Prop::Server, &c.server);
            s.add(Prop::Mode, c.mode.as_str());
            s.add(Prop::Port, &c.effective_port().to_string());
            s.opt(Prop::Username, c.username.as_deref());
            s.add(Prop::Password, set_or_none(c.password.is_some()));
            s.add(Prop::FromAddress, &c.from_address);
            s.opt(Prop::Author, c.author.as_deref());
            s.list(Prop::Mailto, &c.mailto);
            s.list(Prop::MailtoUser, &c.mailto_user);
        }
        TargetKind::Gotify(c) => {
            s.add(Prop::Server, &reduce_url(&c.server));
            s.add(Prop::Token, set_or_none(c.token.is_some()));
        }
        TargetKind::Webhook(c) => {
            s.add(Prop::Method, c.method.as_str());
            s.add(Prop::Url, &reduce_url(&c.url));
            let names: Vec<String> = c.header.iter().map(|h| h.name.clone()).collect();
            s.list(Prop::Header, &names);
            if let Some(body) = &c.body {
                let size = decoded_len(body)
                    .map_or_else(|| "invalid base64".to_string(), |n| format!("{n} bytes"));
                s.raw(Prop::Body, &format!("(set, {size})"));
            }
            let names: Vec<String> = c.secret.iter().map(|h| h.name.clone()).collect();
            s.list(Prop::Secret, &names);
        }
    }
    s.0
}

#[derive(Default)]
struct Settings(Vec<String>);

impl Settings {
    fn add(&mut self, key: Prop, value: &str) {
        if value.contains(char::is_whitespace) || value.is_empty() {
            self.0.push(format!("{key}=\"{}\"", value.escape_default()));
        } else {
            self.0.push(format!("{key}={value}"));
        }
    }

    /// For annotations such as `(set, 96 bytes)`, which are not values and stay unquoted.
    fn raw(&mut self, key: Prop, annotation: &str) {
        self.0.push(format!("{key}={annotation}"));
    }

    fn opt(&mut self, key: Prop, value: Option<&str>) {
        if let Some(value) = value {
            self.add(key, value);
        }
    }

    fn list(&mut self, key: Prop, values: &[String]) {
        if !values.is_empty() {
            self.add(key, &values.join(","));
        }
    }
}

fn set_or_none(set: bool) -> &'static str {
    if set { "(set)" } else { "(none)" }
}

fn decoded_len(base64: &str) -> Option<usize> {
    value::decode_base64(base64).map(|v| v.len())
}

fn target_json(t: &Target) -> Value {
    let mut v = Map::new();
    v.insert("name".into(), json!(t.name));
    v.insert("type".into(), json!(t.kind.type_name()));
    put(&mut v, Prop::Origin, t.origin);
    put(&mut v, Prop::Disable, t.disable);
    put(&mut v, Prop::Comment, &t.comment);
    match &t.kind {
        TargetKind::Sendmail(c) => {
            put(&mut v, Prop::Mailto, &c.mailto);
            put(&mut v, Prop::MailtoUser, &c.mailto_user);
            put(&mut v, Prop::FromAddress, &c.from_address);
            put(&mut v, Prop::Author, &c.author);
        }
        TargetKind::Smtp(c) => {
            put(&mut v, Prop::Server, &c.server);
            put(&mut v, Prop::Port, c.effective_port());
            put(&mut v, Prop::Mode, c.mode);
            put(&mut v, Prop::Username, &c.username);
            v.insert(
                format!("{}-set", Prop::Password),
                json!(c.password.is_some()),
            );
            put(&mut v, Prop::FromAddress, &c.from_address);
            put(&mut v, Prop::Author, &c.author);
            put(&mut v, Prop::Mailto, &c.mailto);
            put(&mut v, Prop::MailtoUser, &c.mailto_user);
        }
        TargetKind::Gotify(c) => {
            put(&mut v, Prop::Server, reduce_url(&c.server));
            v.insert(format!("{}-set", Prop::Token), json!(c.token.is_some()));
        }
        TargetKind::Webhook(c) => {
            put(&mut v, Prop::Method, c.method);
            put(&mut v, Prop::Url, reduce_url(&c.url));
            let headers: Vec<&String> = c.header.iter().map(|h| &h.name).collect();
            put(&mut v, Prop::Header, headers);
            let body = c.body.as_deref().and_then(decoded_len);
            v.insert(format!("{}-bytes", Prop::Body), json!(body));
            let secrets: Vec<&String> = c.secret.iter().map(|s| &s.name).collect();
            put(&mut v, Prop::Secret, secrets);
        }
    }
    Value::Object(v)
}

fn matcher_json(m: &Matcher) -> Value {
    fn texts<R>(rules: &[Located<Rule<R>>]) -> Vec<&str> {
        rules.iter().map(|r| r.value.0.as_str()).collect()
    }
    let mut v = Map::new();
    v.insert("name".into(), json!(m.name));
    put(&mut v, Prop::Origin, m.origin);
    put(&mut v, Prop::Disable, m.disable);
    put(&mut v, Prop::Mode, m.mode);
    put(&mut v, Prop::InvertMatch, m.invert_match);
    put(&mut v, Prop::MatchField, texts(&m.match_field));
    put(&mut v, Prop::MatchSeverity, texts(&m.match_severity));
    put(&mut v, Prop::MatchCalendar, texts(&m.match_calendar));
    let targets: Vec<&Name> = m.target.iter().map(|t| &t.value).collect();
    put(&mut v, Prop::Target, targets);
    put(&mut v, Prop::Comment, &m.comment);
    Value::Object(v)
}

/// A property under its key, as the configuration spells it.
fn put(object: &mut Map<String, Value>, prop: Prop, value: impl serde::Serialize) {
    object.insert(prop.key().to_string(), json!(value));
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

fn cell(value: Option<&str>) -> String {
    match value {
        Some(v) if !v.is_empty() => v.to_string(),
        _ => "-".to_string(),
    }
}

fn yes_no(value: bool) -> String {
    if value { "yes" } else { "no" }.to_string()
}

/// Columns separated by two spaces, padded to the widest cell; the last is not padded.
fn table(rows: &[Vec<String>]) -> String {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (i, value) in r.iter().enumerate() {
            if i + 1 == columns {
                line.push_str(value);
            } else {
                let pad = widths[i] - value.chars().count();
                line.push_str(value);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_pads_columns_but_not_the_last() {
        let rows = vec![row(&["A", "BB", "C"]), row(&["aaa", "b", "c c"])];
        assert_eq!(table(&rows), "A    BB  C\naaa  b   c c\n");
    }

    #[test]
    fn settings_quote_values_with_spaces() {
        let mut s = Settings::default();
        s.add(Prop::Author, "Proxmox VE");
        s.add(Prop::Mode, "tls");
        assert_eq!(s.0, ["author=\"Proxmox VE\"", "mode=tls"]);
    }
}
