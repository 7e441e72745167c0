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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn non_urls_are_not_echoed() {
        assert_eq!(reduce_url("secret-token"), "(not a URL)");
    }
}
