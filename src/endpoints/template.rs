//! Handlebars rendering for webhook templates (targets.md §7.1–7.2): the data an event
//! offers to templates, the engine configured as upstream (no escaping, non-strict) and
//! the three helpers `url-encode`, `json` and `escape`.

use std::collections::BTreeMap;
use std::fmt;

use handlebars::Handlebars;
use serde_json::{Map, Value};

use super::DeliveryError;
use super::http::Secrets;
use crate::config::Prop;
use crate::notification::Notification;
use crate::render::{self, helpers::register_unary};

/// The data every webhook template sees: `title`, `message`, `severity`, `timestamp`,
/// `fields` and `secrets`, and pvenotify's `id` (a UUID per event, for transaction ids
/// such as Matrix's; upstream renders it empty).
pub fn template_data(event: &Notification, secrets: &BTreeMap<String, String>) -> Value {
    serde_json::json!({
        "id": event.id,
        "title": event.title,
        "message": event.body,
        "severity": event.severity.as_str(),
        "timestamp": event.timestamp,
        "fields": event.fields,
        "secrets": secrets,
    })
}

/// Which part of a webhook a template belongs to; named in render failures.
#[derive(Debug, Clone, Copy)]
pub enum Part<'a> {
    Url,
    Header(&'a str),
    Body,
}

impl fmt::Display for Part<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Part::Url => write!(f, "{}", Prop::Url),
            Part::Header(name) => write!(f, "{} {name}", Prop::Header),
            Part::Body => write!(f, "{}", Prop::Body),
        }
    }
}

/// A Handlebars engine set up as upstream's webhook endpoint sets it up.
pub struct Renderer {
    engine: Handlebars<'static>,
}

impl Default for Renderer {
    fn default() -> Self {
        Self::new()
    }
}

impl Renderer {
    pub fn new() -> Self {
        let mut engine = Handlebars::new();
        // Webhook bodies are JSON, form data or plain text, never HTML: no escaping.
        engine.register_escape_fn(handlebars::no_escape);
        engine.set_strict_mode(false);
        register_unary(&mut engine, "url-encode", |value| {
            string_param(value, "url-encode").map(url_encode)
        });
        register_unary(&mut engine, "json", |value| Ok(to_json(value)));
        register_unary(&mut engine, "escape", |value| {
            string_param(value, "escape").map(json_escape)
        });
        Renderer { engine }
    }

    /// Renders `template` with `data`. A failure is a configuration failure
    /// `failed to render webhook PART: REASON`, masked and on one line.
    pub fn render(
        &self,
        part: Part<'_>,
        template: &str,
        data: &Value,
        secrets: &Secrets,
    ) -> Result<String, DeliveryError> {
        self.engine
            .render_template(template, data)
            .map_err(|error| {
                DeliveryError::configuration(secrets.mask(&format!(
                    "failed to render webhook {part}: {}",
                    render::describe(&error)
                )))
            })
    }
}

fn string_param<'a>(value: &'a Value, helper: &str) -> Result<&'a str, String> {
    value
        .as_str()
        .ok_or_else(|| format!("helper {helper} needs a string argument"))
}

/// Percent-encodes UTF-8 `text`, leaving alone exactly the bytes upstream leaves alone:
/// letters, digits and `- . _ ~ " < > \ ^ { } | and the backtick`.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'"'
                    | b'<'
                    | b'>'
                    | b'\\'
                    | b'^'
                    | b'{'
                    | b'}'
                    | b'|'
                    | b'`'
            )
        {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Compact JSON with object keys sorted, whatever order the value keeps them in.
pub fn to_json(value: &Value) -> String {
    fn sorted(value: &Value) -> Value {
        match value {
            Value::Object(map) => {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_by(|a, b| a.0.cmp(b.0));
                Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.clone(), sorted(v)))
                        .collect::<Map<String, Value>>(),
                )
            }
            Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
            other => other.clone(),
        }
    }
    sorted(value).to_string()
}

