//! pvenotify's own templates for the five events Proxmox VE sends (`templates/default/`
//! in the source tree), the last tier of the lookup. Our wording and layout; the data
//! they read is Proxmox VE's (templates.md §1).

macro_rules! builtin {
    ($($file:literal),* $(,)?) => {
        &[$(($file, include_str!(concat!("../../templates/default/", $file)))),*]
    };
}

/// File name → template text.
const TEMPLATES: &[(&str, &str)] = builtin![
    "test-subject.txt.hbs",
    "test-body.txt.hbs",
    "test-body.html.hbs",
    "vzdump-subject.txt.hbs",
    "vzdump-body.txt.hbs",
    "vzdump-body.html.hbs",
    "package-updates-subject.txt.hbs",
    "package-updates-body.txt.hbs",
    "package-updates-body.html.hbs",
    "replication-subject.txt.hbs",
    "replication-body.txt.hbs",
    "replication-body.html.hbs",
    "fencing-subject.txt.hbs",
    "fencing-body.txt.hbs",
    "fencing-body.html.hbs",
];

/// The built-in template file `file` (`vzdump-body.txt.hbs`), if there is one.
pub fn template(file: &str) -> Option<&'static str> {
    TEMPLATES
        .iter()
        .find(|(name, _)| *name == file)
        .map(|(_, text)| *text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::{Data, Mode, Part, check, render};

    /// The template names that have built-in files.
    fn names() -> Vec<&'static str> {
        let mut names: Vec<&str> = TEMPLATES
            .iter()
            .filter_map(|(file, _)| file.strip_suffix("-subject.txt.hbs"))
            .collect();
        names.sort_unstable();
        names
    }

    #[test]
    fn every_name_has_all_three_parts_and_they_pass_the_checks() {
        assert_eq!(
            names(),
            [
                "fencing",
                "package-updates",
                "replication",
                "test",
                "vzdump"
            ]
        );
        for name in names() {
            for part in Part::ALL {
                let file = part.file_name(name);
                let text = template(&file).unwrap_or_else(|| panic!("{file} missing"));
                assert_eq!(check::check(text), [], "{file}");
            }
        }
    }

    fn utc(epoch: i64) -> Option<String> {
        chrono::DateTime::from_timestamp(epoch, 0).map(|t| t.format("%F %H:%M:%S").to_string())
    }

    #[test]
    fn test_template_reproduces_the_fixed_test_notification() {
        let data = Data::new(serde_json::json!({"target": "ops"}), 0);
        let part =
            |p: Part, mode| render(template(&p.file_name("test")).unwrap(), &data, mode, utc);
        assert_eq!(
            part(Part::Subject, Mode::Subject).unwrap(),
            "Test notification"
        );
        assert_eq!(
            part(Part::Text, Mode::Text).unwrap(),
            "This is a test of the notification target 'ops'."
        );
        assert_eq!(
            part(Part::Html, Mode::Html).unwrap(),
            crate::render::html_from_text("This is a test of the notification target 'ops'.")
        );
    }
}
