//! Reading what an HTTP service answered (recipes.md §2), for gotify and webhook alike:
//! whether a 2xx really means delivered (`"ok": false`, `"status": 0` with `errors`),
//! which failure class a status belongs to, the service's own error text and its
//! retry-after. Everything is judged by the answer's content, never by the host name, so
//! self-hosted servers and tests behave as the hosted services do.

use serde_json::Value;

use super::DeliveryError;
use super::http::{Request, Response, Secrets};
use crate::exit::FailureClass;
use crate::redact;

/// Text bodies longer than this are pages (proxies' HTML, stack traces), not messages.
const SHORT_TEXT: usize = 1024;

/// Success, or the failure the answer to `request` describes: masked (every secret in
/// `masks` and the URL's path and query), on one line, the service's text cut at
/// [`redact::QUOTE_LIMIT`] characters.
pub fn judge(response: &Response, request: &Request, masks: &Secrets) -> Result<(), DeliveryError> {
    let shown = &request.shown;
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    let (class, mut message) = match response.status {
        200..=299 => {
            let Some(failure) = json.as_ref().filter(|json| is_application_failure(json)) else {
                return Ok(());
            };
            let class = failure
                .get("error_code")
                .and_then(Value::as_u64)
                .filter(|code| (100..=599).contains(code))
                .map_or(FailureClass::Configuration, |code| class_of(code as u16));
            let message = format!(
                "{} from {shown}, but the service reports a failure",
                response.status_line()
            );
            (class, message)
        }
        300..=399 => {
            return Err(DeliveryError::configuration(format!(
                "{} from {shown}: redirects are not followed; configure the final URL",
                response.status_line()
            )));
        }
        status => (
            class_of(status),
            format!("{} from {shown}", response.status_line()),
        ),
    };

    let mut masks = masks.clone();
    if request.url.path() != "/" {
        masks.add(request.url.path());
    }
    masks.add(request.url.query().unwrap_or_default());
    if let Some(text) = service_text(json.as_ref(), &response.body) {
        let text = redact::one_line(&masks.mask(&text), redact::QUOTE_LIMIT);
        message = format!("{message}: {}", text.trim());
    }
    if class == FailureClass::Temporary
        && let Some(seconds) = retry_after(response.retry_after.as_deref(), json.as_ref())
    {
        message = format!("{message}; retry after {seconds} s");
    }
    Err(DeliveryError {
        class,
        message: masks.mask(&message),
    })
}

/// 400, 401, 403, 404, 405, 410, 413 and 422 say the request is wrong (a retry cannot
/// help); everything else (408, 424, 429, 5xx, other 4xx) may heal.
pub fn class_of(status: u16) -> FailureClass {
    match status {
        400 | 401 | 403 | 404 | 405 | 410 | 413 | 422 => FailureClass::Configuration,
        _ => FailureClass::Temporary,
    }
}

/// Telegram's `"ok": false`, or Pushover's `"status": 0` with an `errors` list.
fn is_application_failure(json: &Value) -> bool {
    json.get("ok") == Some(&Value::Bool(false))
        || (json.get("status").and_then(Value::as_i64) == Some(0)
            && json.get("errors").is_some_and(Value::is_array))
}

/// The service's own words: from a JSON body's `errcode`, its first of `description`,
/// `errorDescription` (gotify), `error` and `message`, and its `errors`; from a JSON body
/// that maps fields to lists of complaints (Discord); or a short text body.
fn service_text(json: Option<&Value>, body: &[u8]) -> Option<String> {
    let text = match json {
        Some(Value::Object(object)) => {
            // In Pushover's form the other keys name the fields the errors are about.
            let pushover = object.get("status").and_then(Value::as_i64) == Some(0)
                && object.get("errors").is_some_and(Value::is_array);
            let main = ["description", "errorDescription", "error", "message"]
                .into_iter()
                .filter(|_| !pushover)
                .filter_map(|key| object.get(key))
                .map(render)
                .find(|text| !text.is_empty());
            let mut parts: Vec<String> = Vec::new();
            if let Some(Value::String(code)) = object.get("errcode") {
                parts.push(code.clone());
            }
            parts.extend(main);
            if let Some(errors) = object.get("errors").map(render)
                && !parts.contains(&errors)
            {
                parts.push(errors);
            }
            parts.retain(|part| !part.is_empty());
            let complaints = !object.is_empty()
                && object.values().all(|value| {
                    value
                        .as_array()
                        .is_some_and(|items| items.iter().all(Value::is_string))
                });
            if parts.is_empty() && complaints {
                render(&Value::Object(object.clone()))
            } else {
                parts.join(": ")
            }
        }
        Some(Value::String(text)) => text.clone(),
        Some(_) => String::new(),
        None => {
            let text = std::str::from_utf8(body).ok()?.trim();
            if text.len() > SHORT_TEXT || text.starts_with('<') {
                return None;
            }
            text.to_string()
        }
    };
    let text = text.trim().to_string();
    (!text.is_empty()).then_some(text)
}

