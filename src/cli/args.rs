//! The whole command-line definition. Its doc comments are the `--help` text, and the
//! man pages and completions are generated from it (`tests/docgen`; regenerate with
//! `PVENOTIFY_UPDATE_DOCS=1 cargo test --test docs`). The first paragraph of a command's doc
//! comment is its one-line summary (the man page's NAME line), the rest its description;
//! `after_long_help` only points to the man page and is left out of the man pages.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};

use crate::exit::STATUSES;
use crate::noise::{dedup, span};
use crate::notification::Severity;

/// The command-line definition as `--help` and the man pages show it: [`Cli`] with the
/// exit statuses of [`STATUSES`] added to its description.
pub fn command() -> clap::Command {
    use std::fmt::Write as _;
    let cmd = Cli::command();
    // The doc comment has no styling, so its ANSI form is its text (plain `Display` would
    // strip escapes character by character, on every start).
    let mut about = cmd
        .get_long_about()
        .map(|text| text.ansi().to_string())
        .unwrap_or_default();
    about.push_str(" The exit status follows sysexits.h:");
    let named = STATUSES
        .iter()
        .filter_map(|row| Some((row.status, row.name?)));
    for (i, (status, name)) in named.enumerate() {
        let separator = if i == 0 { "" } else { "," };
        let _ = write!(about, "{separator} {} {name}", status.code());
    }
    about.push('.');
    cmd.long_about(about)
}

