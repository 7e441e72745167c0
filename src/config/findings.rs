//! Collecting findings while checking: one helper per file so every message gets the right
//! path, and line 0 (built-ins) turns into a whole-file finding.

use std::path::{Path, PathBuf};

use super::model::{Finding, FindingKind};

/// Findings for one file.
#[derive(Debug)]
pub struct Findings {
    file: PathBuf,
    list: Vec<Finding>,
}

impl Findings {
    pub fn new(file: &Path) -> Findings {
        Findings {
            file: file.to_path_buf(),
            list: Vec::new(),
        }
    }

    /// A finding at `line`; 0 means "no line" (built-ins, whole file).
    pub fn add(&mut self, kind: FindingKind, line: usize, message: impl Into<String>) {
        self.list.push(Finding {
            file: self.file.clone(),
            line: (line > 0).then_some(line),
            kind,
            message: message.into(),
        });
    }

    pub fn load_error(&mut self, line: usize, message: impl Into<String>) {
        self.add(FindingKind::LoadError, line, message);
    }

    pub fn error(&mut self, line: usize, message: impl Into<String>) {
        self.add(FindingKind::ValidationError, line, message);
    }

    pub fn warning(&mut self, line: usize, message: impl Into<String>) {
        self.add(FindingKind::Warning, line, message);
    }

    pub fn into_vec(self) -> Vec<Finding> {
        self.list
    }
}
