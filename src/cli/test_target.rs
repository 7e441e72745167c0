//! `test-target NAME`: the fixed test notification to one target, bypassing the matchers.

use super::deliver::{ResultJson, deliver_all};
use super::{Host, Output};
use crate::endpoints::Delivery;
use crate::exit::{self, ExitStatus};
use crate::notification::{Fields, Notification, Severity};

pub(super) fn run(name: &str, host: &Host<'_>, out: &Output) -> ExitStatus {
    let loaded = match host.load_config(out) {
        Ok(loaded) => loaded,
        Err(status) => return status,
    };
    let config = &loaded.config;
    let Some(target) = config.targets.get(name) else {
        out.error(&format!("target '{name}' does not exist"));
        return ExitStatus::Unavailable;
    };
    if target.disable {
        out.info_line(&format!(
            "pvenotify: note: target '{name}' is disabled; sent because it was named explicitly"
        ));
    }

    // As upstream: no fields at all, so templates referring to fields render empty.
    let event = Notification::new(
        "Test notification",
        format!("This is a test of the notification target '{name}'."),
        Severity::Info,
        chrono::Utc::now().timestamp(),
        Fields::new(),
    );
    let mut warnings = Vec::new();
    let names = [name];
    let outcomes = deliver_all(
        &Delivery::event(&event),
        &names,
        config,
        host,
        out,
        &mut warnings,
    );
    let status = exit::test_target_status(outcomes.first().and_then(|o| o.failure()));
    if out.is_json() {
        out.json(&ResultJson {
            event: &event,
            results: &outcomes,
            skipped: &[],
            warnings: &warnings,
            exit_status: status.code(),
        });
    }
    status
}
