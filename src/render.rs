//! Rendering an event's content for targets: the HTML alternative of mail messages.

/// The HTML part of a mail for a plain-text body: the body escaped inside `<pre>`, as
/// upstream does when no HTML template exists (with its template engine's escaping).
pub fn html_body(body: &str) -> String {
    let mut html = String::with_capacity(body.len() + 40);
    html.push_str("<html><body><pre>");
    for c in body.chars() {
        match c {
            '&' => html.push_str("&amp;"),
            '<' => html.push_str("&lt;"),
            '>' => html.push_str("&gt;"),
            '"' => html.push_str("&quot;"),
            '\'' => html.push_str("&#x27;"),
            '`' => html.push_str("&#x60;"),
            '=' => html.push_str("&#x3D;"),
            c => html.push(c),
        }
    }
    html.push_str("</pre></body></html>");
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_every_special_character() {
        assert_eq!(
            html_body("a<b>&\"'`=c\nd"),
            "<html><body><pre>a&lt;b&gt;&amp;&quot;&#x27;&#x60;&#x3D;c\nd</pre></body></html>"
        );
    }

    #[test]
    fn empty_body() {
        assert_eq!(html_body(""), "<html><body><pre></pre></body></html>");
    }
}
