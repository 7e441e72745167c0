//! Running a command for `run` (noise.md §3): its standard output and standard error go
//! into one pipe, so they are read in the order they were written, and only the last
//! 64 KiB are kept, so memory stays the same for any amount of output. A timeout stops it
//! (SIGTERM, SIGKILL 10 s later), and SIGINT, SIGTERM and SIGHUP sent to pvenotify are passed
//! on. Signals reach the loop through a self-pipe, so one `poll` waits for output, signals,
//! the child's end and the timeout alike.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant, SystemTime};

use crate::exit::CommandEnd;

/// How much of the output is kept: the end, where the error usually is.
pub const KEEP_BYTES: usize = 64 * 1024;
/// Time between SIGTERM and SIGKILL at a timeout.
pub const KILL_AFTER: Duration = Duration::from_secs(10);
/// Longest single wait of the loop.
const MAX_POLL_MS: i32 = 1000;

/// The last [`KEEP_BYTES`] of a stream, in a fixed buffer.
pub struct Tail {
    buf: Vec<u8>,
    /// Where the next byte goes once the buffer is full.
    next: usize,
    total: u64,
}

impl Default for Tail {
    fn default() -> Self {
        Tail::new()
    }
}

impl Tail {
    pub fn new() -> Self {
        Tail {
            buf: Vec::with_capacity(KEEP_BYTES),
            next: 0,
            total: 0,
        }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len() as u64;
        if bytes.len() >= KEEP_BYTES {
            bytes = &bytes[bytes.len() - KEEP_BYTES..];
            self.buf.clear();
            self.buf.extend_from_slice(bytes);
            self.next = 0;
            return;
        }
        let room = KEEP_BYTES - self.buf.len();
        if room > 0 {
            let now = room.min(bytes.len());
            self.buf.extend_from_slice(&bytes[..now]);
            bytes = &bytes[now..];
        }
        while !bytes.is_empty() {
            let now = (KEEP_BYTES - self.next).min(bytes.len());
            self.buf[self.next..self.next + now].copy_from_slice(&bytes[..now]);
            self.next = (self.next + now) % KEEP_BYTES;
            bytes = &bytes[now..];
        }
    }

    /// Bytes written in all.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// Bytes that were not kept.
    pub fn cut(&self) -> u64 {
        self.total - self.buf.len() as u64
    }

    /// The kept bytes in order.
    pub fn bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(self.buf.len());
        bytes.extend_from_slice(&self.buf[self.next..]);
        bytes.extend_from_slice(&self.buf[..self.next]);
        bytes
    }

    /// The kept output as text: invalid UTF-8 replaced, a character cut in half at the
    /// start dropped, and a first line saying how much was cut.
    pub fn text(&self) -> String {
        let bytes = self.bytes();
        let mut start = 0;
        if self.cut() > 0 {
            // Skip continuation bytes of a character whose start was cut.
            while start < bytes.len().min(3) && bytes[start] & 0xc0 == 0x80 {
                start += 1;
            }
        }
        let text = String::from_utf8_lossy(&bytes[start..]);
        if self.cut() > 0 {
            format!(
                "[{} bytes of earlier output cut]\n{text}",
                self.cut() + start as u64
            )
        } else {
            text.into_owned()
        }
    }
}

/// How a run went.
pub struct Finished {
    pub end: CommandEnd,
    /// Why it could not be started, when it could not.
    pub start_error: Option<String>,
    pub started: SystemTime,
    pub duration: Duration,
    pub output: Tail,
}

