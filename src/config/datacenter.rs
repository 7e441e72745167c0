//! `datacenter.cfg`: `email_from` and `http_proxy` (config.md §5.2), and the form of a proxy.

use super::model::{Datacenter, Secret};

/// Where the two keys were found (0 = absent), for messages.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatacenterLines {
    pub email_from: usize,
    pub http_proxy: usize,
}

/// The first line starting with `KEY:` decides; an empty value counts as unset.
pub fn parse(text: &str) -> (Datacenter, DatacenterLines) {
    let mut email_from: Option<(usize, String)> = None;
    let mut http_proxy: Option<(usize, String)> = None;
    for (index, line) in text.split('\n').enumerate() {
        for (key, slot) in [
            ("email_from:", &mut email_from),
            ("http_proxy:", &mut http_proxy),
        ] {
            if slot.is_none()
                && let Some(value) = line.strip_prefix(key)
            {
                *slot = Some((index + 1, value.trim().to_string()));
            }
        }
    }
    let line = |slot: &Option<(usize, String)>| match slot {
        Some((line, value)) if !value.is_empty() => *line,
        _ => 0,
    };
    let lines = DatacenterLines {
        email_from: line(&email_from),
        http_proxy: line(&http_proxy),
    };
    let datacenter = Datacenter {
        email_from: email_from.map(|(_, v)| v).filter(|v| !v.is_empty()),
        http_proxy: http_proxy
            .map(|(_, v)| v)
            .filter(|v| !v.is_empty())
            .map(Secret::new),
    };
    (datacenter, lines)
}

/// A parsed `http_proxy` value: `[http://][USER[:PASSWORD]@]HOST[:PORT][/]`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpProxy {
    /// As written; an IPv6 address keeps its brackets.
    pub host: String,
    /// 1080 when not written.
    pub port: u16,
    /// `USER:PASSWORD` as written (not percent-decoded), for `Proxy-Authorization: Basic`.
    pub credentials: Option<Secret>,
}

impl HttpProxy {
    /// `HOST:PORT`, safe to print.
    pub fn authority(&self) -> String {
        format!("{}:{}", self.host, self.port)
    }
}

pub const DEFAULT_PROXY_PORT: u16 = 1080;

/// Parses an `http_proxy` value. Reasons never quote the credentials.
pub fn parse_http_proxy(text: &str) -> Result<HttpProxy, String> {
    let rest = match text.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.')) =>
        {
            return Err(format!(
                "proxy scheme '{scheme}' is not supported (only http)"
            ));
        }
        Some(_) => return Err("invalid proxy scheme (only http is supported)".to_string()),
        None => text,
    };
    let (credentials, address) = match rest.rsplit_once('@') {
        Some((credentials, address)) => {
            if credentials.is_empty() || credentials.starts_with(':') {
                return Err("empty proxy user name".to_string());
            }
            (Some(Secret::new(credentials)), address)
        }
        None => (None, rest),
    };
    let address = address.strip_suffix('/').unwrap_or(address);
    let (host, port) = split_host_port(address)?;
    Ok(HttpProxy {
        host: host.to_string(),
        port,
        credentials,
    })
}

