//! The raw section-config reader: splits a file into sections of `KEY VALUE` lines, keeping
//! line numbers, and collects syntax errors instead of stopping at the first one. It knows
//! nothing of section types or properties; `schema` gives the sections their meaning. Keys
//! and values are slices of the file text: nothing is copied here, and the raw sections
//! never leave the loader.

/// A syntax problem at one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: usize,
    pub message: String,
}

/// One `KEY VALUE` line of a section, value already trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawProperty<'t> {
    pub key: &'t str,
    pub value: &'t str,
    pub line: usize,
}

/// A section as written: header, property lines in file order, and the syntax errors met
/// inside it (any such error makes the section unusable).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawSection<'t> {
    pub section_type: &'t str,
    pub name: &'t str,
    pub line: usize,
    pub properties: Vec<RawProperty<'t>>,
    pub errors: Vec<LineError>,
}

/// A whole file: its sections and the errors found between sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawFile<'t> {
    pub sections: Vec<RawSection<'t>>,
    pub errors: Vec<LineError>,
}

pub const COMMENT_HINT: &str = "(comment lines are not supported in this file)";
const EXPECTED_HEADER: &str = "syntax error: expected a section header 'TYPE: NAME'";
const EXPECTED_PROPERTY: &str = "syntax error: expected an indented property line or a blank line";

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Between,
    /// After a line that is not a header: ignore everything up to the next blank line.
    Skipping,
    Inside,
}

/// Splits `text` into lines as the section-config format does: at `\n`, with one `\r`
/// before it (or at the very end) removed. Yields (line number, line).
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    // What `text.split('\n')` gives, found with a plain byte search: lines are short, and
    // the general searcher costs more per line than the search itself.
    let mut rest = Some(text);
    let mut number = 0;
    std::iter::from_fn(move || {
        let current = rest?;
        number += 1;
        let line = match current.bytes().position(|b| b == b'\n') {
            Some(at) => {
                rest = Some(&current[at + 1..]);
                &current[..at]
            }
            None => {
                rest = None;
                current
            }
        };
        Some((number, line.strip_suffix('\r').unwrap_or(line)))
    })
}

pub fn is_blank(line: &str) -> bool {
    match line.as_bytes().first() {
        None => true,
        // Most lines start with a printable ASCII character: no need to decode them.
        Some(b) if b.is_ascii_graphic() => false,
        Some(_) => line.chars().all(char::is_whitespace),
    }
}

/// `TYPE: NAME` → (TYPE, NAME), both trimmed; `None` when the line is no header at all.
pub fn parse_header(line: &str) -> Option<(&str, &str)> {
    let first = line.chars().next()?;
    if !first.is_alphabetic() {
        return None;
    }
    let (section_type, name) = line.split_once(':')?;
    let section_type = section_type.trim();
    if section_type.is_empty() {
        return None;
    }
    Some((section_type, name.trim()))
}

/// An indented line → (KEY, VALUE), or `Err(KEY)` when there is no white space after the key.
fn parse_property(line: &str) -> Result<(&str, &str), &str> {
    if line.is_ascii() {
        // The same split without decoding: ASCII white space is what `char::is_whitespace`
        // accepts below U+0080.
        let bytes = line.as_bytes();
        let start = bytes
            .iter()
            .position(|b| !is_ascii_space(*b))
            .unwrap_or(bytes.len());
        let line = &line[start..];
        return match line.bytes().position(is_ascii_space) {
            Some(at) => Ok((
                &line[..at],
                line[at + 1..].trim_matches(|c| is_ascii_space(c as u8)),
            )),
            None => Err(line),
        };
    }
    let line = line.trim_start();
    match line.char_indices().find(|(_, c)| c.is_whitespace()) {
        Some((at, separator)) => {
            let key = &line[..at];
            let value = &line[at + separator.len_utf8()..];
            Ok((key, value.trim()))
        }
        None => Err(line),
    }
}

/// The whole file at once (for the built-ins and tests; the loader uses `scan`).
pub fn read(text: &str) -> RawFile<'_> {
    let mut sections = Vec::new();
    let errors = scan(text, |section| sections.push(section.clone()));
    RawFile { sections, errors }
}

