//! pvenotify: the Proxmox VE notification system as a standalone command-line tool.
//!
//! Data flows one way: an event (`notification`) and the configuration (`config`) go into
//! `routing`, which evaluates the `matcher`s; the `endpoints` of the selected targets
//! deliver; `exit` turns the outcomes into one status. `forward` turns root's local mail
//! into an event. `cli` is the only part that knows the command line; `host` and `redact`
//! serve them all.

pub mod cli;
pub mod command;
pub mod config;
pub mod endpoints;
pub mod exit;
pub mod forward;
pub mod host;
pub mod matcher;
pub mod noise;
pub mod notification;
pub mod recipes;
pub mod redact;
pub mod render;
pub mod routing;
pub mod statefs;
