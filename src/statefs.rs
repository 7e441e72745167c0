//! Files under the local state directory, shared by forward-mail's retry records and noise
//! control's dedup records: a directory checked before use (a real directory of the
//! effective user, not writable by others), every file operation relative to that checked
//! descriptor, exclusive `flock`s taken with a deadline, and atomic replacement of a file
//! (temporary file, `fsync`, `rename`).

use std::ffi::CString;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::Path;
use std::time::{Duration, Instant};

/// Longest pause between two attempts to take a lock.
const MAX_LOCK_PAUSE: Duration = Duration::from_millis(250);

/// Why a lock was not taken.
#[derive(Debug)]
pub enum LockError {
    /// Another process held it until the deadline.
    TimedOut,
    /// `flock` itself failed.
    Failed(io::Error),
}

/// Opens the directory `path` (creating it with mode 0700 when `create`) and checks that it
/// is a real directory owned by the effective user and not writable by group or others.
/// `Ok(None)`: missing and not created. `Err`: the reason it must not be used.
pub fn open_checked_dir(path: &Path, create: bool) -> Result<Option<File>, String> {
    let fail = |reason: String| format!("{}: {reason}", path.display());
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => {
            return Err(fail("is a symbolic link".to_string()));
        }
        Ok(_) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {
            if !create {
                return Ok(None);
            }
            DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(path)
                .map_err(|error| fail(format!("cannot create: {error}")))?;
        }
        Err(error) => return Err(fail(error.to_string())),
    }
    // O_NOFOLLOW: the check above and this open race with a rename; the descriptor is what
    // is checked and used from here on.
    let dir = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(path)
        .map_err(|error| fail(error.to_string()))?;
    let meta = dir.metadata().map_err(|error| fail(error.to_string()))?;
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        return Err(fail(format!(
            "owned by uid {}, not by the effective uid {euid}",
            meta.uid()
        )));
    }
    if meta.mode() & 0o022 != 0 {
        return Err(fail(format!(
            "writable by group or others (mode {:04o})",
            meta.mode() & 0o7777
        )));
    }
    Ok(Some(dir))
}

/// Takes `flock(LOCK_EX)` on `file`, polling until `deadline`.
pub fn lock_exclusive(file: &File, deadline: Instant, path: &Path) -> Result<(), LockError> {
    let mut pause = Duration::from_millis(5);
    loop {
        if try_lock(file)? {
            return Ok(());
        }
        #[cfg(test)]
        testing::found_busy(path);
        #[cfg(not(test))]
        let _ = path;
        let now = Instant::now();
        if now >= deadline {
            return Err(LockError::TimedOut);
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(MAX_LOCK_PAUSE);
    }
}

/// `flock(LOCK_EX | LOCK_NB)`: whether the lock was taken.
pub fn try_lock(file: &File) -> Result<bool, LockError> {
    loop {
        // SAFETY: flock on a descriptor owned by `file`, which outlives the call.
        if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
            return Ok(true);
        }
        let error = io::Error::last_os_error();
        match error.raw_os_error() {
            Some(libc::EWOULDBLOCK) => return Ok(false),
            Some(libc::EINTR) => continue,
            _ => return Err(LockError::Failed(error)),
        }
    }
}