/// A JSON error value as text: strings as they are, lists joined by `; `, objects by
/// their `message` (with its `code`) or as `field: text` entries.
fn render(value: &Value) -> String {
    match value {
        Value::String(text) => text.trim().to_string(),
        Value::Array(items) => join(items.iter().map(render)),
        Value::Object(object) => match object.get("message").map(render) {
            Some(message) if !message.is_empty() => match object.get("code") {
                Some(Value::String(code)) => format!("{code}: {message}"),
                _ => message,
            },
            _ => join(object.iter().map(|(key, value)| {
                let text = render(value);
                // Discord nests the complaints of a field under `_errors`.
                if key.starts_with('_') || text.is_empty() {
                    text
                } else {
                    format!("{key}: {text}")
                }
            })),
        },
        Value::Number(number) => number.to_string(),
        Value::Bool(_) | Value::Null => String::new(),
    }
}

fn join(texts: impl Iterator<Item = String>) -> String {
    texts
        .filter(|text| !text.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Whole seconds to wait, from the `Retry-After` header (seconds), else the body's
/// `retry_after` (Discord, seconds with a fraction), `parameters.retry_after` (Telegram)
/// or `retry_after_ms` (Matrix).
fn retry_after(header: Option<&str>, json: Option<&Value>) -> Option<u64> {
    let seconds = header
        .and_then(|value| value.trim().parse::<f64>().ok())
        .or_else(|| {
            let json = json?;
            json.get("retry_after")
                .or_else(|| json.get("parameters")?.get("retry_after"))
                .and_then(Value::as_f64)
                .or_else(|| Some(json.get("retry_after_ms")?.as_f64()? / 1000.0))
        })?;
    (seconds.is_finite() && seconds >= 0.0).then(|| seconds.ceil() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HttpMethod;

    const SHOWN: &str = "https://hooks.example.com/…";

    fn request() -> Request {
        Request {
            method: HttpMethod::Post,
            url: "https://hooks.example.com/api/p4th-S3cret?key=qu3ry-S3cret"
                .parse()
                .unwrap(),
            shown: SHOWN.to_string(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    fn answer(status: u16, body: &str, retry: Option<&str>) -> Result<(), DeliveryError> {
        let response = Response {
            status,
            body: body.as_bytes().to_vec(),
            retry_after: retry.map(str::to_string),
        };
        judge(
            &response,
            &request(),
            &Secrets::new(["t0ken-S3cret".to_string()]),
        )
    }

    fn failure(status: u16, body: &str, retry: Option<&str>) -> (FailureClass, String) {
        let error = answer(status, body, retry).unwrap_err();
        (error.class, error.message)
    }

    use FailureClass::{Configuration, Temporary};

    #[test]
    fn a_2xx_is_delivered_unless_it_reports_a_failure() {
        assert!(answer(200, "", None).is_ok());
        assert!(answer(204, "", None).is_ok());
        assert!(answer(202, "ok", None).is_ok());
        assert!(answer(200, r#"{"ok":true,"result":{}}"#, None).is_ok());
        assert!(answer(200, r#"{"status":1,"request":"x"}"#, None).is_ok());
        // `status` 0 alone, or a list of errors with another status, is not Pushover's form.
        assert!(answer(200, r#"{"status":0}"#, None).is_ok());
        assert!(answer(200, r#"{"status":1,"errors":[]}"#, None).is_ok());
        assert!(answer(200, r#"[{"ok":false}]"#, None).is_ok());
    }

    #[test]
    fn ok_false_in_a_200_is_a_failure_classed_by_its_error_code() {
        assert_eq!(
            failure(
                200,
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                None
            ),
            (
                Configuration,
                format!(
                    "HTTP 200 OK from {SHOWN}, but the service reports a failure: \
                     Bad Request: chat not found"
                )
            )
        );
        assert_eq!(
            failure(
                200,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#,
                None
            ),
            (
                Temporary,
                format!(
                    "HTTP 200 OK from {SHOWN}, but the service reports a failure: \
                     Too Many Requests: retry after 7; retry after 7 s"
                )
            )
        );
        assert_eq!(failure(200, r#"{"ok":false}"#, None).0, Configuration);
    }

    #[test]
    fn status_0_with_errors_in_a_200_is_a_configuration_failure() {
        assert_eq!(
            failure(
                200,
                r#"{"user":"invalid","errors":["user identifier is not a valid user, group, or subscribed user key"],"status":0,"request":"5042853c"}"#,
                None
            ),
            (
                Configuration,
                format!(
                    "HTTP 200 OK from {SHOWN}, but the service reports a failure: \
                     user identifier is not a valid user, group, or subscribed user key"
                )
            )
        );
    }

    #[test]
    fn status_lines() {
        // Moved from http.rs, where 401 was still temporary.
        assert_eq!(
            failure(401, "", None),
            (Configuration, format!("HTTP 401 Unauthorized from {SHOWN}"))
        );
        assert_eq!(
            failure(599, "", None),
            (Temporary, format!("HTTP 599 from {SHOWN}"))
        );
    }

    #[test]
    fn classes_by_status() {
        for status in [400, 401, 403, 404, 405, 410, 413, 422] {
            assert_eq!(failure(status, "", None).0, Configuration, "{status}");
        }
        for status in [402, 406, 408, 409, 418, 424, 429, 500, 502, 503, 504, 599] {
            assert_eq!(failure(status, "", None).0, Temporary, "{status}");
        }
        let (class, message) = failure(307, "moved", None);
        assert_eq!(class, Configuration);
        assert_eq!(
            message,
            format!(
                "HTTP 307 Temporary Redirect from {SHOWN}: redirects are not followed; \
                 configure the final URL"
            )
        );
    }

    #[test]
    fn json_error_texts_of_the_services() {
        let cases = [
            // gotify: errorDescription, else error
            (
                401,
                r#"{"error":"Unauthorized","errorCode":401,"errorDescription":"you need to provide a valid access token"}"#,
                "HTTP 401 Unauthorized",
                "you need to provide a valid access token",
            ),
            (
                400,
                r#"{"error":"Bad Request","errorCode":400}"#,
                "HTTP 400 Bad Request",
                "Bad Request",
            ),
            // Discord, the webhook form and the API v10 form
            (
                400,
                r#"{"content": ["Must be 2000 or fewer in length."]}"#,
                "HTTP 400 Bad Request",
                "content: Must be 2000 or fewer in length.",
            ),
            (
                400,
                r#"{"code":50035,"errors":{"content":{"_errors":[{"code":"BASE_TYPE_MAX_LENGTH","message":"Must be 2000 or fewer in length."}]}},"message":"Invalid Form Body"}"#,
                "HTTP 400 Bad Request",
                "Invalid Form Body: content: BASE_TYPE_MAX_LENGTH: Must be 2000 or fewer in length.",
            ),
            // Matrix
            (
                403,
                r#"{"errcode":"M_FORBIDDEN","error":"You are not in this room."}"#,
                "HTTP 403 Forbidden",
                "M_FORBIDDEN: You are not in this room.",
            ),
            // ntfy
            (
                413,
                r#"{"code":41301,"http":413,"error":"limit reached: message too large","link":"https://ntfy.sh/docs/"}"#,
                "HTTP 413 Payload Too Large",
                "limit reached: message too large",
            ),
            // Logic Apps (Teams workflows)
            (
                401,
                r#"{"error":{"code":"DirectApiInvalidAuthorizationScheme","message":"The provided authorization scheme is not valid."}}"#,
                "HTTP 401 Unauthorized",
                "DirectApiInvalidAuthorizationScheme: The provided authorization scheme is not valid.",
            ),
        ];
        for (status, body, line, text) in cases {
            let (_, message) = failure(status, body, None);
            assert_eq!(message, format!("{line} from {SHOWN}: {text}"), "{body}");
        }
    }

    #[test]
    fn pushover_names_fields_beside_its_errors() {
        assert_eq!(
            failure(
                400,
                r#"{"message":"invalid","errors":["message cannot be longer than 1024 characters"],"status":0}"#,
                None
            )
            .1,
            format!("HTTP 400 Bad Request from {SHOWN}: message cannot be longer than 1024 characters")
        );
    }

    #[test]
    fn text_error_bodies() {
        // Slack answers with a word.
        assert_eq!(
            failure(403, "invalid_token", None),
            (
                Configuration,
                format!("HTTP 403 Forbidden from {SHOWN}: invalid_token")
            )
        );
        assert_eq!(
            failure(
                502,
                "upstream connect error\r\n\treset before headers",
                None
            ),
            (
                Temporary,
                format!(
                    "HTTP 502 Bad Gateway from {SHOWN}: upstream connect error   reset before headers"
                )
            )
        );
        // HTML pages, long text and JSON without a message add nothing.
        for body in [
            "<html><body><h1>502 Bad Gateway</h1></body></html>".to_string(),
            "x".repeat(SHORT_TEXT + 1),
            r#"{"status":500,"path":"/x"}"#.to_string(),
            "   ".to_string(),
        ] {
            assert_eq!(
                failure(500, &body, None).1,
                format!("HTTP 500 Internal Server Error from {SHOWN}"),
                "{body}"
            );
        }
    }

    #[test]
    fn retry_after_from_header_or_body() {
        let line = format!("HTTP 429 Too Many Requests from {SHOWN}");
        assert_eq!(
            failure(429, "", Some("30")).1,
            format!("{line}; retry after 30 s")
        );
        assert_eq!(
            failure(
                429,
                r#"{"message":"You are being rate limited.","retry_after":0.52,"global":false}"#,
                None
            )
            .1,
            format!("{line}: You are being rate limited.; retry after 1 s")
        );
        assert_eq!(
            failure(
                429,
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests","parameters":{"retry_after":12}}"#,
                Some("5")
            )
            .1,
            format!("{line}: Too Many Requests; retry after 5 s")
        );
        assert_eq!(
            failure(
                429,
                r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too Many Requests","retry_after_ms":2500}"#,
                None
            )
            .1,
            format!("{line}: M_LIMIT_EXCEEDED: Too Many Requests; retry after 3 s")
        );
        // An HTTP date is not a number of seconds; the failure is still temporary.
        assert_eq!(
            failure(429, "", Some("Wed, 21 Oct 2015 07:28:00 GMT")),
            (Temporary, line)
        );
    }

    #[test]
    fn secrets_and_the_url_path_and_query_are_masked() {
        let (_, message) = failure(
            401,
            r#"{"description":"token t0ken-S3cret for /api/p4th-S3cret?key=qu3ry-S3cret is wrong"}"#,
            None,
        );
        assert_eq!(
            message,
            format!(
                "HTTP 401 Unauthorized from {SHOWN}: token <masked> for <masked>?<masked> is wrong"
            )
        );
        let (_, message) = failure(404, "no hook /api/p4th-S3cret here", None);
        assert!(!message.contains("S3cret"), "{message}");
    }

    #[test]
    fn an_overlong_text_is_cut_at_200_characters() {
        let long = "ä".repeat(150) + &"b".repeat(150);
        let (_, message) = failure(400, &format!(r#"{{"error":"{long}"}}"#), None);
        let prefix = format!("HTTP 400 Bad Request from {SHOWN}: ");
        let text = message.strip_prefix(&prefix).unwrap();
        assert_eq!(text.chars().count(), 200);
        assert_eq!(text, "ä".repeat(150) + &"b".repeat(50));
    }
}
