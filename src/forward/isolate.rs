//! Running one piece of parsing in a forked child, so that whatever it does on hostile input
//! (overflow its stack, abort, loop) ends the child and not forward-mail: the caller gets
//! the result, or the reason there is none, within a time limit. A stack overflow cannot be
//! caught inside a process (it is a signal, not a panic), and a thread cannot be stopped.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::FromRawFd;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::time::{Duration, Instant};

/// Whether this process runs a single thread: `fork` copies only the calling thread, and a
/// lock another thread held at that moment would stay locked in the child forever.
pub fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").is_ok_and(|tasks| tasks.count() == 1)
}

/// Runs `work` in a child process and returns its text and flag, or why there is none (the
/// child died by a signal, failed, or ran past `limit` and was killed). Call it only when
/// [`single_threaded`].
pub fn run(
    limit: Duration,
    work: impl FnOnce() -> (String, bool),
) -> Result<(String, bool), String> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(format!("no pipe: {}", std::io::Error::last_os_error()));
    }
    let [read_fd, write_fd] = fds;
    // SAFETY: the process is single-threaded (the caller checked), so the child is a
    // complete copy; it only computes, writes to the pipe and ends with _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        let error = std::io::Error::last_os_error();
        // SAFETY: both descriptors are ours and open.
        unsafe {
            libc::close(read_fd);
            libc::close(write_fd);
        }
        return Err(format!("cannot fork: {error}"));
    }
    if pid == 0 {
        // SAFETY: the read end is ours; the write end is owned by `out` from here on.
        unsafe { libc::close(read_fd) };
        let out = unsafe { File::from_raw_fd(write_fd) };
        child(out, work);
    }
    // SAFETY: the write end belongs to the child now; the read end is owned by `input`.
    unsafe { libc::close(write_fd) };
    let input = unsafe { File::from_raw_fd(read_fd) };
    let received = read_until(input, Instant::now() + limit)
        .map_err(|()| format!("parsing took longer than {} s", limit.as_secs()));
    let status = match &received {
        Ok(_) => wait(pid),
        Err(reason) => {
            // SAFETY: `pid` is our child, not yet reaped.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            wait(pid);
            return Err(reason.clone());
        }
    };
    if libc::WIFSIGNALED(status) {
        return Err(format!(
            "the parser was ended by signal {}",
            libc::WTERMSIG(status)
        ));
    }
    let bytes = received.unwrap_or_default();
    match (libc::WEXITSTATUS(status), bytes.split_first()) {
        (0, Some((&flag, text))) if matches!(flag, b'0' | b'1') => {
            match String::from_utf8(text.to_vec()) {
                Ok(text) => Ok((text, flag == b'1')),
                Err(_) => Err("the parser returned no text".into()),
            }
        }
        (code, _) => Err(format!("the parser failed (exit status {code})")),
    }
}

/// The child's side: no core dump, no stderr (a crash message would read like ours in the
/// MTA's log), the flag byte and the text into the pipe, and `_exit` without running the
/// parent's exit handlers.
fn child(mut out: File, work: impl FnOnce() -> (String, bool)) -> ! {
    let no_core = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: plain system calls on a valid struct and path.
    unsafe {
        libc::setrlimit(libc::RLIMIT_CORE, &no_core);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if null >= 0 {
            libc::dup2(null, 2);
        }
    }
    let code = match catch_unwind(AssertUnwindSafe(work)) {
        Ok((text, flag)) => {
            let flag = if flag { b'1' } else { b'0' };
            match out
                .write_all(&[flag])
                .and_then(|()| out.write_all(text.as_bytes()))
            {
                Ok(()) => 0,
                Err(_) => 1,
            }
        }
        Err(_) => 1,
    };
    // SAFETY: ends this process at once, as a forked child must.
    unsafe { libc::_exit(code) }
}

/// Everything from `input` until end of file, or `Err` once `deadline` has passed (or the
/// pipe fails, which only a dying child can make it do).
fn read_until(mut input: File, deadline: Instant) -> Result<Vec<u8>, ()> {
    use std::os::fd::AsRawFd;
    let mut bytes = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(());
        }
        let mut poll = libc::pollfd {
            fd: input.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let millis = libc::c_int::try_from(left.as_millis().max(1)).unwrap_or(libc::c_int::MAX);
        // SAFETY: one valid pollfd.
        let ready = unsafe { libc::poll(&mut poll, 1, millis) };
        if ready < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return Err(());
        }
        if ready == 0 {
            continue;
        }
        match input.read(&mut chunk) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return Err(()),
        }
    }
}

/// Reaps `pid` and returns its wait status.
fn wait(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    loop {
        // SAFETY: `status` is a valid out-pointer; `pid` is our child.
        let reaped = unsafe { libc::waitpid(pid, &mut status, 0) };
        if reaped == pid
            || std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted
        {
            return status;
        }
    }
}
