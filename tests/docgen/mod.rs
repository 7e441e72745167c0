//! Man pages and shell completions, generated from the clap definition in
//! `pvenotify::cli::args` so that `--help`, `man` and tab completion can never disagree.
//!
//! Options, commands and their descriptions come from clap (via `clap_mangen` and
//! `clap_complete`). What `--help` has no room for (the configuration files, the calendar
//! syntax, output shapes, exit statuses, environment, files and examples) is prose in one
//! text file per page under `doc/man/`, in the small markup that `doc/man/README.md`
//! describes; this module parses it and renders it to roff, filling in the parts that come
//! from the clap definition. Every subcommand of the clap definition gets its own page, so a
//! new subcommand is picked up by re-running the generation.
//!
//! The generator lives with the tests so that the program does not link `clap_mangen` and
//! `clap_complete` (dev-dependencies). The results are committed under `man/` and
//! `completions/`; `tests/docs.rs` fails when they are stale and rewrites them with
//! `PVENOTIFY_UPDATE_DOCS=1 cargo test --test docs`. Output is deterministic: no date, and
//! the crate version is the only thing that changes between releases.

use clap::Command;
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, roman};

use pvenotify::cli::args;
use pvenotify::exit::STATUSES;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAN_SECTION: &str = "1";
const MANUAL: &str = "pvenotify manual";

/// The man pages: `pvenotify.1` and one `pvenotify-COMMAND.1` per subcommand, as
/// (file name, roff source).
pub fn man_pages() -> Vec<(String, Vec<u8>)> {
    let top = man_command();
    let mut pages = vec![(
        format!("{}.{MAN_SECTION}", top.get_name()),
        render_page(&top, &top),
    )];
    for sub in documented_subcommands(&top) {
        pages.push((
            format!("{}.{MAN_SECTION}", display_name(sub)),
            render_page(sub, &top),
        ));
    }
    pages
}

/// Completion scripts for bash, zsh and fish, as (file name, script), named the way each
/// shell looks them up.
pub fn completions() -> Vec<(String, Vec<u8>)> {
    let name = args::command().get_name().to_string();
    [
        (Shell::Bash, format!("{name}.bash")),
        (Shell::Zsh, format!("_{name}")),
        (Shell::Fish, format!("{name}.fish")),
    ]
    .into_iter()
    .map(|(shell, file)| {
        let mut cmd = args::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, name.clone(), &mut script);
        (file, script)
    })
    .collect()
}

/// The command tree the man pages describe: built (so global options are propagated to
/// the subcommands), without the `help` subcommand, which needs no page.
fn man_command() -> Command {
    let mut cmd = args::command().disable_help_subcommand(true);
    cmd.build();
    cmd
}

fn documented_subcommands(top: &Command) -> impl Iterator<Item = &Command> {
    top.get_subcommands().filter(|sub| !sub.is_hide_set())
}

/// `pvenotify` for the top level, `pvenotify-send` for a subcommand.
fn display_name(cmd: &Command) -> &str {
    cmd.get_display_name().unwrap_or_else(|| cmd.get_name())
}

fn render_page(cmd: &Command, top: &Command) -> Vec<u8> {
    let is_top = std::ptr::eq(cmd, top);
    let man = Man::new(cmd.clone())
        .title(display_name(cmd).to_uppercase())
        .section(MAN_SECTION)
        .source(format!("{} {VERSION}", top.get_name()))
        .manual(MANUAL);
    let prose = prose(display_name(cmd));

    let mut page = Vec::new();
    man.render_title(&mut page).expect("writing to a Vec");
    // No hyphenation: file names and option names must stay whole.
    page.extend_from_slice(b".nh\n");
    let mut append = |render: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
        let mut part = Vec::new();
        render(&mut part).expect("writing to a Vec");
        page.extend_from_slice(strip_preamble(&part));
    };
    append(&|w| man.render_name_section(w));
    append(&|w| synopsis(cmd, top, is_top, &prose.synopsis).to_writer(w));
    append(&|w| description(cmd).to_writer(w));
    if cmd.get_arguments().any(|arg| !arg.is_hide_set()) {
        append(&|w| man.render_options_section(w));
    }
    if cmd.has_subcommands() {
        append(&|w| man.render_subcommands_section(w));
    }
    let mut sections = prose.sections;
    sections.push(see_also(cmd, top));
    append(&|w| render_sections(&sections, top).to_writer(w));
    page
}

