//! Privileged mode of forward-mail (spec forward-mail §6). The set-uid copy
//! `/usr/libexec/pvenotify-forward-mail` starts with root's effective uid so that it can read
//! the root-only secrets; this module decides whether the process is in that situation, makes
//! the process state safe before anything else runs, and later drops root for good before any
//! input is parsed or anything is delivered.
//!
//! How to check the real thing by hand (as root, on a scratch machine):
//!
//! ```text
//! install -o root -g nogroup -m 4750 target/debug/pvenotify /tmp/pvenotify-forward-mail
//! printf 'Subject: t\n\nbody\n' | setpriv --reuid=nobody --regid=nogroup --clear-groups \
//!     /tmp/pvenotify-forward-mail; echo $?
//! ```
//!
//! (`/tmp` must not be mounted `nosuid`.) While it runs, `grep -E '^(Uid|Gid|Groups)'
//! /proc/PID/status` shows `nobody` in every uid column once the configuration and state are
//! read, and `sendmail` children run as `nobody`. The unit test `drop_in_a_set_uid_like_child`
//! does the same without a set-uid file by starting a child with real uid `nobody` and
//! effective uid 0.

use std::io;

/// The only environment variable kept in privileged mode.
pub const SAFE_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";

/// Real and effective user ids differ, real and effective group ids differ, or the kernel
/// marked this execution as secure (`AT_SECURE`: set-uid, set-gid or file capabilities).
pub fn is_privileged() -> bool {
    // SAFETY: these calls have no preconditions and cannot fail.
    unsafe {
        libc::getuid() != libc::geteuid()
            || libc::getgid() != libc::getegid()
            || libc::getauxval(libc::AT_SECURE) != 0
    }
}

/// Step 1 of §6: the environment becomes exactly `PATH=SAFE_PATH`, the umask 077, and file
/// descriptors 0–2 are open (on /dev/null where they were closed), so that no file opened
/// later can end up as stdout or stderr.
///
/// Must be called first thing in `main`, while the process has only one thread. Aborts the
/// process if the environment cannot be cleared or /dev/null cannot be opened for a closed
/// standard descriptor (there is no safe way to continue, or even to report it).
pub fn sanitize_process() {
    // clearenv rather than removing what `std::env::vars_os` lists: that skips malformed
    // entries (no `=`), which would stay in `environ` and reach child processes, and
    // `remove_var` panics on some names an attacker can put there (`=X=…`).
    // SAFETY: called before any other thread exists (documented precondition), so no other
    // thread can read or write the environment at the same time.
    if unsafe { libc::clearenv() } != 0 {
        std::process::abort();
    }
    // SAFETY: as above.
    unsafe { std::env::set_var("PATH", SAFE_PATH) };

    // SAFETY: umask has no preconditions.
    unsafe { libc::umask(0o077) };

    for fd in 0..=2 {
        // SAFETY: F_GETFD on any number is harmless; it only reports whether it is open.
        let closed = unsafe { libc::fcntl(fd, libc::F_GETFD) } == -1
            && io::Error::last_os_error().raw_os_error() == Some(libc::EBADF);
        if closed && !open_dev_null_as(fd) {
            std::process::abort();
        }
    }
}

/// Opens /dev/null so that it becomes descriptor `fd` (which is closed).
fn open_dev_null_as(fd: libc::c_int) -> bool {
    // SAFETY: the path is a NUL-terminated literal; the returned descriptor is owned here.
    let opened = unsafe { libc::open(c"/dev/null".as_ptr(), libc::O_RDWR) };
    if opened < 0 {
        return false;
    }
    if opened == fd {
        return true;
    }
    // A lower descriptor was free, which cannot happen when 0..fd are checked in order, but
    // move it into place rather than rely on that.
    // SAFETY: both descriptors are valid numbers; `opened` is ours to close.
    unsafe {
        let moved = libc::dup2(opened, fd) == fd;
        libc::close(opened);
        moved
    }
}

/// §6 step 4: drops the elevated ids permanently. Clears the supplementary groups (when the
/// effective uid is root), sets all three group ids to the real gid and then all three user
/// ids to the real uid, and checks that root (and the former effective uid) cannot be
/// regained. Without elevated ids this changes nothing and returns `Ok` (capabilities from
/// file capabilities are not handled: the set-uid install does not use them).
pub fn drop_privileges() -> io::Result<()> {
    let (ruid, euid, suid) = resuid()?;
    let (rgid, egid, sgid) = resgid()?;
    if ruid == euid && ruid == suid && rgid == egid && rgid == sgid {
        return Ok(());
    }

    if euid == 0 {
        // SAFETY: a zero-length list with a null pointer is the documented way to clear it.
        check(unsafe { libc::setgroups(0, std::ptr::null()) }, "setgroups")?;
    }
    // The group first: after the uid change there is no right left to change it.
    // SAFETY: plain system calls on integer arguments.
    check(unsafe { libc::setresgid(rgid, rgid, rgid) }, "setresgid")?;
    // SAFETY: as above.
    check(unsafe { libc::setresuid(ruid, ruid, ruid) }, "setresuid")?;

    if resuid()? != (ruid, ruid, ruid) || resgid()? != (rgid, rgid, rgid) {
        return Err(io::Error::other("user or group ids did not change"));
    }
    if euid == 0 && groups_count()? != 0 {
        return Err(io::Error::other("supplementary groups were not cleared"));
    }
    if ruid != 0 {
        // SAFETY: plain system calls; success is the failure being checked for.
        if unsafe { libc::setuid(0) } == 0 || unsafe { libc::seteuid(0) } == 0 {
            return Err(io::Error::other("root privileges could be regained"));
        }
        // SAFETY: as above.
        if euid != ruid && unsafe { libc::seteuid(euid) } == 0 {
            return Err(io::Error::other(
                "the former effective uid could be regained",
            ));
        }
    }
    if rgid != 0 && ruid != 0 {
        // SAFETY: as above.
        if unsafe { libc::setegid(0) } == 0 {
            return Err(io::Error::other("the root group could be regained"));
        }
    }
    Ok(())
}

