//! The `webhook` target: URL, headers and body are Handlebars templates rendered with the
//! event and the decoded private secrets, then sent with the configured method
//! (targets.md §7.3). Nothing is added that the user did not configure, not even a
//! `Content-Type`.

use std::collections::BTreeMap;

use super::answer;
use super::http::{self, Client, Request, Secrets};
use super::template::{self, Part, Renderer};
use super::{Delivery, DeliveryContext, DeliveryError, Endpoint};
use crate::config::value::{self, Base64Problem};
use crate::config::{Config, Prop, Target, WebhookConfig};
use crate::notification::Notification;
use crate::redact;

pub struct Webhook<'a> {
    pub target: &'a Target,
    pub settings: &'a WebhookConfig,
    pub config: &'a Config,
    pub context: &'a DeliveryContext,
}

/// Standard base64 with padding, holding UTF-8 text; `what` names the value in the
/// failure (`secret 'NAME'`, `header 'NAME'`, `body`).
fn decode(what: &str, encoded: Option<&str>) -> Result<String, DeliveryError> {
    let Some(encoded) = encoded else {
        return Ok(String::new());
    };
    value::decode_base64_text(encoded).map_err(|problem| {
        DeliveryError::configuration(match problem {
            Base64Problem::NotBase64 => format!("{what}: invalid base64"),
            Base64Problem::NotUtf8 => format!("{what}: not valid UTF-8 after base64 decoding"),
        })
    })
}

impl Webhook<'_> {
    /// name → decoded value of every private secret (a later entry with the same name wins).
    fn secrets(&self) -> Result<BTreeMap<String, String>, DeliveryError> {
        let mut secrets = BTreeMap::new();
        for secret in &self.settings.secret {
            let value = decode(
                &format!("{} '{}'", Prop::Secret, secret.name),
                secret.value.as_ref().map(|v| v.expose()),
            )?;
            secrets.insert(secret.name.clone(), value);
        }
        Ok(secrets)
    }

    fn build(&self, event: &Notification, masks: &Secrets) -> Result<Request, DeliveryError> {
        let secrets = self.secrets()?;
        let data = template::template_data(event, &secrets);
        let renderer = Renderer::new();

        let url = renderer.render(Part::Url, &self.settings.url, &data, masks)?;
        let shown = redact::reduce_url(&url);
        let url = http::parse_http_url(&url).ok_or_else(|| {
            DeliveryError::configuration(format!(
                "the rendered url {shown} is not an absolute http or https URL"
            ))
        })?;

        let mut headers = Vec::with_capacity(self.settings.header.len());
        for header in &self.settings.header {
            let name = &header.name;
            if !value::is_http_header_name(name) {
                return Err(DeliveryError::configuration(format!(
                    "header name '{name}' is not a valid HTTP header name"
                )));
            }
            let template = decode(
                &format!("{} '{name}'", Prop::Header),
                header.value.as_deref(),
            )?;
            let value = renderer.render(Part::Header(name), &template, &data, masks)?;
            if let Some(problem) = http::header_value_problem(&value) {
                return Err(DeliveryError::configuration(format!(
                    "header '{name}' {problem} after rendering"
                )));
            }
            headers.push((name.clone(), value));
        }

        let template = decode(Prop::Body.key(), self.settings.body.as_deref())?;
        let body = renderer.render(Part::Body, &template, &data, masks)?;

        Ok(Request {
            method: self.settings.method,
            url,
            shown,
            headers,
            body: body.into_bytes(),
        })
    }

    /// Every secret value that could show up in a message. Values that do not decode
    /// are masked in their encoded form (decoding them fails the delivery anyway).
    fn masks(&self) -> Secrets {
        let mut masks = Secrets::default();
        for secret in &self.settings.secret {
            if let Some(value) = &secret.value {
                masks.add(value.expose());
                if let Ok(decoded) = decode("", Some(value.expose())) {
                    masks.add(decoded);
                }
            }
        }
        masks
    }
}

