//! Which file renders each part of a template (templates.md §2): override, then vendor,
//! then our built-in templates, for the HTML part also the text files rendered as HTML.
//! The first candidate that exists and renders wins; a broken one is recorded with its
//! reason and the next is tried. Every step is kept for `--explain`, `-v` and errors.

use serde::Serialize;

use super::{Data, LocalTime, Mode, Part, builtin, render};

/// Where a template file comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tier {
    /// `CONFIG_DIR/notification-templates/default/`, the admin's files.
    Override,
    /// `/usr/share/pve-manager/templates/default/` or `--template-dir`.
    Vendor,
    /// Compiled into pvenotify.
    BuiltIn,
}

impl Tier {
    pub fn name(self) -> &'static str {
        match self {
            Tier::Override => "override",
            Tier::Vendor => "vendor",
            Tier::BuiltIn => "built-in",
        }
    }
}

/// Reads override and vendor template files for the lookup (the caller's file system).
pub trait TemplateFiles {
    /// The file's text, `Ok(None)` when it does not exist, `Err` with a one-line reason
    /// when it exists but cannot be read.
    fn read(&self, tier: Tier, file: &str) -> Result<Option<String>, String>;

    /// The full path, for messages.
    fn location(&self, tier: Tier, file: &str) -> String;
}

/// One candidate file that was looked at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct Attempt {
    pub source: Tier,
    /// Full path, or the file name for built-in templates.
    pub file: String,
    /// A text file rendered as the HTML part.
    pub from_text: bool,
    /// Why it was not used; `None` for the file that rendered the part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// It does not exist (not a failure, only noted).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub missing: bool,
}

impl Attempt {
    /// `override /etc/pve/…/vzdump-body.txt.hbs` (plus ` as HTML` for a text file
    /// rendered as the HTML part).
    pub fn describe(&self) -> String {
        let as_html = if self.from_text { " (as HTML)" } else { "" };
        format!("{} {}{as_html}", self.source.name(), self.file)
    }

    /// A real failure, worth a warning: exists but unreadable or broken.
    pub fn failed(&self) -> bool {
        self.error.is_some() && !self.missing
    }
}

/// How one part was found: every candidate looked at, in order; the last one rendered
/// the part when `rendered` is set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartTrace {
    pub part: Part,
    pub rendered: bool,
    pub attempts: Vec<Attempt>,
}

impl PartTrace {
    /// The candidate that rendered the part.
    pub fn used(&self) -> Option<&Attempt> {
        self.attempts.last().filter(|_| self.rendered)
    }

    /// `template 'NAME': cannot render the PART part; tried: …` naming every file.
    pub fn failure_message(&self, template: &str) -> String {
        let tried: Vec<String> = self
            .attempts
            .iter()
            .map(|a| match (&a.error, a.missing) {
                (_, true) => format!("{} (not found)", a.describe()),
                (Some(error), false) => format!("{} ({error})", a.describe()),
                (None, false) => a.describe(),
            })
            .collect();
        format!(
            "template '{template}': cannot render the {} part; tried {}",
            self.part.name(),
            tried.join(", ")
        )
    }
}

/// The rendered parts of one template and how each was found. `html` is `None` when it
/// was not asked for, `Some(Err(message))` when no candidate rendered it.
#[derive(Debug, Clone)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: Option<Result<String, String>>,
    pub trace: Vec<PartTrace>,
}

/// Subject or text could not be rendered: nothing can be sent. `trace` shows why.
#[derive(Debug, Clone)]
pub struct Failure {
    pub message: String,
    pub trace: Vec<PartTrace>,
}

struct Candidate {
    tier: Tier,
    part: Part,
    mode: Mode,
}

/// The candidates of templates.md §2, in order.
fn candidates(part: Part) -> Vec<Candidate> {
    let own = |tier, mode| Candidate { tier, part, mode };
    match part {
        Part::Subject | Part::Text => {
            let mode = if part == Part::Subject {
                Mode::Subject
            } else {
                Mode::Text
            };
            vec![
                own(Tier::Override, mode),
                own(Tier::Vendor, mode),
                own(Tier::BuiltIn, mode),
            ]
        }
        Part::Html => {
            let from_text = |tier| Candidate {
                tier,
                part: Part::Text,
                mode: Mode::HtmlFromText,
            };
            vec![
                own(Tier::Override, Mode::Html),
                own(Tier::Vendor, Mode::Html),
                from_text(Tier::Override),
                from_text(Tier::Vendor),
                own(Tier::BuiltIn, Mode::Html),
            ]
        }
    }
}

