//! Notification templates (templates.md): Handlebars rendering of a template's subject,
//! text and HTML parts from JSON data as Proxmox VE renders them, the helpers
//! (`helpers`, `table`), the override → vendor → built-in lookup (`lookup`, `builtin`)
//! and the static checks `validate` runs on override files (`check`). Pure: template
//! files come in through a loader, local time through a function, both from the caller.

pub mod builtin;
pub mod check;
pub mod data;
pub mod helpers;
pub mod lookup;
pub mod table;

use handlebars::{Context, Handlebars, RenderError, RenderErrorReason};
use serde::Serialize;
use serde_json::Value;

pub use lookup::{PartTrace, Rendered, TemplateFiles, Tier, render_template};

/// Formats a Unix epoch as local `YYYY-MM-DD HH:MM:SS`; `None` when out of range. The
/// caller supplies the host's time zone.
pub type LocalTime = fn(i64) -> Option<String>;

/// The parts a template has, each its own file `NAME-SUFFIX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Part {
    Subject,
    Text,
    Html,
}

impl Part {
    pub const ALL: [Part; 3] = [Part::Subject, Part::Text, Part::Html];

    pub fn suffix(self) -> &'static str {
        match self {
            Part::Subject => "subject.txt.hbs",
            Part::Text => "body.txt.hbs",
            Part::Html => "body.html.hbs",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Part::Subject => "subject",
            Part::Text => "text",
            Part::Html => "html",
        }
    }

    /// `NAME-SUFFIX`, the file of this part of template `template`.
    pub fn file_name(self, template: &str) -> String {
        format!("{template}-{}", self.suffix())
    }
}

/// Which rendering of `table` and `object` a template gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flavour {
    Text,
    Html,
}

/// How one template file is rendered (templates.md §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No escaping, text flavour, every `\n` becomes a space.
    Subject,
    /// No escaping, text flavour.
    Text,
    /// HTML escaping of `{{x}}`, HTML flavour.
    Html,
    /// Rendered as text, then escaped as a whole inside `<pre>`.
    HtmlFromText,
}

/// Template data as the engine holds it; built once per event and shared by all parts.
pub struct Data {
    context: Context,
    /// About how large the data is as text; bodies are reserved that much up front, so
    /// that a large log is not copied through a series of doubling buffers.
    size_hint: usize,
}

impl Data {
    pub fn new(value: Value, size_hint: usize) -> Self {
        Data {
            context: Context::from(value),
            size_hint,
        }
    }

    /// Runs `render` with `extra` added where the data lacks those keys (as the common
    /// data is), then takes them out again: one event's data serves renders with and
    /// without them, and is never copied.
    pub fn with_added<T>(&mut self, extra: &[(&str, Value)], render: impl FnOnce(&Data) -> T) -> T {
        let mut added = Vec::with_capacity(extra.len());
        if let Some(map) = self.context.data_mut().as_object_mut() {
            for (key, value) in extra {
                if !map.contains_key(*key) {
                    map.insert(key.to_string(), value.clone());
                    added.push(*key);
                }
            }
        }
        let result = render(self);
        if let Some(map) = self.context.data_mut().as_object_mut() {
            // Newest first, so that an order-keeping map pops them off its end.
            for key in added.iter().rev() {
                map.remove(*key);
            }
        }
        result
    }
}

/// A fresh engine per render, as upstream: non-strict, the escaping and helpers of `mode`.
fn engine(mode: Mode, local_time: LocalTime) -> Handlebars<'static> {
    let mut engine = Handlebars::new();
    engine.set_strict_mode(false);
    let (escape, flavour): (fn(&str) -> String, Flavour) = match mode {
        Mode::Html => (escape_html, Flavour::Html),
        Mode::Subject | Mode::Text | Mode::HtmlFromText => (handlebars::no_escape, Flavour::Text),
    };
    engine.register_escape_fn(escape);
    helpers::register(&mut engine, local_time);
    table::register(&mut engine, flavour, local_time);
    engine
}

/// Renders one template text; the error is one line (`line L, column C: reason`).
pub fn render(
    template: &str,
    data: &Data,
    mode: Mode,
    local_time: LocalTime,
) -> Result<String, String> {
    let capacity = match mode {
        Mode::Subject => template.len(),
        _ => template.len() + data.size_hint,
    };
    let mut buffer = Vec::with_capacity(capacity);
    engine(mode, local_time)
        .render_template_with_context_to_write(template, &data.context, &mut buffer)
        .map_err(|e| describe(&e))?;
    // Every piece the engine writes is a &str, so this does not fail.
    let rendered = String::from_utf8(buffer).map_err(|e| e.to_string())?;
    Ok(match mode {
        Mode::Subject => rendered.replace('\n', " "),
        Mode::Text | Mode::Html => rendered,
        Mode::HtmlFromText => html_from_text(&rendered),
    })
}

