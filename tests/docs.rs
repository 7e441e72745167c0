//! The committed man pages (`man/`) and shell completions (`completions/`) are generated
//! from the clap definition by `docgen`. This test fails when they are stale;
//! `PVENOTIFY_UPDATE_DOCS=1 cargo test --test docs` rewrites them.

mod docgen;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use clap::CommandFactory;
use pvenotify::cli::args::Cli;

const REGENERATE: &str = "run `PVENOTIFY_UPDATE_DOCS=1 cargo test --test docs`";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn updating() -> bool {
    std::env::var_os("PVENOTIFY_UPDATE_DOCS").is_some_and(|v| v == "1")
}

/// Compares (or, when updating, writes) one directory of generated files; returns the
/// problems found. Files in the directory that are no longer generated count as stale.
fn sync_dir(dir: &Path, generated: &[(String, Vec<u8>)], update: bool) -> Vec<String> {
    let mut problems = Vec::new();
    if update {
        fs::create_dir_all(dir).expect("create directory");
    }
    let rel = dir
        .strip_prefix(repo())
        .unwrap_or(dir)
        .display()
        .to_string();
    for (name, content) in generated {
        let path = dir.join(name);
        match fs::read(&path) {
            Ok(committed) if committed == *content => {}
            Ok(_) if update => fs::write(&path, content).expect("write"),
            Ok(_) => problems.push(format!("{rel}/{name} is out of date")),
            Err(_) if update => fs::write(&path, content).expect("write"),
            Err(_) => problems.push(format!("{rel}/{name} is missing")),
        }
    }
    let wanted: BTreeSet<&str> = generated.iter().map(|(n, _)| n.as_str()).collect();
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !wanted.contains(name.as_str()) {
                if update {
                    fs::remove_file(entry.path()).expect("remove stale file");
                } else {
                    problems.push(format!("{rel}/{name} is no longer generated"));
                }
            }
        }
    }
    problems
}

#[test]
fn committed_man_pages_and_completions_are_current() {
    let update = updating();
    let mut problems = sync_dir(&repo().join("man"), &docgen::man_pages(), update);
    problems.extend(sync_dir(
        &repo().join("completions"),
        &docgen::completions(),
        update,
    ));
    assert!(
        problems.is_empty(),
        "the generated documentation is stale:\n  {}\nTo regenerate, {REGENERATE} and commit the result.",
        problems.join("\n  ")
    );
}

/// The man page as plain text: roff's escaped hyphens and font changes removed.
fn plain(roff: &[u8]) -> String {
    String::from_utf8_lossy(roff)
        .replace(r"\-", "-")
        .replace(r"\fB", "")
        .replace(r"\fI", "")
        .replace(r"\fR", "")
}

#[test]
fn every_subcommand_and_long_option_is_in_the_man_pages() {
    let pages: Vec<(String, String)> = docgen::man_pages()
        .into_iter()
        .map(|(name, roff)| (name, plain(&roff)))
        .collect();
    let page = |name: &str| {
        pages
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, text)| text.as_str())
            .unwrap_or_else(|| panic!("no man page {name}"))
    };
    let cli = Cli::command();
    let top = page("pvenotify.1");
    for arg in cli.get_arguments() {
        if let Some(long) = arg.get_long() {
            assert!(
                top.contains(&format!("--{long}")),
                "pvenotify.1 lacks --{long}"
            );
        }
    }
    let mut count = 0;
    for sub in cli.get_subcommands().filter(|s| s.get_name() != "help") {
        count += 1;
        let name = sub.get_name();
        assert!(
            top.contains(&format!("pvenotify-{name}(1)")),
            "pvenotify.1 does not list {name}"
        );
        assert!(
            top.contains(&format!("pvenotify {name}")),
            "pvenotify.1 synopsis lacks {name}"
        );
        let text = page(&format!("pvenotify-{name}.1"));
        for arg in sub.get_arguments().chain(cli.get_arguments()) {
            if let Some(long) = arg.get_long() {
                assert!(
                    text.contains(&format!("--{long}")),
                    "pvenotify-{name}.1 lacks --{long}"
                );
            }
            if arg.is_positional() {
                let value = arg
                    .get_value_names()
                    .and_then(|v| v.first())
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| arg.get_id().to_string().to_uppercase());
                assert!(text.contains(&value), "pvenotify-{name}.1 lacks {value}");
            }
        }
    }
    assert!(
        count >= 4,
        "expected at least send, test-target, validate and list"
    );
}

/// README's "Layout" names every module of `src/` (a file `NAME.rs` or a folder `NAME/`).
#[test]
fn readme_layout_names_every_module() {
    let readme = fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme
        .find("\n## Layout\n")
        .expect("README has a Layout section");
    let layout = &readme[start + 1..];
    let layout = &layout[..layout[1..]
        .find("\n## ")
        .map_or(layout.len(), |end| end + 1)];
    let mut missing = Vec::new();
    for entry in fs::read_dir(repo().join("src")).expect("src/") {
        let name = entry.expect("src/ entry").file_name();
        let name = name.to_string_lossy();
        let module = name.strip_suffix(".rs").unwrap_or(&name);
        if !layout.contains(&format!("`src/{module}")) {
            missing.push(format!("src/{name}"));
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "README.md's Layout does not name {}; add a row for each",
        missing.join(", ")
    );
}