fn split_host_port(address: &str) -> Result<(&str, u16), String> {
    let (host, port) = if let Some(bracketed) = address.strip_prefix('[') {
        let (inside, after) = bracketed
            .split_once(']')
            .ok_or_else(|| "unterminated '[' in proxy address".to_string())?;
        // The host keeps its brackets: it is used as the authority of a URL.
        let host = &address[..inside.len() + 2];
        if inside.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("'{host}' is not an IPv6 address"));
        }
        match after {
            "" => (host, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => return Err(format!("unexpected '{after}' after the proxy address")),
            },
        }
    } else {
        match address.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (address, None),
        }
    };
    if host.is_empty() {
        return Err("missing proxy host".to_string());
    }
    if let Some(bad) = host
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || matches!(c, '/' | '?' | '#' | '@'))
    {
        return Err(format!(
            "character '{}' is not allowed in the proxy host",
            bad.escape_debug()
        ));
    }
    let port = match port {
        None => DEFAULT_PROXY_PORT,
        Some(port) => {
            if port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!("invalid proxy port '{port}'"));
            }
            port.parse::<u16>()
                .map_err(|_| format!("proxy port {port} is above the maximum 65535"))?
        }
    };
    Ok((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_first_line() {
        let text = "keyboard: de\n# email_from: commented@x\n email_from: indented@x\n\
                    EMAIL_FROM: upper@x\nemail_from :space@x\nemail_from:  pve@example.com  \n\
                    email_from: second@x\nhttp_proxy:http://proxy:3128\r\n";
        let (dc, lines) = parse(text);
        assert_eq!(dc.email_from.as_deref(), Some("pve@example.com"));
        assert_eq!(lines.email_from, 6);
        assert_eq!(
            dc.http_proxy.as_ref().map(Secret::expose),
            Some("http://proxy:3128")
        );
        assert_eq!(lines.http_proxy, 8);
    }

    #[test]
    fn empty_value_is_unset() {
        let (dc, lines) = parse("email_from:   \nemail_from: later@x\nhttp_proxy:\n");
        assert_eq!(dc, Datacenter::default());
        assert_eq!(lines, DatacenterLines::default());
        assert_eq!(parse("").0, Datacenter::default());
    }

    #[test]
    fn proxy_forms() {
        let p = parse_http_proxy("proxy.example.com").unwrap();
        assert_eq!(
            (p.host.as_str(), p.port, p.credentials),
            ("proxy.example.com", 1080, None)
        );
        let p = parse_http_proxy("http://proxy:3128").unwrap();
        assert_eq!(p.authority(), "proxy:3128");
        let p = parse_http_proxy("http://proxy:3128/").unwrap();
        assert_eq!(p.authority(), "proxy:3128");
        let p = parse_http_proxy("http://user:p@ss:w/rd@10.0.0.1:8080").unwrap();
        assert_eq!(p.authority(), "10.0.0.1:8080");
        assert_eq!(
            p.credentials.as_ref().map(Secret::expose),
            Some("user:p@ss:w/rd")
        );
        let p = parse_http_proxy("user@proxy").unwrap();
        assert_eq!(p.credentials.as_ref().map(Secret::expose), Some("user"));
        let p = parse_http_proxy("[::1]:3128").unwrap();
        assert_eq!(p.authority(), "[::1]:3128");
        assert_eq!(parse_http_proxy("[fe80::2]").unwrap().port, 1080);
    }

    #[test]
    fn proxy_errors_hide_credentials() {
        for (text, reason) in [
            (
                "https://proxy:3128",
                "proxy scheme 'https' is not supported (only http)",
            ),
            (
                "socks5://u:secretpw@proxy",
                "proxy scheme 'socks5' is not supported (only http)",
            ),
            (
                "u:secretpw://x@proxy",
                "invalid proxy scheme (only http is supported)",
            ),
            ("http://", "missing proxy host"),
            ("http://u:secretpw@", "missing proxy host"),
            ("http://:secretpw@proxy", "empty proxy user name"),
            ("proxy:port", "invalid proxy port 'port'"),
            ("proxy:", "invalid proxy port ''"),
            ("proxy:70000", "proxy port 70000 is above the maximum 65535"),
            (
                "proxy/path",
                "character '/' is not allowed in the proxy host",
            ),
            ("[::1", "unterminated '[' in proxy address"),
            ("[zz]:1", "'[zz]' is not an IPv6 address"),
            ("pro xy", "character ' ' is not allowed in the proxy host"),
        ] {
            let error = parse_http_proxy(text).unwrap_err();
            assert_eq!(error, reason, "{text}");
            assert!(!error.contains("secretpw"));
        }
    }
}
