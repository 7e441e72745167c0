//! The whole command-line definition. Its doc comments are the `--help` text, and the
//! man pages and completions are generated from it.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::notification::Severity;

/// Proxmox VE notifications from the command line: route events through the matchers of
/// a Proxmox VE notification configuration and deliver them to its targets.
#[derive(Debug, Parser)]
#[command(name = "pvenotify", version, about, max_term_width = 100)]
pub struct Cli {
    /// Directory holding notifications.cfg, priv/notifications.cfg, user.cfg and
    /// datacenter.cfg.
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        env = "PVENOTIFY_CONFIG_DIR",
        default_value = "/etc/pve"
    )]
    pub config_dir: PathBuf,

    /// Format of what is printed on standard output.
    #[arg(long, global = true, value_name = "FORMAT", value_enum, default_value_t = OutputFormat::Text)]
    pub output_format: OutputFormat,

    /// Print notes on standard error; twice for debug detail. Never prints secrets.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,

    /// Print only errors and failed deliveries on standard error.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Host name used for the default `hostname` field and in Message-IDs, instead of
    /// the kernel's node name.
    #[arg(long, global = true, value_name = "NAME")]
    pub hostname: Option<String>,

    /// The sendmail program that sendmail targets run (an absolute path).
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "PVENOTIFY_SENDMAIL",
        default_value = "/usr/sbin/sendmail",
        value_parser = absolute_path
    )]
    pub sendmail: PathBuf,

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
    /// Route an event through the matchers and deliver it to the selected targets.
    ///
    /// Exit status: 0 when every selected target got it (or none was selected), 75 when a
    /// delivery failed in a way a retry may fix, 78 when one failed because of the
    /// configuration, 69 when nothing is there to deliver to.
    Send(SendArgs),

    /// Send a test notification to one target, bypassing the matchers (also when the
    /// target is disabled).
    ///
    /// Exit status: 0 when it was delivered, 75 or 78 when it failed (temporary or
    /// configuration), 69 when there is no such target.
    TestTarget(TestTargetArgs),

    /// Check every configuration file and print every problem as FILE:LINE: message.
    ///
    /// Exit status: 0 when there is no error, 78 otherwise.
    Validate(ValidateArgs),

    /// Show the configured targets and matchers (never their secrets).
    List(ListArgs),
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Title of the event (mail subject).
    #[arg(long, value_name = "TITLE")]
    pub title: String,

    /// Body of the event; without --body or --body-file it is read from standard input
    /// unless that is a terminal.
    #[arg(long, value_name = "TEXT", conflicts_with = "body_file")]
    pub body: Option<String>,

    /// Read the body from FILE ("-" for standard input); at most 4 MiB of UTF-8.
    #[arg(long, value_name = "FILE")]
    pub body_file: Option<PathBuf>,

    /// Severity: info, notice, warning, error or unknown.
    #[arg(long, value_name = "SEVERITY", default_value = "info", value_parser = parse_severity)]
    pub severity: Severity,

    /// A metadata field such as type=vzdump; repeatable. Overrides the default hostname.
    #[arg(long = "field", value_name = "KEY=VALUE")]
    pub fields: Vec<String>,

    /// Do not add the default `hostname` field.
    #[arg(long)]
    pub no_hostname: bool,

    /// Time of the event: seconds since the epoch or an RFC 3339 date-time such as
    /// 2024-06-03T10:00:00Z. Default: now.
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    pub timestamp: Option<String>,

    /// Route only: print the names of the targets a real send would notify.
    #[arg(long)]
    pub dry_run: bool,

    /// Route only: print for every matcher which rule matched and why (implies --dry-run).
    #[arg(long)]
    pub explain: bool,
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ListWhat {
    Targets,
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

/// Any letter case on the command line, normalised to lower case.
fn parse_severity(value: &str) -> Result<Severity, String> {
    value.to_ascii_lowercase().parse()
}
