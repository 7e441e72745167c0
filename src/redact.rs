//! Keeping secrets out of output: URLs are shown reduced to `scheme://host[:port]`, because
//! webhook paths and queries, and proxy user-info, often carry tokens.

/// `scheme://host[:port]`, user-info removed, a non-empty path or query replaced by `/…`.
/// Text that is not a URL is shown as `(not a URL)` rather than risk printing a secret.
pub fn reduce_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "(not a URL)".to_string();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    let tail = if tail.is_empty() || tail == "/" {
        ""
    } else {
        "/…"
    };
    format!("{scheme}://{host}{tail}")
}

/// How much of a remote or library text a message quotes.
pub const QUOTE_LIMIT: usize = 200;

/// One line of at most `max` characters: control characters (CR, LF, TAB, …) become
/// spaces, so remote text cannot break an outcome line or a log entry.
pub fn one_line(text: &str, max: usize) -> String {
    text.chars()
        .take(max)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Replaces every occurrence of each secret, and of its percent-encoded form, by
/// `<masked>`, for text that comes from a library or the remote side. Empty secrets are
/// ignored (they would match everywhere and hide nothing).
pub fn mask(text: &str, secrets: &[&str]) -> String {
    let mut masked = text.to_string();
    let mut forms: Vec<String> = Vec::new();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        forms.push(secret.to_string());
        forms.push(percent_encode_all(secret));
        forms.push(percent_encode_all(secret).to_lowercase());
    }
    // Longest first, so a secret containing another is masked whole.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    for form in forms {
        if masked.contains(&form) {
            masked = masked.replace(&form, "<masked>");
        }
    }
    masked
}

/// Percent-encodes every byte outside the unreserved set, the form a secret takes in a URL.
fn percent_encode_all(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_plain_and_percent_encoded_secrets() {
        let text = "401 for https://h/?token=s3cr%2Ft and s3cr/t";
        assert_eq!(
            mask(text, &["s3cr/t"]),
            "401 for https://h/?token=<masked> and <masked>"
        );
        assert_eq!(mask("x%2ft", &["x/t"]), "<masked>");
        assert_eq!(mask("nothing", &["", "zz"]), "nothing");
        assert_eq!(mask("abcdef", &["abc", "abcdef"]), "<masked>");
    }

    #[test]
    fn reduces_to_scheme_host_port() {
        assert_eq!(
            reduce_url("https://gotify.example.com"),
            "https://gotify.example.com"
        );
        assert_eq!(
            reduce_url("https://gotify.example.com/"),
            "https://gotify.example.com"
        );
        assert_eq!(reduce_url("http://10.0.0.5:8080"), "http://10.0.0.5:8080");
        assert_eq!(
            reduce_url("https://hooks.example.com/services/T0/B0/SECRET"),
            "https://hooks.example.com/…"
        );
        assert_eq!(
            reduce_url("https://h.example/?token=abc"),
            "https://h.example/…"
        );
        assert_eq!(reduce_url("http://user:pw@proxy:3128"), "http://proxy:3128");
        assert_eq!(reduce_url("http://[::1]:80/x"), "http://[::1]:80/…");
    }

    #[test]
    fn one_line_replaces_controls_and_cuts_at_characters() {
        assert_eq!(one_line("a\r\nb\tc", 10), "a  b c");
        assert_eq!(one_line("äöüß", 2), "äö");
        assert_eq!(one_line(&"x".repeat(300), QUOTE_LIMIT).len(), 200);
    }

    #[test]
    fn non_urls_are_not_echoed() {
        assert_eq!(reduce_url("secret-token"), "(not a URL)");
    }
}
