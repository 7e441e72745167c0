//! The two built-in sections and how a file's sections merge with them (config.md §3).

use super::findings::Findings;
use super::model::Origin;
use super::schema::{self, Body, Checked, MatcherBody, Prop, Section, Side};
use super::section;

/// The built-ins, written as a file would write them; values are exact, since comparing with
/// them decides the origin of a file's section of the same name.
pub const BUILTIN_CONFIG: &str = "\
sendmail: mail-to-root
\tmailto-user root@pam
\tcomment Send mails to root@pam's email address

matcher: default-matcher
\tmode all
\ttarget mail-to-root
\tcomment Route all notifications to mail-to-root
";

/// The built-in sections, with every line set to 0.
pub fn sections() -> Vec<Section> {
    let mut ignored = Findings::new(std::path::Path::new("(built-in)"));
    let mut rules = schema::Interner::default();
    section::read(BUILTIN_CONFIG)
        .sections
        .iter()
        .filter_map(
            |raw| match schema::check(raw, Side::Public, &mut ignored, &mut rules) {
                Checked::Valid(mut section) => {
                    section.line = 0;
                    section.lines = std::mem::take(&mut section.lines).without_lines();
                    if let Body::Matcher(matcher) = &mut section.body {
                        for rule in &mut matcher.match_field {
                            rule.line = 0;
                        }
                        for rule in &mut matcher.match_severity {
                            rule.line = 0;
                        }
                        for rule in &mut matcher.match_calendar {
                            rule.line = 0;
                        }
                        for target in &mut matcher.target {
                            target.line = 0;
                        }
                    }
                    Some(section)
                }
                Checked::Invalid { .. } | Checked::BadHeader | Checked::Legacy => None,
            },
        )
        .collect()
}

/// Whether `a` says exactly what `b` says: the same properties (`origin` aside) with the
/// same values, however they were written (`yes` is `true`, `0587` is `587`).
fn same_content(a: &Section, b: &Section) -> bool {
    let written = |s: &Section| {
        let mut props: Vec<Prop> = s.lines.props().filter(|p| *p != Prop::Origin).collect();
        props.sort();
        props
    };
    let same_body = match (&a.body, &b.body) {
        (Body::Sendmail(x), Body::Sendmail(y)) => x == y,
        (Body::Smtp(x), Body::Smtp(y)) => x == y,
        (Body::Gotify(x), Body::Gotify(y)) => x == y,
        (Body::Webhook(x), Body::Webhook(y)) => x == y,
        (Body::Matcher(x), Body::Matcher(y)) => {
            fn texts(m: &MatcherBody) -> Vec<&str> {
                let mut texts: Vec<&str> = Vec::new();
                texts.extend(m.match_field.iter().map(|r| r.value.0.as_str()));
                texts.extend(m.match_severity.iter().map(|r| r.value.0.as_str()));
                texts.extend(m.match_calendar.iter().map(|r| r.value.0.as_str()));
                texts.extend(m.target.iter().map(|t| t.value.as_str()));
                texts
            }
            x.mode == y.mode && x.invert_match == y.invert_match && texts(x) == texts(y)
        }
        _ => false,
    };
    a.section_type == b.section_type
        && a.common == b.common
        && same_body
        && written(a) == written(b)
}

/// The origin of a valid section of the file, given the built-ins.
pub fn origin(section: &Section, builtins: &[Section]) -> Origin {
    match builtins.iter().find(|b| b.name == section.name) {
        None => Origin::UserCreated,
        Some(builtin) if same_content(builtin, section) => Origin::Builtin,
        Some(_) => Origin::ModifiedBuiltin,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        let sections = sections();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].name, "mail-to-root");
        let Body::Sendmail(mail) = &sections[0].body else {
            panic!("{:?}", sections[0].body)
        };
        assert_eq!(mail.mailto_user, vec!["root@pam"]);
        assert_eq!(sections[1].name, "default-matcher");
        let Body::Matcher(matcher) = &sections[1].body else {
            panic!("{:?}", sections[1].body)
        };
        let targets: Vec<&str> = matcher.target.iter().map(|t| t.value.as_str()).collect();
        assert_eq!(targets, vec!["mail-to-root"]);
        assert!(sections.iter().all(|s| s.line == 0));
    }
}
