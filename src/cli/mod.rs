//! The command line: parses arguments, builds the host context, runs one subcommand and
//! returns its exit status. Nothing outside this module knows clap.

pub mod args;
mod deliver;
pub mod explain;
mod forward_mail;
mod list;
mod noise;
mod output;
mod recipe;
mod run;
mod send;
mod template;
mod test_target;
mod validate;

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::FromArgMatches;
use clap::error::ErrorKind;

use crate::config::{self, Finding, FindingKind, HostFacts, Loaded};
use crate::endpoints::DeliveryContext;
use crate::exit::ExitStatus;
use crate::forward::{key, privilege, syslog};
use crate::host;
use args::{Cli, Command};
pub use output::Output;

/// Started under this name, the program is `pvenotify forward-mail` (the set-uid copy
/// installed for the MTA, forward-mail.md §4.2).
pub const FORWARD_MAIL_NAME: &str = "pvenotify-forward-mail";

/// Runs pvenotify with the process arguments.
pub fn main() -> ExitStatus {
    // With elevated privileges nothing from the caller's environment is trusted; this
    // runs before anything else reads it (clap reads PVENOTIFY_* variables).
    let privileged = privilege::is_privileged();
    // Exim names the queue entry in the environment, which privileged mode is about to clear;
    // the retry key needs it (forward::key).
    let queue_id = key::queue_id(std::env::var_os(key::EXIM_MESSAGE_ID).as_deref());
    if privileged {
        privilege::sanitize_process();
    }
    let mut argv: Vec<OsString> = std::env::args_os().collect();
    let multi_call = argv
        .first()
        .and_then(|arg0| Path::new(arg0).file_name())
        .is_some_and(|name| name == FORWARD_MAIL_NAME);
    if multi_call {
        if let Some(other) = other_subcommand(&argv) {
            eprintln!(
                "pvenotify: error: only forward-mail may run as {FORWARD_MAIL_NAME} (not '{other}')"
            );
            return ExitStatus::NoPerm;
        }
        if !argv.iter().skip(1).any(|a| a == "forward-mail") {
            argv.insert(1, "forward-mail".into());
        }
    }
    let forwarding = argv.iter().skip(1).any(|a| a == "forward-mail");
    if forwarding {
        // The MTA must never bounce root's mail because of us: a bug means "try again".
        std::panic::set_hook(Box::new(|info| {
            let message = format!("internal error: {info}");
            eprintln!("pvenotify: error: {message}");
            syslog::log(syslog::Level::Error, &message);
            std::process::exit(ExitStatus::TempFail.code());
        }));
    }

    let parsed = args::command()
        .try_get_matches_from(&argv)
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let status = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitStatus::Ok,
                _ if forwarding => ExitStatus::TempFail,
                _ => ExitStatus::Usage,
            };
            // clap prints help to stdout and errors to stderr itself.
            let _ = e.print();
            return status;
        }
    };
    if privileged && !matches!(cli.command, Command::ForwardMail(_)) {
        eprintln!("pvenotify: error: only forward-mail may run with elevated privileges");
        return ExitStatus::NoPerm;
    }
    run(&cli, privileged, queue_id)
}

/// The first positional argument when it names a subcommand other than forward-mail.
fn other_subcommand(argv: &[OsString]) -> Option<String> {
    use clap::CommandFactory;
    let command = Cli::command();
    // `--option VALUE`: skip the value. Which options take one comes from the definition
    // (global ones and forward-mail's, the options this name can be given).
    let forward_mail = command.find_subcommand("forward-mail");
    let takes_value = |arg: &str| {
        command
            .get_arguments()
            .chain(forward_mail.into_iter().flat_map(|c| c.get_arguments()))
            .any(|a| {
                a.get_long().is_some_and(|long| arg == format!("--{long}"))
                    && a.get_action().takes_values()
            })
    };
    let mut args = argv.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        if takes_value(arg) {
            args.next();
        } else if !arg.starts_with('-') {
            let is_other =
                arg != "forward-mail" && command.get_subcommands().any(|c| c.get_name() == arg);
            return is_other.then(|| arg.to_string());
        }
    }
    None
}

fn run(cli: &Cli, privileged: bool, queue_id: Option<String>) -> ExitStatus {
    let out = Output::new(cli.output_format, cli.verbose, cli.quiet);
    let host = Host::detect(cli, privileged, queue_id, &out);
    match &cli.command {
        Command::Send(args) => send::run(args, &host, &out),
        Command::TestTarget(args) => test_target::run(&args.name, &host, &out),
        Command::Validate(args) => validate::run(args, &host, &out),
        Command::List(args) => list::run(args, &host, &out),
        Command::ForwardMail(args) => forward_mail::run(args, &host, &out),
        Command::Recipe(args) => recipe::run(args, &out),
        Command::Run(args) => run::run(args, &host, &out),
    }
}

/// What the subcommands need to know about this host and invocation.
pub(crate) struct Host<'a> {
    pub cli: &'a Cli,
    /// Running set-uid/set-gid: overrides are ignored and fixed paths used.
    pub privileged: bool,
    pub config_dir: PathBuf,
    pub sendmail: PathBuf,
    /// Short node name for the default `hostname` field.
    pub hostname: String,
    /// Full name for Message-IDs.
    pub fqdn: String,
    /// The MTA's id for the mail being forwarded, from the environment (Exim's `MESSAGE_ID`).
    pub queue_id: Option<String>,
    /// Vendor base of the notification templates.
    pub template_dir: PathBuf,
}