/// A text body as HTML: escaped as Handlebars escapes and wrapped in `<pre>`. This is
/// also the HTML part of events with a literal body.
pub fn html_from_text(text: &str) -> String {
    const HEAD: &str = "<html><body><pre>";
    const TAIL: &str = "</pre></body></html>";
    let mut html = String::with_capacity(HEAD.len() + escaped_len(text) + TAIL.len());
    html.push_str(HEAD);
    push_escaped(&mut html, text);
    html.push_str(TAIL);
    html
}

/// Handlebars' HTML escaping (`& < > " ' ` =`), byte for byte as `handlebars::html_escape`
/// but into a buffer of the exact size: a log of a megabyte is escaped without regrowing.
pub fn escape_html(text: &str) -> String {
    let mut html = String::with_capacity(escaped_len(text));
    push_escaped(&mut html, text);
    html
}

/// The bytes Handlebars escapes, and their entities. All of them are ASCII, so they never
/// occur inside a multi-byte character and the text can be scanned byte by byte.
const ENTITIES: [(u8, &str); 7] = [
    (b'&', "&amp;"),
    (b'<', "&lt;"),
    (b'>', "&gt;"),
    (b'"', "&quot;"),
    (b'\'', "&#x27;"),
    (b'`', "&#x60;"),
    (b'=', "&#x3D;"),
];

/// For each byte, 1 + its index in [`ENTITIES`], or 0 when it stays as it is: one load
/// per byte decides.
const ENTITY_OF: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < ENTITIES.len() {
        table[ENTITIES[i].0 as usize] = i as u8 + 1;
        i += 1;
    }
    table
};

/// The length of `text` escaped.
fn escaped_len(text: &str) -> usize {
    const GROWTH: [usize; ENTITIES.len() + 1] = {
        let mut growth = [0; ENTITIES.len() + 1];
        let mut i = 0;
        while i < ENTITIES.len() {
            growth[i + 1] = ENTITIES[i].1.len() - 1;
            i += 1;
        }
        growth
    };
    text.len()
        + text
            .bytes()
            .map(|b| GROWTH[ENTITY_OF[b as usize] as usize])
            .sum::<usize>()
}

/// Appends `text` escaped, copying the runs between special bytes whole.
pub(crate) fn push_escaped(html: &mut String, text: &str) {
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let entity = ENTITY_OF[byte as usize];
        if entity != 0 {
            // `i` is an ASCII byte, hence a character boundary
            html.push_str(&text[start..i]);
            html.push_str(ENTITIES[entity as usize - 1].1);
            start = i + 1;
        }
    }
    html.push_str(&text[start..]);
}

