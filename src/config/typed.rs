//! Checked sections → the typed targets and matchers of the model, and the join with the
//! private sections (config.md §4, §5.3).

use super::model::{
    GotifyConfig, HttpMethod, Located, MatchMode, Matcher, Origin, Secret, SendmailConfig,
    SmtpConfig, SmtpMode, Target, TargetKind, WebhookConfig, WebhookHeader, WebhookSecret,
};
use super::schema::{Item, Section, SectionType, Value};

fn word(section: &Section, key: &str) -> Option<&'static str> {
    match section.first(key) {
        Some(Item {
            value: Value::Word(word),
            ..
        }) => Some(word),
        _ => None,
    }
}

fn pairs(item: &Item) -> (String, Option<String>) {
    let mut name = String::new();
    let mut value = None;
    if let Value::Pairs(pairs) = &item.value {
        for (key, text) in pairs {
            match key.as_str() {
                "name" => name = text.clone(),
                _ => value = Some(text.clone()),
            }
        }
    }
    (name, value)
}

/// The target of a public section; `None` for matchers.
pub fn target(section: &Section, origin: Origin) -> Option<Target> {
    let kind = match section.section_type {
        SectionType::Matcher => return None,
        SectionType::Sendmail => TargetKind::Sendmail(SendmailConfig {
            mailto: section.texts("mailto"),
            mailto_user: section.texts("mailto-user"),
            from_address: section.text("from-address"),
            author: section.text("author"),
        }),
        SectionType::Smtp => TargetKind::Smtp(SmtpConfig {
            server: section.text("server").unwrap_or_default(),
            port: match section.first("port") {
                Some(Item {
                    value: Value::Int(port),
                    ..
                }) => u16::try_from(*port).ok(),
                _ => None,
            },
            mode: match word(section, "mode") {
                Some("insecure") => SmtpMode::Insecure,
                Some("starttls") => SmtpMode::Starttls,
                _ => SmtpMode::Tls,
            },
            username: section.text("username"),
            password: None,
            mailto: section.texts("mailto"),
            mailto_user: section.texts("mailto-user"),
            from_address: section.text("from-address").unwrap_or_default(),
            author: section.text("author"),
        }),
        SectionType::Gotify => TargetKind::Gotify(GotifyConfig {
            server: section.text("server").unwrap_or_default(),
            token: None,
        }),
        SectionType::Webhook => TargetKind::Webhook(WebhookConfig {
            method: match word(section, "method") {
                Some("put") => HttpMethod::Put,
                Some("get") => HttpMethod::Get,
                _ => HttpMethod::Post,
            },
            url: section.text("url").unwrap_or_default(),
            header: section
                .items("header")
                .iter()
                .map(|item| {
                    let (name, value) = pairs(item);
                    WebhookHeader { name, value }
                })
                .collect(),
            body: section.text("body"),
            // The public `secret` lines are ignored: values come from the private file.
            secret: Vec::new(),
        }),
    };
    Some(Target {
        name: section.name.clone(),
        origin,
        comment: section.text("comment"),
        disable: section.flag("disable"),
        line: section.line,
        kind,
    })
}

/// The matcher of a public section; `None` for targets.
pub fn matcher(section: &Section, origin: Origin) -> Option<Matcher> {
    if section.section_type != SectionType::Matcher {
        return None;
    }
    let mut matcher = Matcher {
        name: section.name.clone(),
        origin,
        comment: section.text("comment"),
        disable: section.flag("disable"),
        line: section.line,
        mode: match word(section, "mode") {
            Some("any") => MatchMode::Any,
            _ => MatchMode::All,
        },
        invert_match: section.flag("invert-match"),
        match_field: Vec::new(),
        match_severity: Vec::new(),
        match_calendar: Vec::new(),
        target: Vec::new(),
    };
    for item in section.props.values().flatten() {
        let line = item.line;
        let text = item.text.clone();
        match &item.value {
            Value::Field(rule) => matcher.match_field.push(Located {
                value: (text, rule.clone()),
                line,
            }),
            Value::Severity(rule) => matcher.match_severity.push(Located {
                value: (text, rule.clone()),
                line,
            }),
            Value::Calendar(rule) => matcher.match_calendar.push(Located {
                value: (text, rule.clone()),
                line,
            }),
            _ => {}
        }
    }
    matcher.target = section
        .items("target")
        .iter()
        .map(|item| Located {
            value: item.text.clone(),
            line: item.line,
        })
        .collect();
    Some(matcher)
}

/// Fills the private part of `target` from a private section of the same type.
pub fn join_private(target: &mut Target, private: &Section) {
    match &mut target.kind {
        TargetKind::Smtp(smtp) => smtp.password = private.text("password").map(Secret::new),
        TargetKind::Gotify(gotify) => gotify.token = private.text("token").map(Secret::new),
        TargetKind::Webhook(webhook) => {
            webhook.secret = private
                .items("secret")
                .iter()
                .map(|item| {
                    let (name, value) = pairs(item);
                    WebhookSecret {
                        name,
                        value: value.map(Secret::new),
                    }
                })
                .collect();
        }
        TargetKind::Sendmail(_) => {}
    }
}
