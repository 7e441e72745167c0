//! The dedup records on disk (noise.md §2): `STATE/dedup/HASH`, one file per key named by
//! the SHA-256 of the key, mode 0600 in a 0700 directory. A record is locked (`flock` on
//! the file) from the moment it is read until its new content is in place; new content
//! replaces the file atomically, so a crash leaves the old or the new record. Whoever waited
//! for the lock checks that the name still leads to the file it locked, and starts over if
//! the record was replaced or pruned meanwhile. Different keys never share a lock.

use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};

use super::dedup::RecordData;
use crate::statefs::{self, Durability, LockError};

/// The directory below the state directory that holds the records.
pub const SUBDIR: &str = "dedup";
/// Records are removed this long after their latest quiet-until.
pub const KEEP_AFTER_QUIET: Duration = Duration::from_secs(7 * 86_400);
/// How long a run waits for another run holding the same key (which may be delivering):
/// longer than the slowest target may take (the SMTP deadline is 120 s).
pub const LOCK_WAIT: Duration = Duration::from_secs(150);
/// Pruning runs at most this often; its time is kept as the modification time of a marker.
const PRUNE_EVERY: Duration = Duration::from_secs(3600);
const PRUNE_MARKER: &str = ".pruned";
/// Records are replaced without `fsync`: a crashed run still leaves the old or the new
/// record (rename is atomic), and what a power failure can cost is one record, that is one
/// repeated notification, never a lost one. An `fsync` per event would cost more than all
/// of noise control on an ordinary disk (2–3 ms on ext4 here).
const DURABILITY: Durability = Durability::Unsynced;
/// A record is a few lines per target; anything larger is not one of ours.
const MAX_RECORD_BYTES: u64 = 1 << 20;

