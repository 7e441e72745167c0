//! `list`: targets and matchers as tables or JSON. Secrets are shown only as set/unset,
//! webhook header values and bodies not at all (they often hold literal tokens), URLs
//! reduced.

use serde_json::{Value, json};

use super::args::{ListArgs, ListWhat};
use super::{Host, Output};
use crate::config::{Config, Matcher, Target, TargetKind, value};
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
            t.name.clone(),
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
            m.name.clone(),
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
            s.list("mailto", &c.mailto);
            s.list("mailto-user", &c.mailto_user);
            s.opt("from-address", c.from_address.as_deref());
            s.opt("author", c.author.as_deref());
        }
        TargetKind::Smtp(c) => {
            s.add("server", &c.server);
            s.add("mode", c.mode.as_str());
            s.add("port", &c.effective_port().to_string());
            s.opt("username", c.username.as_deref());
            s.add("password", set_or_none(c.password.is_some()));
            s.add("from-address", &c.from_address);
            s.opt("author", c.author.as_deref());
            s.list("mailto", &c.mailto);
            s.list("mailto-user", &c.mailto_user);
        }
        TargetKind::Gotify(c) => {
            s.add("server", &reduce_url(&c.server));
            s.add("token", set_or_none(c.token.is_some()));
        }
        TargetKind::Webhook(c) => {
            s.add("method", c.method.as_str());
            s.add("url", &reduce_url(&c.url));
            let names: Vec<String> = c.header.iter().map(|h| h.name.clone()).collect();
            s.list("header", &names);
            if let Some(body) = &c.body {
                let size = decoded_len(body)
                    .map_or_else(|| "invalid base64".to_string(), |n| format!("{n} bytes"));
                s.raw("body", &format!("(set, {size})"));
            }
            let names: Vec<String> = c.secret.iter().map(|h| h.name.clone()).collect();
            s.list("secret", &names);
        }
    }
    s.0
}

#[derive(Default)]
struct Settings(Vec<String>);

impl Settings {
    fn add(&mut self, key: &str, value: &str) {
        if value.contains(char::is_whitespace) || value.is_empty() {
            self.0.push(format!("{key}=\"{}\"", value.escape_default()));
        } else {
            self.0.push(format!("{key}={value}"));
        }
    }

    /// For annotations such as `(set, 96 bytes)`, which are not values and stay unquoted.
    fn raw(&mut self, key: &str, annotation: &str) {
        self.0.push(format!("{key}={annotation}"));
    }

    fn opt(&mut self, key: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.add(key, value);
        }
    }

    fn list(&mut self, key: &str, values: &[String]) {
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
    let mut v = json!({
        "name": t.name,
        "type": t.kind.type_name(),
        "origin": t.origin,
        "disable": t.disable,
        "comment": t.comment,
    });
    let extra = match &t.kind {
        TargetKind::Sendmail(c) => json!({
            "mailto": c.mailto, "mailto-user": c.mailto_user,
            "from-address": c.from_address, "author": c.author,
        }),
        TargetKind::Smtp(c) => json!({
            "server": c.server, "port": c.effective_port(), "mode": c.mode,
            "username": c.username, "password-set": c.password.is_some(),
            "from-address": c.from_address, "author": c.author,
            "mailto": c.mailto, "mailto-user": c.mailto_user,
        }),
        TargetKind::Gotify(c) => json!({
            "server": reduce_url(&c.server), "token-set": c.token.is_some(),
        }),
        TargetKind::Webhook(c) => json!({
            "method": c.method, "url": reduce_url(&c.url),
            "header": c.header.iter().map(|h| &h.name).collect::<Vec<_>>(),
            "body-bytes": c.body.as_deref().and_then(decoded_len),
            "secret": c.secret.iter().map(|s| &s.name).collect::<Vec<_>>(),
        }),
    };
    if let (Value::Object(base), Value::Object(extra)) = (&mut v, extra) {
        base.extend(extra);
    }
    v
}

fn matcher_json(m: &Matcher) -> Value {
    json!({
        "name": m.name,
        "origin": m.origin,
        "disable": m.disable,
        "mode": m.mode,
        "invert-match": m.invert_match,
        "match-field": m.match_field.iter().map(|r| &r.value.0).collect::<Vec<_>>(),
        "match-severity": m.match_severity.iter().map(|r| &r.value.0).collect::<Vec<_>>(),
        "match-calendar": m.match_calendar.iter().map(|r| &r.value.0).collect::<Vec<_>>(),
        "target": m.target.iter().map(|t| &t.value).collect::<Vec<_>>(),
        "comment": m.comment,
    })
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
        s.add("author", "Proxmox VE");
        s.add("mode", "tls");
        assert_eq!(s.0, ["author=\"Proxmox VE\"", "mode=tls"]);
    }
}
