//! `validate`: every finding of all four files, then a summary; exit 78 on errors.

use serde::Serialize;

use super::args::ValidateArgs;
use super::template;
use super::{Host, Output};
use crate::config::{self, Finding, FindingKind};
use crate::exit::{self, ExitStatus};

pub(super) fn run(args: &ValidateArgs, host: &Host<'_>, out: &Output) -> ExitStatus {
    let loaded = config::load(&host.config_dir, &host.facts(true));
    let mut findings = loaded.findings.clone();
    findings.extend(
        template::check_overrides(host)
            .into_iter()
            .map(|problem| Finding {
                file: problem.file,
                line: problem.line,
                kind: if problem.warning {
                    FindingKind::Warning
                } else {
                    FindingKind::ValidationError
                },
                message: problem.message,
            }),
    );
    let findings = &findings;
    let errors = findings.iter().filter(|f| f.is_error()).count();
    let warnings = findings.len() - errors;
    let status = exit::validate_status(errors, warnings, args.strict);

    if out.is_json() {
        out.json(&ValidateJson {
            valid: status == ExitStatus::Ok,
            errors,
            warnings,
            findings: findings.iter().map(FindingJson::from).collect(),
        });
        return status;
    }

    let mut text = String::new();
    for finding in findings {
        if finding.is_error() || !out.is_quiet() {
            text.push_str(&finding.to_string());
            text.push('\n');
        }
    }
    if !out.is_quiet() {
        text.push_str(&summary(errors, warnings, status == ExitStatus::Ok));
        text.push('\n');
    }
    out.stdout(&text);
    status
}

fn summary(errors: usize, warnings: usize, valid: bool) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    if valid {
        match warnings {
            0 => "configuration is valid".to_string(),
            n => format!("configuration is valid, {}", plural(n, "warning")),
        }
    } else {
        format!(
            "{}, {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        )
    }
}

#[derive(Serialize)]
struct ValidateJson<'a> {
    valid: bool,
    errors: usize,
    warnings: usize,
    findings: Vec<FindingJson<'a>>,
}

#[derive(Serialize)]
struct FindingJson<'a> {
    file: String,
    line: Option<usize>,
    severity: &'static str,
    message: &'a str,
}

impl<'a> From<&'a Finding> for FindingJson<'a> {
    fn from(finding: &'a Finding) -> Self {
        FindingJson {
            file: finding.file.display().to_string(),
            line: finding.line,
            severity: match finding.kind {
                FindingKind::Warning => "warning",
                _ => "error",
            },
            message: &finding.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_lines() {
        assert_eq!(summary(0, 0, true), "configuration is valid");
        assert_eq!(summary(0, 1, true), "configuration is valid, 1 warning");
        assert_eq!(summary(2, 2, false), "2 errors, 2 warnings");
        assert_eq!(summary(0, 3, false), "0 errors, 3 warnings");
    }
}
