//! Retry state of forward-mail (spec forward-mail §7.2). When a run exits 75 the MTA runs
//! forward-mail again with the same message; the record of that message, `KEY.state` in
//! `STATE/forward-mail/`, says which targets already got it so that they do not get it twice.
//! The record is an append-only text file, one `write` plus `fsync` per line, locked with
//! `flock` for the whole run. Every failure to use it is reported as `Unusable` so the caller
//! can warn and deliver without state (duplicates are better than loss).
//!
//! The directory may be created and the files opened while the process is still root (§6), so
//! the directory is checked (no symbolic link, owned by the effective user, not writable by
//! others) and every file operation happens relative to that checked directory descriptor.

use std::collections::BTreeSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, anyhow, ensure};

use crate::statefs::{self, LockError, open_at};

/// Records older than this are pruned; longer than any MTA keeps retrying (Postfix 5 days).
pub const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 60 * 60);
/// How long to wait for another run that holds the record of the same message.
pub const LOCK_WAIT: Duration = Duration::from_secs(30);

/// The directory below the state directory that holds the records.
const SUBDIR: &str = "forward-mail";
/// First line of every record; another version is not understood.
const HEADER: &str = "pvenotify-forward-state 1";
/// A record holds a few lines per attempt; anything larger is not one of ours.
const MAX_RECORD_BYTES: u64 = 1 << 20;
/// Longest message key or target name accepted.
const MAX_NAME_BYTES: usize = 128;

/// Why the record of a message cannot be used.
#[derive(Debug)]
pub enum StateError {
    /// The state cannot be used at all; deliver without it (and warn).
    Unusable(String),
    /// Another process held the record longer than the lock wait; exit 75.
    Locked,
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Unusable(reason) => write!(f, "retry state not usable: {reason}"),
            StateError::Locked => {
                f.write_str("the retry state of this message is locked by another process")
            }
        }
    }
}

impl std::error::Error for StateError {}

/// Any other error on the way is a reason not to use the state; the alternate form keeps
/// the whole chain, such as "PATH: cannot create: Permission denied".
impl From<anyhow::Error> for StateError {
    fn from(error: anyhow::Error) -> Self {
        StateError::Unusable(format!("{error:#}"))
    }
}

/// The record of one message, locked exclusively for the life of the value.
#[derive(Debug)]
pub struct Record {
    /// Open for appending; the `flock` on it is released when it is closed.
    file: File,
    path: PathBuf,
    /// Length of the file up to the end of its last complete line.
    end: u64,
    delivered: BTreeSet<String>,
    complete: bool,
}

impl Record {
    /// Opens or creates `STATE/forward-mail/KEY.state` (the directory with mode 0700 if
    /// missing), waits at most `lock_wait` for the exclusive lock, reads what earlier attempts
    /// wrote (a truncated last line is dropped), writes the header if the record is new and
    /// appends `started NOW`.
    pub fn open(
        state_dir: &Path,
        key: &str,
        now: i64,
        lock_wait: Duration,
    ) -> Result<Record, StateError> {
        if !is_valid_key(key) {
            return Err(anyhow!("invalid message key '{}'", key.escape_debug()).into());
        }
        let dir_path = state_dir.join(SUBDIR);
        let dir = statefs::open_checked_dir(&dir_path, true)
            .map_err(anyhow::Error::msg)?
            .with_context(|| format!("{}: missing", dir_path.display()))?;
        let name = format!("{key}.state");
        let path = dir_path.join(&name);
        let in_path = || path.display().to_string();

        let deadline = Instant::now() + lock_wait;
        let mut file = loop {
            let flags = libc::O_RDWR | libc::O_CREAT | libc::O_APPEND | libc::O_NOFOLLOW;
            let file = open_at(&dir, &name, flags, 0o600).with_context(in_path)?;
            if !file.metadata().with_context(in_path)?.is_file() {
                return Err(anyhow!("{}: not a regular file", path.display()).into());
            }
            statefs::lock_exclusive(&file, deadline, &path).map_err(|error| match error {
                LockError::TimedOut => StateError::Locked,
                LockError::Failed(error) => {
                    anyhow!("{}: cannot lock: {error}", path.display()).into()
                }
            })?;
            // A pruning run may have removed the file between our open and our lock; then
            // start over with a new file.
            if file.metadata().with_context(in_path)?.nlink() > 0 {
                break file;
            }
        };
        let (contents, len) = read_record(&mut file).with_context(in_path)?;

        let mut record = Record {
            file,
            path,
            end: contents.end,
            delivered: contents.delivered,
            complete: contents.complete,
        };
        let unusable = |error: io::Error| StateError::Unusable(error.to_string());
        if record.end < len {
            // A crash cut the last line short; drop it so that the next line starts clean.
            record
                .file
                .set_len(record.end)
                .with_context(|| record.path.display().to_string())?;
        }
        if record.end == 0 {
            record.append(&format!("{HEADER}\n")).map_err(unusable)?;
            // Make the new directory entry durable too. Some file systems refuse to sync a
            // directory; the record itself is synced, so that is not worth failing for.
            let _ = dir.sync_all();
        }
        record
            .append(&format!("started {now}\n"))
            .map_err(unusable)?;
        Ok(record)
    }