/// What a lookup needs besides the data.
pub struct Lookup<'a> {
    pub files: &'a dyn TemplateFiles,
    pub local_time: LocalTime,
}

impl Lookup<'_> {
    fn part(&self, name: &str, part: Part, data: &Data) -> (Option<String>, PartTrace) {
        let mut trace = PartTrace {
            part,
            rendered: false,
            attempts: Vec::new(),
        };
        for candidate in candidates(part) {
            let file = candidate.part.file_name(name);
            let (location, text) = match candidate.tier {
                Tier::BuiltIn => (
                    file.clone(),
                    Ok(builtin::template(&file).map(str::to_string)),
                ),
                tier => (
                    self.files.location(tier, &file),
                    self.files.read(tier, &file),
                ),
            };
            let mut attempt = Attempt {
                source: candidate.tier,
                file: location,
                from_text: candidate.mode == Mode::HtmlFromText,
                error: None,
                missing: false,
            };
            let result = match text {
                Ok(Some(text)) => render(&text, data, candidate.mode, self.local_time),
                Ok(None) => {
                    // Built-in templates exist for five names only; other names simply
                    // have no such tier.
                    if candidate.tier == Tier::BuiltIn {
                        continue;
                    }
                    attempt.missing = true;
                    Err("not found".to_string())
                }
                Err(reason) => Err(format!("cannot read it: {reason}")),
            };
            match result {
                Ok(rendered) => {
                    trace.attempts.push(attempt);
                    trace.rendered = true;
                    return (Some(rendered), trace);
                }
                Err(error) => {
                    attempt.error = Some(error);
                    trace.attempts.push(attempt);
                }
            }
        }
        (None, trace)
    }
}