/// Every `Roff` document starts with the same preamble (a string definition for
/// apostrophes); the page needs it once, at the top.
fn strip_preamble(part: &[u8]) -> &[u8] {
    let mut preamble = Vec::new();
    Roff::new()
        .to_writer(&mut preamble)
        .expect("writing to a Vec");
    part.strip_prefix(preamble.as_slice()).unwrap_or(part)
}

/// One line per invocation form, taken from clap's usage (the same as `--help` shows):
/// for the top page one per subcommand.
fn synopsis(cmd: &Command, top: &Command, is_top: bool, extra: &[String]) -> Roff {
    let mut forms: Vec<String> = if is_top {
        documented_subcommands(top).map(usage).collect()
    } else {
        vec![usage(cmd)]
    };
    if is_top {
        forms.push(format!("{} --help | --version", top.get_name()));
    }
    forms.extend(extra.iter().cloned());

    let mut roff = Roff::new();
    roff.control("SH", ["SYNOPSIS"]);
    for (i, form) in forms.iter().enumerate() {
        if i > 0 {
            roff.control("br", []);
        }
        // The program (and subcommand) name in bold, the rest as clap writes it.
        let words: Vec<&str> = form.split(' ').collect();
        let name_words = words
            .iter()
            .take_while(|w| !w.starts_with(['[', '<', '-']))
            .count()
            .max(1);
        roff.text([
            bold(words[..name_words].join(" ")),
            roman(
                format!(" {}", words[name_words..].join(" "))
                    .trim_end()
                    .to_string(),
            ),
        ]);
    }
    roff
}

/// The long description without its first paragraph, which is the summary already shown
/// in NAME.
fn description(cmd: &Command) -> Roff {
    let text = cmd
        .get_long_about()
        .or_else(|| cmd.get_about())
        .map(|text| text.to_string())
        .unwrap_or_default();
    let paragraphs: Vec<&str> = text
        .split("\n\n")
        .map(str::trim)
        .filter(|para| !para.is_empty())
        .collect();
    let skip = usize::from(paragraphs.len() > 1);
    let mut roff = Roff::new();
    roff.control("SH", ["DESCRIPTION"]);
    for (i, para) in paragraphs.iter().skip(skip).enumerate() {
        if i > 0 {
            roff.control("PP", []);
        }
        roff.text([roman(para.split_whitespace().collect::<Vec<_>>().join(" "))]);
    }
    roff
}

fn usage(cmd: &Command) -> String {
    let usage = cmd.clone().render_usage().to_string();
    usage
        .strip_prefix("Usage: ")
        .unwrap_or(&usage)
        .trim()
        .to_string()
}

fn see_also(cmd: &Command, top: &Command) -> Section {
    let this = display_name(cmd);
    let mut refs: Vec<String> = std::iter::once(top)
        .chain(documented_subcommands(top))
        .map(display_name)
        .filter(|name| *name != this)
        .map(|name| format!("`{name}`({MAN_SECTION})"))
        .collect();
    refs.extend(["sendmail(8)", "local(8)", "sysexits.h(3head)"].map(String::from));
    Section {
        title: "SEE ALSO".to_string(),
        blocks: vec![Block::Para(refs.join(", "))],
    }
}

// ---------------------------------------------------------------------------------------
// The prose: text files in a small markup, parsed into blocks and rendered to roff.

