//! Exit statuses (sysexits.h) and how the outcomes of one run merge into one status.
//! Every command ends here, so a script sees the same status for the same situation.

use std::fmt;

use serde::Serialize;

/// The statuses pvenotify uses; the numbers are those of sysexits.h (what each one means
/// is written once, in [`STATUSES`]), except that `run` passes on the status of the
/// command it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    Ok,
    /// Bad command line.
    Usage,
    /// Bad input data (body, timestamp).
    DataErr,
    /// Nothing there to deliver to.
    Unavailable,
    /// A bug.
    Software,
    /// A retry may succeed.
    TempFail,
    /// Refused because of elevated privileges.
    NoPerm,
    /// Configuration cannot be loaded or is wrong.
    Config,
    /// `run`: the command's own status (see [`run_status`]).
    Command(u8),
}

/// One row of [`STATUSES`].
pub struct StatusDoc {
    pub status: ExitStatus,
    /// A few words for `--help`; `None` for a status that only the set-uid copy returns
    /// (77), which a user running pvenotify never sees.
    pub name: Option<&'static str>,
    /// The full meaning, for the man page; `backticked` words are set in bold there.
    pub meaning: &'static str,
}

/// Every status and what it means, in numeric order: `--help` and the man page
/// (EXIT STATUS in pvenotify(1)) are generated from this table.
pub const STATUSES: &[StatusDoc] = &[
    StatusDoc {
        status: ExitStatus::Ok,
        name: Some("success"),
        meaning: "Done: every selected target got the event, or the matchers selected none; \
                  `--dry-run`, `--explain` and `list` printed their result; `validate` found \
                  no error.",
    },
    StatusDoc {
        status: ExitStatus::Usage,
        name: Some("bad command line"),
        meaning: "Bad command line: unknown option, missing `--title`, bad `--severity`, \
                  malformed or repeated `--field`, conflicting options, relative \
                  `--sendmail`.",
    },
    StatusDoc {
        status: ExitStatus::DataErr,
        name: Some("bad input data"),
        meaning: "Bad input data: an unreadable, non-UTF-8 or larger than 4 MiB body, or an \
                  unparsable `--timestamp`.",
    },
    StatusDoc {
        status: ExitStatus::Unavailable,
        name: Some("nothing to deliver to"),
        meaning: "Nothing to deliver to: `send` found no enabled matcher naming an existing, \
                  enabled target, or every target name the matchers selected is missing; \
                  `test-target` was given a name that is no target.",
    },
    StatusDoc {
        status: ExitStatus::Software,
        name: Some("internal error"),
        meaning: "Internal error (a bug in pvenotify).",
    },
    StatusDoc {
        status: ExitStatus::TempFail,
        name: Some("a delivery failed and a retry may help"),
        meaning: "A delivery failed in a way that a later retry may fix: a server did not \
                  answer or refused, sendmail exited with an error, a timeout.",
    },
    StatusDoc {
        status: ExitStatus::NoPerm,
        name: None,
        meaning: "A command other than `forward-mail` was started with elevated privileges.",
    },
    StatusDoc {
        status: ExitStatus::Config,
        name: Some("configuration problem"),
        meaning: "The configuration cannot be loaded, `validate` found errors, or a delivery \
                  failed because of the configuration (for example a gotify target without \
                  token).",
    },
];

impl ExitStatus {
    pub fn code(self) -> i32 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Usage => 64,
            ExitStatus::DataErr => 65,
            ExitStatus::Unavailable => 69,
            ExitStatus::Software => 70,
            ExitStatus::TempFail => 75,
            ExitStatus::NoPerm => 77,
            ExitStatus::Config => 78,
            ExitStatus::Command(code) => i32::from(code),
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(status: ExitStatus) -> Self {
        std::process::ExitCode::from(status.code() as u8)
    }
}

/// How a command run by `run` ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommandEnd {
    /// It exited with this code.
    Exited(i32),
    /// A signal (this number) ended it.
    Signaled(i32),
    /// It ran past `--timeout` and was stopped.
    TimedOut,
    /// There is no such program.
    NotFound,
    /// The program exists but could not be executed.
    NotExecutable,
}

/// The status of `run`: the command's, as shells and timeout(1) report it, so that cron
/// and `set -e` see what they would without pvenotify.
pub fn run_status(end: CommandEnd) -> ExitStatus {
    let code = match end {
        CommandEnd::Exited(code) => code.clamp(0, 255),
        CommandEnd::Signaled(signal) => (128 + signal).min(255),
        CommandEnd::TimedOut => 124,
        CommandEnd::NotExecutable => 126,
        CommandEnd::NotFound => 127,
    };
    match code {
        0 => ExitStatus::Ok,
        code => ExitStatus::Command(code as u8),
    }
}

/// Why a delivery failed, which decides whether retrying makes sense.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailureClass {
    /// Detected locally before anything was sent; a retry cannot fix it (78).
    Configuration,
    /// The remote side or the child process failed; a retry may fix it (75).
    Temporary,
}