/// One line saying where and what went wrong; the engine's own text for syntax errors
/// spans several lines with a source excerpt.
pub fn describe(error: &RenderError) -> String {
    let (reason, position) = match error.reason() {
        RenderErrorReason::TemplateError(syntax) => (syntax.reason().to_string(), syntax.pos()),
        reason => (reason.to_string(), error.line_no.zip(error.column_no)),
    };
    let reason = crate::redact::one_line(&reason, crate::redact::QUOTE_LIMIT);
    match position {
        Some((line, column)) => format!("line {line}, column {column}: {reason}"),
        None => reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(epoch: i64) -> Option<String> {
        chrono::DateTime::from_timestamp(epoch, 0).map(|t| t.format("%F %H:%M:%S").to_string())
    }

    fn run(template: &str, data: Value, mode: Mode) -> Result<String, String> {
        render(template, &Data::new(data, 0), mode, utc)
    }

    #[test]
    fn html_escapes_data_but_not_triple_braces() {
        let data = json!({"x": "<script>&\"'`="});
        assert_eq!(
            run("{{x}}|{{{x}}}", data.clone(), Mode::Html).unwrap(),
            "&lt;script&gt;&amp;&quot;&#x27;&#x60;&#x3D;|<script>&\"'`="
        );
        assert_eq!(
            run("{{x}}", data.clone(), Mode::Text).unwrap(),
            "<script>&\"'`="
        );
        assert_eq!(
            run("{{x}}", data.clone(), Mode::Subject).unwrap(),
            "<script>&\"'`="
        );
        assert_eq!(
            run("<b>{{x}}</b>", data, Mode::HtmlFromText).unwrap(),
            "<html><body><pre>&lt;b&gt;&lt;script&gt;&amp;&quot;&#x27;&#x60;&#x3D;&lt;/b&gt;</pre></body></html>"
        );
    }

    #[test]
    fn subject_newlines_become_spaces_and_nothing_is_trimmed() {
        assert_eq!(
            run("Backup {{s}}\n", json!({"s": "a\nb"}), Mode::Subject).unwrap(),
            "Backup a b "
        );
        assert_eq!(run("", json!({}), Mode::Subject).unwrap(), "");
        assert_eq!(run("x\n", json!({}), Mode::Text).unwrap(), "x\n");
    }

    #[test]
    fn missing_variables_render_empty() {
        assert_eq!(
            run(
                "[{{nope}}][{{a.b.c}}][{{#if nope}}x{{/if}}]",
                json!({"a": 1}),
                Mode::Text
            )
            .unwrap(),
            "[][][]"
        );
    }

    #[test]
    fn plain_values_render_as_handlebars_does() {
        let data = json!({"arr": ["a", "b"], "obj": {"k": 1}, "f": 1.0, "n": null, "t": true});
        assert_eq!(
            run("{{arr}}|{{obj}}|{{f}}|{{n}}|{{t}}", data, Mode::Text).unwrap(),
            "[a, b]|[object]|1.0||true"
        );
    }

    #[test]
    fn helpers_in_templates() {
        let data = json!({"size": 1536, "t": 3725, "e": 0, "a": 1, "b": 4});
        assert_eq!(
            run(
                "{{human-bytes size}} {{duration t}} {{timestamp e}} {{relative-percentage a b}} {{relative-percentage a 0}} {{human-bytes missing}} {{timestamp missing}}",
                data.clone(),
                Mode::Text
            )
            .unwrap(),
            "1.5 KiB 1h 2m 5s 1970-01-01 00:00:00 25.00% - ERROR ERROR"
        );
        // relative-percentage with a non-number fails the render (next candidate).
        assert!(run("{{relative-percentage \"1\" b}}", data.clone(), Mode::Text).is_err());
        assert!(run("{{relative-percentage a}}", data.clone(), Mode::Text).is_err());
        assert!(run("{{human-bytes}}", data.clone(), Mode::Text).is_err());
        // object is not escaped, even in HTML.
        assert_eq!(
            run("{{object x}}", json!({"x": "<"}), Mode::Html).unwrap(),
            "\n<pre>\"<\"\n</pre>\n"
        );
        assert_eq!(
            run("{{object x}}", json!({"x": {"a": 1}}), Mode::Text).unwrap(),
            "\n{\n  \"a\": 1\n}\n"
        );
    }

    #[test]
    fn table_flavour_follows_the_part() {
        let data = json!({"t": {"schema": {"columns": [{"label": "A", "id": "a"}]}, "data": [{"a": "<"}]}});
        assert_eq!(
            run("{{table t}}", data.clone(), Mode::Text).unwrap(),
            "A    \n<    \n"
        );
        assert!(
            run("{{table t}}", data.clone(), Mode::Html)
                .unwrap()
                .contains("<td style=\"border: 1px solid\">&lt;</td>")
        );
        // html-from-text renders the text table and escapes it as a whole.
        assert_eq!(
            run("{{table t}}", data, Mode::HtmlFromText).unwrap(),
            "<html><body><pre>A    \n&lt;    \n</pre></body></html>"
        );
        assert!(run("{{table x}}", json!({}), Mode::Text).is_err());
    }

    #[test]
    fn syntax_errors_say_where() {
        let err = run("a\n{{#if x}}b", json!({}), Mode::Text).unwrap_err();
        assert!(err.starts_with("line "), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn webhook_helpers_are_not_available() {
        assert!(run("{{json x}}", json!({"x": 1}), Mode::Text).is_err());
        assert!(run("{{url-encode x}}", json!({"x": "a"}), Mode::Text).is_err());
    }

    #[test]
    fn escaping_is_handlebars_own() {
        let every_ascii: String = (0u8..128).map(char::from).collect();
        for text in [
            "<a href=\"x\">'&'`=</a> ü",
            &every_ascii,
            "ü<ä>€=𝄞`",
            "",
            "plain",
            "&",
        ] {
            let escaped = escape_html(text);
            assert_eq!(escaped, handlebars::html_escape(text));
            assert_eq!(escaped_len(text), escaped.len(), "{text:?}");
        }
    }

    #[test]
    fn literal_body_html() {
        assert_eq!(
            html_from_text("a<b>&\"'`=c\nd"),
            "<html><body><pre>a&lt;b&gt;&amp;&quot;&#x27;&#x60;&#x3D;c\nd</pre></body></html>"
        );
    }

    #[test]
    fn added_keys_are_there_for_one_render_only_and_never_replace_the_data() {
        let template = "{{a}}|{{b}}|{{#each this}}{{@key}},{{/each}}";
        let mut data = Data::new(json!({"a": "own", "z": 1}), 0);
        let plain = render(template, &data, Mode::Text, utc).unwrap();
        assert_eq!(plain, "own||a,z,");
        let extra = [("a", json!("added")), ("b", json!(2))];
        let with = data.with_added(&extra, |data| render(template, data, Mode::Text, utc));
        assert_eq!(with.unwrap(), "own|2|a,b,z,");
        assert_eq!(render(template, &data, Mode::Text, utc).unwrap(), plain);
    }
}
