//! Noise control while sending (noise.md §1–2): reads and locks the record of the dedup key,
//! suppresses or delivers per target, writes what happened, and prunes old records now and
//! then. An unusable state costs one warning and never a notification.

use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;

use super::Host;
use super::Output;
use super::args::NoiseArgs;
use super::deliver::{deliver_one, print_outcome};
use crate::config::Config;
use crate::endpoints::{Delivery, Outcome, SuppressedBy};
use crate::noise::dedup::{self, Decision, RecordData, Suppression};
use crate::noise::store::{self, LockedRecord};
use crate::noise::{local_time, local_time_after};
use crate::notification::{Notification, Severity};

/// Noise control as the command line asks for it.
#[derive(Debug, Clone, Copy)]
pub(super) struct NoiseSettings<'a> {
    pub key: &'a str,
    pub cooldown: u64,
    pub state_dir: &'a Path,
}

impl<'a> NoiseSettings<'a> {
    /// `None` without `--dedup-key`.
    pub fn from_args(args: &'a NoiseArgs) -> Option<Self> {
        Some(NoiseSettings {
            key: args.dedup_key.as_deref()?,
            cooldown: args.cooldown.unwrap_or(dedup::DEFAULT_COOLDOWN),
            state_dir: &args.state_dir,
        })
    }
}

/// A target that a real send would not notify now.
#[derive(Debug, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(super) struct QuietTarget<'a> {
    pub target: &'a str,
    pub sent_at: i64,
    pub quiet_until: i64,
    pub suppressed_count: u64,
}

/// Which of `selected` a real send would suppress now, from the record as it is (never
/// locked, created or changed: for `--dry-run` and `--explain`).
pub(super) fn quiet_targets<'a>(
    settings: &NoiseSettings<'_>,
    selected: &[&'a str],
    severity: Severity,
    now: i64,
    out: &Output,
) -> Vec<QuietTarget<'a>> {
    let data = match store::peek(settings.state_dir, settings.key) {
        Ok(data) => data.unwrap_or_default(),
        Err(reason) => {
            out.warning(&format!("{reason}; nothing would be suppressed"));
            return Vec::new();
        }
    };
    selected
        .iter()
        .filter_map(|&target| {
            match dedup::decide(data.targets.get(target), severity, now, settings.cooldown) {
                Decision::Suppress(s) => Some(QuietTarget {
                    target,
                    sent_at: s.sent_at,
                    quiet_until: s.quiet_until,
                    suppressed_count: s.count - 1,
                }),
                Decision::Deliver(_) => None,
            }
        })
        .collect()
}

/// `NAME: suppressed until 11:00:05 (same key sent 10:00:05)`.
pub(super) fn quiet_line(quiet: &QuietTarget<'_>, now: i64) -> String {
    format!(
        "{}: suppressed until {} (same key sent {})",
        quiet.target,
        local_time_after(now, quiet.quiet_until),
        local_time_after(now, quiet.sent_at)
    )
}

/// Delivers `event` to each of `names` unless noise control suppresses it there, and
/// records the outcome under the key. The record stays locked from its reading until the
/// last outcome is written, so a concurrent run with the same key waits and then sees it.
pub(super) fn deliver_quietly(
    event: &Notification,
    names: &[&str],
    settings: &NoiseSettings<'_>,
    config: &Config,
    host: &Host<'_>,
    out: &Output,
    warnings: &mut Vec<String>,
) -> Vec<Outcome> {
    if names.is_empty() {
        // Nothing to suppress or record: leave the state alone.
        return Vec::new();
    }
    let now = host.wall_clock();
    let mut record = match LockedRecord::open(settings.state_dir, settings.key, store::LOCK_WAIT) {
        Ok(record) => {
            out.debug(&format!(
                "dedup key '{}': record {}",
                settings.key.escape_debug(),
                record.path.display()
            ));
            Some(record)
        }
        Err(reason) => {
            let warning =
                format!("noise control state not usable: {reason}; nothing is suppressed");
            out.warning(&warning);
            warnings.push(warning);
            None
        }
    };
    if let Some(reason) = record.as_mut().and_then(|r| r.damaged.take()) {
        let warning = format!("dedup record damaged ({reason}); it is started afresh");
        out.warning(&warning);
        warnings.push(warning);
    }
    let mut data = record
        .as_mut()
        .and_then(|r| r.data.take())
        .unwrap_or_else(|| RecordData {
            key: settings.key.to_string(),
            ..RecordData::default()
        });

    let context = host.delivery_context();
    let mut outcomes = Vec::with_capacity(names.len());
    for &name in names {
        let Some(target) = config.targets.get(name) else {
            continue;
        };
        match dedup::decide(
            data.targets.get(name),
            event.severity,
            now,
            settings.cooldown,
        ) {
            Decision::Suppress(Suppression {
                sent_at,
                quiet_until,
                count,
            }) => {
                let outcome = Outcome::suppressed(
                    name,
                    target.kind.type_name(),
                    SuppressedBy {
                        sent_at,
                        quiet_until,
                        suppressed_count: count,
                    },
                );
                print_outcome(&outcome, out);
                outcomes.push(outcome);
                if let Some(entry) = data.targets.get_mut(name) {
                    *entry = dedup::suppressed(entry, now);
                }
            }
            Decision::Deliver(note) => {
                let noted;
                let event = match note {
                    Some(note) => {
                        noted = with_note(event, note.count, note.since);
                        &noted
                    }
                    None => event,
                };
                let Some(outcome) = deliver_one(
                    &Delivery::event(event),
                    name,
                    config,
                    &context,
                    out,
                    warnings,
                ) else {
                    continue;
                };
                // A failure starts no cooldown (and keeps the count for the next success).
                if outcome.failure().is_none() {
                    let entry = dedup::delivered(event.severity, now, settings.cooldown);
                    data.targets.insert(name.to_string(), entry);
                }
                outcomes.push(outcome);
            }
        }
    }

    if let Some(record) = record {
        if let Err(reason) = record.save(&data) {
            let warning = format!("noise control state not written: {reason}");
            out.warning(&warning);
            warnings.push(warning);
        }
        if let Err(error) = store::prune_if_due(settings.state_dir, now, SystemTime::now()) {
            out.note(&format!("cannot prune old dedup records: {error}"));
        }
    }
    outcomes
}

/// The event with `(N similar notifications suppressed since TIME)` as the last line of
/// its body (the HTML part of mail is derived from it).
fn with_note(event: &Notification, count: u64, since: i64) -> Notification {
    let mut noted = event.clone();
    let line = dedup::note_line(count, &local_time(since));
    let body = &mut noted.body;
    if !body.is_empty() {
        body.push_str(if body.ends_with('\n') { "\n" } else { "\n\n" });
    }
    body.push_str(&line);
    noted
}