/// `char::is_whitespace` for ASCII bytes.
fn is_ascii_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t'..=b'\r')
}

/// Reads `text`, handing each section to `each` as soon as it ends; one section is filled
/// at a time, in the same buffers. Returns the errors found between sections.
pub fn scan<'t>(text: &'t str, mut each: impl FnMut(&RawSection<'t>)) -> Vec<LineError> {
    let mut errors = Vec::new();
    let mut state = State::Between;
    let mut section = RawSection {
        section_type: "",
        name: "",
        line: 0,
        properties: Vec::new(),
        errors: Vec::new(),
    };
    for (number, line) in lines(text) {
        state = match state {
            State::Between | State::Skipping if is_blank(line) => State::Between,
            State::Skipping => State::Skipping,
            State::Between => match parse_header(line) {
                Some((section_type, name)) => {
                    section.section_type = section_type;
                    section.name = name;
                    section.line = number;
                    section.properties.clear();
                    section.errors.clear();
                    State::Inside
                }
                None if line.trim_start().starts_with('#') => {
                    errors.push(LineError {
                        line: number,
                        message: format!("{EXPECTED_HEADER} {COMMENT_HINT}"),
                    });
                    State::Between
                }
                None => {
                    errors.push(LineError {
                        line: number,
                        message: EXPECTED_HEADER.to_string(),
                    });
                    State::Skipping
                }
            },
            State::Inside if is_blank(line) => {
                each(&section);
                State::Between
            }
            State::Inside => {
                let indented = line.chars().next().is_some_and(char::is_whitespace);
                if !indented {
                    let message = if line.starts_with('#') {
                        format!("{EXPECTED_PROPERTY} {COMMENT_HINT}")
                    } else {
                        EXPECTED_PROPERTY.to_string()
                    };
                    section.errors.push(LineError {
                        line: number,
                        message,
                    });
                } else {
                    match parse_property(line) {
                        Ok((key, value)) => section.properties.push(RawProperty {
                            key,
                            value,
                            line: number,
                        }),
                        // `#comment` alone is reported by the schema as an unknown property
                        // with the comment hint, like `# comment` with a value.
                        Err(key) if key.starts_with('#') => section.properties.push(RawProperty {
                            key,
                            value: "",
                            line: number,
                        }),
                        Err(key) => section.errors.push(LineError {
                            line: number,
                            message: format!("property '{key}' has no value"),
                        }),
                    }
                }
                State::Inside
            }
        };
    }
    if state == State::Inside {
        each(&section);
    }
    errors
}