fn check(result: libc::c_int, what: &str) -> io::Result<()> {
    if result == 0 {
        Ok(())
    } else {
        let error = io::Error::last_os_error();
        Err(io::Error::new(error.kind(), format!("{what}: {error}")))
    }
}

fn resuid() -> io::Result<(libc::uid_t, libc::uid_t, libc::uid_t)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: the pointers are to live locals.
    check(
        unsafe { libc::getresuid(&mut r, &mut e, &mut s) },
        "getresuid",
    )?;
    Ok((r, e, s))
}

fn resgid() -> io::Result<(libc::gid_t, libc::gid_t, libc::gid_t)> {
    let (mut r, mut e, mut s) = (0, 0, 0);
    // SAFETY: the pointers are to live locals.
    check(
        unsafe { libc::getresgid(&mut r, &mut e, &mut s) },
        "getresgid",
    )?;
    Ok((r, e, s))
}

fn groups_count() -> io::Result<libc::c_int> {
    // SAFETY: a size of 0 only asks for the count and writes nothing.
    let count = unsafe { libc::getgroups(0, std::ptr::null_mut()) };
    if count < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::Command;

    /// Set in the environment of a child test process to select what it checks.
    const CHILD_VAR: &str = "PVENOTIFY_PRIVILEGE_TEST_CHILD";
    const NOBODY: libc::uid_t = 65534;

    /// Runs one test of this module in a fresh copy of the test binary.
    fn run_child(
        test: &str,
        mode: &str,
        setup: impl FnMut() -> io::Result<()> + Send + Sync + 'static,
    ) {
        // module_path!() is `CRATE::forward::privilege::tests`; the test filter has no crate.
        let module = module_path!().split_once("::").map_or("", |(_, rest)| rest);
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .args(["--exact", "--test-threads=1", "--nocapture"])
            .arg(format!("{module}::{test}"))
            .env(CHILD_VAR, mode);
        // SAFETY: the closure only makes system calls that are safe between fork and exec.
        unsafe { command.pre_exec(setup) };
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "child {test} failed: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("1 passed"),
            "child {test} did not run"
        );
    }

    #[test]
    fn test_process_is_not_privileged() {
        if std::env::var_os(CHILD_VAR).is_none() {
            assert!(!is_privileged());
        }
    }

    #[test]
    fn drop_without_elevated_ids_changes_nothing() {
        let before = (
            resuid().unwrap(),
            resgid().unwrap(),
            groups_count().unwrap(),
        );
        drop_privileges().unwrap();
        assert_eq!(
            (
                resuid().unwrap(),
                resgid().unwrap(),
                groups_count().unwrap()
            ),
            before
        );
    }

    /// Real uid/gid `nobody`, effective and saved 0: what the set-uid copy sees when Postfix
    /// runs it. Needs root to set up; skipped otherwise.
    #[test]
    fn drop_in_a_set_uid_like_child() {
        match std::env::var(CHILD_VAR).as_deref() {
            Ok("drop") => {
                assert!(is_privileged());
                drop_privileges().unwrap();
                assert_eq!(resuid().unwrap(), (NOBODY, NOBODY, NOBODY));
                assert_eq!(resgid().unwrap(), (NOBODY, NOBODY, NOBODY));
                assert_eq!(groups_count().unwrap(), 0);
                assert_ne!(unsafe { libc::setuid(0) }, 0);
                assert!(std::fs::File::open("/etc/shadow").is_err());
            }
            Ok(_) => {}
            Err(_) => {
                if unsafe { libc::geteuid() } != 0 {
                    eprintln!("skipped: needs root");
                    return;
                }
                run_child("drop_in_a_set_uid_like_child", "drop", || {
                    // SAFETY: plain system calls, allowed between fork and exec.
                    let ok = unsafe {
                        libc::setresgid(NOBODY, 0, 0) == 0 && libc::setresuid(NOBODY, 0, 0) == 0
                    };
                    if ok {
                        Ok(())
                    } else {
                        Err(io::Error::last_os_error())
                    }
                });
            }
        }
    }

    /// Environment, umask and closed descriptors; mutates process-wide state, so it runs in a
    /// child process where nothing else runs.
    #[test]
    fn sanitize_in_a_child() {
        match std::env::var(CHILD_VAR).as_deref() {
            Ok("sanitize") => {
                // SAFETY: closing stdin of this child, which nothing uses.
                unsafe { libc::close(0) };
                sanitize_process();
                let vars: Vec<_> = std::env::vars_os().collect();
                assert_eq!(vars, [("PATH".into(), SAFE_PATH.into())]);
                // SAFETY: umask only swaps the mask; the old value is put back at once.
                let mask = unsafe { libc::umask(0o022) };
                unsafe { libc::umask(mask) };
                assert_eq!(mask, 0o077);
                assert_ne!(unsafe { libc::fcntl(0, libc::F_GETFD) }, -1);
            }
            Ok(_) => {}
            Err(_) => {
                run_child("sanitize_in_a_child", "sanitize", || Ok(()));
            }
        }
    }
}
