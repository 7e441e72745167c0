//! Helpers for tests elsewhere in the crate: a `Config` straight from section-config text.

use std::path::Path;

use super::{Config, HostFacts, Sources, parse};

/// The configuration of a `notifications.cfg` with `public` as its text (no private file, no
/// user.cfg). Panics when the text has load errors, so a typo in a test fails loudly.
pub fn config_from_text(public: &str) -> Config {
    config_from_texts(public, "")
}

/// As `config_from_text`, with `private` as `priv/notifications.cfg`.
pub fn config_from_texts(public: &str, private: &str) -> Config {
    let sources = Sources::empty(Path::new("/etc/pve"))
        .with_public(public)
        .with_private(private);
    let loaded = parse(&sources, &HostFacts::default());
    let errors: Vec<String> = loaded.load_errors().map(ToString::to_string).collect();
    assert!(
        errors.is_empty(),
        "test configuration has load errors: {errors:#?}"
    );
    loaded.config
}