impl Endpoint for Webhook<'_> {
    fn target(&self) -> &Target {
        self.target
    }

    fn deliver(
        &self,
        delivery: &Delivery<'_>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), DeliveryError> {
        let event = delivery.event;
        let masks = self.masks();
        let result = (|| {
            let request = self.build(event, &masks)?;
            let https = request.url.scheme_str() == Some("https");
            let client = Client::new(&self.config.datacenter, https, masks.clone())?;
            let response = client.send(&request)?;
            answer::judge(&response, &request, client.secrets())
        })();
        result.map_err(|error| masks.mask_error(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{HttpMethod, Origin, Secret, WebhookHeader, WebhookSecret};
    use crate::exit::FailureClass;
    use crate::notification::Severity;
    use base64::Engine;

    fn b64(text: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(text)
    }

    fn settings() -> WebhookConfig {
        WebhookConfig {
            method: HttpMethod::Post,
            url: "https://hooks.example.com/{{ url-encode secrets.path }}?sev={{ severity }}"
                .to_string(),
            header: vec![
                WebhookHeader {
                    name: "Content-Type".to_string(),
                    value: Some(b64("application/json")),
                },
                WebhookHeader {
                    name: "X-Token".to_string(),
                    value: Some(b64("Bearer {{ secrets.token }}")),
                },
                WebhookHeader {
                    name: "X-Empty".to_string(),
                    value: None,
                },
            ],
            body: Some(b64(r#"{"t":"{{ escape title }}","f":{{ json fields }}}"#)),
            secret: vec![
                WebhookSecret {
                    name: "path".to_string(),
                    value: Some(Secret::new(b64("p/a th"))),
                },
                WebhookSecret {
                    name: "token".to_string(),
                    value: Some(Secret::new(b64("hunter2"))),
                },
            ],
        }
    }

    fn with<T>(settings: &WebhookConfig, f: impl FnOnce(&Webhook<'_>) -> T) -> T {
        let target = Target {
            name: "hook".into(),
            origin: Origin::UserCreated,
            comment: None,
            disable: false,
            line: 1,
            kind: crate::config::TargetKind::Webhook(settings.clone()),
            lines: Default::default(),
            private_lines: Default::default(),
        };
        let config = crate::config::testing::config_from_text("");
        let context = DeliveryContext {
            sendmail: "/usr/sbin/sendmail".into(),
            fqdn: "pve1.example.com".to_string(),
            verbose: false,
        };
        f(&Webhook {
            target: &target,
            settings,
            config: &config,
            context: &context,
        })
    }

    fn event() -> Notification {
        let fields = [("hostname".to_string(), "pve1".to_string())]
            .into_iter()
            .collect();
        Notification::new("Say \"hi\"", "body", Severity::Warning, 1, fields)
    }

    #[test]
    fn builds_url_headers_and_body() {
        let request = with(&settings(), |w| w.build(&event(), &w.masks())).unwrap();
        assert_eq!(
            request.url.to_string(),
            "https://hooks.example.com/p%2Fa%20th?sev=warning"
        );
        assert_eq!(request.shown, "https://hooks.example.com/…");
        assert_eq!(
            request.headers,
            [
                ("Content-Type".to_string(), "application/json".to_string()),
                ("X-Token".to_string(), "Bearer hunter2".to_string()),
                ("X-Empty".to_string(), String::new()),
            ]
        );
        assert_eq!(
            String::from_utf8(request.body).unwrap(),
            r#"{"t":"Say \"hi\"","f":{"hostname":"pve1"}}"#
        );
    }

    #[test]
    fn bad_base64_is_a_configuration_failure() {
        let mut s = settings();
        s.secret[1].value = Some(Secret::new("not*base64"));
        let err = with(&s, |w| {
            w.deliver(&Delivery::event(&event()), &mut Vec::new())
        })
        .unwrap_err();
        assert_eq!(err.class, FailureClass::Configuration);
        assert_eq!(err.message, "secret 'token': invalid base64");

        let mut s = settings();
        s.header[0].value = Some("%%%".to_string());
        let err = with(&s, |w| {
            w.deliver(&Delivery::event(&event()), &mut Vec::new())
        })
        .unwrap_err();
        assert_eq!(err.message, "header 'Content-Type': invalid base64");

        let mut s = settings();
        s.body = Some(b64("x").trim_end_matches('=').to_string());
        let err = with(&s, |w| {
            w.deliver(&Delivery::event(&event()), &mut Vec::new())
        })
        .unwrap_err();
        assert_eq!(err.message, "body: invalid base64");
    }

    #[test]
    fn rendered_url_must_be_http() {
        let mut s = settings();
        s.url = "{{ secrets.token }}".to_string();
        let err = with(&s, |w| {
            w.deliver(&Delivery::event(&event()), &mut Vec::new())
        })
        .unwrap_err();
        assert_eq!(err.class, FailureClass::Configuration);
        assert_eq!(
            err.message,
            "the rendered url (not a URL) is not an absolute http or https URL"
        );
    }

    #[test]
    fn header_injection_is_refused_and_masked() {
        let mut s = settings();
        s.header[1].value = Some(b64("{{ secrets.token }}\r\nX-Evil: 1"));
        let err = with(&s, |w| {
            w.deliver(&Delivery::event(&event()), &mut Vec::new())
        })
        .unwrap_err();
        assert_eq!(err.class, FailureClass::Configuration);
        assert_eq!(
            err.message,
            "header 'X-Token' has a line break (CR or LF) in its value after rendering"
        );
        let mut s = settings();
        s.header[1].name = "X Token".to_string();
        let err = with(&s, |w| {
            w.deliver(&Delivery::event(&event()), &mut Vec::new())
        })
        .unwrap_err();
        assert_eq!(
            err.message,
            "header name 'X Token' is not a valid HTTP header name"
        );
    }

    #[test]
    fn render_errors_name_the_part_and_hide_secrets() {
        let mut s = settings();
        s.body = Some(b64("{{ url-encode secrets }} hunter2"));
        let err = with(&s, |w| {
            w.deliver(&Delivery::event(&event()), &mut Vec::new())
        })
        .unwrap_err();
        assert_eq!(err.class, FailureClass::Configuration);
        assert!(
            err.message.starts_with("failed to render webhook body: "),
            "{}",
            err.message
        );
        assert!(!err.message.contains("hunter2"));
    }
}
