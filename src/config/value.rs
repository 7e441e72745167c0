//! The value types of section-config properties: text with limits, boolean, integer, enum,
//! entity names, property strings and the HTTP-URL pattern. Each check returns the reason
//! only; the caller prefixes `property 'KEY': `.

use std::net::{Ipv4Addr, Ipv6Addr};

/// Length and character limits of a text property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLimits {
    pub min: usize,
    pub max: Option<usize>,
    pub single_line: bool,
}

impl TextLimits {
    pub const ANY: TextLimits = TextLimits {
        min: 0,
        max: None,
        single_line: false,
    };
}

pub fn check_text(value: &str, limits: TextLimits) -> Result<(), String> {
    let length = value.chars().count();
    if length < limits.min {
        return Err(format!(
            "value must be at least {} characters long",
            limits.min
        ));
    }
    if let Some(max) = limits.max
        && length > max
    {
        return Err(format!("value may be at most {max} characters long"));
    }
    if limits.single_line && value.chars().any(char::is_control) {
        return Err("value contains a control character".to_string());
    }
    Ok(())
}

pub fn parse_bool(value: &str) -> Result<bool, String> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "on" | "yes" | "true" => Ok(true),
        "0" | "off" | "no" | "false" => Ok(false),
        _ => Err(format!(
            "'{value}' is not a boolean (use 1/0, on/off, yes/no, true/false)"
        )),
    }
}

pub fn parse_integer(value: &str, min: i64, max: i64) -> Result<i64, String> {
    let number: i64 = value
        .parse()
        .map_err(|_| format!("'{value}' is not an integer"))?;
    if number < min {
        return Err(format!("value {number} is below the minimum {min}"));
    }
    if number > max {
        return Err(format!("value {number} is above the maximum {max}"));
    }
    Ok(number)
}

pub fn parse_enum(value: &str, words: &[&'static str]) -> Result<&'static str, String> {
    words
        .iter()
        .find(|word| **word == value)
        .copied()
        .ok_or_else(|| format!("'{value}' is not one of: {}", words.join(", ")))
}

/// The entity name rule (section names, matcher targets): what is wrong, if anything.
pub fn check_entity_name(name: &str) -> Result<(), String> {
    // The common case, decided on the bytes: a valid name is ASCII.
    let bytes = name.as_bytes();
    if (2..=32).contains(&bytes.len())
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes[1..]
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    {
        return Ok(());
    }
    let length = name.chars().count();
    if length < 2 {
        return Err("must be at least 2 characters long".to_string());
    }
    if length > 32 {
        return Err("may be at most 32 characters long".to_string());
    }
    let mut chars = name.chars();
    if let Some(first) = chars.next()
        && !(first.is_ascii_alphanumeric() || first == '_')
    {
        return Err(format!(
            "must start with a letter, a digit or '_', not '{}'",
            first.escape_debug()
        ));
    }
    if let Some(bad) = chars.find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        return Err(format!(
            "character '{}' is not allowed (only letters, digits, '_', '.' and '-')",
            bad.escape_debug()
        ));
    }
    Ok(())
}

/// One key of a property string and whether it must be present.
#[derive(Debug, Clone, Copy)]
pub struct PropertyKey {
    pub name: &'static str,
    pub required: bool,
}

/// Parses `key=value,key="quoted, value"` into pairs in written order. With `hidden`, error
/// reasons never quote the text (the values are secrets).
pub fn parse_property_string(
    text: &str,
    keys: &[PropertyKey],
    hidden: bool,
) -> Result<Vec<(String, String)>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix(',') {
            // Empty elements (`a=1,,b=2`, a trailing comma) carry nothing.
            rest = after;
            continue;
        }
        let key_end = rest.find(['=', ',']).unwrap_or(rest.len());
        let key = &rest[..key_end];
        let Some(after_equals) = rest[key_end..].strip_prefix('=') else {
            return Err(if hidden {
                "expected key=value, found '(hidden)'".to_string()
            } else {
                format!("expected key=value, found '{key}'")
            });
        };
        let (value, after_value) = if let Some(quoted) = after_equals.strip_prefix('"') {
            let (value, after) = parse_quoted(quoted)?;
            if !(after.is_empty() || after.starts_with(',')) {
                return Err(format!("key '{key}': expected ',' after the closing quote"));
            }
            (value, after)
        } else {
            let end = after_equals.find(',').unwrap_or(after_equals.len());
            (after_equals[..end].to_string(), &after_equals[end..])
        };
        if !keys.iter().any(|k| k.name == key) {
            return Err(format!("unknown key '{key}'"));
        }
        if pairs.iter().any(|(k, _)| k == key) {
            return Err(format!("duplicate key '{key}'"));
        }
        pairs.push((key.to_string(), value));
        rest = after_value;
    }
    if let Some(missing) = keys
        .iter()
        .find(|k| k.required && !pairs.iter().any(|(key, _)| key == k.name))
    {
        return Err(format!("missing required key '{}'", missing.name));
    }
    Ok(pairs)
}