/// Proxmox VE notifications from the command line
///
/// pvenotify reads the notification configuration of Proxmox VE (notifications.cfg,
/// priv/notifications.cfg, user.cfg and datacenter.cfg, in /etc/pve unless --config-dir
/// says otherwise) and never changes it. An event (title, body, severity, time and metadata
/// fields) is routed by the configured matchers to targets, which deliver it through the
/// local sendmail, an SMTP relay, Gotify or a webhook.
///
/// Standard output carries what a command produces (target names, tables, findings, JSON);
/// standard error carries one outcome line per delivery, warnings and errors.
// `command()` appends the exit statuses to this paragraph, from `crate::exit::STATUSES`.
#[derive(Debug, Parser)]
#[command(
    name = "pvenotify",
    version,
    max_term_width = 100,
    after_long_help = "Configuration files, calendar syntax, exit statuses, environment and \
                       examples: man pvenotify. Each command has its own page, such as \
                       man pvenotify-send."
)]
pub struct Cli {
    /// Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and
    /// datacenter.cfg.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "DIR",
        env = "PVENOTIFY_CONFIG_DIR",
        default_value = "/etc/pve"
    )]
    pub config_dir: PathBuf,

    /// Format of standard output; errors and warnings stay text on standard error.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FORMAT",
        value_enum,
        default_value_t = OutputFormat::Text
    )]
    pub output_format: OutputFormat,

    /// Print notes on standard error; twice (-vv) for debug detail such as timings and the
    /// files read. Never prints secrets.
    #[arg(
        short,
        long,
        global = true,
        help_heading = "Global options",
        action = clap::ArgAction::Count,
        conflicts_with = "quiet"
    )]
    pub verbose: u8,

    /// Print only errors and failed deliveries on standard error.
    #[arg(short, long, global = true, help_heading = "Global options")]
    pub quiet: bool,

    /// Host name for the default hostname field and for Message-IDs: letters, digits, `-`
    /// and `_` in dot-separated labels. Default: the kernel's node name (its first label
    /// for the field).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "NAME",
        value_parser = host_name
    )]
    pub hostname: Option<String>,

    /// The sendmail program that sendmail targets run (an absolute path).
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "PATH",
        env = "PVENOTIFY_SENDMAIL",
        default_value = "/usr/sbin/sendmail",
        value_parser = absolute_path
    )]
    pub sendmail: PathBuf,

    /// Vendor base of the notification templates (its default/ folder holds
    /// NAME-subject.txt.hbs, NAME-body.txt.hbs and NAME-body.html.hbs); files in
    /// CONFIG_DIR/notification-templates/default/ override them.
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "DIR",
        env = "PVENOTIFY_TEMPLATE_DIR",
        default_value = "/usr/share/pve-manager/templates"
    )]
    pub template_dir: PathBuf,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Human-readable text.
    Text,
    /// One compact JSON document.
    Json,
    /// One JSON document indented by two spaces.
    JsonPretty,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Route an event through the matchers and deliver it to the selected targets
    ///
    /// Every enabled matcher is evaluated against the event. Each existing, enabled target
    /// named by a matching matcher gets the event once, in name order, and one outcome line
    /// per target is printed on standard error, such as "ops-mail (smtp): delivered" or
    /// "phone (gotify): failed (temporary): HTTP 503 Service Unavailable from https://…". With
    /// --dry-run or --explain nothing is delivered.
    ///
    /// The body comes from --body, from --body-file or, when standard input is not a
    /// terminal, from standard input.
    ///
    /// Exit status: 0 when every selected target got it (or none was selected), 75 when a
    /// delivery failed in a way a retry may fix, 78 when one failed because of the
    /// configuration (this outranks 75) or the configuration cannot be loaded, 69 when
    /// nothing is there to deliver to, 65 for an unreadable body or a bad --timestamp, 64
    /// for a bad command line.
    #[command(after_long_help = "Output formats and examples: man pvenotify-send.")]
    Send(SendArgs),

    /// Send a test notification to one target, bypassing the matchers
    ///
    /// The target gets an event titled "Test notification" whose body names the target,
    /// with severity info and no fields. A disabled target is tested too. The outcome line
    /// ("NAME (TYPE): delivered" or "… failed (CLASS): reason") is printed on standard error.
    ///
    /// Exit status: 0 when it was delivered, 75 or 78 when it failed (temporary or
    /// configuration), 69 when there is no such target, 78 when the configuration cannot be
    /// loaded.
    #[command(after_long_help = "Output formats and examples: man pvenotify-test-target.")]
    TestTarget(TestTargetArgs),

    /// Check every configuration file and print every problem as FILE:LINE: message
    ///
    /// Reads all four files and reports every finding, not just the first, on standard
    /// output: syntax errors, unknown properties, matchers naming targets that do not exist,
    /// missing secrets, undecodable webhook templates. Warnings (marked "warning:") include
    /// syntax that only pvenotify accepts, because Proxmox VE itself would reject the whole
    /// configuration. The last line sums up. Nothing is sent and no connection is made.
    ///
    /// Exit status: 0 when there is no error (warnings are allowed unless --strict), 78
    /// otherwise.
    #[command(after_long_help = "Output formats and examples: man pvenotify-validate.")]
    Validate(ValidateArgs),

    /// Show the configured targets and matchers (never their secrets)
    ///
    /// Prints a table of targets and a table of matchers, sorted by name, including the
    /// built-in mail-to-root and default-matcher. Passwords and tokens appear only as (set)
    /// or (none), webhook header values and bodies not at all, and URLs are shortened to
    /// scheme://host[:port]/….
    ///
    /// Exit status: 0, or 78 when the configuration cannot be loaded.
    #[command(after_long_help = "Columns, JSON keys and examples: man pvenotify-list.")]
    List(ListArgs),

    /// Forward a mail from standard input as a system-mail notification.
    ///
    /// Run by the MTA for root's local mail (smartd, cron, zed …) through root's
    /// .forward file. Mail targets get the original message, other targets its subject
    /// and text. The event has severity unknown and the fields type=system-mail and
    /// hostname.
    ///
    /// Exit status: 0 when every target that should get the mail has it (now or in an
    /// earlier attempt) or none is selected; 75 otherwise, so that the MTA keeps the mail
    /// and retries (with elevated privileges, 77 for any other subcommand).
    #[command(
        after_long_help = "Installation, privileges and retry state: man pvenotify-forward-mail."
    )]
    ForwardMail(ForwardMailArgs),

    /// Run a command and notify when it fails
    ///
    /// Runs COMMAND (found in PATH) with the caller's environment, working directory and
    /// standard input, and captures its standard output and standard error together, keeping
    /// the last 64 KiB. When it succeeds nothing is sent and nothing printed (unless
    /// --always). When it fails (non-zero exit, killed by a signal, timed out or could not
    /// be started), an event titled "'COMMAND' failed on HOST (exit N)" with the command
    /// line, times, exit status and the kept output is routed and delivered as by send,
    /// with the fields type=command, command=NAME and hostname. If that notification cannot
    /// be delivered, the output is printed on standard error so that nothing is lost.
    ///
    /// Exit status: the command's own, so that cron and set -e keep working: its exit code,
    /// 128+N when killed by signal N, 124 when it timed out, 127 when it was not found and
    /// 126 when it could not be executed; 64 for a bad command line.
    #[command(
        override_usage = "pvenotify run [OPTIONS] -- COMMAND [ARG]...",
        after_long_help = "Examples with cron: man pvenotify-run."
    )]
    Run(RunArgs),

    /// Print a ready-to-paste webhook target for a chat or push service
    ///
    /// Prints the webhook section for notifications.cfg and the section for
    /// priv/notifications.cfg that reach SERVICE (ntfy, discord, slack, telegram, matrix,
    /// teams, pushover, home-assistant, apprise), with header values and body
    /// base64-encoded as Proxmox VE writes them and the secrets as placeholders to
    /// replace. The sections use Proxmox VE's own syntax, so they work there too. Nothing
    /// is read or written.
    ///
    /// Exit status: 0, or 64 for an unknown service or target name.
    #[command(after_long_help = "The services and what they answer: man pvenotify-recipe.")]
    Recipe(RecipeArgs),
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Title of the event: the mail subject, the Gotify title. Control characters become
    /// spaces; it must not be empty.
    #[arg(long, value_name = "TITLE", required_unless_present = "template")]
    pub title: Option<String>,

    /// Body of the event; without --body or --body-file it is read from standard input
    /// unless that is a terminal.
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Read the body from FILE ("-" for standard input); at most 4 MiB of UTF-8.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Render title and bodies from the notification template NAME (such as vzdump),
    /// as Proxmox VE does, instead of --title and --body.
    #[arg(
        long,
        value_name = "NAME",
        conflicts_with_all = ["title", "body", "body_file"]
    )]
    pub template: Option<String>,

    /// The template's data: a JSON object in FILE ("-" for standard input), at most
    /// 4 MiB. Default: no data besides hostname, fqdn and cluster-name.
    #[arg(long, value_name = "FILE", requires = "template")]
    pub data: Option<PathBuf>,

    /// Print the rendered subject, text and HTML of the template and deliver nothing.
    #[arg(long, requires = "template", conflicts_with_all = ["dry_run", "explain"])]
    pub preview: bool,

    /// Severity of the event: info, notice, warning, error or unknown (any letter case).
    #[arg(long, value_name = "SEVERITY", default_value = "info", value_parser = parse_severity)]
    pub severity: Severity,

    /// A metadata field such as type=vzdump, for match-field rules and templates;
    /// repeatable, each KEY once. hostname=NAME replaces the default hostname field.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,

    /// Do not add the default hostname field.
    #[arg(long)]
    pub no_hostname: bool,

    /// Time of the event, which decides the match-calendar windows: seconds since the
    /// epoch or an RFC 3339 date-time such as 2024-06-03T10:00:00Z. Default: now.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub timestamp: Option<String>,

    /// Route only: print the names of the targets a real send would notify, one per line,
    /// and deliver nothing.
    #[arg(long)]
    pub dry_run: bool,

    /// Route only: print for every matcher which rule matched and why (implies --dry-run).
    #[arg(long)]
    pub explain: bool,

    #[command(flatten)]
    pub noise: NoiseArgs,
}

