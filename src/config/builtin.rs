//! The two built-in sections and how a file's sections merge with them (config.md §3).

use std::collections::BTreeMap;

use super::findings::Findings;
use super::model::Origin;
use super::schema::{self, Checked, Section, Side};
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
    section::read(BUILTIN_CONFIG)
        .sections
        .iter()
        .filter_map(
            |raw| match schema::check(raw.clone(), Side::Public, &mut ignored) {
                Checked::Valid(mut section) => {
                    section.line = 0;
                    for item in section.props.values_mut().flatten() {
                        item.line = 0;
                    }
                    Some(section)
                }
                Checked::Invalid { .. } | Checked::BadHeader | Checked::Legacy => None,
            },
        )
        .collect()
}

/// Adds the built-ins to the file's valid sections and gives every section its origin.
pub fn merge(file: BTreeMap<String, Section>) -> BTreeMap<String, (Section, Origin)> {
    let builtins = sections();
    let mut merged: BTreeMap<String, (Section, Origin)> = file
        .into_iter()
        .map(|(name, section)| {
            let origin = match builtins.iter().find(|b| b.name == name) {
                None => Origin::UserCreated,
                Some(builtin)
                    if builtin.section_type == section.section_type
                        && builtin.canonical() == section.canonical() =>
                {
                    Origin::Builtin
                }
                Some(_) => Origin::ModifiedBuiltin,
            };
            (name, (section, origin))
        })
        .collect();
    for builtin in builtins {
        merged
            .entry(builtin.name.clone())
            .or_insert((builtin, Origin::Builtin));
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        let sections = sections();
        assert_eq!(sections.len(), 2);
        assert_eq!(sections[0].name, "mail-to-root");
        assert_eq!(sections[0].texts("mailto-user"), vec!["root@pam"]);
        assert_eq!(sections[1].name, "default-matcher");
        assert_eq!(sections[1].texts("target"), vec!["mail-to-root"]);
        assert!(sections.iter().all(|s| s.line == 0));
    }
}
