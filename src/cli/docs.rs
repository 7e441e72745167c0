//! Man pages and shell completions, generated from the clap definition in [`super::args`]
//! so that `--help`, `man` and tab completion can never disagree.
//!
//! Options, commands and their descriptions come from clap (via `clap_mangen` and
//! `clap_complete`); this module adds only what `--help` has no room for: the
//! configuration files, the calendar syntax, output shapes, exit statuses, environment,
//! files and examples, written once here as small blocks and rendered to roff. Every
//! subcommand of the clap definition gets its own page, so a new subcommand is picked up by
//! re-running the generation. The results are committed under `man/` and `completions/`;
//! `tests/docs.rs` fails when they are stale and rewrites them with
//! `PVENOTIFY_UPDATE_DOCS=1 cargo test --test docs`. Output is deterministic: no date, and
//! the crate version is the only thing that changes between releases.

use clap::{Command, CommandFactory};
use clap_complete::Shell;
use clap_mangen::Man;
use clap_mangen::roff::{Inline, Roff, bold, roman};

use super::args::Cli;

const VERSION: &str = env!("CARGO_PKG_VERSION");
const MAN_SECTION: &str = "1";
const MANUAL: &str = "pvenotify manual";
const FORWARD_MAIL: &str = "forward-mail";

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
    let name = Cli::command().get_name().to_string();
    [
        (Shell::Bash, format!("{name}.bash")),
        (Shell::Zsh, format!("_{name}")),
        (Shell::Fish, format!("{name}.fish")),
    ]
    .into_iter()
    .map(|(shell, file)| {
        let mut cmd = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut cmd, name.clone(), &mut script);
        (file, script)
    })
    .collect()
}

/// The command tree the man pages describe: built (so global options are propagated to
/// the subcommands), without the `help` subcommand, which needs no page.
fn man_command() -> Command {
    let mut cmd = Cli::command().disable_help_subcommand(true);
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
    let extras = if is_top {
        top_page(top)
    } else {
        subcommand_page(cmd.get_name(), top)
    };

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
    append(&|w| synopsis(cmd, top, is_top, &extras.synopsis).to_writer(w));
    append(&|w| description(cmd).to_writer(w));
    if cmd.get_arguments().any(|arg| !arg.is_hide_set()) {
        append(&|w| man.render_options_section(w));
    }
    if cmd.has_subcommands() {
        append(&|w| man.render_subcommands_section(w));
    }
    let mut sections = extras.sections;
    sections.push(see_also(cmd, top));
    append(&|w| render_sections(&sections).to_writer(w));
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
    Section::new("SEE ALSO", vec![p(&refs.join(", "))])
}

// ---------------------------------------------------------------------------------------
// The text blocks and their roff rendering.

/// A piece of a man section. In paragraph and item text, `backticked` parts are set in
/// bold and runs of white space collapse into one space, so the texts below can be
/// wrapped freely.
enum Block {
    /// A filled paragraph.
    Para(String),
    /// A tagged paragraph: a term and its explanation, as in an option list.
    Item(String, String),
    /// Lines shown as they are, indented (commands, file excerpts).
    Verbatim(String),
    /// A subsection heading.
    Sub(String),
}

struct Section {
    title: &'static str,
    blocks: Vec<Block>,
}

impl Section {
    fn new(title: &'static str, blocks: Vec<Block>) -> Self {
        Section { title, blocks }
    }
}

fn p(text: &str) -> Block {
    Block::Para(text.to_string())
}

fn item(tag: &str, text: &str) -> Block {
    Block::Item(tag.to_string(), text.to_string())
}

fn code(text: &str) -> Block {
    Block::Verbatim(text.to_string())
}

fn sub(title: &str) -> Block {
    Block::Sub(title.to_string())
}

