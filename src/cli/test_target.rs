//! `test-target NAME`: the fixed test notification to one target, bypassing the matchers.

use super::deliver::{ResultJson, deliver_all};
use super::template;
use super::{Host, Output};
use crate::endpoints::Delivery;
use crate::exit::{self, ExitStatus};
use crate::notification::{Fields, Notification, Severity};
use crate::render::Data;

/// The template test notifications are rendered from.
const TEST_TEMPLATE: &str = "test";

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

    // As upstream: no fields at all, so webhook templates referring to fields render
    // empty; the content is the template `test` with only the target's name as data, so
    // an admin's override of it is what they see.
    let mut event = Notification::new(
        "",
        String::new(),
        Severity::Info,
        chrono::Utc::now().timestamp(),
        Fields::new(),
    );
    let names = [name];
    let data = Data::new(serde_json::json!({ "target": name }), 0);
    let html = template::needs_html(config, &names);
    let mut warnings = Vec::new();
    let outcomes = match template::render_parts(host, TEST_TEMPLATE, &data, html) {
        Ok(rendered) => {
            template::report(out, TEST_TEMPLATE, &rendered.trace);
            template::apply(&mut event, rendered);
            deliver_all(
                &Delivery::event(&event),
                &names,
                config,
                host,
                out,
                &mut warnings,
            )
        }
        Err(failure) => {
            template::report(out, TEST_TEMPLATE, &failure.trace);
            template::fail_all(&names, config, host, out, &failure.message)
        }
    };
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