/// `openat(dir, name, flags | O_CLOEXEC, mode)`.
pub fn open_at(dir: &File, name: &str, flags: libc::c_int, mode: libc::mode_t) -> io::Result<File> {
    let c_name = c_name(name)?;
    // SAFETY: a valid directory descriptor and a NUL-terminated name that lives for the call.
    let fd = unsafe {
        libc::openat(
            dir.as_raw_fd(),
            c_name.as_ptr(),
            flags | libc::O_CLOEXEC,
            libc::c_uint::from(mode),
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just opened and is owned by nothing else.
    Ok(File::from(unsafe { OwnedFd::from_raw_fd(fd) }))
}

/// `unlinkat(dir, name, 0)`.
pub fn unlink_at(dir: &File, name: &str) -> io::Result<()> {
    let c_name = c_name(name)?;
    // SAFETY: a valid directory descriptor and a NUL-terminated name that lives for the call.
    if unsafe { libc::unlinkat(dir.as_raw_fd(), c_name.as_ptr(), 0) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// `fstatat(dir, name, AT_SYMLINK_NOFOLLOW)`: device and inode of the entry `name`.
pub fn identity_at(dir: &File, name: &str) -> io::Result<(u64, u64)> {
    let c_name = c_name(name)?;
    // SAFETY: zeroed stat is a valid out-parameter; the name lives for the call.
    let mut stat: libc::stat = unsafe { std::mem::zeroed() };
    let rc = unsafe {
        libc::fstatat(
            dir.as_raw_fd(),
            c_name.as_ptr(),
            &mut stat,
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok((stat.st_dev, stat.st_ino))
}

/// Whether [`replace_at`] waits until the new content is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// `fsync` before the rename: the new content survives a power failure.
    Synced,
    /// No `fsync`: a crashed process still leaves the old or the new content, but after a
    /// power failure the file may be empty or old. For records whose loss costs little.
    Unsynced,
}

/// Replaces `name` in `dir` by `bytes` atomically: a reader (or a crashed writer) sees the
/// old or the new content, never a mix. The new file has mode 0600. The temporary file is
/// `.NAME.tmp`, so the caller must hold a lock that serialises the writers of `name`; what a
/// crashed writer left there is overwritten by the next one.
pub fn replace_at(dir: &File, name: &str, bytes: &[u8], durability: Durability) -> io::Result<()> {
    let temporary = format!(".{name}.tmp");
    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW;
    let result = (|| {
        let mut file = open_at(dir, &temporary, flags, 0o600)?;
        file.write_all(bytes)?;
        if durability == Durability::Synced {
            file.sync_all()?;
        }
        let from = c_name(&temporary)?;
        let to = c_name(name)?;
        // SAFETY: valid directory descriptors and NUL-terminated names living for the call.
        let rc =
            unsafe { libc::renameat(dir.as_raw_fd(), from.as_ptr(), dir.as_raw_fd(), to.as_ptr()) };
        if rc != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = unlink_at(dir, &temporary);
    }
    result
}

fn c_name(name: &str) -> io::Result<CString> {
    CString::new(name).map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in name"))
}

/// Lets tests wait until a second opener really waits for a lock instead of guessing
/// with a sleep.
#[cfg(test)]
pub mod testing {
    use std::path::{Path, PathBuf};
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    static BUSY: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

    pub(super) fn found_busy(path: &Path) {
        if let Ok(mut busy) = BUSY.lock() {
            busy.push(path.to_path_buf());
        }
    }

    /// Waits (bounded) until a lock of a file under `dir` has been found held.
    pub fn wait_until_waiting(dir: &Path) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !BUSY
            .lock()
            .is_ok_and(|busy| busy.iter().any(|p| p.starts_with(dir)))
        {
            assert!(Instant::now() < deadline, "the second open never waited");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_is_whole_and_leaves_no_temporary() {
        let state = tempfile::tempdir().unwrap();
        let dir = open_checked_dir(&state.path().join("d"), true)
            .unwrap()
            .unwrap();
        replace_at(&dir, "rec", b"one\n", Durability::Synced).unwrap();
        replace_at(&dir, "rec", b"two\n", Durability::Unsynced).unwrap();
        let names: Vec<_> = fs::read_dir(state.path().join("d"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["rec"]);
        assert_eq!(fs::read(state.path().join("d/rec")).unwrap(), b"two\n");
        let mode = fs::metadata(state.path().join("d/rec")).unwrap().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    #[test]
    fn identity_changes_with_replacement() {
        let state = tempfile::tempdir().unwrap();
        let dir = open_checked_dir(state.path(), false).unwrap().unwrap();
        replace_at(&dir, "rec", b"one", Durability::Synced).unwrap();
        let before = identity_at(&dir, "rec").unwrap();
        replace_at(&dir, "rec", b"two", Durability::Synced).unwrap();
        assert_ne!(identity_at(&dir, "rec").unwrap(), before);
        unlink_at(&dir, "rec").unwrap();
        assert!(identity_at(&dir, "rec").is_err());
    }
}