    /// Targets that got the message in an earlier attempt (or this one).
    pub fn delivered(&self) -> &BTreeSet<String> {
        &self.delivered
    }

    /// Whether an earlier attempt handled the whole message.
    pub fn is_complete(&self) -> bool {
        self.complete
    }

    /// Where the record lives, for messages.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Records that `target` got the message.
    pub fn mark_delivered(&mut self, target: &str, now: i64) -> io::Result<()> {
        if !is_valid_target(target) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid target name '{}'", target.escape_debug()),
            ));
        }
        self.append(&format!("delivered {target} {now}\n"))?;
        self.delivered.insert(target.to_string());
        Ok(())
    }

    /// Records that every target got the message.
    pub fn mark_complete(&mut self, now: i64) -> io::Result<()> {
        self.append(&format!("complete {now}\n"))?;
        self.complete = true;
        Ok(())
    }

    /// Appends one whole line with a single `write`, then `fsync`. On failure the file is cut
    /// back to its last complete line so that a later line cannot run into a partial one.
    fn append(&mut self, line: &str) -> io::Result<()> {
        let bytes = line.as_bytes();
        let written = loop {
            match (&self.file).write(bytes) {
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        let result = match written {
            Ok(n) if n == bytes.len() => self.file.sync_all(),
            Ok(_) => Err(io::Error::new(io::ErrorKind::WriteZero, "short write")),
            Err(error) => Err(error),
        };
        match result {
            Ok(()) => {
                self.end += bytes.len() as u64;
                Ok(())
            }
            Err(error) => {
                let _ = self.file.set_len(self.end);
                Err(io::Error::new(
                    error.kind(),
                    format!("{}: {error}", self.path.display()),
                ))
            }
        }
    }
}

/// Deletes the records in `STATE/forward-mail` whose modification time is older than
/// `max_age` and that no run holds locked; returns how many. A missing directory holds none.
pub fn prune(state_dir: &Path, max_age: Duration, now: SystemTime) -> io::Result<usize> {
    let dir_path = state_dir.join(SUBDIR);
    let Some(dir) = statefs::open_checked_dir(&dir_path, false).map_err(io::Error::other)? else {
        return Ok(0);
    };
    let mut removed = 0;
    for entry in fs::read_dir(&dir_path)? {
        let file_name = entry?.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        if name.strip_suffix(".state").is_some_and(is_valid_key)
            && prune_one(&dir, name, max_age, now)?
        {
            removed += 1;
        }
    }
    Ok(removed)
}

/// Removes one record if it is old and not locked; whether it did.
fn prune_one(dir: &File, name: &str, max_age: Duration, now: SystemTime) -> io::Result<bool> {
    let flags = libc::O_RDONLY | libc::O_NOFOLLOW | libc::O_NONBLOCK;
    let file = match open_at(dir, name, flags, 0) {
        Ok(file) => file,
        // Gone meanwhile, or a symbolic link (ELOOP), which is not ours to follow or remove.
        Err(error)
            if error.kind() == io::ErrorKind::NotFound
                || error.raw_os_error() == Some(libc::ELOOP) =>
        {
            return Ok(false);
        }
        Err(error) => return Err(error),
    };
    let is_old = |file: &File| -> io::Result<bool> {
        let meta = file.metadata()?;
        Ok(meta.is_file()
            && meta.nlink() > 0
            && now
                .duration_since(meta.modified()?)
                .is_ok_and(|age| age > max_age))
    };
    if !is_old(&file)? {
        return Ok(false);
    }
    if !statefs::try_lock(&file).unwrap_or(false) {
        // In use by a run (or cannot be locked): leave it.
        return Ok(false);
    }
    // Written to while we waited for the lock?
    if !is_old(&file)? {
        return Ok(false);
    }
    match statefs::unlink_at(dir, name) {
        Ok(()) => Ok(true),
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(error),
    }
}

/// Reads a locked record: what it says and its length in bytes.
fn read_record(file: &mut File) -> anyhow::Result<(RecordContents, u64)> {
    let mut content = Vec::new();
    file.take(MAX_RECORD_BYTES + 1).read_to_end(&mut content)?;
    let len = content.len() as u64;
    ensure!(
        len <= MAX_RECORD_BYTES,
        "larger than {MAX_RECORD_BYTES} bytes"
    );
    let contents = parse_record(&content).map_err(anyhow::Error::msg)?;
    Ok((contents, len))
}

/// What a record says.
#[derive(Debug, Default)]
struct RecordContents {
    /// Byte length of the complete lines.
    end: u64,
    delivered: BTreeSet<String>,
    complete: bool,
}

/// Reads the complete lines of a record: unknown or malformed lines are skipped, and the
/// bytes after the last newline (a line a crash cut short) are not counted in `end`.
fn parse_record(content: &[u8]) -> Result<RecordContents, String> {
    let end = content
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |position| position + 1);
    let mut contents = RecordContents {
        end: end as u64,
        ..RecordContents::default()
    };
    if end == 0 {
        // New, or the header itself was cut short.
        return Ok(contents);
    }
    // The last piece is the empty one after the final newline; it matches no line kind.
    let mut lines = content[..end].split(|&byte| byte == b'\n');
    let header = lines.next().unwrap_or_default();
    if header != HEADER.as_bytes() {
        return Err(format!(
            "unknown format (first line '{}')",
            String::from_utf8_lossy(header).escape_debug()
        ));
    }
    for line in lines {
        let Ok(line) = std::str::from_utf8(line) else {
            continue;
        };
        let words: Vec<&str> = line.split(' ').collect();
        match words.as_slice() {
            ["delivered", target, epoch]
                if is_valid_target(target) && epoch.parse::<i64>().is_ok() =>
            {
                contents.delivered.insert((*target).to_string());
            }
            ["complete", epoch] if epoch.parse::<i64>().is_ok() => contents.complete = true,
            _ => {}
        }
    }
    Ok(contents)
}