/// The prose of each page, by page name: `doc/man/PAGE.txt`. A new page needs its file
/// and a line here; `tests::every_prose_file_is_used` checks that none is forgotten.
const PROSE: &[(&str, &str)] = &[
    ("pvenotify", include_str!("../../doc/man/pvenotify.txt")),
    (
        "pvenotify-send",
        include_str!("../../doc/man/pvenotify-send.txt"),
    ),
    (
        "pvenotify-test-target",
        include_str!("../../doc/man/pvenotify-test-target.txt"),
    ),
    (
        "pvenotify-validate",
        include_str!("../../doc/man/pvenotify-validate.txt"),
    ),
    (
        "pvenotify-list",
        include_str!("../../doc/man/pvenotify-list.txt"),
    ),
    (
        "pvenotify-forward-mail",
        include_str!("../../doc/man/pvenotify-forward-mail.txt"),
    ),
    (
        "pvenotify-run",
        include_str!("../../doc/man/pvenotify-run.txt"),
    ),
    (
        "pvenotify-recipe",
        include_str!("../../doc/man/pvenotify-recipe.txt"),
    ),
];

/// The prose of a subcommand page that has no file of its own yet.
const NO_PROSE: &str =
    "= EXIT STATUS\n\nSee EXIT STATUS in `pvenotify`(1) for the meaning of each status.\n";

/// Opens and closes a verbatim block.
const FENCE: &str = "```";

fn prose(page: &str) -> Prose {
    let text = PROSE
        .iter()
        .find(|(name, _)| *name == page)
        .map_or(NO_PROSE, |(_, text)| text);
    parse(page, text)
}

/// What a page's prose adds to the generated parts: extra synopsis lines and sections.
#[derive(Default)]
struct Prose {
    synopsis: Vec<String>,
    sections: Vec<Section>,
}

struct Section {
    title: String,
    blocks: Vec<Block>,
}

/// A piece of a man section. In paragraph and item text, `backticked` parts are set in
/// bold and runs of white space collapse into one space, so the files can be wrapped freely.
enum Block {
    /// A filled paragraph.
    Para(String),
    /// A tagged paragraph: a term and its explanation, as in an option list.
    Item(String, String),
    /// Lines shown as they are, indented (commands, file excerpts).
    Verbatim(Vec<String>),
    /// A subsection heading.
    Sub(String),
    /// One item per environment variable that clap reads for an option.
    Environment,
    /// One item per exit status, from [`STATUSES`].
    ExitStatuses,
}

/// Parses the markup of `doc/man/README.md`. A mistake in a file is a bug of the build, so
/// it panics with the file and line, which fails the docs tests.
fn parse(page: &str, text: &str) -> Prose {
    let mut prose = Prose::default();
    // Whether the next line continues the open paragraph or item.
    let mut open = false;
    let mut in_verbatim = false;
    for (number, line) in (1..).zip(text.lines()) {
        let line = line.trim_end();
        let fail = |problem: &str| -> ! { panic!("doc/man/{page}.txt:{number}: {problem}") };
        let blocks = prose.sections.last_mut().map(|section| &mut section.blocks);
        if in_verbatim {
            if line == FENCE {
                in_verbatim = false;
            } else if let Some(Block::Verbatim(lines)) = blocks.and_then(|b| b.last_mut()) {
                lines.push(line.to_string());
            }
            continue;
        }
        if line.is_empty() {
            open = false;
            continue;
        }
        if let Some(title) = line.strip_prefix("= ") {
            prose.sections.push(Section {
                title: title.trim().to_string(),
                blocks: Vec::new(),
            });
            open = false;
            continue;
        }
        if let Some(form) = line.strip_prefix("@synopsis ") {
            prose.synopsis.push(form.trim().to_string());
            continue;
        }
        let Some(blocks) = blocks else {
            fail("text before the first section (a line '= TITLE')");
        };
        let new_item = line.strip_prefix("* ");
        if open && new_item.is_none() {
            match blocks.last_mut() {
                Some(Block::Para(text) | Block::Item(_, text)) => {
                    if !text.is_empty() {
                        text.push('\n');
                    }
                    text.push_str(line.trim_start());
                }
                _ => unreachable!("only paragraphs and items stay open"),
            }
            continue;
        }
        if open && matches!(blocks.last(), Some(Block::Para(_))) {
            fail("'* ' in a paragraph; start the item after a blank line");
        }
        open = false;
        if let Some(term) = new_item {
            blocks.push(Block::Item(term.trim().to_string(), String::new()));
            open = true;
        } else if let Some(title) = line.strip_prefix("== ") {
            blocks.push(Block::Sub(title.trim().to_string()));
        } else if line == FENCE {
            blocks.push(Block::Verbatim(Vec::new()));
            in_verbatim = true;
        } else if line == "@environment" {
            blocks.push(Block::Environment);
        } else if line == "@exit-statuses" {
            blocks.push(Block::ExitStatuses);
        } else if line.starts_with('@') {
            fail("unknown directive");
        } else {
            blocks.push(Block::Para(line.to_string()));
            open = true;
        }
    }
    if in_verbatim {
        panic!("doc/man/{page}.txt: verbatim block without closing {FENCE}");
    }
    let blocks = prose.sections.iter().flat_map(|section| &section.blocks);
    for block in blocks {
        if let Block::Item(term, text) = block
            && text.is_empty()
        {
            panic!("doc/man/{page}.txt: item '{term}' has no description");
        }
    }
    prose
}

