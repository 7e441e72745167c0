//! Delivery: one file per target kind, each an `Endpoint` built by `endpoint()`. Delivery code knows
//! nothing of the command line; it gets the configuration and a small context.

pub mod answer;
pub mod gotify;
pub mod http;
pub mod mail;
pub mod sendmail;
pub mod smtp;
pub mod template;
pub mod webhook;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

use crate::config::{Config, Target, TargetKind};
use crate::exit::FailureClass;
use crate::notification::Notification;

/// Host specifics that delivery needs; filled in once by the caller.
#[derive(Debug, Clone)]
pub struct DeliveryContext {
    /// The program sendmail targets run (absolute path).
    pub sendmail: PathBuf,
    /// Full host name, used in `Message-ID` and SMTP `EHLO`.
    pub fqdn: String,
    /// `-v` given: failure messages may carry more (masked) detail from the remote side.
    pub verbose: bool,
}

/// A failed delivery: a one-line message without secrets, and whether a retry may help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryError {
    pub class: FailureClass,
    pub message: String,
}

impl DeliveryError {
    pub fn configuration(message: impl Into<String>) -> Self {
        DeliveryError {
            class: FailureClass::Configuration,
            message: message.into(),
        }
    }

    pub fn temporary(message: impl Into<String>) -> Self {
        DeliveryError {
            class: FailureClass::Temporary,
            message: message.into(),
        }
    }
}

impl fmt::Display for DeliveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// What one delivery carries: the event, and for forwarded system mail also the
/// original message, which mail targets pass on instead of a newly built mail.
#[derive(Clone, Copy)]
pub struct Delivery<'a> {
    pub event: &'a Notification,
    pub original: Option<&'a OriginalMail<'a>>,
}

impl<'a> Delivery<'a> {
    pub fn event(event: &'a Notification) -> Self {
        Delivery {
            event,
            original: None,
        }
    }
}

/// Where the bytes of an original message come from; it may be larger than memory. Shared
/// (`Arc`) with the SMTP transaction's thread, which reads it as it sends.
pub trait MailSource: Send + Sync {
    /// Writes the message from byte `offset` to its end.
    fn write_from(&self, offset: u64, out: &mut dyn std::io::Write) -> std::io::Result<()>;
    /// Reads up to `buf.len()` bytes at `offset`; 0 at the end.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize>;
}

/// An original message as mail targets need it (forward-mail.md §3).
pub struct OriginalMail<'a> {
    pub source: std::sync::Arc<dyn MailSource>,
    /// Decoded subject.
    pub subject: &'a str,
    pub mime_version: Option<&'a str>,
    /// Rebuilt from the original's type and parameters.
    pub content_type: Option<&'a str>,
    pub content_transfer_encoding: Option<&'a str>,
    /// Where the body starts in the raw bytes.
    pub body_offset: u64,
}

/// One target kind's way of delivering an event.
pub trait Endpoint {
    /// The configured target this endpoint delivers for.
    fn target(&self) -> &Target;

    fn name(&self) -> &str {
        &self.target().name
    }

    fn type_name(&self) -> &'static str {
        self.target().kind.type_name()
    }

    fn disabled(&self) -> bool {
        self.target().disable
    }

    /// Delivers; non-fatal problems (a user without address) go to `warnings`.
    fn deliver(
        &self,
        delivery: &Delivery<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<(), DeliveryError>;
}

/// The result of delivering to one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    pub target: String,
    #[serde(rename = "type")]
    pub type_name: &'static str,
    pub status: OutcomeStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<FailureClass>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Set for `suppressed`: the delivery that started the quiet period.
    #[serde(flatten)]
    pub suppression: Option<SuppressedBy>,
}

/// Why noise control suppressed a delivery (noise.md §1), epoch seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub struct SuppressedBy {
    pub sent_at: i64,
    pub quiet_until: i64,
    /// Suppressed since `sent_at`, this one included.
    pub suppressed_count: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeStatus {
    Delivered,
    Failed,
    /// forward-mail: delivered by an earlier attempt of the same message.
    AlreadyDelivered,
    /// Noise control: the same event went out a short while ago.
    Suppressed,
}

impl Outcome {
    pub fn new(endpoint: &dyn Endpoint, result: Result<(), DeliveryError>) -> Self {
        let (status, class, error) = match result {
            Ok(()) => (OutcomeStatus::Delivered, None, None),
            Err(e) => (OutcomeStatus::Failed, Some(e.class), Some(e.message)),
        };
        Outcome {
            target: endpoint.name().to_string(),
            type_name: endpoint.type_name(),
            status,
            class,
            error,
            suppression: None,
        }
    }

    pub fn already_delivered(target: &str, type_name: &'static str) -> Self {
        Outcome {
            target: target.to_string(),
            type_name,
            status: OutcomeStatus::AlreadyDelivered,
            class: None,
            error: None,
            suppression: None,
        }
    }

    pub fn suppressed(target: &str, type_name: &'static str, by: SuppressedBy) -> Self {
        Outcome {
            target: target.to_string(),
            type_name,
            status: OutcomeStatus::Suppressed,
            class: None,
            error: None,
            suppression: Some(by),
        }
    }

    pub fn failure(&self) -> Option<FailureClass> {
        self.class
    }
}

/// `NAME (TYPE): delivered`, `NAME (TYPE): failed (CLASS): MESSAGE` or
/// `NAME (TYPE): suppressed (same key sent TIME, quiet until TIME, N suppressed)`.
impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}): ", self.target, self.type_name)?;
        match (self.status, self.class, &self.error) {
            (OutcomeStatus::Failed, Some(class), Some(error)) => {
                write!(f, "failed ({class}): {error}")
            }
            (OutcomeStatus::AlreadyDelivered, _, _) => f.write_str("already delivered"),
            (OutcomeStatus::Suppressed, _, _) => match self.suppression {
                Some(by) => write!(
                    f,
                    "suppressed (same key sent {}, quiet until {}, {} suppressed)",
                    crate::host::local_time_or_epoch(by.sent_at),
                    crate::host::local_time_after(by.sent_at, by.quiet_until),
                    by.suppressed_count
                ),
                None => f.write_str("suppressed"),
            },
            _ => f.write_str("delivered"),
        }
    }
}

/// The endpoint for a configured target.
pub fn endpoint<'a>(
    target: &'a Target,
    config: &'a Config,
    context: &'a DeliveryContext,
) -> Box<dyn Endpoint + 'a> {
    match &target.kind {
        TargetKind::Sendmail(settings) => Box::new(sendmail::Sendmail {
            target,
            settings,
            config,
            context,
        }),
        TargetKind::Smtp(settings) => Box::new(smtp::Smtp {
            target,
            settings,
            config,
            context,
        }),
        TargetKind::Gotify(settings) => Box::new(gotify::Gotify {
            target,
            settings,
            config,
            context,
        }),
        TargetKind::Webhook(settings) => Box::new(webhook::Webhook {
            target,
            settings,
            config,
            context,
        }),
    }
}