impl<'a> Host<'a> {
    fn detect(cli: &'a Cli, privileged: bool, queue_id: Option<String>, out: &Output) -> Self {
        let hostname_override = cli.hostname.as_ref().filter(|_| !privileged);
        let (hostname, fqdn) = match hostname_override {
            Some(name) => (name.clone(), name.clone()),
            None => {
                let node = host::node_name();
                (host::short_name(&node).to_string(), node)
            }
        };
        let (config_dir, sendmail, template_dir) = if privileged {
            // forward-mail, the only command run privileged, never renders templates; the
            // vendor base is fixed all the same.
            out.note("elevated privileges: --config-dir, --sendmail, --hostname and the environment are ignored");
            (
                PathBuf::from("/etc/pve"),
                PathBuf::from("/usr/sbin/sendmail"),
                PathBuf::from(template::VENDOR_DIR),
            )
        } else {
            (
                cli.config_dir.clone(),
                cli.sendmail.clone(),
                cli.template_dir.clone(),
            )
        };
        Host {
            cli,
            privileged,
            config_dir,
            sendmail,
            hostname,
            fqdn,
            queue_id,
            template_dir,
        }
    }

    pub fn facts(&self, check_sendmail: bool) -> HostFacts {
        HostFacts {
            hostname: self.hostname.clone(),
            fqdn: self.fqdn.clone(),
            sendmail_usable: check_sendmail.then(|| host::is_executable(&self.sendmail)),
            sendmail_path: self.sendmail.display().to_string(),
        }
    }

    pub fn delivery_context(&self) -> DeliveryContext {
        DeliveryContext {
            sendmail: self.sendmail.clone(),
            fqdn: self.fqdn.clone(),
            verbose: self.cli.verbose > 0,
        }
    }

    /// The wall clock (epoch seconds) that noise control goes by. Test-only:
    /// `PVENOTIFY_TEST_NOW` (epoch seconds) replaces it so that tests can step past a
    /// cooldown without sleeping; it is not documented for users and ignored when privileged.
    pub fn wall_clock(&self) -> i64 {
        let test_now = std::env::var("PVENOTIFY_TEST_NOW")
            .ok()
            .filter(|_| !self.privileged);
        test_now
            .and_then(|text| text.parse().ok())
            .unwrap_or_else(|| chrono::Utc::now().timestamp())
    }

    /// Loads the configuration; on load errors prints them and returns `Err(78)`.
    pub fn load_config(&self, out: &Output) -> Result<Loaded, ExitStatus> {
        let loaded = config::load(&self.config_dir, &self.facts(false));
        if loaded.has_load_errors() {
            for finding in loaded.load_errors() {
                out.error_line(&self.shown(finding));
            }
            out.error(&format!(
                "the configuration in {} cannot be loaded; nothing was done",
                self.config_dir.display()
            ));
            return Err(ExitStatus::Config);
        }
        for finding in &loaded.findings {
            out.note(&self.shown(finding));
        }
        Ok(loaded)
    }

    /// A finding as the caller may see it. With elevated privileges the caller could not read
    /// the root-only `priv/` files, and a finding's text may quote them (a misplaced secret):
    /// it gets file, line and kind only, and the full text goes to syslog for the admin.
    fn shown(&self, finding: &Finding) -> String {
        if !(self.privileged && finding.file.starts_with(self.config_dir.join("priv"))) {
            return finding.to_string();
        }
        let (kind, level) = match finding.kind {
            FindingKind::LoadError => ("load error", syslog::Level::Error),
            FindingKind::ValidationError => ("error", syslog::Level::Error),
            FindingKind::Warning => ("warning", syslog::Level::Warning),
        };
        syslog::log(level, &finding.to_string());
        let line = finding.line.map(|l| format!(":{l}")).unwrap_or_default();
        format!(
            "{}{line}: {kind} (not shown to this user; see the system log)",
            finding.file.display()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other(args: &[&str]) -> Option<String> {
        let argv: Vec<OsString> = std::iter::once("pvenotify-forward-mail")
            .chain(args.iter().copied())
            .map(OsString::from)
            .collect();
        other_subcommand(&argv)
    }

    #[test]
    fn another_subcommand_is_found_past_options_and_their_values() {
        assert_eq!(other(&["list"]), Some("list".into()));
        assert_eq!(
            other(&["-v", "--quiet", "send", "--title", "t"]),
            Some("send".into())
        );
        // Values of options are skipped, even when they look like subcommands.
        assert_eq!(
            other(&["--config-dir", "list", "validate"]),
            Some("validate".into())
        );
        assert_eq!(
            other(&["--output-format", "json", "--hostname", "send"]),
            None
        );
        assert_eq!(other(&["--state-dir", "send"]), None);
    }

    #[test]
    fn forward_mail_and_plain_arguments_are_not_other_subcommands() {
        assert_eq!(other(&[]), None);
        assert_eq!(other(&["forward-mail", "--no-state"]), None);
        assert_eq!(other(&["--no-state"]), None);
        assert_eq!(other(&["--sendmail", "/usr/sbin/sendmail", "stray"]), None);
    }
}