fn render_sections(sections: &[Section], top: &Command) -> Roff {
    let mut roff = Roff::new();
    for section in sections {
        roff.control("SH", [section.title.as_str()]);
        for block in &section.blocks {
            match block {
                Block::Para(text) => {
                    roff.control("PP", []);
                    roff.text(inline(text));
                }
                Block::Item(tag, text) => render_item(&mut roff, tag, text),
                Block::Verbatim(lines) => {
                    roff.control("PP", []);
                    roff.control("RS", ["4"]);
                    roff.control("nf", []);
                    for line in lines {
                        if line.is_empty() {
                            roff.control("sp", []);
                        } else {
                            roff.text([roman(line)]);
                        }
                    }
                    roff.control("fi", []);
                    roff.control("RE", []);
                }
                Block::Sub(title) => {
                    roff.control("SS", [title.as_str()]);
                }
                Block::Environment => {
                    for (tag, text) in environment_items(top) {
                        render_item(&mut roff, &tag, &text);
                    }
                }
                Block::ExitStatuses => {
                    for row in STATUSES {
                        render_item(&mut roff, &row.status.code().to_string(), row.meaning);
                    }
                }
            }
        }
    }
    roff
}

fn render_item(roff: &mut Roff, tag: &str, text: &str) {
    roff.control("TP", []);
    roff.text(inline(tag));
    roff.text(inline(text));
}

/// Collapses white space and sets `backticked` parts in bold.
fn inline(text: &str) -> Vec<Inline> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    text.split('`')
        .enumerate()
        .filter(|(_, part)| !part.is_empty())
        .map(
            |(i, part)| {
                if i % 2 == 1 { bold(part) } else { roman(part) }
            },
        )
        .collect()
}

