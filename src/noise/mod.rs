//! Noise control (noise.md): time spans, duplicate suppression per key and target, and
//! the records that remember deliveries between runs. No configuration syntax: all of it
//! comes from the command line and a small local state.

pub mod dedup;
pub mod span;
pub mod store;

/// `2026-12-01 10:00:05` in local time, as outcome lines and notes show times.
pub fn local_time(epoch: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(epoch, 0).single() {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => epoch.to_string(),
    }
}

/// `later` as `HH:MM:SS` when it falls on the same day as `earlier`, else in full.
pub fn local_time_after(earlier: i64, later: i64) -> String {
    let (a, b) = (local_time(earlier), local_time(later));
    match (a.split_once(' '), b.split_once(' ')) {
        (Some((day_a, _)), Some((day_b, time))) if day_a == day_b => time.to_string(),
        _ => b,
    }
}