/// The file name of a key's record.
pub fn file_name(key: &str) -> String {
    Sha256::digest(key.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The record of one key, locked for the life of the value.
#[derive(Debug)]
pub struct LockedRecord {
    dir: File,
    /// Holds the lock; it is released when the file is closed.
    _file: File,
    name: String,
    pub path: PathBuf,
    /// What the record says; `None` when there is none yet (or it was unreadable).
    pub data: Option<RecordData>,
    /// Why an existing record could not be read; it is replaced by the next save.
    pub damaged: Option<String>,
}

impl LockedRecord {
    /// Opens (creating the directory and an empty file as needed) and locks the record of
    /// `key`, waiting at most `lock_wait` for another run. `Err`: the state is unusable.
    pub fn open(state_dir: &Path, key: &str, lock_wait: Duration) -> Result<Self, String> {
        let dir_path = state_dir.join(SUBDIR);
        let dir = statefs::open_checked_dir(&dir_path, true)?
            .ok_or_else(|| format!("{}: missing", dir_path.display()))?;
        let name = file_name(key);
        let path = dir_path.join(&name);
        let fail = |error: io::Error| format!("{}: {error}", path.display());
        let deadline = Instant::now() + lock_wait;
        let mut file = loop {
            let flags = libc::O_RDONLY | libc::O_CREAT | libc::O_NOFOLLOW;
            let file = statefs::open_at(&dir, &name, flags, 0o600).map_err(fail)?;
            let meta = file.metadata().map_err(fail)?;
            if !meta.is_file() {
                return Err(format!("{}: not a regular file", path.display()));
            }
            statefs::lock_exclusive(&file, deadline, &path).map_err(|error| match error {
                LockError::TimedOut => format!(
                    "{}: still locked by another run after {} s",
                    path.display(),
                    lock_wait.as_secs()
                ),
                LockError::Failed(error) => format!("{}: cannot lock: {error}", path.display()),
            })?;
            // Replaced or pruned while we waited: lock what the name leads to now.
            if statefs::identity_at(&dir, &name).is_ok_and(|id| id == (meta.dev(), meta.ino())) {
                break file;
            }
        };
        let mut bytes = Vec::new();
        (&mut file)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(fail)?;
        let (data, damaged) = if bytes.len() as u64 > MAX_RECORD_BYTES {
            (None, Some(format!("larger than {MAX_RECORD_BYTES} bytes")))
        } else {
            match RecordData::parse(&bytes) {
                // Another key with the same hash: practically impossible; start afresh.
                Ok(Some(data)) if data.key != key => (None, None),
                Ok(data) => (data, None),
                Err(reason) => (None, Some(reason)),
            }
        };
        let damaged = damaged.map(|reason| format!("{}: {reason}", path.display()));
        Ok(LockedRecord {
            dir,
            _file: file,
            name,
            path,
            data,
            damaged,
        })
    }

    /// Replaces the record with `data` (atomically), then releases the lock.
    pub fn save(self, data: &RecordData) -> Result<(), String> {
        statefs::replace_at(&self.dir, &self.name, data.to_text().as_bytes(), DURABILITY)
            .map_err(|error| format!("{}: cannot write: {error}", self.path.display()))
    }
}

/// Reads the record of `key` without locking or creating anything (for `--dry-run`):
/// replacement is atomic, so what is read is whole.
pub fn peek(state_dir: &Path, key: &str) -> Result<Option<RecordData>, String> {
    let path = state_dir.join(SUBDIR).join(file_name(key));
    let bytes = match std::fs::read(&path) {
        Ok(bytes) => bytes,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(format!("{}: {error}", path.display())),
    };
    match RecordData::parse(&bytes) {
        Ok(Some(data)) if data.key != key => Ok(None),
        Ok(data) => Ok(data),
        Err(reason) => Err(format!("{}: {reason}", path.display())),
    }
}

/// Removes the records whose latest quiet-until is more than a week past, at most once an
/// hour (a marker file keeps the time) so that a run normally costs one `stat`. Records in
/// use are left alone. Returns how many were removed.
pub fn prune_if_due(state_dir: &Path, now: i64, wall: SystemTime) -> io::Result<usize> {
    let dir_path = state_dir.join(SUBDIR);
    let marker = dir_path.join(PRUNE_MARKER);
    let due = match std::fs::metadata(&marker) {
        Ok(meta) => meta.modified().is_ok_and(|last| {
            wall.duration_since(last)
                .is_ok_and(|age| age >= PRUNE_EVERY)
        }),
        Err(error) if error.kind() == io::ErrorKind::NotFound => true,
        Err(error) => return Err(error),
    };
    if !due {
        return Ok(0);
    }
    prune(state_dir, now, wall)
}

/// Removes expired records now (see [`prune_if_due`]) and marks the time.
pub fn prune(state_dir: &Path, now: i64, wall: SystemTime) -> io::Result<usize> {
    let dir_path = state_dir.join(SUBDIR);
    let Some(dir) = statefs::open_checked_dir(&dir_path, false).map_err(io::Error::other)? else {
        return Ok(0);
    };
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW;
    statefs::open_at(&dir, PRUNE_MARKER, flags, 0o600)?.set_modified(wall)?;
    let keep = KEEP_AFTER_QUIET.as_secs() as i64;
    let mut removed = 0;
    for entry in std::fs::read_dir(&dir_path)? {
        let file_name = entry?.file_name();
        let Some(name) = file_name.to_str() else {
            continue;
        };
        let is_record = name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit());
        // A temporary file left by a crash between writing and renaming.
        let is_leftover = name.starts_with('.') && name.ends_with(".tmp");
        if !(is_record || is_leftover) {
            continue;
        }
        let Ok(file) = statefs::open_at(&dir, name, libc::O_RDONLY | libc::O_NOFOLLOW, 0) else {
            continue;
        };
        let meta = file.metadata()?;
        let untouched_for_a_week = wall
            .duration_since(meta.modified()?)
            .is_ok_and(|age| age > KEEP_AFTER_QUIET);
        if !meta.is_file() || !untouched_for_a_week {
            continue;
        }
        if is_record {
            if !statefs::try_lock(&file).unwrap_or(false) {
                continue;
            }
            let mut bytes = Vec::new();
            (&file).take(MAX_RECORD_BYTES + 1).read_to_end(&mut bytes)?;
            let expired = match RecordData::parse(&bytes) {
                Ok(Some(data)) => data
                    .quiet_until()
                    .is_none_or(|q| q.saturating_add(keep) < now),
                Ok(None) | Err(_) => true,
            };
            if !expired
                || !statefs::identity_at(&dir, name).is_ok_and(|id| id == (meta.dev(), meta.ino()))
            {
                continue;
            }
        }
        match statefs::unlink_at(&dir, name) {
            Ok(()) => removed += 1,
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::noise::dedup::delivered;
    use crate::notification::Severity;
    use crate::statefs::testing::wait_until_waiting;
    use std::fs;
    use std::os::unix::fs::PermissionsExt;
    use std::thread;

    const WAIT: Duration = Duration::from_millis(300);

    fn data(key: &str, target: &str, sent_at: i64, cooldown: u64) -> RecordData {
        let mut data = RecordData {
            key: key.to_string(),
            ..RecordData::default()
        };
        data.targets.insert(
            target.to_string(),
            delivered(Severity::Error, sent_at, cooldown),
        );
        data
    }

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn saved_record_reads_back_with_modes() {
        let state = tempfile::tempdir().unwrap();
        let record = LockedRecord::open(state.path(), "k:1", WAIT).unwrap();
        assert_eq!(record.data, None);
        let path = record.path.clone();
        record.save(&data("k:1", "mail", 10, 60)).unwrap();
        let record = LockedRecord::open(state.path(), "k:1", WAIT).unwrap();
        assert_eq!(record.data, Some(data("k:1", "mail", 10, 60)));
        assert_eq!(record.damaged, None);
        assert_eq!(
            peek(state.path(), "k:1").unwrap(),
            Some(data("k:1", "mail", 10, 60))
        );
        assert_eq!(peek(state.path(), "other").unwrap(), None);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&state.path().join(SUBDIR)), 0o700);
        assert!(fs::read_to_string(&path).unwrap().contains("key k:1\n"));
    }

    #[test]
    fn same_key_waits_other_key_does_not() {
        let state = tempfile::tempdir().unwrap();
        let first = LockedRecord::open(state.path(), "same", WAIT).unwrap();
        let error = LockedRecord::open(state.path(), "same", WAIT).unwrap_err();
        assert!(error.contains("still locked"), "{error}");
        let started = Instant::now();
        LockedRecord::open(state.path(), "different", WAIT).unwrap();
        assert!(started.elapsed() < WAIT);
        drop(first);
    }

    #[test]
    fn waiter_sees_the_record_written_while_it_waited() {
        let state = tempfile::tempdir().unwrap();
        let first = LockedRecord::open(state.path(), "k", WAIT).unwrap();
        let dir = state.path().to_path_buf();
        let waiter = thread::spawn(move || {
            LockedRecord::open(&dir, "k", Duration::from_secs(10))
                .unwrap()
                .data
        });
        wait_until_waiting(state.path());
        first.save(&data("k", "mail", 10, 60)).unwrap();
        assert_eq!(waiter.join().unwrap(), Some(data("k", "mail", 10, 60)));
    }

    #[test]
    fn damaged_record_is_reported_and_replaced() {
        let state = tempfile::tempdir().unwrap();
        LockedRecord::open(state.path(), "k", WAIT).unwrap();
        let path = state.path().join(SUBDIR).join(file_name("k"));
        fs::write(&path, "garbage\n").unwrap();
        assert!(peek(state.path(), "k").is_err());
        let record = LockedRecord::open(state.path(), "k", WAIT).unwrap();
        assert_eq!(record.data, None);
        assert!(
            record
                .damaged
                .as_deref()
                .unwrap()
                .contains("unknown format")
        );
        record.save(&data("k", "m", 1, 1)).unwrap();
        assert_eq!(peek(state.path(), "k").unwrap(), Some(data("k", "m", 1, 1)));
    }

    #[test]
    fn unusable_directory_is_an_error() {
        let state = tempfile::tempdir().unwrap();
        fs::create_dir(state.path().join(SUBDIR)).unwrap();
        fs::set_permissions(state.path().join(SUBDIR), fs::Permissions::from_mode(0o777)).unwrap();
        let error = LockedRecord::open(state.path(), "k", WAIT).unwrap_err();
        assert!(error.contains("writable by group or others"), "{error}");
    }

    #[test]
    fn prune_removes_only_records_a_week_past_quiet_until() {
        let state = tempfile::tempdir().unwrap();
        let week = KEEP_AFTER_QUIET.as_secs() as i64;
        let now = 100 * week;
        let old = SystemTime::now() - KEEP_AFTER_QUIET - Duration::from_secs(60);
        let write = |key: &str, sent_at: i64, cooldown: u64| {
            LockedRecord::open(state.path(), key, WAIT)
                .unwrap()
                .save(&data(key, "t", sent_at, cooldown))
                .unwrap();
            let path = state.path().join(SUBDIR).join(file_name(key));
            File::options()
                .append(true)
                .open(path)
                .unwrap()
                .set_modified(old)
                .unwrap();
        };
        write("expired", now - 2 * week, 0);
        write("long-cooldown", now - 2 * week, 2 * week as u64);
        write("in-use", now - 2 * week, 0);
        let held = LockedRecord::open(state.path(), "in-use", WAIT).unwrap();
        LockedRecord::open(state.path(), "recent", WAIT)
            .unwrap()
            .save(&data("recent", "t", now - 2 * week, 0))
            .unwrap();
        let wall = SystemTime::now();
        assert_eq!(prune_if_due(state.path(), now, wall).unwrap(), 1);
        let exists = |key: &str| state.path().join(SUBDIR).join(file_name(key)).exists();
        assert!(!exists("expired"));
        assert!(exists("long-cooldown") && exists("in-use") && exists("recent"));
        drop(held);
        // Not due again within the hour.
        assert_eq!(prune_if_due(state.path(), now, wall).unwrap(), 0);
        assert_eq!(prune(state.path(), now, wall).unwrap(), 1);
        assert!(!exists("in-use"));
    }
}
