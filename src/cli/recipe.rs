//! `recipe`: prints a webhook recipe's sections (or the list of recipes) from the table in
//! `recipes`; reads and writes no file.

use serde::Serialize;

use super::Output;
use super::args::RecipeArgs;
use crate::config::value;
use crate::exit::ExitStatus;
use crate::recipes::{self, RECIPES, Recipe};

pub(super) fn run(args: &RecipeArgs, out: &Output) -> ExitStatus {
    if args.list {
        list(out);
        return ExitStatus::Ok;
    }
    let service = args.service.as_deref().unwrap_or_default();
    let Some(recipe) = recipes::find(service) else {
        let names: Vec<&str> = RECIPES.iter().map(|r| r.name).collect();
        out.error(&format!(
            "no recipe for '{service}' (there are: {})",
            names.join(", ")
        ));
        return ExitStatus::Usage;
    };
    let name = args.name.as_deref().unwrap_or(recipe.name);
    if let Err(reason) = value::check_entity_name(name) {
        out.error(&format!(
            "--name '{name}' cannot be a section name: {reason}"
        ));
        return ExitStatus::Usage;
    }
    let public = recipe.public_section(name);
    let private = recipe.private_section(name);
    if out.is_json() {
        out.json(&RecipeJson {
            service: recipe.name,
            public: &public,
            private: &private,
            secrets: recipe
                .secrets
                .iter()
                .map(|s| SecretJson {
                    name: s.name,
                    placeholder: s.placeholder,
                    source: s.source,
                })
                .collect(),
        });
    } else if args.public {
        out.stdout(&public);
    } else if args.private {
        out.stdout(&private);
    } else {
        out.stdout(&both(recipe, &public, &private));
    }
    ExitStatus::Ok
}

/// Both sections, each under a line saying where it goes, and what the placeholders stand
/// for.
fn both(recipe: &Recipe, public: &str, private: &str) -> String {
    let mut text = format!("Add to /etc/pve/notifications.cfg:\n\n{public}");
    text.push_str(
        "Add to /etc/pve/priv/notifications.cfg, each value replaced by the base64 of the \
         real secret (printf '%s' 'SECRET' | base64 -w0):\n",
    );
    for secret in recipe.secrets {
        text.push_str(&format!(
            "  {} ({}): {}\n",
            secret.name, secret.placeholder, secret.source
        ));
    }
    text.push('\n');
    text.push_str(private);
    text
}

fn list(out: &Output) {
    if out.is_json() {
        let list: Vec<ListJson> = RECIPES
            .iter()
            .map(|r| ListJson {
                service: r.name,
                name: r.service,
                limit: r.limit,
                answers: r.answers,
            })
            .collect();
        out.json(&list);
        return;
    }
    let width = RECIPES.iter().map(|r| r.name.len()).max().unwrap_or(0);
    let mut text = String::new();
    for recipe in RECIPES {
        text.push_str(&format!(
            "{:width$}  {}: {}\n",
            recipe.name, recipe.service, recipe.limit
        ));
    }
    out.stdout(&text);
}

#[derive(Serialize)]
struct RecipeJson<'a> {
    service: &'a str,
    public: &'a str,
    private: &'a str,
    secrets: Vec<SecretJson<'a>>,
}

#[derive(Serialize)]
struct SecretJson<'a> {
    name: &'a str,
    placeholder: &'a str,
    source: &'a str,
}

#[derive(Serialize)]
struct ListJson<'a> {
    service: &'a str,
    name: &'a str,
    limit: &'a str,
    answers: &'a str,
}
