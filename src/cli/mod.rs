//! The command line: parses arguments, builds the host context, runs one subcommand and
//! returns its exit status. Nothing outside this module knows clap.

pub mod args;
mod deliver;
mod list;
mod output;
mod send;
mod test_target;
mod validate;

use clap::Parser;
use clap::error::ErrorKind;

use crate::config::{self, HostFacts, Loaded};
use crate::exit::ExitStatus;
use crate::host;
use crate::target::DeliveryContext;
use args::{Cli, Command};
pub use output::Output;

/// Runs pvenotify with the process arguments.
pub fn main() -> ExitStatus {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let status = match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => ExitStatus::Ok,
                _ => ExitStatus::Usage,
            };
            // clap prints help to stdout and errors to stderr itself.
            let _ = e.print();
            return status;
        }
    };
    run(&cli)
}

fn run(cli: &Cli) -> ExitStatus {
    let out = Output::new(cli.output_format, cli.verbose, cli.quiet);
    let host = Host::detect(cli);
    match &cli.command {
        Command::Send(args) => send::run(args, &host, &out),
        Command::TestTarget(args) => test_target::run(&args.name, &host, &out),
        Command::Validate(args) => validate::run(args, &host, &out),
        Command::List(args) => list::run(args, &host, &out),
    }
}

/// What the subcommands need to know about this host and invocation.
pub(crate) struct Host<'a> {
    pub cli: &'a Cli,
    /// Short node name for the default `hostname` field.
    pub hostname: String,
    /// Full name for Message-IDs.
    pub fqdn: String,
}

impl<'a> Host<'a> {
    fn detect(cli: &'a Cli) -> Self {
        let (hostname, fqdn) = match &cli.hostname {
            Some(name) => (name.clone(), name.clone()),
            None => {
                let node = host::node_name();
                (host::short_name(&node).to_string(), node)
            }
        };
        Host {
            cli,
            hostname,
            fqdn,
        }
    }

    pub fn facts(&self, check_sendmail: bool) -> HostFacts {
        HostFacts {
            hostname: self.hostname.clone(),
            fqdn: self.fqdn.clone(),
            sendmail_usable: check_sendmail.then(|| host::is_executable(&self.cli.sendmail)),
            sendmail_path: self.cli.sendmail.display().to_string(),
        }
    }

    pub fn delivery_context(&self) -> DeliveryContext {
        DeliveryContext {
            sendmail: self.cli.sendmail.clone(),
            fqdn: self.fqdn.clone(),
            verbose: self.cli.verbose > 0,
        }
    }

    /// Loads the configuration; on load errors prints them and returns `Err(78)`.
    pub fn load_config(&self, out: &Output) -> Result<Loaded, ExitStatus> {
        let loaded = config::load(&self.cli.config_dir, &self.facts(false));
        if loaded.has_load_errors() {
            for finding in loaded.load_errors() {
                out.error_line(&finding.to_string());
            }
            out.error(&format!(
                "the configuration in {} cannot be loaded; nothing was done",
                self.cli.config_dir.display()
            ));
            return Err(ExitStatus::Config);
        }
        for finding in &loaded.findings {
            out.note(&finding.to_string());
        }
        Ok(loaded)
    }
}