/// Noise control, for `send` and `run` alike.
#[derive(Debug, Args)]
pub struct NoiseArgs {
    /// Suppress repeats: per target, an event with this key and the same severity as the
    /// last one delivered is not delivered again until the cooldown has passed; another
    /// severity is delivered at once. At most 256 bytes, no control characters.
    #[arg(long, value_name = "KEY", value_parser = parse_dedup_key)]
    pub dedup_key: Option<String>,

    /// How long repeats of a --dedup-key stay quiet, such as 90s, 30m, 6h, 1d or 1h 30m;
    /// 0 suppresses nothing. Default: 1h.
    #[arg(long, value_name = "SPAN", requires = "dedup_key", value_parser = span::parse_span)]
    pub cooldown: Option<u64>,

    /// Directory of the local state (dedup records in dedup/).
    #[arg(
        long,
        value_name = "DIR",
        env = "PVENOTIFY_STATE_DIR",
        default_value = "/var/lib/pvenotify"
    )]
    pub state_dir: PathBuf,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Notify when the command succeeds too (severity info).
    #[arg(long)]
    pub always: bool,

    /// Stop the command after SPAN (such as 30m): SIGTERM, and SIGKILL 10 s later.
    #[arg(long, value_name = "SPAN", value_parser = parse_timeout)]
    pub timeout: Option<u64>,

    /// Title of the notification instead of "'COMMAND' failed on HOST (…)".
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,

    /// Severity of a failure's notification (success with --always is info).
    #[arg(long, value_name = "SEVERITY", default_value = "error", value_parser = parse_severity)]
    pub severity: Severity,

    /// A metadata field such as type=backup; repeatable. Replaces a default field of the
    /// same name (type=command, command=NAME, hostname).
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,

    /// Run the command, then print the targets a failure would notify instead of notifying.
    #[arg(long)]
    pub dry_run: bool,

    /// Run the command, then print the routing explanation instead of notifying.
    #[arg(long)]
    pub explain: bool,

    #[command(flatten)]
    pub noise: NoiseArgs,

    /// The command and its arguments, after "--".
    #[arg(
        value_name = "COMMAND",
        required = true,
        num_args = 1..,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub command: Vec<OsString>,
}