fn render_sections(sections: &[Section]) -> Roff {
    let mut roff = Roff::new();
    for section in sections {
        roff.control("SH", [section.title]);
        for block in &section.blocks {
            match block {
                Block::Para(text) => {
                    roff.control("PP", []);
                    roff.text(inline(text));
                }
                Block::Item(tag, text) => {
                    roff.control("TP", []);
                    roff.text(inline(tag));
                    roff.text(inline(text));
                }
                Block::Verbatim(text) => {
                    roff.control("PP", []);
                    roff.control("RS", ["4"]);
                    roff.control("nf", []);
                    for line in dedent(text) {
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
            }
        }
    }
    roff
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

/// The lines of an indented multi-line literal without its common indentation and
/// without the empty first and last lines.
fn dedent(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().map(str::trim_end).collect();
    while lines.first().is_some_and(|line| line.is_empty()) {
        lines.remove(0);
    }
    while lines.last().is_some_and(|line| line.is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|line| !line.is_empty())
        .map(|line| line.len() - line.trim_start_matches(' ').len())
        .min()
        .unwrap_or(0);
    lines
        .into_iter()
        .map(|line| line.get(indent..).unwrap_or(""))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Content of the pages.

/// What a page adds to the generated parts: extra synopsis lines and sections.
struct Extras {
    synopsis: Vec<String>,
    sections: Vec<Section>,
}

fn top_page(top: &Command) -> Extras {
    let forward_mail = top.find_subcommand(FORWARD_MAIL).is_some();
    Extras {
        synopsis: Vec::new(),
        sections: vec![
            configuration_files(),
            calendar_syntax(),
            output(),
            exit_status(forward_mail),
            environment(top, forward_mail),
            files(forward_mail),
            examples(forward_mail),
            compatibility(),
        ],
    }
}

fn subcommand_page(name: &str, top: &Command) -> Extras {
    let sections = match name {
        "send" => send_sections(),
        "test-target" => test_target_sections(),
        "validate" => validate_sections(),
        "list" => list_sections(),
        FORWARD_MAIL => forward_mail_sections(),
        _ => vec![Section::new(
            "EXIT STATUS",
            vec![p(
                "See EXIT STATUS in `pvenotify`(1) for the meaning of each status.",
            )],
        )],
    };
    let synopsis = if name == FORWARD_MAIL {
        vec![format!(
            "/usr/libexec/{}-{FORWARD_MAIL} [OPTIONS]",
            top.get_name()
        )]
    } else {
        Vec::new()
    };
    Extras { synopsis, sections }
}

fn configuration_files() -> Section {
    Section::new(
        "CONFIGURATION FILES",
        vec![
            p(
                "pvenotify reads four files from the configuration directory, which is
               `--config-dir`, else `PVENOTIFY_CONFIG_DIR`, else `/etc/pve`. On a Proxmox VE
               node that directory is the cluster file system, so every node of a cluster
               sees the same configuration. pvenotify never writes to these files; the
               Proxmox VE web interface, its API or an editor change them.",
            ),
            item(
                "`notifications.cfg`",
                "Targets and matchers. When it is missing, only the built-in target and
                  matcher exist (see Built-in defaults below).",
            ),
            item(
                "`priv/notifications.cfg`",
                "The secrets: the `password` of smtp targets, the `token` of gotify targets
                  and the `secret` entries of webhook targets, each in a section with the
                  same type and name as the target. Only root should be able to read it;
                  `validate` warns otherwise.",
            ),
            item(
                "`user.cfg`",
                "The Proxmox VE users. Only the e-mail address of a user is read, to
                  resolve `mailto-user` entries.",
            ),
            item(
                "`datacenter.cfg`",
                "Only two keys are read: `email_from`, the default sender address of
                  sendmail targets, and `http_proxy`, the proxy for gotify and webhook
                  targets.",
            ),
            p(
                "A missing file counts as empty. A file that exists but cannot be read, is
               not UTF-8 or is larger than 4 MiB stops every command except `validate` with
               exit status 78, as does any syntax error: Proxmox VE would refuse the same
               configuration.",
            ),
            sub("Section format"),
            p(
                "`notifications.cfg` and `priv/notifications.cfg` are lists of sections. A
               section starts with a header line `TYPE: NAME` at the start of a line and goes
               on with property lines, each indented (Proxmox VE uses a tab) and holding a
               key, white space and the value. A blank line ends the section, so sections
               must be separated by one. A property that holds a list is repeated, one
               element per line. There are no comments: a line starting with # is an
               error.",
            ),
            p(
                "Names are 2 to 32 characters long and consist of letters, digits, `_`, `.`
               and `-`; the first character is a letter, a digit or `_`. Targets and
               matchers share one name space. Booleans are written `1`/`0`, `yes`/`no`,
               `on`/`off` or `true`/`false`.",
            ),
            code(
                "
                sendmail: admins
                    mailto ops@example.com
                    mailto-user alice@pve
                    comment Admin team mailbox

                matcher: backup-errors
                    match-field exact:type=vzdump
                    match-severity error
                    target admins
            ",
            ),
            sub("Targets"),
            item(
                "`sendmail:` NAME",
                "Hands the mail to the local mail transfer agent (the `--sendmail`
                  program). Properties: `mailto` (an address; list), `mailto-user` (a user
                  such as root@pam whose address is taken from `user.cfg`; list),
                  `from-address` (default: `email_from` of `datacenter.cfg`, else root) and
                  `author` (the sender's display name, default Proxmox VE).",
            ),
            item(
                "`smtp:` NAME",
                "Sends the mail to an SMTP relay itself. Properties: `server` (required),
                  `mode` (`tls`, the default, `starttls` or `insecure`), `port` (default 465,
                  587 or 25 by mode), `username` (enables authentication), `from-address`
                  (required), `author`, `mailto` and `mailto-user`. Private: `password`.",
            ),
            item(
                "`gotify:` NAME",
                "Posts the notification to a Gotify server. Properties: `server`, the base
                  URL (required). Private: `token` (required).",
            ),
            item(
                "`webhook:` NAME",
                "Sends an HTTP request. Properties: `method` (`post`, `put` or `get`),
                  `url`, `header` (`name=NAME,value=BASE64`; list) and `body` (BASE64).
                  Private: `secret` (`name=NAME,value=BASE64`; list). The URL, the decoded
                  header values and the decoded body are Handlebars templates that can use
                  `title`, `message`, `severity`, `timestamp`, `fields.KEY` and
                  `secrets.NAME`, and the helpers `url-encode`, `json` and `escape`.",
            ),
            p(
                "Every target and matcher also takes `comment` (one line of text) and
               `disable`. Routing never delivers to a disabled target, but `test-target`
               still reaches it.",
            ),
            sub("Matchers"),
            p(
                "A `matcher:` section decides which targets an event goes to. Every enabled
               matcher is checked against every event, and each target named by at least
               one matching matcher gets the event once. A matcher's rules are:",
            ),
            item(
                "`match-field exact:`KEY`=`VALUE[`,`VALUE...]",
                "The event has the field KEY and its value equals one of the values
                  (case-sensitive).",
            ),
            item(
                "`match-field regex:`KEY`=`REGEX",
                "The regular expression occurs somewhere in the value of the field KEY;
                  anchor it with ^ and $ to compare the whole value. An event without the
                  field never matches.",
            ),
            item(
                "`match-severity` LIST",
                "The event's severity is one of the comma-separated severities (`info`,
                  `notice`, `warning`, `error`, `unknown`).",
            ),
            item(
                "`match-calendar` WINDOW",
                "The time of the event lies in the window; see CALENDAR SYNTAX.",
            ),
            p(
                "Each rule may be given several times. With `mode all` (the default) every
               rule must hold, with `mode any` at least one; `invert-match true` turns the
               result around. A matcher without rules matches every event. Each `target`
               line names one target to notify. A name that is no target is an error for
               `validate` and a warning when sending; the other targets are still
               notified.",
            ),
            sub("Built-in defaults"),
            p(
                "Even without `notifications.cfg` there is a sendmail target `mail-to-root`
               (mailto-user root@pam) and a matcher `default-matcher` that sends every event
               to it. They cannot be removed; to stop the default route, write the matcher
               with `disable true`, as Proxmox VE does:",
            ),
            code(
                "
                matcher: default-matcher
                    mode all
                    target mail-to-root
                    comment Route all notifications to mail-to-root
                    disable true
            ",
            ),
        ],
    )
}

fn calendar_syntax() -> Section {
    Section::new(
        "CALENDAR SYNTAX",
        vec![
            p(
                "A `match-calendar` value is an optional list of weekdays followed by a time
               range: [DAYS] START`-`END.",
            ),
            item(
                "DAYS",
                "Weekdays separated by commas without spaces: `mon`, `tue`, `wed`, `thu`,
                  `fri`, `sat`, `sun` or the full English names, in any letter case. A range
                  is written `mon..fri` or `mon-fri` and may wrap past Sunday (`fri..mon`).
                  Without DAYS the window applies to every day.",
            ),
            item(
                "START, END",
                "HOUR or HOUR:MINUTE (0-23 and 0-59; a missing minute is :00). END may be
                  `24` or `24:00`, the end of the day. Spaces around the `-` are allowed.",
            ),
            p(
                "START belongs to the window, END does not, and seconds are ignored. When
               START is later than END the window runs overnight: it starts on a listed day
               and ends on the following day, so `fri 22:00-06:00` lasts from Friday 22:00
               until Saturday 05:59. A window whose START equals END never matches.",
            ),
            p(
                "The time of the event is taken in local time: from the time zone in `TZ` when
               it is set, else from /etc/localtime. A `--timestamp` with an offset fixes the
               moment, but the window is still compared in local time.",
            ),
            item("`8-12`", "every day from 08:00 to 11:59"),
            item("`mon..fri 9:00-17:00`", "Monday to Friday, 09:00 to 16:59"),
            item(
                "`mon-fri 9-17`",
                "the same, in the form Proxmox VE's documentation shows",
            ),
            item(
                "`sun,tue..wed,fri 9-17`",
                "Sunday, Tuesday, Wednesday and Friday",
            ),
            item("`sat,sun 0-24`", "the whole weekend"),
            item("`22:00-06:00`", "every night"),
            item("`fri 18:00-24:00`", "Friday evening until midnight"),
            p(
                "Proxmox VE itself accepts only `..` in day ranges, no overnight windows and no
               24:00, and a single such rule makes it reject the whole configuration.
               pvenotify accepts them, and `validate` warns about each one so that a
               configuration shared with Proxmox VE can be kept to the common syntax.",
            ),
        ],
    )
}

fn output() -> Section {
    Section::new(
        "OUTPUT",
        vec![
            p(
                "Standard output carries what a command produces: target names, the routing
               explanation, tables, validation findings. With `--output-format json` or
               `json-pretty` it holds exactly one JSON document instead; each command's page
               describes its shape.",
            ),
            p("Standard error carries everything else, as text in every output format:"),
            item("NAME (TYPE)`: delivered`", "a target got the event"),
            item(
                "NAME (TYPE)`: failed (`CLASS`): `MESSAGE",
                "a delivery failed; CLASS is `temporary` (a retry may help) or
                  `configuration` (it cannot work as configured)",
            ),
            item(
                "FILE`:`LINE`: `MESSAGE",
                "a problem in a configuration file",
            ),
            item(
                "`pvenotify: error:` ..., `pvenotify: warning:` ..., `pvenotify: note:` ...",
                "errors, warnings and (with `-v`) notes",
            ),
            p(
                "No output, at any verbosity, contains a password, token, webhook secret or
               proxy credential. URLs are shortened to scheme://host[:port]/... because
               webhook paths often contain tokens.",
            ),
        ],
    )
}

fn exit_status(forward_mail: bool) -> Section {
    let mut blocks = vec![
        p(
            "pvenotify uses the statuses of sysexits.h, so that scripts and mail transfer
           agents can tell a retry-worthy failure from a broken configuration:",
        ),
        item(
            "0",
            "Done: every selected target got the event, or the matchers selected
                   none; `--dry-run`, `--explain` and `list` printed their result; `validate`
                   found no error.",
        ),
        item(
            "64",
            "Bad command line: unknown option, missing `--title`, bad `--severity`,
                    malformed or repeated `--field`, conflicting options, relative
                    `--sendmail`.",
        ),
        item(
            "65",
            "Bad input data: an unreadable, non-UTF-8 or larger than 4 MiB body, or an
                    unparsable `--timestamp`.",
        ),
        item(
            "69",
            "Nothing to deliver to: `send` found no enabled matcher naming an
                    existing, enabled target, or every target name the matchers selected is
                    missing; `test-target` was given a name that is no target.",
        ),
        item("70", "Internal error (a bug in pvenotify)."),
        item(
            "75",
            "A delivery failed in a way that a later retry may fix: a server did not
                    answer or refused, sendmail exited with an error, a timeout.",
        ),
    ];
    if forward_mail {
        blocks.push(item(
            "77",
            "A command other than `forward-mail` was started with elevated privileges.",
        ));
    }
    blocks.push(item(
        "78",
        "The configuration cannot be loaded, `validate` found errors, or a delivery failed
         because of the configuration (for example a gotify target without token).",
    ));
    blocks.push(p(
        "When several targets fail, a configuration failure (78) outranks a temporary one
         (75), because retrying cannot fix it; the outcome lines still show each target's
         own class. A warning alone, such as a matcher naming a missing target next to
         targets that were reached, does not change the status.",
    ));
    if forward_mail {
        blocks.push(p(
            "`forward-mail` exits only with 0 or 75 (77 when refused), so that the mail
             transfer agent keeps a mail it could not forward and tries again instead of
             bouncing it.",
        ));
    }
    Section::new("EXIT STATUS", blocks)
}

/// The variables clap reads for options (from the definition, so new ones appear here
/// by themselves), then the ones the program itself looks at or deliberately ignores.
fn environment(top: &Command, forward_mail: bool) -> Section {
    let mut blocks = Vec::new();
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
            blocks.push(item(
                &format!("`{env}`"),
                &format!("Default for `--{long}`{scope}; the option takes precedence."),
            ));
            seen.push(env);
        }
    }
    blocks.push(item(
        "`TZ`",
        "The time zone in which `match-calendar` windows are evaluated (default:
         /etc/localtime).",
    ));
    blocks.push(item(
        "`http_proxy`, `https_proxy`, `all_proxy`, `no_proxy`",
        "Ignored: gotify and webhook targets use only the `http_proxy` of
         `datacenter.cfg`, so that a notification takes the same way whether it is sent
         from a shell or by the mail system.",
    ));
    if forward_mail {
        blocks.push(p(
            "With elevated privileges (the set-uid copy used for `forward-mail`) the
             environment is replaced by a fixed PATH, so none of these variables has any
             effect.",
        ));
    }
    Section::new("ENVIRONMENT", blocks)
}

