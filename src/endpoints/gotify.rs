//! The `gotify` target: one `POST SERVER/message` with the application token, the body in
//! a Markdown code fence and a priority derived from the severity (targets.md §6).

use super::answer;
use super::http::{self, Client, Request, Secrets};
use super::{Delivery, DeliveryContext, DeliveryError, Endpoint};
use crate::config::{Config, GotifyConfig, HttpMethod, Target};
use crate::notification::{Notification, Severity};
use crate::redact;

pub struct Gotify<'a> {
    pub target: &'a Target,
    pub settings: &'a GotifyConfig,
    pub config: &'a Config,
    pub context: &'a DeliveryContext,
}

/// Gotify's priority for a severity, as upstream maps it.
pub fn priority(severity: Severity) -> u8 {
    match severity {
        Severity::Info => 1,
        Severity::Notice => 3,
        Severity::Warning => 5,
        Severity::Error => 9,
        Severity::Unknown => 3,
    }
}

/// `SERVER/message`, with one trailing `/` of `server` removed first (README row 13).
pub fn message_url(server: &str) -> String {
    format!("{}/message", server.strip_suffix('/').unwrap_or(server))
}

/// The JSON body: title, body in a code fence, priority, and the extra telling clients
/// to render Markdown.
pub fn message_body(event: &Notification) -> Vec<u8> {
    serde_json::json!({
        "title": event.title,
        "message": format!("```\n{}\n```", event.body),
        "priority": priority(event.severity),
        "extras": {
            "client::display": {"contentType": "text/markdown"}
        }
    })
    .to_string()
    .into_bytes()
}

impl Gotify<'_> {
    fn send(&self, event: &Notification, token: &str) -> Result<(), DeliveryError> {
        let server = &self.settings.server;
        let shown = redact::reduce_url(server);
        let url = http::parse_http_url(&message_url(server)).ok_or_else(|| {
            DeliveryError::configuration(format!(
                "server {shown} is not an absolute http or https URL"
            ))
        })?;
        if http::header_value_problem(token).is_some() {
            return Err(DeliveryError::configuration(
                "the token has characters that cannot be sent in an HTTP header",
            ));
        }
        let https = url.scheme_str() == Some("https");
        let client = Client::new(
            &self.config.datacenter,
            https,
            Secrets::new([token.to_string()]),
        )?;
        let request = Request {
            method: HttpMethod::Post,
            url,
            shown: shown.clone(),
            headers: vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                ("Authorization".to_string(), format!("Bearer {token}")),
                ("X-Gotify-Key".to_string(), token.to_string()),
            ],
            body: message_body(event),
        };
        let response = client.send(&request)?;
        answer::judge(&response, &request, client.secrets())
    }
}

impl Endpoint for Gotify<'_> {
    fn target(&self) -> &Target {
        self.target
    }

    fn deliver(
        &self,
        delivery: &Delivery<'_>,
        _warnings: &mut Vec<String>,
    ) -> Result<(), DeliveryError> {
        let event = delivery.event;
        let token = match &self.settings.token {
            Some(token) if !token.expose().is_empty() => token.expose(),
            _ => {
                return Err(DeliveryError::configuration(format!(
                    "no token configured (add 'token' to the section 'gotify: {}' in {})",
                    self.target.name,
                    self.config.private_path.display()
                )));
            }
        };
        self.send(event, token)
            .map_err(|error| Secrets::new([token.to_string()]).mask_error(error))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities() {
        let got: Vec<u8> = Severity::ALL.into_iter().map(priority).collect();
        assert_eq!(got, [1, 3, 5, 9, 3]);
    }

    #[test]
    fn url_loses_one_trailing_slash() {
        assert_eq!(
            message_url("https://g.example.com"),
            "https://g.example.com/message"
        );
        assert_eq!(
            message_url("https://g.example.com/"),
            "https://g.example.com/message"
        );
        assert_eq!(
            message_url("http://h:8080/gotify/"),
            "http://h:8080/gotify/message"
        );
        assert_eq!(message_url("http://h//"), "http://h//message");
    }

    #[test]
    fn body_has_code_fence_priority_and_markdown_extra() {
        let event = Notification::new(
            "Backup \"done\"",
            "| a | b |\n| 1 | 2 |",
            Severity::Warning,
            0,
            Default::default(),
        );
        let body = String::from_utf8(message_body(&event)).unwrap();
        assert_eq!(
            body,
            r#"{"extras":{"client::display":{"contentType":"text/markdown"}},"message":"```\n| a | b |\n| 1 | 2 |\n```","priority":5,"title":"Backup \"done\""}"#
        );
    }
}
