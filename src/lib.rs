//! pvenotify: the Proxmox VE notification system as a standalone command-line tool.
//!
//! Data flows one way: an event (`notification`) and the configuration (`config`) go into
//! `routing`, which evaluates the `matcher`s; each selected `target` delivers; `exit` turns
//! the outcomes into one status. `cli` is the only part that knows the command line.

pub mod cli;
pub mod config;
pub mod exit;
pub mod explain;
pub mod forward;
pub mod host;
pub mod matcher;
pub mod notification;
pub mod redact;
pub mod render;
pub mod routing;
pub mod target;