fn files(forward_mail: bool) -> Section {
    let mut blocks = vec![
        item(
            "/etc/pve/notifications.cfg",
            "Targets and matchers (see CONFIGURATION FILES).",
        ),
        item(
            "/etc/pve/priv/notifications.cfg",
            "Secrets of the targets, readable by root only.",
        ),
        item(
            "/etc/pve/user.cfg",
            "E-mail addresses of the Proxmox VE users.",
        ),
        item(
            "/etc/pve/datacenter.cfg",
            "Default sender address and HTTP proxy.",
        ),
        item(
            "/usr/sbin/sendmail",
            "The program that delivers the mail of sendmail targets (`--sendmail`).",
        ),
    ];
    if forward_mail {
        blocks.push(item(
            "/usr/libexec/pvenotify-forward-mail",
            "A set-uid root copy of pvenotify that runs only `forward-mail`.",
        ));
        blocks.push(item(
            "/root/.forward",
            "Makes the mail transfer agent pipe root's mail into
             /usr/libexec/pvenotify-forward-mail.",
        ));
        blocks.push(item(
            "/var/lib/pvenotify/forward-mail/",
            "Per-mail retry state of `forward-mail`.",
        ));
    }
    blocks.push(item(
        "/usr/share/doc/pvenotify/examples/",
        "An example configuration directory; try it with `pvenotify --config-dir
         /usr/share/doc/pvenotify/examples list`.",
    ));
    Section::new("FILES", blocks)
}

fn examples(forward_mail: bool) -> Section {
    let mut blocks = vec![
        p("Where would a failed backup on a Friday night go, and why?"),
        code(
            "
            pvenotify send --explain --title 'Backup failed' --severity error \\
                --field type=vzdump --timestamp 2024-06-07T22:30:00+02:00
            ",
        ),
        p("Notify from a backup script and act on the result:"),
        code(
            r#"
            #!/bin/sh
            if ! vzdump 100 --storage backup >/tmp/vzdump-100.log 2>&1; then
                pvenotify send --title "Backup of VM 100 failed" --severity error \
                    --field type=vzdump --body-file /tmp/vzdump-100.log
                case $? in
                    0)  ;;
                    75) echo "notification failed temporarily; try later" >&2 ;;
                    *)  echo "notification not sent; check: pvenotify validate" >&2 ;;
                esac
                exit 1
            fi
            "#,
        ),
        p("A cron job that reports low disk space, with the body from standard input:"),
        code(
            r#"
            df -h / | pvenotify send --title "Root file system almost full" \
                --severity warning --field type=disk
            "#,
        ),
        p("After editing the configuration: check it, look at it, test a target:"),
        code(
            "
            pvenotify validate && pvenotify list targets
            pvenotify test-target ops-mail
            ",
        ),
        p("Machine-readable result for monitoring:"),
        code(
            "
            pvenotify --output-format json send --title 'Disk check' --severity notice
            ",
        ),
    ];
    if forward_mail {
        blocks.push(p(
            "Pass root's local mail (from smartd, zed, cron, apt) through the matchers:
             install the set-uid copy, make /root/.forward pipe into it instead of into
             Proxmox VE's own helper (both would forward every mail twice), then send a test
             mail to root:",
        ));
        blocks.push(code(
            r#"
            install -o root -g root -m 4755 /usr/bin/pvenotify \
                /usr/libexec/pvenotify-forward-mail
            sed -i '/proxmox-mail-forward/d' /root/.forward
            grep -qxF '|/usr/libexec/pvenotify-forward-mail' /root/.forward ||
                echo '|/usr/libexec/pvenotify-forward-mail' >> /root/.forward
            printf 'Subject: forward test\n\nhello\n' | /usr/sbin/sendmail root
            "#,
        ));
    }
    Section::new("EXAMPLES", blocks)
}

fn compatibility() -> Section {
    Section::new(
        "COMPATIBILITY",
        vec![
            p(
                "pvenotify reads the files of Proxmox VE 8.1 and later unchanged and selects the
               same targets, with these deliberate differences:",
            ),
            item(
                "Calendar windows",
                "`mon-fri` ranges, overnight windows and 24:00 work
                  (see CALENDAR SYNTAX); Proxmox VE refuses them.",
            ),
            item(
                "Failures are reported",
                "Proxmox VE only logs a failed delivery;
                  pvenotify prints it, tries the other targets and exits non-zero. A
                  non-zero exit of sendmail counts as a failure.",
            ),
            item(
                "Missing targets",
                "A matcher naming a target that does not exist is a
                  `validate` error and a warning when sending.",
            ),
            item(
                "Targets without private section",
                "An smtp, gotify or webhook target
                  without a section in `priv/notifications.cfg` is kept (without secrets)
                  instead of silently dropped.",
            ),
            item(
                "Order and safety",
                "Targets are delivered in name order. HTTP redirects
                  are not followed. Every control character in a title becomes a space. Every
                  mail gets a Message-ID. Deliveries have time limits (SMTP 120 s overall,
                  sendmail 60 s).",
            ),
        ],
    )
}

fn send_sections() -> Vec<Section> {
    vec![
        Section::new(
            "EVENT",
            vec![
                p(
                    "The event has a title (`--title`), a body, a severity (`--severity`,
                   default info), a time (`--timestamp`, default now) and fields. Unless
                   `--no-hostname` is given, the field `hostname` holds the short host name
                   (`--hostname` or the kernel's node name); `--field hostname=NAME`
                   replaces it. Fields are what `match-field` rules and webhook templates
                   see, for example `type=vzdump`.",
                ),
                p(
                    "The body is taken from `--body`, from `--body-file` (`-` for standard
                   input), or from standard input when that is not a terminal; it may be at
                   most 4 MiB of UTF-8. Mail targets get it as text and as an HTML part,
                   Gotify in a code block, webhooks as `message`.",
                ),
            ],
        ),
        Section::new(
            "OUTPUT",
            vec![
                item(
                    "`--dry-run`",
                    "The names of the targets a real send would notify (existing,
                      enabled, each once), sorted, one per line; nothing when no target is
                      selected. JSON: an array of names, such as [\"admins\",\"phone\"].",
                ),
                item(
                    "`--explain`",
                    "For every matcher: whether it is enabled, each rule with its result
                      (calendar rules with the local time they compared), the combination and
                      the targets; at the end the selected targets. JSON: an object with
                      `event`, `matchers` (name, disabled, mode, invert-match, rules with
                      kind, rule and result, matched, targets), `selected` and `skipped`.",
                ),
                item(
                    "otherwise",
                    "One outcome line per target on standard error, in name order, as
                      targets finish; standard output stays empty. Missing targets are
                      warned about; `-v` also notes skipped disabled targets and an empty
                      selection.",
                ),
                p(
                    "With `--output-format json` a real send prints one object on standard
                   output (the same shape as `test-target`):",
                ),
                code(
                    r#"
                    {"event": {"id": "6f1c...", "title": "Backup failed",
                               "severity": "error", "timestamp": 1717408800,
                               "fields": {"hostname": "pve2", "type": "vzdump"}},
                     "results": [
                       {"target": "admins", "type": "sendmail", "status": "delivered"},
                       {"target": "phone", "type": "gotify", "status": "failed",
                        "class": "temporary",
                        "error": "HTTP 401 Unauthorized from https://gotify.example.com"}],
                     "skipped": [{"target": "old-pager", "reason": "disabled",
                                  "named-by": ["cluster"]}],
                     "warnings": [],
                     "exit-status": 75}
                    "#,
                ),
                p(
                    "`class` is present only for failures. `skipped` lists disabled targets
                   (reason `disabled`) and names that are no target (`does-not-exist`).
                   The body is not repeated.",
                ),
            ],
        ),
        Section::new(
            "EXIT STATUS",
            vec![p(
                "In this order, the first that applies: 64 for a bad command line; 65 for
                   an unreadable body or timestamp; 78 when the configuration cannot be
                   loaded; 78 when a delivery failed because of the configuration; 75 when a
                   delivery failed temporarily; 69 when nothing is configured to deliver to
                   or every selected target name is missing; else 0. `--dry-run` and
                   `--explain` exit 0 after loading the configuration.",
            )],
        ),
        Section::new(
            "EXAMPLES",
            vec![
                p("See where an event would go, then why:"),
                code(
                    "
                    pvenotify send --dry-run --title 'Backup failed' --severity error \\
                        --field type=vzdump
                    pvenotify send --explain --title x --severity error --field type=vzdump \\
                        --timestamp 2024-06-07T22:30:00Z
                    ",
                ),
                p("Send with the body from a file and check the status:"),
                code(
                    r#"
                    pvenotify send --title "Replication of VM 100 failed" --severity error \
                        --field type=replication --body-file /tmp/replication.log
                    status=$?
                    [ "$status" -eq 0 ] || logger -t backup "notification status $status"
                    "#,
                ),
                p("On another node of the cluster, as that node:"),
                code(
                    "
                    pvenotify --hostname pve2 send --title 'UPS on battery' --severity warning
                    ",
                ),
            ],
        ),
    ]
}

fn test_target_sections() -> Vec<Section> {
    vec![
        Section::new(
            "OUTPUT",
            vec![
                p(
                    "One outcome line on standard error, `NAME (TYPE): delivered` or
                   `NAME (TYPE): failed (CLASS): MESSAGE`; for a disabled target a note says
                   that it was sent because it was named. With `--output-format json`
                   standard output holds the object that `send` prints, with one entry in
                   `results`.",
                ),
                p(
                    "The test event has the title Test notification, a body naming the
                   target, severity info and no fields, so a webhook template that uses
                   `fields.hostname` renders it empty.",
                ),
            ],
        ),
        Section::new(
            "EXIT STATUS",
            vec![p(
                "0 when the target got the test notification; 75 for a temporary failure and
                 78 for a configuration failure or a configuration that cannot be loaded; 69
                 when NAME is not a target (also when it names a matcher).",
            )],
        ),
        Section::new(
            "EXAMPLES",
            vec![code(
                r#"
                pvenotify test-target mail-to-root
                for t in $(pvenotify --output-format json list targets |
                           jq -r '.targets[].name'); do
                    pvenotify test-target "$t"
                done
                "#,
            )],
        ),
    ]
}

fn validate_sections() -> Vec<Section> {
    vec![
        Section::new(
            "OUTPUT",
            vec![
                p("Every finding on standard output, ordered by file (notifications.cfg,
                   priv/notifications.cfg, user.cfg, datacenter.cfg) and line, then a
                   summary:"),
                code(
                    "
                    /etc/pve/notifications.cfg:14: unknown property 'adress' for section type 'smtp'
                    /etc/pve/notifications.cfg:30: matcher 'backup-errors': target 'backup-tema' does not exist
                    /etc/pve/notifications.cfg:41: warning: match-calendar '22:00-06:00' is accepted by pvenotify but rejected by Proxmox VE
                    2 errors, 1 warning
                    ",
                ),
                p("Without errors the last line is `configuration is valid`, followed by the
                   number of warnings if there are any. `-q` prints only the error lines.
                   Findings about a whole file have no line number. JSON:"),
                code(
                    r#"
                    {"valid": false, "errors": 2, "warnings": 1,
                     "findings": [{"file": "/etc/pve/notifications.cfg", "line": 14,
                                   "severity": "error",
                                   "message": "unknown property 'adress' for section type 'smtp'"}]}
                    "#,
                ),
                p("Errors are what certainly goes wrong: syntax, unknown properties and
                   values, matchers naming missing targets, duplicate names, targets without
                   recipients, a gotify target without token, smtp `username` without
                   `password`, webhook values that are not valid base64. Warnings are what
                   may go wrong or surprise: users without e-mail address, a readable
                   `priv/notifications.cfg`, passwords or tokens sent unencrypted, recipients
                   that would loop root's mail back, a missing sendmail program, and syntax
                   that Proxmox VE would refuse. `validate` sends nothing, opens no
                   connection and starts no program."),
            ],
        ),
        Section::new(
            "EXIT STATUS",
            vec![p(
                "0 when there is no error (with `--strict`: no error and no warning), 78
                 otherwise, 64 for a bad command line.",
            )],
        ),
        Section::new(
            "EXAMPLES",
            vec![code(
                "
                pvenotify validate
                pvenotify validate --strict --quiet || echo 'notification config needs work'
                pvenotify --config-dir /tmp/new-config validate
                ",
            )],
        ),
    ]
}

fn list_sections() -> Vec<Section> {
    vec![
        Section::new(
            "OUTPUT",
            vec![
                p(
                    "Two tables, targets first, rows sorted by name, columns separated by two
                   spaces; `-` marks an empty cell.",
                ),
                item(
                    "Targets",
                    "NAME, TYPE, ORIGIN (`builtin`, `modified-builtin` or
                      `user-created`), DISABLED, COMMENT and SETTINGS, the type's properties
                      as KEY=VALUE with defaults filled in (such as `mode=tls port=465`).",
                ),
                item(
                    "Matchers",
                    "NAME, ORIGIN, DISABLED, MODE, INVERT, RULES (`field`, `severity` and
                      `calendar` rules separated by `;`), TARGETS and COMMENT.",
                ),
                p(
                    "Secrets never appear: `password=(set)` or `(none)`, `token=(set)` or
                   `(none)`, webhook `secret` and `header` by name only, `body` only by its
                   size, URLs shortened to scheme://host[:port]/....",
                ),
                p(
                    "With `--output-format json`: an object with the keys `targets` and
                   `matchers` (only the one asked for with `list targets` or `list
                   matchers`), each an array of objects whose keys are the configuration's
                   property names, plus `name`, `type`, `origin`; lists are arrays, absent
                   text is null, and secrets appear as `password-set`, `token-set` or the
                   names in `secret`.",
                ),
            ],
        ),
        Section::new(
            "EXIT STATUS",
            vec![p("0, or 78 when the configuration cannot be loaded.")],
        ),
        Section::new(
            "EXAMPLES",
            vec![code(
                "
                pvenotify list
                pvenotify list matchers
                pvenotify --output-format json list targets | jq '.targets[].name'
                ",
            )],
        ),
    ]
}

fn forward_mail_sections() -> Vec<Section> {
    vec![
        Section::new(
            "THE EVENT",
            vec![
                p(
                    "`forward-mail` reads one mail from standard input, as the mail transfer
                   agent pipes it in, and turns it into an event: the title is the decoded
                   Subject (\"(no subject)\" when there is none), the body the first text part of the mail (or its HTML part as
                   plain text), the severity unknown, and the fields are `type=system-mail`
                   and `hostname`. The matchers route it like any other event; without a
                   configuration the built-in default sends it to `mail-to-root`.",
                ),
                p(
                    "Sendmail targets get the original mail unchanged, smtp targets a new mail
                   with the original content, gotify and webhook targets the title and text.
                   At most 32 MiB are kept in memory; the rest is spooled to disk, so mail
                   targets still get the whole mail.",
                ),
            ],
        ),
        Section::new(
            "INSTALLATION",
            vec![
                p(
                    "Mail transfer agents do not run root's .forward pipe as root (Postfix uses
                   the `default_privs` user, nobody), but the secrets in
                   /etc/pve/priv/notifications.cfg are readable by root only. Therefore a
                   separate copy of the program is installed set-uid root as
                   /usr/libexec/pvenotify-forward-mail; started under that name it behaves
                   as `pvenotify forward-mail`. /usr/bin/pvenotify itself is not set-uid.",
                ),
                code(
                    r#"
                    install -o root -g root -m 4755 /usr/bin/pvenotify \
                        /usr/libexec/pvenotify-forward-mail
                    sed -i '/proxmox-mail-forward/d' /root/.forward
                    grep -qxF '|/usr/libexec/pvenotify-forward-mail' /root/.forward ||
                        echo '|/usr/libexec/pvenotify-forward-mail' >> /root/.forward
                    "#,
                ),
                p(
                    "Where the pipe runs as nobody:nogroup, owner root:nogroup and mode 4750
                   keep other users from running it. /root/.forward must not also contain
                   Proxmox VE's own helper (|/usr/libexec/proxmox-mail-forward), or every
                   mail is forwarded twice. The Debian package installs the copy and the
                   .forward line itself.",
                ),
                p(
                    "Exim (Debian's exim4) refuses to run a pipe from root's .forward, since
                   root is in `never_users`. Use an alias instead and let the alias router
                   run pipes as an unprivileged user: set SYSTEM_ALIASES_PIPE_TRANSPORT =
                   address_pipe, SYSTEM_ALIASES_USER = nobody and SYSTEM_ALIASES_GROUP =
                   nogroup in /etc/exim4/exim4.conf.localmacros, add
                   `root: |/usr/libexec/pvenotify-forward-mail` to /etc/aliases, run
                   update-exim4.conf and restart exim4, and drop the .forward line.",
                ),
                p(
                    "With elevated privileges only `forward-mail` runs (anything else exits
                   77), the environment and the options `--config-dir`, `--state-dir`,
                   `--sendmail`, `--hostname` and `--no-state` are ignored, and privileges
                   are dropped after the configuration and the retry state have been opened,
                   before any delivery.",
                ),
            ],
        ),
        Section::new(
            "RETRY STATE",
            vec![p(
                "When a delivery fails, `forward-mail` exits 75 and the mail transfer agent
                 runs it again later with the same mail. A record per mail in
                 STATE-DIR/forward-mail/ remembers which targets already got it, so a retry
                 delivers only to the others, and a mail that was completely forwarded is not
                 forwarded again. Records older than 7 days are removed.",
            )],
        ),
        Section::new(
            "EXIT STATUS",
            vec![p(
                "0 when every target that should get the mail has it (now or in an earlier
                 attempt), when the matchers select no target, or when the input is empty; 75
                 in every other case, including a configuration that cannot be loaded, so that
                 the mail transfer agent keeps the mail and retries instead of bouncing it to
                 root; 77 when refused with elevated privileges. Outcome lines go to standard
                 error and to syslog (facility mail).",
            )],
        ),
        Section::new(
            "EXAMPLES",
            vec![code(
                "
                pvenotify --config-dir ./testcfg forward-mail --no-state < message.eml
                printf 'Subject: forward test\\n\\nhello\\n' | /usr/sbin/sendmail root
                ",
            )],
        ),
    ]
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
    fn dedent_keeps_relative_indentation() {
        assert_eq!(
            dedent("\n    a\n        b\n\n    c\n    "),
            vec!["a", "    b", "", "c"]
        );
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