/// Renders subject and text, and the HTML part when `html` is asked for.
pub fn render_template(
    lookup: &Lookup<'_>,
    name: &str,
    data: &Data,
    html: bool,
) -> Result<Rendered, Failure> {
    let (subject, subject_trace) = lookup.part(name, Part::Subject, data);
    let (text, text_trace) = lookup.part(name, Part::Text, data);
    let mut trace = vec![subject_trace, text_trace];
    let (Some(subject), Some(text)) = (subject, text) else {
        let message = trace
            .iter()
            .filter(|t| !t.rendered)
            .map(|t| t.failure_message(name))
            .collect::<Vec<_>>()
            .join("; ");
        return Err(Failure { message, trace });
    };
    let html = html.then(|| {
        let (html, html_trace) = lookup.part(name, Part::Html, data);
        let result = html.ok_or_else(|| html_trace.failure_message(name));
        trace.push(html_trace);
        result
    });
    Ok(Rendered {
        subject,
        text,
        html,
        trace,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::collections::BTreeMap;

    /// Files in memory; a value of `None` stands for an unreadable file.
    #[derive(Default)]
    struct Files(BTreeMap<(&'static str, String), Option<&'static str>>);

    impl Files {
        fn with(mut self, tier: Tier, file: &str, text: &'static str) -> Self {
            self.0.insert((tier.name(), file.to_string()), Some(text));
            self
        }

        fn unreadable(mut self, tier: Tier, file: &str) -> Self {
            self.0.insert((tier.name(), file.to_string()), None);
            self
        }
    }

    impl TemplateFiles for Files {
        fn read(&self, tier: Tier, file: &str) -> Result<Option<String>, String> {
            match self.0.get(&(tier.name(), file.to_string())) {
                None => Ok(None),
                Some(None) => Err("permission denied".to_string()),
                Some(Some(text)) => Ok(Some(text.to_string())),
            }
        }

        fn location(&self, tier: Tier, file: &str) -> String {
            format!("/{}/{file}", tier.name())
        }
    }

    fn utc(epoch: i64) -> Option<String> {
        chrono::DateTime::from_timestamp(epoch, 0).map(|t| t.format("%F %H:%M:%S").to_string())
    }

    fn render_with(files: &Files, name: &str) -> Result<Rendered, Failure> {
        let lookup = Lookup {
            files,
            local_time: utc,
        };
        render_template(&lookup, name, &Data::new(json!({"x": "<X>"}), 0), true)
    }

    fn sources(rendered: &Rendered) -> Vec<String> {
        rendered
            .trace
            .iter()
            .map(|t| t.used().map_or("-".to_string(), |a| a.describe()))
            .collect()
    }

    #[test]
    fn override_subject_only_keeps_vendor_bodies() {
        let files = Files::default()
            .with(Tier::Override, "job-subject.txt.hbs", "mine {{x}}")
            .with(Tier::Vendor, "job-subject.txt.hbs", "vendor {{x}}")
            .with(Tier::Vendor, "job-body.txt.hbs", "text {{x}}")
            .with(Tier::Vendor, "job-body.html.hbs", "<p>{{x}}</p>");
        let rendered = render_with(&files, "job").unwrap();
        assert_eq!(rendered.subject, "mine <X>");
        assert_eq!(rendered.text, "text <X>");
        assert_eq!(rendered.html, Some(Ok("<p>&lt;X&gt;</p>".to_string())));
        assert_eq!(
            sources(&rendered),
            [
                "override /override/job-subject.txt.hbs",
                "vendor /vendor/job-body.txt.hbs",
                "vendor /vendor/job-body.html.hbs"
            ]
        );
    }

    #[test]
    fn override_text_only_leaves_the_vendor_html() {
        let files = Files::default()
            .with(Tier::Override, "job-body.txt.hbs", "mine")
            .with(Tier::Vendor, "job-subject.txt.hbs", "s")
            .with(Tier::Vendor, "job-body.txt.hbs", "vendor")
            .with(Tier::Vendor, "job-body.html.hbs", "<p>vendor</p>");
        let rendered = render_with(&files, "job").unwrap();
        assert_eq!(rendered.text, "mine");
        assert_eq!(rendered.html, Some(Ok("<p>vendor</p>".to_string())));
    }

    #[test]
    fn broken_override_falls_through_to_vendor_with_the_reason_kept() {
        let files = Files::default()
            .with(Tier::Override, "job-subject.txt.hbs", "{{#if x}}unclosed")
            .unreadable(Tier::Override, "job-body.txt.hbs")
            .with(Tier::Vendor, "job-subject.txt.hbs", "vendor")
            .with(Tier::Vendor, "job-body.txt.hbs", "text");
        let rendered = render_with(&files, "job").unwrap();
        assert_eq!(rendered.subject, "vendor");
        assert_eq!(rendered.text, "text");
        let subject = &rendered.trace[0];
        assert!(subject.attempts[0].failed());
        assert!(
            subject.attempts[0]
                .error
                .as_deref()
                .unwrap()
                .starts_with("line 1"),
            "{:?}",
            subject.attempts[0]
        );
        let text = &rendered.trace[1];
        assert_eq!(
            text.attempts[0].error.as_deref(),
            Some("cannot read it: permission denied")
        );
    }

    #[test]
    fn missing_html_comes_from_the_text() {
        let files = Files::default()
            .with(Tier::Vendor, "job-subject.txt.hbs", "s")
            .with(Tier::Vendor, "job-body.txt.hbs", "a <b> {{x}}");
        let rendered = render_with(&files, "job").unwrap();
        assert_eq!(
            rendered.html,
            Some(Ok(
                "<html><body><pre>a &lt;b&gt; &lt;X&gt;</pre></body></html>".to_string()
            ))
        );
        let html = &rendered.trace[2];
        assert_eq!(
            html.used().unwrap().describe(),
            "vendor /vendor/job-body.txt.hbs (as HTML)"
        );
        // Both html files and the override text were looked for first.
        assert_eq!(html.attempts.iter().filter(|a| a.missing).count(), 3);
    }

    #[test]
    fn built_in_templates_are_the_last_tier() {
        let rendered = render_with(&Files::default(), "test").unwrap();
        assert_eq!(rendered.subject, "Test notification");
        assert_eq!(sources(&rendered)[0], "built-in test-subject.txt.hbs");
        let files = Files::default().with(Tier::Vendor, "test-subject.txt.hbs", "Vendor test\n");
        assert_eq!(render_with(&files, "test").unwrap().subject, "Vendor test ");
    }

    #[test]
    fn unknown_template_names_every_file_tried() {
        let failure = render_with(&Files::default(), "nope").unwrap_err();
        assert_eq!(
            failure.message,
            "template 'nope': cannot render the subject part; tried override /override/nope-subject.txt.hbs (not found), vendor /vendor/nope-subject.txt.hbs (not found); \
             template 'nope': cannot render the text part; tried override /override/nope-body.txt.hbs (not found), vendor /vendor/nope-body.txt.hbs (not found)"
        );
    }

    #[test]
    fn html_is_only_rendered_when_asked_for() {
        let lookup = Lookup {
            files: &Files::default(),
            local_time: utc,
        };
        let rendered = render_template(&lookup, "test", &Data::new(json!({}), 0), false).unwrap();
        assert_eq!(rendered.html, None);
        assert_eq!(rendered.trace.len(), 2);
    }
}