/// `text` as the inside of a JSON string literal (escaped, without the quotes).
pub fn json_escape(text: &str) -> String {
    let quoted = Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notification::{Fields, Severity};

    fn data() -> Value {
        let fields: Fields = [
            ("hello".to_string(), "hello world".to_string()),
            ("test".to_string(), "escaped\nstring".to_string()),
        ]
        .into_iter()
        .collect();
        let event = Notification::new(
            "Title \"q\"",
            "line1\nline2",
            Severity::Info,
            1700000000,
            fields,
        );
        let secrets = [("token".to_string(), "s3cr/t".to_string())]
            .into_iter()
            .collect();
        template_data(&event, &secrets)
    }

    fn render(template: &str) -> Result<String, DeliveryError> {
        Renderer::new().render(Part::Body, template, &data(), &Secrets::default())
    }

    #[test]
    fn helpers_refuse_what_they_cannot_use() {
        let message = |template: &str| render(template).unwrap_err().to_string();
        for helper in ["url-encode", "escape"] {
            let error = message(&format!("{{{{ {helper} timestamp }}}}"));
            assert!(
                error.contains(&format!("helper {helper} needs a string argument")),
                "{error}"
            );
        }
        for helper in ["url-encode", "json", "escape"] {
            let error = message(&format!("{{{{ {helper} }}}}"));
            assert!(error.contains(helper), "{error}");
            assert!(error.contains("failed to render webhook body"), "{error}");
        }
        // a missing variable is null, which json writes and the others refuse
        assert_eq!(render("{{ json nope }}").unwrap(), "null");
        assert!(render("{{ escape nope }}").is_err());
    }

    #[test]
    fn spec_examples() {
        assert_eq!(
            render("{{ url-encode fields.hello }}").unwrap(),
            "hello%20world"
        );
        assert_eq!(
            render("{{ escape fields.test }}").unwrap(),
            "escaped\\nstring"
        );
        assert_eq!(
            render("{{ json fields }}").unwrap(),
            r#"{"hello":"hello world","test":"escaped\nstring"}"#
        );
        assert_eq!(render("{{ json severity }}").unwrap(), "\"info\"");
    }

    #[test]
    fn data_and_no_escaping() {
        assert_eq!(
            render("{{title}}|{{{title}}}|{{timestamp}}|{{severity}}|{{secrets.token}}").unwrap(),
            "Title \"q\"|Title \"q\"|1700000000|info|s3cr/t"
        );
        assert_eq!(render("{{ message }}").unwrap(), "line1\nline2");
        assert_eq!(render("<{{ fields.missing }}>").unwrap(), "<>");
        assert_eq!(render("{{ json timestamp }}").unwrap(), "1700000000");
    }

    #[test]
    fn id_is_the_events_uuid() {
        let event = Notification::new("t", "b", Severity::Info, 1, Default::default());
        let data = template_data(&event, &Default::default());
        let txn = Renderer::new()
            .render(
                Part::Url,
                "pve-{{ timestamp }}-{{ id }}",
                &data,
                &Secrets::default(),
            )
            .unwrap();
        assert_eq!(txn, format!("pve-1-{}", event.id));
        assert!(uuid::Uuid::parse_str(&event.id).is_ok());
    }

    #[test]
    fn built_in_helpers_work() {
        assert_eq!(
            render("{{#if (eq severity \"info\")}}yes{{else}}no{{/if}}").unwrap(),
            "yes"
        );
        assert_eq!(
            render("{{#each fields}}{{@key}}={{this}};{{/each}}").unwrap(),
            "hello=hello world;test=escaped\nstring;"
        );
    }

    #[test]
    fn url_encode_byte_set() {
        let kept = "-._~\"<>\\^{}|`";
        assert_eq!(url_encode(kept), kept);
        assert_eq!(url_encode("azAZ09"), "azAZ09");
        assert_eq!(
            url_encode(":/?#[]@!$&'()*+,;=% "),
            "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%25%20"
        );
        assert_eq!(url_encode("\u{1}\t\n\u{7f}"), "%01%09%0A%7F");
        assert_eq!(url_encode("ä€"), "%C3%A4%E2%82%AC");
        // Every printable ASCII character is either kept or encoded, nothing else.
        for byte in 0x20u8..0x7f {
            let c = char::from(byte).to_string();
            let encoded = url_encode(&c);
            assert!(encoded == c || encoded == format!("%{byte:02X}"), "{c}");
        }
    }

    #[test]
    fn json_sorts_keys_and_escape_drops_quotes() {
        let value = serde_json::json!({"b": 1, "a": {"d": [true, null], "c": "x"}});
        assert_eq!(to_json(&value), r#"{"a":{"c":"x","d":[true,null]},"b":1}"#);
        assert_eq!(json_escape("a\"b\\c\nd\u{1}"), "a\\\"b\\\\c\\nd\\u0001");
        assert_eq!(json_escape(""), "");
    }

    #[test]
    fn helper_errors_are_configuration_failures() {
        for template in [
            "{{ url-encode }}",
            "{{ escape }}",
            "{{ json }}",
            "{{ url-encode timestamp }}",
            "{{ escape fields }}",
            "{{ escape fields.missing }}",
        ] {
            let err = render(template).unwrap_err();
            assert_eq!(
                err.class,
                crate::exit::FailureClass::Configuration,
                "{template}"
            );
            assert!(
                err.message.starts_with("failed to render webhook body: "),
                "{template}: {}",
                err.message
            );
        }
    }

    #[test]
    fn syntax_errors_are_one_line_and_masked() {
        let secrets = Secrets::new(["hunter2".to_string()]);
        let err = Renderer::new()
            .render(
                Part::Header("X-Token"),
                "{{#if hunter2}}\nno end",
                &data(),
                &secrets,
            )
            .unwrap_err();
        assert!(
            err.message
                .starts_with("failed to render webhook header X-Token: "),
            "{}",
            err.message
        );
        assert!(!err.message.contains('\n'), "{}", err.message);
        assert!(!err.message.contains("hunter2"), "{}", err.message);
        let err = Renderer::new()
            .render(Part::Url, "{{> partial}}", &data(), &secrets)
            .unwrap_err();
        assert!(err.message.starts_with("failed to render webhook url: "));
    }
}