/// The variables clap reads for options, from the definition, so that new ones appear by
/// themselves: (term, explanation) for `@environment`.
fn environment_items(top: &Command) -> Vec<(String, String)> {
    let mut items = Vec::new();
    let mut seen = Vec::new();
    let commands = std::iter::once(top).chain(documented_subcommands(top));
    for cmd in commands {
        for arg in cmd.get_arguments() {
            let (Some(env), Some(long)) = (arg.get_env(), arg.get_long()) else {
                continue;
            };
            let env = env.to_string_lossy().into_owned();
            if seen.contains(&env) {
                continue;
            }
            let scope = if arg.is_global_set() || std::ptr::eq(cmd, top) {
                String::new()
            } else {
                format!(" of `{}`", cmd.get_name())
            };
            items.push((
                format!("`{env}`"),
                format!("Default for `--{long}`{scope}; the option takes precedence."),
            ));
            seen.push(env);
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page_text(name: &str) -> String {
        let (_, roff) = man_pages()
            .into_iter()
            .find(|(file, _)| file == name)
            .unwrap_or_else(|| panic!("no man page {name}"));
        String::from_utf8(roff).expect("roff is UTF-8")
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(man_pages(), man_pages());
        assert_eq!(completions(), completions());
    }

    #[test]
    fn backticks_become_bold_and_white_space_collapses() {
        let mut roff = Roff::new();
        roff.text(inline("use `--dry-run`\n   first"));
        assert!(roff.to_roff().contains(r"use \fB\-\-dry\-run\fR first"));
    }

    #[test]
    fn markup_blocks() {
        let prose = parse(
            "t",
            "@synopsis x [OPTIONS]\n\n= ONE\n\nsome\ntext\n\n* `term`\n  its\n  text\n\
             * second\n  more\n\n```\n  a\n\n b\n```\n== Sub\n@environment\n",
        );
        assert_eq!(prose.synopsis, ["x [OPTIONS]"]);
        assert_eq!(prose.sections.len(), 1);
        let blocks: Vec<String> = prose.sections[0]
            .blocks
            .iter()
            .map(|block| match block {
                Block::Para(text) => format!("p:{text}"),
                Block::Item(term, text) => format!("i:{term}|{text}"),
                Block::Verbatim(lines) => format!("v:{}", lines.join("/")),
                Block::Sub(title) => format!("s:{title}"),
                Block::Environment => "env".to_string(),
                Block::ExitStatuses => "exit".to_string(),
            })
            .collect();
        assert_eq!(
            blocks,
            [
                "p:some\ntext",
                "i:`term`|its\ntext",
                "i:second|more",
                "v:  a// b",
                "s:Sub",
                "env"
            ]
        );
    }

    #[test]
    #[should_panic(expected = "doc/man/t.txt:1: text before the first section")]
    fn text_outside_a_section_is_refused() {
        parse("t", "words\n");
    }

    #[test]
    #[should_panic(expected = "doc/man/t.txt: item '`x`' has no description")]
    fn item_without_description_is_refused() {
        parse("t", "= A\n\n* `x`\n\n= B\n");
    }

    #[test]
    #[should_panic(expected = "doc/man/t.txt:3: unknown directive")]
    fn unknown_directive_is_refused() {
        parse("t", "= A\n\n@nothing\n");
    }

    #[test]
    fn every_prose_file_is_used() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/doc/man");
        let top = man_command();
        let pages: Vec<&str> = std::iter::once(&top)
            .chain(documented_subcommands(&top))
            .map(display_name)
            .collect();
        for entry in std::fs::read_dir(dir).expect("doc/man") {
            let file = entry.expect("doc/man entry").file_name();
            let Some(page) = file.to_str().and_then(|f| f.strip_suffix(".txt")) else {
                continue;
            };
            assert!(
                PROSE.iter().any(|(name, _)| *name == page),
                "doc/man/{page}.txt is not in PROSE"
            );
            assert!(pages.contains(&page), "doc/man/{page}.txt: no such page");
        }
    }

    #[test]
    fn one_preamble_and_one_title_per_page() {
        for (name, roff) in man_pages() {
            let text = String::from_utf8(roff).unwrap();
            assert_eq!(text.matches(".TH ").count(), 1, "{name}");
            assert_eq!(text.matches(".ie \\n(.g .ds Aq").count(), 1, "{name}");
            assert!(
                !text.contains(".SH EXTRA"),
                "{name}: after_long_help leaked"
            );
        }
    }

    #[test]
    fn top_page_has_the_sections_help_cannot_carry() {
        let text = page_text("pvenotify.1");
        for section in [
            "SYNOPSIS",
            "DESCRIPTION",
            "CONFIGURATION FILES",
            "CALENDAR SYNTAX",
            "EXIT STATUS",
            "ENVIRONMENT",
            "FILES",
            "EXAMPLES",
            "SEE ALSO",
        ] {
            assert!(
                text.contains(&format!(".SH \"{section}\""))
                    || text.contains(&format!(".SH {section}\n")),
                "{section}"
            );
        }
        assert!(text.contains(r"PVENOTIFY_CONFIG_DIR"));
    }
}