/// The inside of a quoted value (after the opening quote) → (value, text after the closing quote).
fn parse_quoted(text: &str) -> Result<(String, &str), String> {
    let mut value = String::new();
    let mut chars = text.char_indices();
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Ok((value, &text[at + 1..])),
            '\\' => match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, other)) => {
                    return Err(format!(
                        "invalid escape '\\{}' in quoted value",
                        other.escape_debug()
                    ));
                }
                None => break,
            },
            _ => value.push(c),
        }
    }
    Err("unterminated quoted value".to_string())
}

/// Writes pairs as a property string that `parse_property_string` reads back unchanged.
pub fn write_property_string(pairs: &[(String, String)]) -> String {
    let mut out = String::new();
    for (index, (key, value)) in pairs.iter().enumerate() {
        if index > 0 {
            out.push(',');
        }
        out.push_str(key);
        out.push('=');
        if value.contains([',', '"', '\\', '\n']) {
            out.push('"');
            for c in value.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' => out.push_str("\\n"),
                    _ => out.push(c),
                }
            }
            out.push('"');
        } else {
            out.push_str(value);
        }
    }
    out
}

/// Why a webhook value (base64 of UTF-8 text) cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base64Problem {
    NotBase64,
    NotUtf8,
}

/// Webhook `header` and `body` values and private `secret` values: standard base64 with
/// padding, holding UTF-8 text. Shared by `validate`, delivery and `list`, so the three
/// agree on what is valid.
pub fn decode_base64_text(text: &str) -> Result<String, Base64Problem> {
    let bytes = decode_base64(text).ok_or(Base64Problem::NotBase64)?;
    String::from_utf8(bytes).map_err(|_| Base64Problem::NotUtf8)
}

/// The decoded bytes of a standard, padded base64 value.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok()
}

/// An HTTP header name is a non-empty RFC 9110 token.
pub fn is_http_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// The HTTP-URL pattern of webhook `url` (config.md §4.5), checked on the raw template text.
pub fn check_http_url(url: &str) -> Result<(), String> {
    let invalid = || {
        Err(
            "value is not an HTTP URL (expected http:// or https://, a host name or IP address, \
             an optional :PORT, then optionally / and a path)"
                .to_string(),
        )
    };
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return invalid();
    };
    let (authority, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    if path.chars().any(char::is_control) {
        return Err("value contains a control character".to_string());
    }
    if is_host_and_port(authority) {
        Ok(())
    } else {
        invalid()
    }
}

/// `HOST[:PORT]` with HOST a DNS name, an IPv4 address or a bracketed IPv6 address, or a
/// bare IPv6 address without port.
pub fn is_host_and_port(authority: &str) -> bool {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return false;
        };
        return address.parse::<Ipv6Addr>().is_ok()
            && (after.is_empty() || after.strip_prefix(':').is_some_and(is_port));
    }
    if authority.parse::<Ipv6Addr>().is_ok() {
        return true;
    }
    let (host, port_ok) = match authority.split_once(':') {
        Some((host, port)) => (host, is_port(port)),
        None => (authority, true),
    };
    port_ok && (is_dns_name(host) || host.parse::<Ipv4Addr>().is_ok())
}

fn is_port(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 5
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u32>().is_ok_and(|port| port <= 65535)
}

fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|label| {
            let bytes = label.as_bytes();
            match (bytes.first(), bytes.last()) {
                (Some(first), Some(last)) => {
                    first.is_ascii_alphanumeric()
                        && last.is_ascii_alphanumeric()
                        && bytes
                            .iter()
                            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                }
                _ => false,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_header_names_are_tokens() {
        assert!(is_http_header_name("X-Token"));
        assert!(is_http_header_name("Content-Type"));
        assert!(!is_http_header_name("X Token"));
        assert!(!is_http_header_name("X:"));
        assert!(!is_http_header_name(""));
        assert!(!is_http_header_name("Ä"));
    }

    #[test]
    fn base64_text_values() {
        assert_eq!(decode_base64_text("aGk="), Ok("hi".to_string()));
        assert_eq!(decode_base64_text("aGk"), Err(Base64Problem::NotBase64));
        assert_eq!(
            decode_base64_text("not*base64"),
            Err(Base64Problem::NotBase64)
        );
        assert_eq!(decode_base64_text("/w=="), Err(Base64Problem::NotUtf8));
        assert_eq!(decode_base64("/w=="), Some(vec![0xff]));
    }

    const HEADER_KEYS: &[PropertyKey] = &[
        PropertyKey {
            name: "name",
            required: true,
        },
        PropertyKey {
            name: "value",
            required: false,
        },
    ];

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn text_limits() {
        let recipient = TextLimits {
            min: 2,
            max: Some(64),
            single_line: true,
        };
        assert_eq!(
            check_text("a", recipient),
            Err("value must be at least 2 characters long".into())
        );
        assert!(check_text("ab", recipient).is_ok());
        assert!(check_text(&"ä".repeat(64), recipient).is_ok());
        assert_eq!(
            check_text(&"a".repeat(65), recipient),
            Err("value may be at most 64 characters long".into())
        );
        assert_eq!(
            check_text("a\tb", recipient),
            Err("value contains a control character".into())
        );
        assert!(check_text("", TextLimits::ANY).is_ok());
        assert!(check_text("a\tb", TextLimits::ANY).is_ok());
    }

    #[test]
    fn booleans() {
        for word in ["1", "on", "yes", "true", "TRUE", "Yes", "oN"] {
            assert_eq!(parse_bool(word), Ok(true), "{word}");
        }
        for word in ["0", "off", "no", "false", "FALSE", "No"] {
            assert_eq!(parse_bool(word), Ok(false), "{word}");
        }
        assert_eq!(
            parse_bool("maybe"),
            Err("'maybe' is not a boolean (use 1/0, on/off, yes/no, true/false)".into())
        );
        assert!(parse_bool("").is_err());
        assert!(parse_bool("2").is_err());
    }

    #[test]
    fn integers() {
        assert_eq!(parse_integer("25", 0, 65535), Ok(25));
        assert_eq!(parse_integer("+25", 0, 65535), Ok(25));
        assert_eq!(parse_integer("0", 0, 65535), Ok(0));
        assert_eq!(parse_integer("65535", 0, 65535), Ok(65535));
        assert_eq!(
            parse_integer("70000", 0, 65535),
            Err("value 70000 is above the maximum 65535".into())
        );
        assert_eq!(
            parse_integer("-1", 0, 65535),
            Err("value -1 is below the minimum 0".into())
        );
        for bad in ["", "x", "2 5", "0x10", "99999999999999999999", "25 "] {
            assert_eq!(
                parse_integer(bad, 0, 65535),
                Err(format!("'{bad}' is not an integer"))
            );
        }
    }

    #[test]
    fn enums() {
        assert_eq!(parse_enum("all", &["all", "any"]), Ok("all"));
        assert_eq!(
            parse_enum("ANY", &["all", "any"]),
            Err("'ANY' is not one of: all, any".into())
        );
    }

    #[test]
    fn entity_names() {
        for ok in ["ab", "a-b", "_x", "0a", "a.b_c-d", &"a".repeat(32)] {
            assert_eq!(check_entity_name(ok), Ok(()), "{ok}");
        }
        assert_eq!(
            check_entity_name("a"),
            Err("must be at least 2 characters long".into())
        );
        assert!(check_entity_name("").is_err());
        assert_eq!(
            check_entity_name(&"a".repeat(33)),
            Err("may be at most 32 characters long".into())
        );
        assert_eq!(
            check_entity_name("-ab"),
            Err("must start with a letter, a digit or '_', not '-'".into())
        );
        assert!(check_entity_name(".ab").is_err());
        assert_eq!(
            check_entity_name("a b"),
            Err("character ' ' is not allowed (only letters, digits, '_', '.' and '-')".into())
        );
        assert!(check_entity_name("äb").is_err());
        assert!(check_entity_name("ab:c").is_err());
    }

    #[test]
    fn property_strings() {
        assert_eq!(
            parse_property_string("name=X-A,value=SGk=", HEADER_KEYS, false),
            Ok(pairs(&[("name", "X-A"), ("value", "SGk=")]))
        );
        assert_eq!(
            parse_property_string("value=a==,name=n", HEADER_KEYS, false),
            Ok(pairs(&[("value", "a=="), ("name", "n")]))
        );
        assert_eq!(
            parse_property_string(r#"name="a, \"b\" \\ \n",value="#, HEADER_KEYS, false),
            Ok(pairs(&[("name", "a, \"b\" \\ \n"), ("value", "")]))
        );
        assert_eq!(
            parse_property_string("name=a,", HEADER_KEYS, false),
            Ok(pairs(&[("name", "a")]))
        );
        assert_eq!(
            parse_property_string("name=a\"b", HEADER_KEYS, false),
            Ok(pairs(&[("name", "a\"b")]))
        );
        assert_eq!(
            parse_property_string("value=x", HEADER_KEYS, false),
            Err("missing required key 'name'".into())
        );
        assert_eq!(
            parse_property_string("", HEADER_KEYS, false),
            Err("missing required key 'name'".into())
        );
        assert_eq!(
            parse_property_string("name=a,foo=b", HEADER_KEYS, false),
            Err("unknown key 'foo'".into())
        );
        assert_eq!(
            parse_property_string("name=a,name=b", HEADER_KEYS, false),
            Err("duplicate key 'name'".into())
        );
        assert_eq!(
            parse_property_string("name", HEADER_KEYS, false),
            Err("expected key=value, found 'name'".into())
        );
        assert_eq!(
            parse_property_string("topsecret", HEADER_KEYS, true),
            Err("expected key=value, found '(hidden)'".into())
        );
        assert_eq!(
            parse_property_string("name=\"abc", HEADER_KEYS, false),
            Err("unterminated quoted value".into())
        );
        assert_eq!(
            parse_property_string("name=\"a\"b", HEADER_KEYS, false),
            Err("key 'name': expected ',' after the closing quote".into())
        );
        assert_eq!(
            parse_property_string(r#"name="\x""#, HEADER_KEYS, false),
            Err("invalid escape '\\x' in quoted value".into())
        );
    }

    #[test]
    fn property_string_round_trip() {
        for list in [
            vec![("name", "a"), ("value", "b=")],
            vec![("name", "a,b\"c\\d\ne")],
            vec![("name", "")],
        ] {
            let list = pairs(&list);
            let text = write_property_string(&list);
            assert_eq!(parse_property_string(&text, HEADER_KEYS, false), Ok(list));
        }
    }

    #[test]
    fn http_urls() {
        for ok in [
            "http://example.com",
            "https://hooks.example.com/{{ secrets.id }}",
            "https://h/?a=1",
            "http://10.0.0.5:8080/x",
            "http://[::1]:80/",
            "http://[fe80::1]",
            "http://::1",
            "https://a-b.c0/path with spaces",
            "http://h:0",
            "http://h:65535",
            "http://localhost/",
        ] {
            assert_eq!(check_http_url(ok), Ok(()), "{ok}");
        }
        for bad in [
            "ftp://example.com",
            "HTTP://example.com",
            "example.com",
            "https://h?a=1",
            "https://{{ host }}/x",
            "https://under_score.example.com",
            "https://-a.example.com",
            "https://a-.example.com",
            "https://a..b",
            "https://a.",
            "https://",
            "https:///path",
            "http://h:65536",
            "http://h:",
            "http://h:123456",
            "http://[::1",
            "http://user@h/",
            "http://h/a\tb",
        ] {
            assert!(check_http_url(bad).is_err(), "{bad}");
        }
    }
}