#[derive(Debug, Args)]
pub struct TestTargetArgs {
    /// Name of the target, as in notifications.cfg.
    #[arg(value_name = "NAME")]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Count warnings as errors.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// What to list; both when omitted.
    #[arg(value_enum)]
    pub what: Option<ListWhat>,
}

#[derive(Debug, Args)]
pub struct RecipeArgs {
    /// The service: ntfy, discord, slack, telegram, matrix, teams, pushover,
    /// home-assistant or apprise.
    #[arg(value_name = "SERVICE", required_unless_present = "list")]
    pub service: Option<String>,

    /// Name of the target (the section name); the service's name when omitted.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,

    /// List the services with their size limits instead.
    #[arg(long, conflicts_with_all = ["service", "name", "public", "private"])]
    pub list: bool,

    /// Print only the section for notifications.cfg, for appending to the file.
    #[arg(long, conflicts_with = "private")]
    pub public: bool,

    /// Print only the section for priv/notifications.cfg, for appending to the file.
    #[arg(long)]
    pub private: bool,
}

#[derive(Debug, Args)]
pub struct ForwardMailArgs {
    /// Directory for the per-message retry state, so that a retry only re-delivers to
    /// the targets that failed.
    #[arg(
        long,
        value_name = "DIR",
        env = "PVENOTIFY_STATE_DIR",
        default_value = "/var/lib/pvenotify"
    )]
    pub state_dir: PathBuf,

    /// Keep no retry state (for testing); ignored with elevated privileges.
    #[arg(long)]
    pub no_state: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    /// Only the targets.
    Targets,
    /// Only the matchers.
    Matchers,
}

fn absolute_path(value: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(value);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(format!("'{value}' is not an absolute path"))
    }
}

fn parse_dedup_key(value: &str) -> Result<String, String> {
    dedup::check_key(value).map(|()| value.to_string())
}

fn parse_timeout(value: &str) -> Result<u64, String> {
    match span::parse_span(value)? {
        0 => Err("a timeout of 0 would stop the command at once".to_string()),
        seconds => Ok(seconds),
    }
}

/// A DNS-style name (labels of letters, digits, `-` and `_`, joined by dots): it becomes
/// the right side of every Message-ID, where a space or control character breaks the mail.
fn host_name(value: &str) -> Result<String, String> {
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if value.len() <= 253 && value.split('.').all(label_ok) {
        Ok(value.to_string())
    } else {
        Err(format!(
            "'{}' is not a host name (letters, digits, '-' and '_' in dot-separated labels)",
            value.escape_debug()
        ))
    }
}

/// Any letter case on the command line, normalised to lower case.
fn parse_severity(value: &str) -> Result<Severity, String> {
    value.to_ascii_lowercase().parse()
}
