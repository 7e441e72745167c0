//! Where output goes: the product on stdout (text or one JSON document), everything else
//! on stderr, filtered by `-q`/`-v`. A closed stdout ends output quietly.

use std::io::{self, Write};

use serde::Serialize;

use super::args::OutputFormat;

pub struct Output {
    pub format: OutputFormat,
    verbose: u8,
    quiet: bool,
}

impl Output {
    pub fn new(format: OutputFormat, verbose: u8, quiet: bool) -> Self {
        Output {
            format,
            verbose,
            quiet,
        }
    }

    pub fn is_json(&self) -> bool {
        self.format != OutputFormat::Text
    }

    pub fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Writes `text` to stdout; a reader that went away (`| head`) is not an error.
    pub fn stdout(&self, text: &str) {
        let mut stdout = io::stdout().lock();
        let _ = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
    }

    /// Writes `value` as the one JSON document of this run.
    pub fn json<T: Serialize>(&self, value: &T) {
        let text = match self.format {
            OutputFormat::JsonPretty => serde_json::to_string_pretty(value),
            _ => serde_json::to_string(value),
        };
        match text {
            Ok(text) => self.stdout(&(text + "\n")),
            Err(e) => self.error(&format!("cannot serialise the result: {e}")),
        }
    }

    /// `pvenotify: error: …`, always shown.
    pub fn error(&self, message: &str) {
        eprintln!("pvenotify: error: {message}");
    }

    /// A line shown as is, always (findings, failed outcomes).
    pub fn error_line(&self, line: &str) {
        eprintln!("{line}");
    }

    /// `pvenotify: warning: …`, hidden by `-q`.
    pub fn warning(&self, message: &str) {
        if !self.quiet {
            eprintln!("pvenotify: warning: {message}");
        }
    }

    /// A line shown unless `-q` (successful outcomes).
    pub fn info_line(&self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    /// `pvenotify: note: …`, only with `-v`.
    pub fn note(&self, message: &str) {
        if self.verbose > 0 {
            eprintln!("pvenotify: note: {message}");
        }
    }

    /// Debug detail, only with `-vv`.
    pub fn debug(&self, message: &str) {
        if self.verbose > 1 {
            eprintln!("pvenotify: debug: {message}");
        }
    }
}
