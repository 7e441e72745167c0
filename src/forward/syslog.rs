//! Reporting forward-mail outcomes to syslog. The MTA discards stderr of a command that
//! succeeded, so every outcome line also goes to the local syslog socket (facility `mail`,
//! identifier `pvenotify`). Logging is best effort: without a syslog daemon nothing happens,
//! and the caller prints the same line to stderr anyway.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::Duration;

/// The local syslog socket.
pub const DEV_LOG: &str = "/dev/log";
/// Names another socket, for tests that read what would go to syslog. Privileged mode clears
/// the environment before anything is logged, so the set-uid copy always uses [`DEV_LOG`].
pub const SOCKET_ENV: &str = "PVENOTIFY_SYSLOG_SOCKET";

/// Facility `mail` (RFC 3164 / RFC 5424 code 2).
const FACILITY_MAIL: u8 = 2;

/// Longest message text sent, in bytes; longer text is cut at a character boundary.
const MAX_MESSAGE_BYTES: usize = 1000;

/// How long a send may block when the syslog daemon is not reading.
const SEND_TIMEOUT: Duration = Duration::from_secs(1);

/// Severity of one log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    /// Normal but significant: a mail taken as a retry and not delivered again.
    Notice,
    Info,
}

impl Level {
    /// The syslog severity code (err 3, warning 4, notice 5, info 6).
    fn severity(self) -> u8 {
        match self {
            Level::Error => 3,
            Level::Warning => 4,
            Level::Notice => 5,
            Level::Info => 6,
        }
    }
}

/// Sends one line to the system log at /dev/log; does nothing if that fails.
pub fn log(level: Level, message: &str) {
    match std::env::var_os(SOCKET_ENV) {
        Some(socket) => log_to(Path::new(&socket), level, message),
        None => log_to(Path::new(DEV_LOG), level, message),
    }
}

/// Sends one line to the syslog datagram socket at `socket`; does nothing if that fails.
pub fn log_to(socket: &Path, level: Level, message: &str) {
    let datagram = format_datagram(level, std::process::id(), message);
    // Every failure is ignored on purpose: logging must never turn a delivery into an error.
    let Ok(sock) = UnixDatagram::unbound() else {
        return;
    };
    let _ = sock.set_write_timeout(Some(SEND_TIMEOUT));
    let _ = sock.send_to(datagram.as_bytes(), socket);
}

/// `<PRI>pvenotify[PID]: MESSAGE` with control characters made spaces and the text cut.
fn format_datagram(level: Level, pid: u32, message: &str) -> String {
    let priority = FACILITY_MAIL * 8 + level.severity();
    let mut end = message.len().min(MAX_MESSAGE_BYTES);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let text: String = message[..end]
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("<{priority}>pvenotify[{pid}]: {text}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receive(level: Level, message: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        log_to(&path, level, message);
        let mut buf = vec![0u8; 4096];
        let n = server.recv(&mut buf).unwrap();
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn priorities_use_the_mail_facility() {
        let pid = std::process::id();
        assert_eq!(
            receive(Level::Error, "target failed"),
            format!("<19>pvenotify[{pid}]: target failed")
        );
        assert!(receive(Level::Warning, "w").starts_with("<20>pvenotify["));
        assert!(receive(Level::Notice, "n").starts_with("<21>pvenotify["));
        assert!(receive(Level::Info, "i").starts_with("<22>pvenotify["));
    }

    #[test]
    fn control_characters_become_spaces() {
        let got = receive(Level::Info, "line one\nline two\r\tend\u{7f}\u{85}x");
        assert!(got.ends_with("]: line one line two  end  x"), "got {got:?}");
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        // 'é' is two bytes, so byte 1000 falls inside a character after the leading 'a'.
        let message = format!("a{}", "é".repeat(1000));
        let got = format_datagram(Level::Info, 1, &message);
        let text = got.strip_prefix("<22>pvenotify[1]: ").unwrap();
        assert_eq!(text.len(), 999);
        assert!(text.chars().skip(1).all(|c| c == 'é'));
        assert_eq!(
            format_datagram(Level::Info, 1, &"x".repeat(5000)).len(),
            "<22>pvenotify[1]: ".len() + MAX_MESSAGE_BYTES
        );
    }

    #[test]
    fn missing_socket_is_silently_ignored() {
        let dir = tempfile::tempdir().unwrap();
        log_to(&dir.path().join("no-such-socket"), Level::Error, "lost");
        // A path that is not a socket at all.
        log_to(dir.path(), Level::Error, "lost");
    }
}
