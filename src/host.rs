//! The few facts pvenotify reads from the host: its node name and whether a program can
//! be run. Kept here so the core never touches the host itself.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// The kernel's node name (`uname -n`); `localhost` if it cannot be read.
pub fn node_name() -> String {
    // SAFETY: uname(2) fills the zeroed struct; the fields are NUL-terminated arrays.
    let mut uts: libc::utsname = unsafe { std::mem::zeroed() };
    if unsafe { libc::uname(&mut uts) } != 0 {
        return "localhost".to_string();
    }
    let bytes: Vec<u8> = uts
        .nodename
        .iter()
        .take_while(|&&c| c != 0)
        .map(|&c| c as u8)
        .collect();
    match String::from_utf8(bytes) {
        Ok(name) if !name.is_empty() => name,
        _ => "localhost".to_string(),
    }
}

/// The node name cut at the first `.`, as Proxmox VE's `hostname` field.
pub fn short_name(node: &str) -> &str {
    node.split('.').next().unwrap_or(node)
}

/// A Unix epoch as `YYYY-MM-DD HH:MM:SS` in the host's time zone (`TZ` honoured), for
/// the `timestamp` template helper.
pub fn local_time(epoch: i64) -> Option<String> {
    let utc = chrono::DateTime::from_timestamp(epoch, 0)?;
    Some(
        utc.with_timezone(&chrono::Local)
            .format("%F %H:%M:%S")
            .to_string(),
    )
}

/// [`local_time`] for messages: the epoch itself where it has no local time.
pub fn local_time_or_epoch(epoch: i64) -> String {
    local_time(epoch).unwrap_or_else(|| epoch.to_string())
}

/// `later` as `HH:MM:SS` when it falls on the same local day as `earlier`, else in full:
/// how noise control's outcome lines show a cooldown's end.
pub fn local_time_after(earlier: i64, later: i64) -> String {
    let (a, b) = (local_time_or_epoch(earlier), local_time_or_epoch(later));
    match (a.split_once(' '), b.split_once(' ')) {
        (Some((day_a, _)), Some((day_b, time))) if day_a == day_b => time.to_string(),
        _ => b,
    }
}

/// A regular file with some execute bit set.
pub fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_name_cuts_at_first_dot() {
        assert_eq!(short_name("pve1.example.com"), "pve1");
        assert_eq!(short_name("pve1"), "pve1");
    }

    #[test]
    fn node_name_is_not_empty() {
        assert!(!node_name().is_empty());
    }

    #[test]
    fn executable_check() {
        assert!(is_executable(Path::new("/bin/sh")));
        assert!(!is_executable(Path::new("/etc/passwd")));
        assert!(!is_executable(Path::new("/nonexistent")));
        assert!(!is_executable(Path::new("/bin")));
    }
}