/// A message key: lower-case hex (a SHA-256 in practice).
fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_NAME_BYTES
        && key
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// A target name that fits in one word of a record line: printable ASCII, no space.
fn is_valid_target(target: &str) -> bool {
    !target.is_empty()
        && target.len() <= MAX_NAME_BYTES
        && target.bytes().all(|byte| byte.is_ascii_graphic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::statefs::testing::wait_until_waiting;
    use std::fs::OpenOptions;
    use std::os::unix::fs::PermissionsExt;
    use std::sync::mpsc;
    use std::thread;

    const KEY: &str = "0123456789abcdef";
    const WAIT: Duration = Duration::from_millis(200);

    fn record_path(state: &Path, key: &str) -> PathBuf {
        state.join(SUBDIR).join(format!("{key}.state"))
    }

    fn read(path: &Path) -> String {
        fs::read_to_string(path).unwrap()
    }

    fn unusable(result: Result<Record, StateError>) -> String {
        match result {
            Err(StateError::Unusable(reason)) => reason,
            other => panic!("expected Unusable, got {other:?}"),
        }
    }

    #[test]
    fn new_record_has_header_and_started_line() {
        let state = tempfile::tempdir().unwrap();
        let record = Record::open(state.path(), KEY, 100, WAIT).unwrap();
        assert!(record.delivered().is_empty());
        assert!(!record.is_complete());
        let path = record_path(state.path(), KEY);
        assert_eq!(record.path(), path);
        assert_eq!(read(&path), "pvenotify-forward-state 1\nstarted 100\n");
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o7777;
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&state.path().join(SUBDIR)), 0o700);
    }

    #[test]
    fn marks_survive_reopening() {
        let state = tempfile::tempdir().unwrap();
        let mut record = Record::open(state.path(), KEY, 100, WAIT).unwrap();
        record.mark_delivered("mail-to-root", 101).unwrap();
        record.mark_delivered("gotify_1", 102).unwrap();
        assert_eq!(record.delivered().len(), 2);
        drop(record);

        let mut record = Record::open(state.path(), KEY, 200, WAIT).unwrap();
        let names: Vec<&str> = record.delivered().iter().map(String::as_str).collect();
        assert_eq!(names, ["gotify_1", "mail-to-root"]);
        assert!(!record.is_complete());
        record.mark_complete(201).unwrap();
        assert!(record.is_complete());
        drop(record);

        let record = Record::open(state.path(), KEY, 300, WAIT).unwrap();
        assert!(record.is_complete());
        assert_eq!(record.delivered().len(), 2);
        assert_eq!(
            read(record.path()),
            "pvenotify-forward-state 1\nstarted 100\ndelivered mail-to-root 101\n\
             delivered gotify_1 102\nstarted 200\ncomplete 201\nstarted 300\n"
        );
    }

    #[test]
    fn truncated_last_line_is_ignored_and_removed() {
        let state = tempfile::tempdir().unwrap();
        drop(Record::open(state.path(), KEY, 1, WAIT).unwrap());
        let path = record_path(state.path(), KEY);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"delivered a-b 2\ndelivered cut-sh")
            .unwrap();
        drop(file);

        let mut record = Record::open(state.path(), KEY, 5, WAIT).unwrap();
        assert_eq!(record.delivered().iter().collect::<Vec<_>>(), ["a-b"]);
        record.mark_complete(6).unwrap();
        assert_eq!(
            read(&path),
            "pvenotify-forward-state 1\nstarted 1\ndelivered a-b 2\nstarted 5\ncomplete 6\n"
        );
    }

    #[test]
    fn truncated_header_starts_a_new_record() {
        let state = tempfile::tempdir().unwrap();
        fs::create_dir(state.path().join(SUBDIR)).unwrap();
        fs::set_permissions(state.path().join(SUBDIR), fs::Permissions::from_mode(0o700)).unwrap();
        let path = record_path(state.path(), KEY);
        fs::write(&path, "pvenotify-for").unwrap();
        drop(Record::open(state.path(), KEY, 7, WAIT).unwrap());
        assert_eq!(read(&path), "pvenotify-forward-state 1\nstarted 7\n");
    }

    #[test]
    fn unknown_format_is_unusable_and_left_alone() {
        let state = tempfile::tempdir().unwrap();
        drop(Record::open(state.path(), KEY, 1, WAIT).unwrap());
        let path = record_path(state.path(), KEY);
        fs::write(&path, "pvenotify-forward-state 2\ncomplete 1\n").unwrap();
        let reason = unusable(Record::open(state.path(), KEY, 2, WAIT));
        assert!(reason.contains("unknown format"), "{reason}");
        assert_eq!(read(&path), "pvenotify-forward-state 2\ncomplete 1\n");
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let content = b"pvenotify-forward-state 1\ndelivered two words 3\ndelivered x notanumber\n\
            delivered ok 4\ncomplete\nfuture-line 1\n\xff\xfe\n";
        let contents = parse_record(content).unwrap();
        assert_eq!(contents.delivered.iter().collect::<Vec<_>>(), ["ok"]);
        assert!(!contents.complete);
        assert_eq!(contents.end, content.len() as u64);
    }

    #[test]
    fn second_open_times_out_as_locked() {
        let state = tempfile::tempdir().unwrap();
        let first = Record::open(state.path(), KEY, 1, WAIT).unwrap();
        let started = Instant::now();
        let second = Record::open(state.path(), KEY, 2, WAIT);
        assert!(matches!(second, Err(StateError::Locked)), "{second:?}");
        assert!(started.elapsed() >= WAIT);
        // The waiting open wrote nothing.
        assert_eq!(read(first.path()), "pvenotify-forward-state 1\nstarted 1\n");
        // Another message is not affected.
        Record::open(state.path(), "ff", 3, WAIT).unwrap();
        drop(first);
        Record::open(state.path(), KEY, 4, WAIT).unwrap();
    }

    #[test]
    fn waiting_open_gets_the_lock_when_released() {
        let state = tempfile::tempdir().unwrap();
        let first = Record::open(state.path(), KEY, 1, WAIT).unwrap();
        let (tx, rx) = mpsc::channel();
        let dir = state.path().to_path_buf();
        let waiter = thread::spawn(move || {
            tx.send(()).unwrap();
            Record::open(&dir, KEY, 2, Duration::from_secs(10)).map(|r| r.delivered().len())
        });
        rx.recv().unwrap();
        wait_until_waiting(state.path());
        drop(first);
        assert_eq!(waiter.join().unwrap().unwrap(), 0);
    }

    #[test]
    fn record_removed_while_waiting_is_recreated() {
        let state = tempfile::tempdir().unwrap();
        let mut first = Record::open(state.path(), KEY, 1, WAIT).unwrap();
        first.mark_delivered("old", 1).unwrap();
        let dir = state.path().to_path_buf();
        let waiter =
            thread::spawn(move || Record::open(&dir, KEY, 2, Duration::from_secs(10)).unwrap());
        wait_until_waiting(state.path());
        // As a prune would: unlink while the waiter holds the old file open.
        fs::remove_file(first.path()).unwrap();
        drop(first);
        let second = waiter.join().unwrap();
        assert!(second.delivered().is_empty());
        assert_eq!(
            read(second.path()),
            "pvenotify-forward-state 1\nstarted 2\n"
        );
    }

    #[test]
    fn prune_removes_only_old_unlocked_records() {
        let state = tempfile::tempdir().unwrap();
        let now = SystemTime::now();
        let old = now - MAX_AGE - Duration::from_secs(60);
        for key in ["aa", "bb", "cc"] {
            drop(Record::open(state.path(), key, 1, WAIT).unwrap());
        }
        let age = |key: &str, time: SystemTime| {
            let file = File::options()
                .append(true)
                .open(record_path(state.path(), key))
                .unwrap();
            file.set_modified(time).unwrap();
        };
        age("aa", old);
        age("bb", now - MAX_AGE + Duration::from_secs(60));
        age("cc", old);
        // Not a record: left alone however old.
        let other = state.path().join(SUBDIR).join("notes.txt");
        fs::write(&other, "x").unwrap();
        File::options()
            .append(true)
            .open(&other)
            .unwrap()
            .set_modified(old)
            .unwrap();
        // A record in use is not removed, even if old.
        let held = Record::open(state.path(), "cc", 2, WAIT).unwrap();
        age("cc", old);

        assert_eq!(prune(state.path(), MAX_AGE, now).unwrap(), 1);
        assert!(!record_path(state.path(), "aa").exists());
        assert!(record_path(state.path(), "bb").exists());
        assert!(record_path(state.path(), "cc").exists());
        assert!(other.exists());
        drop(held);
        assert_eq!(prune(state.path(), MAX_AGE, now).unwrap(), 1);
        assert!(!record_path(state.path(), "cc").exists());
    }

    #[test]
    fn prune_of_missing_directory_is_zero() {
        let state = tempfile::tempdir().unwrap();
        assert_eq!(prune(state.path(), MAX_AGE, SystemTime::now()).unwrap(), 0);
        assert_eq!(
            prune(&state.path().join("absent"), MAX_AGE, SystemTime::now()).unwrap(),
            0
        );
    }

    #[test]
    fn group_writable_directory_is_unusable() {
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join(SUBDIR);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o770)).unwrap();
        let reason = unusable(Record::open(state.path(), KEY, 1, WAIT));
        assert!(reason.contains("writable by group or others"), "{reason}");
        assert!(prune(state.path(), MAX_AGE, SystemTime::now()).is_err());
        assert!(!record_path(state.path(), KEY).exists());
    }

    #[test]
    fn symlinked_directory_is_unusable() {
        let state = tempfile::tempdir().unwrap();
        let elsewhere = state.path().join("elsewhere");
        fs::create_dir(&elsewhere).unwrap();
        fs::set_permissions(&elsewhere, fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::symlink(&elsewhere, state.path().join(SUBDIR)).unwrap();
        let reason = unusable(Record::open(state.path(), KEY, 1, WAIT));
        assert!(reason.contains("symbolic link"), "{reason}");
        assert!(prune(state.path(), MAX_AGE, SystemTime::now()).is_err());
        assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
    }

    #[test]
    fn directory_of_another_user_is_unusable() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: needs root to give a directory away");
            return;
        }
        let state = tempfile::tempdir().unwrap();
        let dir = state.path().join(SUBDIR);
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o700)).unwrap();
        std::os::unix::fs::chown(&dir, Some(65534), Some(65534)).unwrap();
        let reason = unusable(Record::open(state.path(), KEY, 1, WAIT));
        assert!(reason.contains("owned by uid 65534"), "{reason}");
    }

    #[test]
    fn symlinked_record_is_not_followed() {
        let state = tempfile::tempdir().unwrap();
        drop(Record::open(state.path(), "aa", 1, WAIT).unwrap());
        let target = state.path().join("target");
        fs::write(&target, "precious\n").unwrap();
        std::os::unix::fs::symlink(&target, record_path(state.path(), KEY)).unwrap();
        unusable(Record::open(state.path(), KEY, 1, WAIT));
        assert_eq!(read(&target), "precious\n");
    }

    #[test]
    fn invalid_keys_are_rejected() {
        let state = tempfile::tempdir().unwrap();
        for key in [
            "",
            "ABCDEF",
            "../etc",
            "ab cd",
            "ab\n",
            "g0",
            &"a".repeat(129),
        ] {
            unusable(Record::open(state.path(), key, 1, WAIT));
        }
        assert!(!state.path().join(SUBDIR).exists());
    }

    #[test]
    fn invalid_targets_are_rejected() {
        let state = tempfile::tempdir().unwrap();
        let mut record = Record::open(state.path(), KEY, 1, WAIT).unwrap();
        for target in [
            "",
            "two words",
            "a\ncomplete 1",
            "tab\there",
            "ümlaut",
            &"t".repeat(129),
        ] {
            let error = record.mark_delivered(target, 2).unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        }
        assert!(record.delivered().is_empty());
        assert_eq!(
            read(record.path()),
            "pvenotify-forward-state 1\nstarted 1\n"
        );
    }
}
