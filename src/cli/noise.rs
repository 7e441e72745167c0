//! Noise control while sending (noise.md §1–2): reads and locks the record of the dedup key,
//! decides per target, has the event prepared once per note of suppressed ones (the note in
//! its text and HTML part, for a template also in its data), suppresses or delivers, writes
//! what happened, and prunes old records now and then. An unusable state costs one warning
//! and never a notification.

use std::borrow::Cow;
use std::path::Path;
use std::time::SystemTime;

use serde::Serialize;
use serde_json::Value;

use super::Host;
use super::Output;
use super::args::NoiseArgs;
use super::deliver::{deliver_one, print_outcome};
use super::template;
use crate::config::Config;
use crate::endpoints::{Delivery, Outcome, SuppressedBy};
use crate::host::{local_time_after, local_time_or_epoch};
use crate::noise::dedup::{self, Decision, RecordData, SuppressedNote, Suppression};
use crate::noise::store::{self, LockedRecord};
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

/// The event as the targets delivering with one note get it; `Err` when it could not be
/// prepared (a template that does not render), which fails those targets.
pub(super) type Version<'e> = Result<Cow<'e, Notification>, String>;

/// What happens at one target.
enum Step {
    Suppress(Suppression),
    /// Deliver the version of this index.
    Deliver(usize),
}

/// The version of an event whose text is final: the note added to a copy.
pub(super) fn noted_version(event: &Notification, note: Option<SuppressedNote>) -> Version<'_> {
    Ok(match note {
        Some(note) => {
            let mut noted = event.clone();
            add_note(&mut noted, note);
            Cow::Owned(noted)
        }
        None => Cow::Borrowed(event),
    })
}

/// `(N similar notifications suppressed since TIME)` last in the text body and in a
/// rendered HTML part.
pub(super) fn add_note(event: &mut Notification, note: SuppressedNote) {
    dedup::add_note(
        event,
        &dedup::note_line(note.count, &local_time_or_epoch(note.since)),
    );
}

/// What a template gets to know of the suppressed notifications a delivery follows.
pub(super) fn note_data(note: SuppressedNote) -> [(&'static str, Value); 2] {
    [
        ("suppressed-count", Value::from(note.count)),
        ("suppressed-since", Value::from(note.since)),
    ]
}

/// Delivers an event of `severity` to each of `names` unless noise control suppresses it
/// there, and records the outcome under the key. The record stays locked from its reading
/// until the last outcome is written, so a concurrent run with the same key waits and then
/// sees it. Once it is known which targets deliver with which note, `prepare(note, names)`
/// makes the version of the event that `names` get, once per note.
#[allow(clippy::too_many_arguments)]
pub(super) fn deliver_quietly<'e>(
    names: &[&str],
    severity: Severity,
    mut prepare: impl FnMut(Option<SuppressedNote>, &[&str]) -> Version<'e>,
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

    // Every decision first, then one version of the event per note (usually one).
    let mut notes = Vec::new();
    let steps: Vec<(&str, &str, Step)> = names
        .iter()
        .filter_map(|&name| {
            let target = config.targets.get(name)?;
            let entry = data.targets.get(name);
            let step = match dedup::decide(entry, severity, now, settings.cooldown) {
                Decision::Suppress(suppression) => Step::Suppress(suppression),
                Decision::Deliver(note) => {
                    Step::Deliver(notes.iter().position(|n| *n == note).unwrap_or_else(|| {
                        notes.push(note);
                        notes.len() - 1
                    }))
                }
            };
            Some((name, target.kind.type_name(), step))
        })
        .collect();
    let versions: Vec<Version<'e>> = notes
        .iter()
        .enumerate()
        .map(|(index, &note)| {
            let names: Vec<&str> = steps
                .iter()
                .filter(|(_, _, step)| matches!(step, Step::Deliver(i) if *i == index))
                .map(|(name, _, _)| *name)
                .collect();
            prepare(note, &names)
        })
        .collect();
    // What it holds (a template's data) is not needed for delivering.
    drop(prepare);

    let context = host.delivery_context();
    let mut outcomes = Vec::with_capacity(steps.len());
    for (name, type_name, step) in steps {
        match step {
            Step::Suppress(Suppression {
                sent_at,
                quiet_until,
                count,
            }) => {
                let outcome = Outcome::suppressed(
                    name,
                    type_name,
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
            Step::Deliver(index) => {
                let event = match &versions[index] {
                    Ok(event) => event.as_ref(),
                    Err(message) => {
                        // Not delivered: like a failure, it starts no cooldown.
                        outcomes.extend(template::fail_all(&[name], config, host, out, message));
                        continue;
                    }
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
                    let entry = dedup::delivered(severity, now, settings.cooldown);
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