impl FailureClass {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureClass::Configuration => "configuration",
            FailureClass::Temporary => "temporary",
        }
    }
}

impl fmt::Display for FailureClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The status of `send` after its delivery phase (cli.md §8.1): a configuration failure
/// outranks a temporary one because retrying cannot fix it; 69 when nothing could be
/// delivered because every selected name was missing.
pub fn send_status(
    failures: impl IntoIterator<Item = FailureClass>,
    all_selected_missing: bool,
) -> ExitStatus {
    let mut status = ExitStatus::Ok;
    for class in failures {
        match class {
            FailureClass::Configuration => return ExitStatus::Config,
            FailureClass::Temporary => status = ExitStatus::TempFail,
        }
    }
    if status == ExitStatus::Ok && all_selected_missing {
        ExitStatus::Unavailable
    } else {
        status
    }
}

/// The status of `test-target` for its one delivery.
pub fn test_target_status(failure: Option<FailureClass>) -> ExitStatus {
    match failure {
        None => ExitStatus::Ok,
        Some(FailureClass::Configuration) => ExitStatus::Config,
        Some(FailureClass::Temporary) => ExitStatus::TempFail,
    }
}

/// The status of `validate`.
pub fn validate_status(errors: usize, warnings: usize, strict: bool) -> ExitStatus {
    if errors > 0 || (strict && warnings > 0) {
        ExitStatus::Config
    } else {
        ExitStatus::Ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FailureClass::*;

    #[test]
    fn send_all_delivered_is_ok() {
        assert_eq!(send_status([], false), ExitStatus::Ok);
    }

    #[test]
    fn send_configuration_outranks_temporary_in_any_order() {
        assert_eq!(
            send_status([Temporary, Configuration], false),
            ExitStatus::Config
        );
        assert_eq!(
            send_status([Configuration, Temporary], false),
            ExitStatus::Config
        );
    }

    #[test]
    fn send_temporary_only_is_tempfail() {
        assert_eq!(
            send_status([Temporary, Temporary], false),
            ExitStatus::TempFail
        );
    }

    #[test]
    fn send_all_missing_is_unavailable_but_failures_outrank_it() {
        assert_eq!(send_status([], true), ExitStatus::Unavailable);
        assert_eq!(send_status([Temporary], true), ExitStatus::TempFail);
    }

    #[test]
    fn test_target_by_class() {
        assert_eq!(test_target_status(None), ExitStatus::Ok);
        assert_eq!(test_target_status(Some(Configuration)), ExitStatus::Config);
        assert_eq!(test_target_status(Some(Temporary)), ExitStatus::TempFail);
    }

    #[test]
    fn validate_strict_counts_warnings() {
        assert_eq!(validate_status(0, 3, false), ExitStatus::Ok);
        assert_eq!(validate_status(0, 3, true), ExitStatus::Config);
        assert_eq!(validate_status(1, 0, false), ExitStatus::Config);
        assert_eq!(validate_status(0, 0, true), ExitStatus::Ok);
    }

    #[test]
    fn run_passes_on_the_command_status_like_shells() {
        let code = |end| run_status(end).code();
        assert_eq!(run_status(CommandEnd::Exited(0)), ExitStatus::Ok);
        assert_eq!(code(CommandEnd::Exited(3)), 3);
        assert_eq!(code(CommandEnd::Exited(255)), 255);
        assert_eq!(code(CommandEnd::Signaled(9)), 137);
        assert_eq!(code(CommandEnd::Signaled(15)), 143);
        assert_eq!(code(CommandEnd::TimedOut), 124);
        assert_eq!(code(CommandEnd::NotExecutable), 126);
        assert_eq!(code(CommandEnd::NotFound), 127);
    }

    #[test]
    fn every_status_is_described_once_in_numeric_order() {
        use ExitStatus::*;
        let all = [
            Ok,
            Usage,
            DataErr,
            Unavailable,
            Software,
            TempFail,
            NoPerm,
            Config,
        ];
        let described: Vec<ExitStatus> = STATUSES.iter().map(|row| row.status).collect();
        assert_eq!(described, all);
        // A new variant must be added to `all` above (and so to the table).
        for status in all {
            match status {
                Ok | Usage | DataErr | Unavailable | Software | TempFail | NoPerm | Config => {}
                // `run` passes on its command's status; pvenotify-run(1) describes it.
                Command(_) => {}
            }
        }
    }

    #[test]
    fn codes_are_sysexits() {
        assert_eq!(ExitStatus::Usage.code(), 64);
        assert_eq!(ExitStatus::DataErr.code(), 65);
        assert_eq!(ExitStatus::Unavailable.code(), 69);
        assert_eq!(ExitStatus::TempFail.code(), 75);
        assert_eq!(ExitStatus::NoPerm.code(), 77);
        assert_eq!(ExitStatus::Config.code(), 78);
    }
}