/// Writes sections back in canonical form: `TYPE: NAME`, one tab-indented `KEY VALUE` line per
/// property, a blank line between sections. Reading the result gives the same sections.
pub fn write(sections: &[RawSection<'_>]) -> String {
    let mut out = String::new();
    for (index, section) in sections.iter().enumerate() {
        if index > 0 {
            out.push('\n');
        }
        out.push_str(section.section_type);
        out.push_str(": ");
        out.push_str(section.name);
        out.push('\n');
        for property in &section.properties {
            out.push('\t');
            out.push_str(property.key);
            out.push(' ');
            out.push_str(property.value);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props<'t>(section: &RawSection<'t>) -> Vec<(&'t str, &'t str, usize)> {
        section
            .properties
            .iter()
            .map(|p| (p.key, p.value, p.line))
            .collect()
    }

    #[test]
    fn header_variants() {
        for line in [
            "sendmail:x",
            "sendmail: x",
            "sendmail :  x  ",
            "sendmail:\tx\t",
        ] {
            assert_eq!(parse_header(line), Some(("sendmail", "x")), "{line:?}");
        }
        assert_eq!(parse_header("smtp:"), Some(("smtp", "")));
        assert_eq!(parse_header("smtp: a:b"), Some(("smtp", "a:b")));
        assert_eq!(parse_header(" smtp: x"), None);
        assert_eq!(parse_header("1smtp: x"), None);
        assert_eq!(parse_header("smtp x"), None);
        assert_eq!(parse_header("ä: x"), Some(("ä", "x")));
        assert_eq!(parse_header(""), None);
    }

    #[test]
    fn property_lines() {
        let file = read("smtp: a\n\tcomment a  b  \n  server   h \n\tusername \n");
        assert!(file.errors.is_empty());
        let section = &file.sections[0];
        assert!(section.errors.is_empty());
        assert_eq!(
            props(section),
            vec![
                ("comment", "a  b", 2),
                ("server", "h", 3),
                ("username", "", 4)
            ]
        );
    }

    #[test]
    fn key_without_value() {
        let file = read("smtp: a\n\tserver\n\tmode tls\n");
        let section = &file.sections[0];
        assert_eq!(
            section.errors,
            vec![LineError {
                line: 2,
                message: "property 'server' has no value".into()
            }]
        );
        assert_eq!(props(section), vec![("mode", "tls", 3)]);
    }

    #[test]
    fn tab_only_line_ends_section() {
        let file = read("sendmail: a\n\tmailto x\n\t\n\tmailto y\n");
        assert_eq!(file.sections.len(), 1);
        assert_eq!(props(&file.sections[0]), vec![("mailto", "x", 2)]);
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.errors[0].line, 4);
        assert_eq!(file.errors[0].message, EXPECTED_HEADER);
    }

    #[test]
    fn comments() {
        let file = read("# top\nsendmail: a\n\t# indented\n#col0\n");
        assert_eq!(file.errors[0].line, 1);
        assert!(file.errors[0].message.ends_with(COMMENT_HINT));
        let section = &file.sections[0];
        assert_eq!(props(section), vec![("#", "indented", 3)]);
        assert_eq!(section.errors[0].line, 4);
        assert!(section.errors[0].message.starts_with(EXPECTED_PROPERTY));
        assert!(section.errors[0].message.ends_with(COMMENT_HINT));
        // A comment line between sections does not swallow the next section.
        let file = read("# a comment\nsendmail: a\n\tmailto x\n");
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.sections.len(), 1);
        // `#word` alone is handed on as a property for the hint.
        let file = read("sendmail: a\n\t#word\n");
        assert_eq!(props(&file.sections[0]), vec![("#word", "", 2)]);
    }

    #[test]
    fn header_needs_blank_line_before() {
        let file = read("sendmail: a\n\tmailto x\nsendmail: b\n\tmailto y\n");
        assert_eq!(file.sections.len(), 1);
        let section = &file.sections[0];
        assert_eq!(section.errors[0].line, 3);
        assert_eq!(section.errors[0].message, EXPECTED_PROPERTY);
        assert_eq!(props(section), vec![("mailto", "x", 2), ("mailto", "y", 4)]);
    }

    #[test]
    fn garbage_skips_to_blank_line() {
        let file = read("garbage\n\tmailto x\nsendmail: a\n\nsendmail: b\n");
        assert_eq!(file.errors.len(), 1);
        assert_eq!(file.errors[0].line, 1);
        assert_eq!(file.sections.len(), 1);
        assert_eq!(file.sections[0].name, "b");
        assert_eq!(file.sections[0].line, 5);
        // An indented line between sections is not a header either.
        let file = read("\n  mailto x\n");
        assert_eq!(file.errors[0].line, 2);
    }

    #[test]
    fn crlf_and_final_newline() {
        let file = read("sendmail: a\r\n\tmailto x\r\n\r\nsendmail: b\r\n\tmailto y\r");
        assert!(file.errors.is_empty());
        assert_eq!(file.sections.len(), 2);
        assert_eq!(props(&file.sections[0]), vec![("mailto", "x", 2)]);
        assert_eq!(props(&file.sections[1]), vec![("mailto", "y", 5)]);
        // Only one \r is removed; a second one stays and is white space at the end of a value.
        let file = read("sendmail: a\n\tcomment x\r\r\n");
        assert_eq!(props(&file.sections[0]), vec![("comment", "x", 2)]);
    }

    #[test]
    fn line_numbers_count_blank_lines() {
        let file = read("\n\n  \nsendmail: a\n\tmailto x\n\n\n\ngotify: g\n\tserver s");
        assert_eq!(file.sections[0].line, 4);
        assert_eq!(file.sections[1].line, 9);
        assert_eq!(props(&file.sections[1]), vec![("server", "s", 10)]);
    }

    #[test]
    fn unicode_white_space() {
        // U+3000 is white space: it separates key and value, and a line of it is blank.
        let file = read("sendmail: a\n\u{3000}mailto\u{3000}x\u{3000}\n\u{3000}\nsendmail: b\n");
        assert!(file.errors.is_empty());
        assert_eq!(props(&file.sections[0]), vec![("mailto", "x", 2)]);
        assert_eq!(file.sections.len(), 2);
    }

    #[test]
    fn write_is_canonical() {
        let file = read("sendmail :x\n    mailto  a \n  comment \n\nmatcher:m\n\ttarget x");
        let text = write(&file.sections);
        assert_eq!(
            text,
            "sendmail: x\n\tmailto a\n\tcomment \n\nmatcher: m\n\ttarget x\n"
        );
        assert_eq!(shape(&read(&text).sections), shape(&file.sections));
    }

    /// Sections without line numbers, for comparing a file with its rewritten form.
    /// (type, name, [(key, value)]) of one section.
    pub(crate) type Shape = (String, String, Vec<(String, String)>);

    pub(crate) fn shape(sections: &[RawSection<'_>]) -> Vec<Shape> {
        sections
            .iter()
            .map(|s| {
                let props = s
                    .properties
                    .iter()
                    .map(|p| (p.key.to_string(), p.value.to_string()))
                    .collect();
                (s.section_type.to_string(), s.name.to_string(), props)
            })
            .collect()
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::tests::shape;
    use super::*;

    /// Lines built from the pieces the reader cares about, so every state is reached.
    fn line() -> impl Strategy<Value = String> {
        let word = "[a-zA-Z0-9_.:#-]{0,6}";
        let space = prop::sample::select(vec!["", " ", "\t", "  ", "\u{3000}", "\r"]);
        prop_oneof![
            (word, space.clone(), word, space.clone(), word)
                .prop_map(|(t, s1, n, s2, v)| format!("{t}{s1}:{s2}{n}{v}")),
            (
                space.clone(),
                word,
                space.clone(),
                "[ -~]{0,10}",
                space.clone()
            )
                .prop_map(|(i, k, s, v, e)| format!(" {i}{k}{s}{v}{e}")),
            space.prop_map(String::from),
            "[ -~\t\r]{0,12}",
        ]
    }

    fn file() -> impl Strategy<Value = String> {
        (
            prop::collection::vec(line(), 0..25),
            prop::sample::select(vec!["\n", "\r\n"]),
            any::<bool>(),
        )
            .prop_map(|(lines, end, final_newline)| {
                let mut text = lines.join(end);
                if final_newline {
                    text.push_str(end);
                }
                text
            })
    }

    fn assert_round_trip(file: &RawFile<'_>) -> Result<(), TestCaseError> {
        let text = write(&file.sections);
        let again = read(&text);
        prop_assert!(again.errors.is_empty(), "{text:?}: {:?}", again.errors);
        prop_assert!(again.sections.iter().all(|s| s.errors.is_empty()));
        prop_assert_eq!(shape(&again.sections), shape(&file.sections));
        prop_assert_eq!(write(&again.sections), text);
        Ok(())
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(text in any::<String>()) {
            let _ = read(&text);
        }

        #[test]
        fn structured_files_round_trip(text in file()) {
            let file = read(&text);
            // Line numbers are in range and increase.
            let count = text.split('\n').count();
            for section in &file.sections {
                prop_assert!(section.line >= 1 && section.line <= count);
                for p in &section.properties {
                    prop_assert!(p.line > section.line && p.line <= count);
                    prop_assert_eq!(p.value.trim(), p.value);
                    prop_assert!(!p.key.is_empty() && !p.key.contains(char::is_whitespace));
                }
            }
            let accepted = file.errors.is_empty() && file.sections.iter().all(|s| s.errors.is_empty());
            if accepted {
                assert_round_trip(&file)?;
            }
        }

        #[test]
        fn any_sections_round_trip(text in any::<String>()) {
            let file = read(&text);
            if file.errors.is_empty() && file.sections.iter().all(|s| s.errors.is_empty()) {
                assert_round_trip(&file)?;
            }
        }
    }
}