/// Runs `argv` (the program is looked up in `PATH` like a shell does) with the caller's
/// environment, working directory and standard input, and waits for it.
pub fn run(argv: &[OsString], timeout: Option<Duration>) -> Finished {
    let started = SystemTime::now();
    let clock = Instant::now();
    let mut output = Tail::new();
    let finished = |end, start_error, output| Finished {
        end,
        start_error,
        started,
        duration: clock.elapsed(),
        output,
    };
    let Some((program, args)) = argv.split_first() else {
        return finished(CommandEnd::NotFound, Some("no command".into()), output);
    };
    let result = (|| -> io::Result<(Child, File, SignalPipe)> {
        let (read_end, write_end) = pipe()?;
        let signals = SignalPipe::install()?;
        let child = std::process::Command::new(program)
            .args(args)
            .stdout(Stdio::from(write_end.try_clone()?))
            .stderr(Stdio::from(write_end))
            .spawn();
        // The Command (and with it our copies of the write end) is gone here, so the
        // pipe reports end of file once the command and its children have closed it.
        match child {
            Ok(child) => Ok((child, File::from(read_end), signals)),
            Err(error) => {
                signals.uninstall();
                Err(error)
            }
        }
    })();
    let (mut child, mut pipe, signals) = match result {
        Ok(parts) => parts,
        Err(error) => {
            let end = match error.kind() {
                io::ErrorKind::NotFound => CommandEnd::NotFound,
                _ => CommandEnd::NotExecutable,
            };
            let reason = match error.kind() {
                io::ErrorKind::NotFound => "not found".to_string(),
                io::ErrorKind::PermissionDenied => "permission denied".to_string(),
                _ => error.to_string(),
            };
            return finished(end, Some(reason), output);
        }
    };

    let pid = child.id() as libc::pid_t;
    let mut deadline = timeout.map(|t| clock + t);
    let mut timed_out = false;
    let mut pipe_open = true;
    let mut chunk = vec![0u8; KEEP_BYTES];
    let status = loop {
        if let Some(status) = child.try_wait().ok().flatten() {
            if pipe_open {
                drain(&mut pipe, &mut chunk, &mut output);
            }
            break Some(status);
        }
        // SIGCHLD wakes the loop when the command ends; the cap only bounds how late a
        // lost wake-up would be noticed.
        let wait_ms = deadline.map_or(MAX_POLL_MS, |d| {
            d.saturating_duration_since(Instant::now())
                .as_millis()
                .min(MAX_POLL_MS as u128) as i32
        });
        let mut fds = [
            poll_fd(signals.read_fd(), true),
            poll_fd(pipe.as_raw_fd(), pipe_open),
        ];
        // SAFETY: two valid pollfd entries; a negative fd is ignored by poll.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), 2, wait_ms) };
        if ready < 0 {
            if io::Error::last_os_error().kind() == io::ErrorKind::Interrupted {
                continue;
            }
            break child.wait().ok();
        }
        if fds[1].revents != 0 {
            match pipe.read(&mut chunk) {
                Ok(0) => pipe_open = false,
                Ok(n) => output.push(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => pipe_open = false,
            }
        }
        if fds[0].revents != 0 {
            for signal in signals.take_forwarded() {
                // SAFETY: kill(2) on the pid of our own child, which we have not reaped.
                unsafe { libc::kill(pid, signal) };
            }
        }
        if let Some(d) = deadline
            && Instant::now() >= d
        {
            let signal = if timed_out {
                deadline = None;
                libc::SIGKILL
            } else {
                timed_out = true;
                deadline = Some(Instant::now() + KILL_AFTER);
                libc::SIGTERM
            };
            // SAFETY: as above.
            unsafe { libc::kill(pid, signal) };
        }
    };
    signals.uninstall();
    let end = match status {
        _ if timed_out => CommandEnd::TimedOut,
        Some(status) => match (status.code(), status.signal()) {
            (Some(code), _) => CommandEnd::Exited(code),
            (None, Some(signal)) => CommandEnd::Signaled(signal),
            (None, None) => CommandEnd::Exited(255),
        },
        None => CommandEnd::Exited(255),
    };
    finished(end, None, output)
}

/// Reads what is left in the pipe without waiting: the command has ended, but a child it
/// left behind may keep the pipe open.
fn drain(pipe: &mut File, chunk: &mut [u8], output: &mut Tail) {
    set_nonblocking(pipe.as_raw_fd());
    loop {
        match pipe.read(chunk) {
            Ok(0) => break,
            Ok(n) => output.push(&chunk[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
}

fn poll_fd(fd: RawFd, wanted: bool) -> libc::pollfd {
    libc::pollfd {
        fd: if wanted { fd } else { -1 },
        events: libc::POLLIN,
        revents: 0,
    }
}

fn set_nonblocking(fd: RawFd) {
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
    }
}

/// `pipe2(O_CLOEXEC)`: (read end, write end).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: pipe2 fills two descriptors into the array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created and are owned by nothing else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Signals pvenotify passes on to the command.
const FORWARDED: [libc::c_int; 3] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP];

/// Write end of the self-pipe, for the signal handler.
static WAKE_FD: AtomicI32 = AtomicI32::new(-1);
/// Which forwarded signals arrived, by index into [`FORWARDED`].
static PENDING: [AtomicBool; 3] = [const { AtomicBool::new(false) }; 3];

extern "C" fn on_signal(signal: libc::c_int) {
    if let Some(i) = FORWARDED.iter().position(|&s| s == signal) {
        PENDING[i].store(true, Ordering::SeqCst);
    }
    let fd = WAKE_FD.load(Ordering::SeqCst);
    if fd >= 0 {
        let byte = 0u8;
        // SAFETY: write(2) is async-signal-safe; the pipe is non-blocking, so a full pipe
        // just drops the wake-up (one is already pending).
        unsafe { libc::write(fd, (&byte as *const u8).cast(), 1) };
    }
}

/// The handlers for the forwarded signals and SIGCHLD, and the pipe they wake the loop by.
struct SignalPipe {
    read: OwnedFd,
    _write: OwnedFd,
}

impl SignalPipe {
    fn install() -> io::Result<SignalPipe> {
        let (read, write) = pipe()?;
        set_nonblocking(read.as_raw_fd());
        set_nonblocking(write.as_raw_fd());
        WAKE_FD.store(write.as_raw_fd(), Ordering::SeqCst);
        for signal in FORWARDED.into_iter().chain([libc::SIGCHLD]) {
            // SAFETY: a zeroed sigaction with a handler that only does async-signal-safe
            // work; SA_RESTART keeps other system calls from failing with EINTR.
            unsafe {
                let mut action: libc::sigaction = std::mem::zeroed();
                action.sa_sigaction = on_signal as *const () as libc::sighandler_t;
                action.sa_flags = libc::SA_RESTART;
                libc::sigemptyset(&mut action.sa_mask);
                libc::sigaction(signal, &action, std::ptr::null_mut());
            }
        }
        Ok(SignalPipe {
            read,
            _write: write,
        })
    }

    fn read_fd(&self) -> RawFd {
        self.read.as_raw_fd()
    }

    /// Empties the pipe and returns the forwarded signals that arrived since last time.
    fn take_forwarded(&self) -> Vec<libc::c_int> {
        let mut buf = [0u8; 64];
        // SAFETY: reading into a local buffer from our own non-blocking pipe.
        while unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {
        }
        FORWARDED
            .iter()
            .zip(&PENDING)
            .filter(|(_, pending)| pending.swap(false, Ordering::SeqCst))
            .map(|(&signal, _)| signal)
            .collect()
    }

    /// Back to the default handlers: pvenotify is not running a command any more.
    fn uninstall(self) {
        for signal in FORWARDED.into_iter().chain([libc::SIGCHLD]) {
            // SAFETY: restoring the default disposition.
            unsafe { libc::signal(signal, libc::SIG_DFL) };
        }
        WAKE_FD.store(-1, Ordering::SeqCst);
    }
}

/// `KILL` for signal 9; the number for signals without a common name.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGHUP => "HUP",
        libc::SIGINT => "INT",
        libc::SIGQUIT => "QUIT",
        libc::SIGILL => "ILL",
        libc::SIGTRAP => "TRAP",
        libc::SIGABRT => "ABRT",
        libc::SIGBUS => "BUS",
        libc::SIGFPE => "FPE",
        libc::SIGKILL => "KILL",
        libc::SIGUSR1 => "USR1",
        libc::SIGSEGV => "SEGV",
        libc::SIGUSR2 => "USR2",
        libc::SIGPIPE => "PIPE",
        libc::SIGALRM => "ALRM",
        libc::SIGTERM => "TERM",
        libc::SIGXCPU => "XCPU",
        libc::SIGXFSZ => "XFSZ",
        _ => return signal.to_string(),
    };
    format!("SIG{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tail_keeps_everything_below_the_limit() {
        let mut tail = Tail::new();
        tail.push(b"one\n");
        tail.push(b"two\n");
        assert_eq!(tail.text(), "one\ntwo\n");
        assert_eq!(tail.cut(), 0);
    }

    #[test]
    fn tail_keeps_the_last_bytes_in_order_across_wraps() {
        let mut tail = Tail::new();
        let mut all = Vec::new();
        for i in 0..50_000u32 {
            let line = format!("line {i}\n");
            tail.push(line.as_bytes());
            all.extend_from_slice(line.as_bytes());
        }
        assert_eq!(tail.bytes(), all[all.len() - KEEP_BYTES..]);
        assert_eq!(tail.total(), all.len() as u64);
        assert_eq!(tail.cut(), (all.len() - KEEP_BYTES) as u64);
        assert!(tail.text().starts_with(&format!(
            "[{} bytes of earlier output cut]\n",
            all.len() - KEEP_BYTES
        )));
        // One write larger than the buffer.
        let big: Vec<u8> = (0..3 * KEEP_BYTES).map(|i| (i % 251) as u8).collect();
        tail.push(&big);
        assert_eq!(tail.bytes(), big[big.len() - KEEP_BYTES..]);
    }

    #[test]
    fn tail_drops_a_character_cut_in_half() {
        let mut tail = Tail::new();
        tail.push("é".as_bytes());
        tail.push(&vec![b'a'; KEEP_BYTES - 1]);
        let text = tail.text();
        assert!(
            text.starts_with("[2 bytes of earlier output cut]\naaa"),
            "{}",
            &text[..40]
        );
    }

    /// The signal handlers are process-wide: one `run` at a time.
    static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn argv(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn a_background_child_holding_the_pipe_does_not_keep_run_waiting() {
        let _one = ONE_AT_A_TIME.lock();
        let finished = run(&argv(&["sh", "-c", "sleep 3 & echo done"]), None);
        assert_eq!(finished.end, CommandEnd::Exited(0));
        assert_eq!(finished.output.text(), "done\n");
        assert!(
            finished.duration < Duration::from_secs(2),
            "{:?}",
            finished.duration
        );
    }

    #[test]
    fn start_failures() {
        let _one = ONE_AT_A_TIME.lock();
        let missing = run(&argv(&["/nonexistent/program"]), None);
        assert_eq!(missing.end, CommandEnd::NotFound);
        assert_eq!(missing.start_error.as_deref(), Some("not found"));
        let directory = run(&argv(&["/"]), None);
        assert_eq!(directory.end, CommandEnd::NotExecutable);
    }

    #[test]
    fn signal_names() {
        assert_eq!(signal_name(9), "SIGKILL");
        assert_eq!(signal_name(15), "SIGTERM");
        assert_eq!(signal_name(40), "40");
    }
}
