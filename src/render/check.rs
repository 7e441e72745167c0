//! Static checks of a template file for `validate` (templates.md §6): it must parse, and
//! every helper it calls must exist in notification templates. Rendering cannot find an
//! unknown helper inside a branch that the data does not reach; this does.

use handlebars::template::{Parameter, Template, TemplateElement};

/// Handlebars' own helpers plus ours (templates.md §3, §4).
pub const HELPERS: &[&str] = &[
    "if",
    "unless",
    "each",
    "with",
    "lookup",
    "raw",
    "log",
    "eq",
    "ne",
    "gt",
    "gte",
    "lt",
    "lte",
    "and",
    "or",
    "not",
    "len",
    "human-bytes",
    "duration",
    "timestamp",
    "relative-percentage",
    "table",
    "object",
];

/// A problem in a template file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: Option<usize>,
    pub message: String,
}

/// Every problem of one template text; empty when it is fine.
pub fn check(text: &str) -> Vec<Problem> {
    let template = match Template::compile(text) {
        Ok(template) => template,
        Err(error) => {
            let line = error.pos().map(|(line, _)| line);
            let message =
                crate::redact::one_line(&error.reason().to_string(), crate::redact::QUOTE_LIMIT);
            return vec![Problem { line, message }];
        }
    };
    let mut problems = Vec::new();
    walk(&template, None, &mut problems);
    problems
}

fn walk(template: &Template, outer_line: Option<usize>, problems: &mut Vec<Problem>) {
    for (index, element) in template.elements.iter().enumerate() {
        let line = template.mapping.get(index).map(|m| m.0).or(outer_line);
        match element {
            TemplateElement::Expression(h) | TemplateElement::HtmlExpression(h) => {
                // `{{name}}` alone may be a variable; with arguments it is a helper call.
                if !h.params.is_empty() || !h.hash.is_empty() {
                    check_helper(&h.name, line, problems);
                }
                check_params(h.params.iter().chain(h.hash.values()), line, problems);
            }
            TemplateElement::HelperBlock(h) => {
                check_helper(&h.name, line, problems);
                check_params(h.params.iter().chain(h.hash.values()), line, problems);
                for inner in [&h.template, &h.inverse].into_iter().flatten() {
                    walk(inner, line, problems);
                }
            }
            TemplateElement::PartialExpression(_) | TemplateElement::PartialBlock(_) => {
                problems.push(Problem {
                    line,
                    message: "partials are not available in notification templates".to_string(),
                });
            }
            TemplateElement::DecoratorExpression(_) | TemplateElement::DecoratorBlock(_) => {
                problems.push(Problem {
                    line,
                    message: "decorators are not available in notification templates".to_string(),
                });
            }
            _ => {}
        }
    }
}

fn check_helper(name: &Parameter, line: Option<usize>, problems: &mut Vec<Problem>) {
    if let Parameter::Name(name) = name
        && !HELPERS.contains(&name.as_str())
    {
        problems.push(Problem {
            line,
            message: format!("unknown helper '{name}'"),
        });
    }
}

fn check_params<'a>(
    params: impl Iterator<Item = &'a Parameter>,
    line: Option<usize>,
    problems: &mut Vec<Problem>,
) {
    for param in params {
        if let Parameter::Subexpression(sub) = param
            && let TemplateElement::Expression(h) = sub.as_element()
        {
            check_helper(&h.name, line, problems);
            check_params(h.params.iter().chain(h.hash.values()), line, problems);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<(Option<usize>, String)> {
        check(text)
            .into_iter()
            .map(|p| (p.line, p.message))
            .collect()
    }

    #[test]
    fn good_templates_have_no_problems() {
        assert_eq!(
            lines("{{x}} {{#if a}}{{human-bytes b}}{{else}}{{table t}}{{/if}}"),
            []
        );
        assert_eq!(
            lines("{{#each xs}}{{this}}{{/each}} {{relative-percentage (len a) 2}}"),
            []
        );
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let found = lines("ok\nok\n{{#if x}}\nnever closed");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].0.is_some(), "{found:?}");
    }

    #[test]
    fn unknown_helpers_anywhere() {
        assert_eq!(
            lines("a\n{{#if x}}\n{{human-byte size}}\n{{/if}}"),
            [(Some(3), "unknown helper 'human-byte'".to_string())]
        );
        assert_eq!(
            lines("{{#bogus x}}{{/bogus}}"),
            [(Some(1), "unknown helper 'bogus'".to_string())]
        );
        assert_eq!(
            lines("{{human-bytes (sizeof x)}}"),
            [(Some(1), "unknown helper 'sizeof'".to_string())]
        );
        assert_eq!(
            lines("{{json fields}}"),
            [(Some(1), "unknown helper 'json'".to_string())]
        );
        assert_eq!(lines("{{> header}}").len(), 1);
    }

    #[test]
    fn every_listed_helper_exists_when_rendering() {
        let data = crate::render::Data::new(
            serde_json::json!({"t": {"schema": {"columns": []}, "data": []}}),
            0,
        );
        for helper in HELPERS {
            let text = match *helper {
                "if" | "unless" | "each" | "with" | "raw" => {
                    format!("{{{{#{helper} t}}}}{{{{/{helper}}}}}")
                }
                "relative-percentage"
                | "eq"
                | "ne"
                | "gt"
                | "gte"
                | "lt"
                | "lte"
                | "and"
                | "or"
                | "lookup" => {
                    format!("{{{{{helper} 1 2}}}}")
                }
                _ => format!("{{{{{helper} t}}}}"),
            };
            let result = crate::render::render(&text, &data, crate::render::Mode::Text, |_| None);
            assert!(
                !result
                    .as_ref()
                    .is_err_and(|e| e.contains("not defined") || e.contains("not found")),
                "{helper}: {result:?}"
            );
        }
    }
}
