//! The `sendmail` target: hands the mail to the local MTA's sendmail program, with the
//! arguments upstream uses. Unlike upstream, the program's exit status counts, and a hung
//! program is stopped, with everything it started, after a deadline.

use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use super::mail::{self, MailContent};
use super::{Delivery, DeliveryContext, DeliveryError, Endpoint};
use crate::config::{Config, SendmailConfig, Target};
use crate::redact;

/// How long sendmail may run before it is sent SIGTERM.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// How long after SIGTERM before SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(5);
/// How long after SIGKILL the stopped program is waited for, to reap it.
const REAP_WAIT: Duration = Duration::from_secs(1);
/// How much of sendmail's stderr is kept for the failure message.
const STDERR_KEEP: usize = 4096;

pub struct Sendmail<'a> {
    pub target: &'a Target,
    pub settings: &'a SendmailConfig,
    pub config: &'a Config,
    pub context: &'a DeliveryContext,
}

impl Sendmail<'_> {
    /// `from-address`, else datacenter.cfg's `email_from`, else bare `root` (the MTA
    /// qualifies it), as upstream.
    fn sender(&self) -> &str {
        self.settings
            .from_address
            .as_deref()
            .or(self.config.datacenter.email_from.as_deref())
            .unwrap_or("root")
    }
}

impl Endpoint for Sendmail<'_> {
    fn target(&self) -> &Target {
        self.target
    }

    fn deliver(
        &self,
        delivery: &Delivery<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<(), DeliveryError> {
        let recipients = mail::resolve_recipients(
            &self.target.name,
            &self.settings.mailto,
            &self.settings.mailto_user,
            &self.config.users,
            warnings,
        )?;
        let from = self.sender();
        let program = &self.context.sendmail;
        if let Some(original) = delivery.original {
            // Forwarded system mail goes on as is; `-N never` keeps a failed onward
            // delivery from bouncing back into root's mailbox (upstream's arguments; not
            // for Exim, see `is_exim`), `-i` keeps a line holding only a dot from ending it
            // (upstream lacks it).
            let mut args = vec!["-i"];
            if !is_exim(program) {
                args.extend(["-N", "never"]);
            }
            args.extend(["-f", from, "--"]);
            args.extend(recipients.iter().map(String::as_str));
            let input = |out: &mut dyn Write| original.source.write_from(0, out);
            return run(program, &args, &input, DEADLINE);
        }

        let event = delivery.event;
        let message = mail::build_message(&MailContent {
            author: self.settings.author(),
            from,
            recipients: &recipients,
            subject: &event.title,
            text: &event.body,
            html: mail::event_html(event)?,
            message_id_host: &self.context.fqdn,
        })?;
        // The local sendmail interface expects LF line ends.
        let bytes = crlf_to_lf(message.formatted());
        drop(message);
        // Upstream's arguments, and `-i`: without it a line holding only a dot (a log may
        // have one) ends the message there, and the rest, the HTML part too, is lost.
        let mut args = vec!["-i", "-B", "8BITMIME", "-f", from, "--"];
        args.extend(recipients.iter().map(String::as_str));
        let input = |out: &mut dyn Write| out.write_all(&bytes);
        run(program, &args, &input, DEADLINE)
    }
}

/// Whether `program` is Exim, which Debian links as `/usr/sbin/sendmail` (to `exim4`).
/// Exim reads `-N` as "go through the motions but deliver nothing" (`dont_deliver` in its
/// exim.c) and takes `never` for the first recipient: with the DSN arguments of other
/// MTAs, every forwarded mail would be dropped while sendmail reports success. Exim has no
/// command-line DSN option, so for it a failed onward delivery bounces to the sender.
fn is_exim(program: &Path) -> bool {
    let resolved = std::fs::canonicalize(program).unwrap_or_else(|_| program.to_path_buf());
    resolved
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with("exim"))
}

/// CRLF line ends to LF, in place: a mail of megabytes is not copied a second time.
fn crlf_to_lf(mut bytes: Vec<u8>) -> Vec<u8> {
    let (mut read, mut write) = (0, 0);
    while let Some(at) = memchr::memmem::find(&bytes[read..], b"\r\n") {
        // keep what comes before the CR, drop the CR; the LF starts the next run
        bytes.copy_within(read..read + at, write);
        write += at;
        read += at + 1;
    }
    bytes.copy_within(read.., write);
    write += bytes.len() - read;
    bytes.truncate(write);
    bytes
}

/// Writes a child's standard input; may be called from another thread.
pub type Input<'a> = dyn Fn(&mut dyn Write) -> std::io::Result<()> + Sync + 'a;

/// Runs `program` with `args`, feeds it `input` and waits for it to exit within
/// `deadline`. Any outcome but exit status 0 in time is a failure.
///
/// The program runs in a process group of its own. At the deadline the whole group gets
/// SIGTERM, and SIGKILL after [`KILL_GRACE`], so a hung helper it started (postdrop, a
/// delivery process) dies with it. The pipes are given up once the program has exited
/// or the deadline has passed, even if some descendant still holds them open: only the
/// program's own exit counts.
pub fn run(
    program: &Path,
    args: &[&str],
    input: &Input<'_>,
    deadline: Duration,
) -> Result<(), DeliveryError> {
    let shown = program.display();
    let failed = |e: std::io::Error| DeliveryError::temporary(format!("cannot run {shown}: {e}"));
    let (stop, stopped) = pipes::stop_pair().map_err(failed)?;
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(|e| DeliveryError::configuration(format!("cannot run {shown}: {e}")))?;
    let pid = child.id();
    let stoppable = |pipe: Option<OwnedFd>| {
        pipe.map(|pipe| pipes::Stoppable::new(pipe, stopped.as_fd()))
            .transpose()
    };
    let (stdin, stderr) = match (
        stoppable(child.stdin.take().map(OwnedFd::from)),
        stoppable(child.stderr.take().map(OwnedFd::from)),
    ) {
        (Ok(stdin), Ok(stderr)) => (stdin, stderr),
        (Err(e), _) | (_, Err(e)) => {
            signal_group(pid, libc::SIGKILL);
            let _ = child.wait();
            return Err(failed(e));
        }
    };

    // The exit is awaited without reaping the program: until it is reaped its pid, and
    // so its process group id, cannot be reused, and signalling the group stays safe.
    let (tx, exited) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(wait_for_exit(pid));
    });

    // Writing and reading stderr each get a thread, so that a program which neither
    // reads nor exits cannot block us past the deadline; `stop` ends both.
    thread::scope(|scope| {
        let writer = scope.spawn(move || match stdin {
            Some(mut pipe) => input(&mut pipe),
            None => Ok(()),
        });
        let reader = scope.spawn(move || {
            let mut kept = Vec::new();
            if let Some(mut pipe) = stderr {
                let _ = (&mut pipe).take(STDERR_KEEP as u64).read_to_end(&mut kept);
                // Drain the rest so the program never blocks on a full pipe.
                let _ = std::io::copy(&mut pipe, &mut std::io::sink());
            }
            kept
        });

        let in_time = exited.recv_timeout(deadline).is_ok();
        if !in_time {
            signal_group(pid, libc::SIGTERM);
            let _ = exited.recv_timeout(KILL_GRACE);
            // Also for what ignored SIGTERM after the program itself had gone.
            signal_group(pid, libc::SIGKILL);
        }
        drop(stop);
        if !in_time {
            // Reaped only if SIGKILL has ended it (it may sit in an uninterruptible wait).
            if exited.recv_timeout(REAP_WAIT).is_ok() {
                let _ = child.wait();
            }
            return Err(DeliveryError::temporary(format!(
                "{shown} did not finish within {} s and was stopped",
                deadline.as_secs()
            )));
        }
        let status = child
            .wait()
            .map_err(|e| DeliveryError::temporary(format!("waiting for {shown} failed: {e}")))?;

        let written = writer.join().unwrap_or(Ok(()));
        let stderr = reader.join().unwrap_or_default();
        let first_line = String::from_utf8_lossy(&stderr)
            .lines()
            .find(|l| !l.trim().is_empty())
            .map(|l| redact::one_line(l.trim(), redact::QUOTE_LIMIT))
            .unwrap_or_default();

        if !status.success() {
            let how = match status.code() {
                Some(code) => format!("exited with status {code}"),
                None => {
                    use std::os::unix::process::ExitStatusExt;
                    format!("was killed by signal {}", status.signal().unwrap_or(0))
                }
            };
            let detail = if first_line.is_empty() {
                String::new()
            } else {
                format!(": {first_line}")
            };
            return Err(DeliveryError::temporary(format!("{shown} {how}{detail}")));
        }
        if let Err(e) = written {
            return Err(DeliveryError::temporary(format!(
                "{shown} closed its input early: {e}"
            )));
        }
        Ok(())
    })
}

/// Blocks until the child `pid` has exited, leaving it unreaped (`WNOWAIT`).
fn wait_for_exit(pid: u32) -> std::io::Result<()> {
    let id = libc::id_t::from(pid);
    loop {
        // SAFETY: waitid(2) only writes into the zeroed siginfo we own.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let rc = unsafe { libc::waitid(libc::P_PID, id, &mut info, libc::WEXITED | libc::WNOWAIT) };
        if rc == 0 {
            return Ok(());
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error);
        }
    }
}

/// Sends `signal` to the process group the program leads.
fn signal_group(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(-pid, signal);
        }
    }
}

/// Pipe ends whose reads and writes give up when told to, instead of blocking for as
/// long as some process holds the other end open.
mod pipes {
    use std::fs::File;
    use std::io::{self, Read, Write};
    use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};

    /// Dropping the first ends every [`Stoppable`] made with the second.
    pub fn stop_pair() -> io::Result<(OwnedFd, OwnedFd)> {
        let (read, write) = std::io::pipe()?;
        Ok((write.into(), read.into()))
    }

    /// What is read after stop at most: Linux's default pipe capacity, all the program
    /// can have left in the pipe when it exited. (A descendant writing on is not read.)
    const READ_AFTER_STOP: usize = 64 * 1024;

    pub struct Stoppable<'a> {
        pipe: File,
        stopped: BorrowedFd<'a>,
        /// Set once stop was said: how much may still be read.
        left_after_stop: Option<usize>,
    }

    impl<'a> Stoppable<'a> {
        pub fn new(pipe: OwnedFd, stopped: BorrowedFd<'a>) -> io::Result<Self> {
            let fd = pipe.as_raw_fd();
            // SAFETY: fcntl(2) on a descriptor we own.
            let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
            if flags < 0 || unsafe { libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) } < 0
            {
                return Err(io::Error::last_os_error());
            }
            Ok(Stoppable {
                pipe: File::from(pipe),
                stopped,
                left_after_stop: None,
            })
        }

        /// Waits until the pipe is ready for `events` (`Ok(true)`) or stop was said
        /// (`Ok(false)`).
        fn ready(&self, events: libc::c_short) -> io::Result<bool> {
            let mut fds = [
                libc::pollfd {
                    fd: self.pipe.as_fd().as_raw_fd(),
                    events,
                    revents: 0,
                },
                libc::pollfd {
                    fd: self.stopped.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                },
            ];
            loop {
                // SAFETY: poll(2) on two pollfd structs we own, for the length given.
                let rc = unsafe { libc::poll(fds.as_mut_ptr(), 2, -1) };
                if rc >= 0 {
                    return Ok(fds[1].revents == 0);
                }
                let error = io::Error::last_os_error();
                if error.kind() != io::ErrorKind::Interrupted {
                    return Err(error);
                }
            }
        }
    }

    impl Read for Stoppable<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            loop {
                if self.left_after_stop.is_none() && !self.ready(libc::POLLIN)? {
                    self.left_after_stop = Some(READ_AFTER_STOP);
                }
                let limit = match self.left_after_stop {
                    Some(0) => return Ok(0),
                    Some(left) => left.min(buf.len()),
                    None => buf.len(),
                };
                match self.pipe.read(&mut buf[..limit]) {
                    Ok(n) => {
                        if let Some(left) = &mut self.left_after_stop {
                            *left -= n;
                        }
                        return Ok(n);
                    }
                    // After stop, an empty pipe is the end.
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        if self.left_after_stop.is_some() {
                            return Ok(0);
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
        }
    }

    impl Write for Stoppable<'_> {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            loop {
                if !self.ready(libc::POLLOUT)? {
                    return Err(io::Error::new(
                        io::ErrorKind::BrokenPipe,
                        "the program is gone",
                    ));
                }
                match self.pipe.write(buf) {
                    Err(e)
                        if matches!(
                            e.kind(),
                            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted
                        ) => {}
                    other => return other,
                }
            }
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &Path, body: &str) -> std::path::PathBuf {
        let path = dir.join("fake-sendmail");
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path
    }

    fn bytes(data: &'static [u8]) -> impl Fn(&mut dyn Write) -> std::io::Result<()> + Sync {
        move |out: &mut dyn Write| out.write_all(data)
    }

    #[test]
    fn exim_is_recognised_through_links() {
        let dir = tempfile::tempdir().unwrap();
        let exim = script(dir.path(), "exit 0");
        let exim4 = dir.path().join("exim4");
        std::fs::rename(&exim, &exim4).unwrap();
        let link = dir.path().join("sendmail");
        std::os::unix::fs::symlink(&exim4, &link).unwrap();
        assert!(is_exim(&exim4));
        assert!(is_exim(&link));
        assert!(is_exim(Path::new("/nonexistent/exim")));
        let other = script(dir.path(), "exit 0");
        assert!(!is_exim(&other));
        assert!(!is_exim(Path::new("/nonexistent/sendmail")));
        let postfix = dir.path().join("sendmail.postfix");
        std::os::unix::fs::symlink(&other, &postfix).unwrap();
        assert!(!is_exim(&postfix));
    }

    #[test]
    fn crlf_becomes_lf_but_lone_cr_stays() {
        let lf = |s: &str| crlf_to_lf(s.as_bytes().to_vec());
        assert_eq!(lf("a\r\nb\rc\r\n"), b"a\nb\rc\n");
        assert_eq!(lf("\r\n\r\n\r\r\n\n"), b"\n\n\r\n\n");
        assert_eq!(lf("no line end"), b"no line end");
        assert_eq!(lf(""), b"");
        assert_eq!(lf("\r"), b"\r");
        assert_eq!(lf("x\r\n"), b"x\n");
    }

    #[test]
    fn passes_args_and_input() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out");
        let program = script(
            dir.path(),
            &format!("echo \"$@\" > {0}; cat >> {0}", out.display()),
        );
        run(
            &program,
            &["-f", "x", "--", "a@b"],
            &bytes(b"hello\n"),
            DEADLINE,
        )
        .unwrap();
        assert_eq!(
            std::fs::read_to_string(out).unwrap(),
            "-f x -- a@b\nhello\n"
        );
    }

    #[test]
    fn non_zero_exit_is_temporary_with_first_stderr_line() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(
            dir.path(),
            "cat >/dev/null; echo '' >&2; echo 'queue full' >&2; exit 75",
        );
        let err = run(&program, &[], &bytes(b"x"), DEADLINE).unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Temporary);
        assert!(
            err.message.ends_with("exited with status 75: queue full"),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_program_is_configuration() {
        let err = run(
            Path::new("/nonexistent/sendmail"),
            &[],
            &bytes(b""),
            DEADLINE,
        )
        .unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Configuration);
        assert!(
            err.message
                .starts_with("cannot run /nonexistent/sendmail: "),
            "{}",
            err.message
        );
    }

    #[test]
    fn hung_program_is_stopped_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(dir.path(), "exec sleep 30");
        let started = std::time::Instant::now();
        let err = run(&program, &[], &bytes(b""), Duration::from_millis(300)).unwrap_err();
        assert_eq!(err.class, crate::exit::FailureClass::Temporary);
        assert!(
            err.message.contains("did not finish within"),
            "{}",
            err.message
        );
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    /// The pid the fake sendmail wrote to `file`.
    fn pid_in(file: &Path) -> libc::pid_t {
        std::fs::read_to_string(file)
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    }

    /// Gone or a zombie (waiting for init to reap it); waits at most 5 s for that.
    fn is_dead(pid: libc::pid_t) -> bool {
        let stat = format!("/proc/{pid}/stat");
        let started = std::time::Instant::now();
        loop {
            let dead = match std::fs::read_to_string(&stat) {
                Err(_) => true,
                // `pid (comm) STATE …`
                Ok(text) => text
                    .rsplit_once(") ")
                    .is_some_and(|(_, rest)| rest.starts_with('Z')),
            };
            if dead || started.elapsed() > Duration::from_secs(5) {
                return dead;
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    #[test]
    fn a_descendant_holding_the_pipes_does_not_hold_us_once_the_program_exits() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild");
        // The background sleep inherits stderr (and the shell's stdin) and outlives it.
        let program = script(
            dir.path(),
            &format!(
                "sleep 30 <&0 & echo $! > {}; cat >/dev/null; echo 'queued' >&2; exit 0",
                pid_file.display()
            ),
        );
        let started = std::time::Instant::now();
        let result = run(&program, &[], &bytes(b"mail\n"), DEADLINE);
        let elapsed = started.elapsed();
        let grandchild = pid_in(&pid_file);
        signal_group_or_pid(grandchild);
        result.unwrap();
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    }

    #[test]
    fn a_hung_program_and_its_descendants_are_stopped_at_the_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild");
        // The grandchild ignores SIGTERM; only the SIGKILL to the whole group ends it.
        let program = script(
            dir.path(),
            &format!(
                "(trap '' TERM; sleep 30 <&0) & echo $! > {}; exec sleep 30",
                pid_file.display()
            ),
        );
        let started = std::time::Instant::now();
        let err = run(&program, &[], &bytes(b""), Duration::from_millis(300)).unwrap_err();
        let elapsed = started.elapsed();
        let grandchild = pid_in(&pid_file);
        let dead = is_dead(grandchild);
        signal_group_or_pid(grandchild);
        assert!(
            err.message.contains("did not finish within"),
            "{}",
            err.message
        );
        assert!(
            elapsed < DEADLINE_TEST_BOUND,
            "took {elapsed:?}, deadline 0.3 s + {KILL_GRACE:?} grace"
        );
        assert!(dead, "the grandchild {grandchild} survived the deadline");
    }

    #[test]
    fn stderr_is_reported_and_unread_input_given_up_when_a_descendant_holds_the_pipes() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("grandchild");
        // Reads nothing; the grandchild holds stdin (full after 64 KiB) and stderr.
        let program = script(
            dir.path(),
            &format!(
                "sleep 30 <&0 & echo $! > {}; echo 'queue full' >&2; exit 75",
                pid_file.display()
            ),
        );
        let big = vec![b'x'; 1 << 20];
        let input = |out: &mut dyn Write| out.write_all(&big);
        let started = std::time::Instant::now();
        let result = run(&program, &[], &input, DEADLINE);
        let elapsed = started.elapsed();
        signal_group_or_pid(pid_in(&pid_file));
        let err = result.unwrap_err();
        assert!(
            err.message.ends_with("exited with status 75: queue full"),
            "{}",
            err.message
        );
        assert!(elapsed < Duration::from_secs(10), "took {elapsed:?}");
    }

    /// 0.3 s deadline + the kill grace + slack for a loaded machine.
    const DEADLINE_TEST_BOUND: Duration = Duration::from_secs(9);

    /// Test cleanup: whatever a failed assertion left running.
    fn signal_group_or_pid(pid: libc::pid_t) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe {
            libc::kill(pid, libc::SIGKILL);
        }
    }

    #[test]
    fn killed_by_signal_is_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let program = script(dir.path(), "kill -9 $$");
        let err = run(&program, &[], &bytes(b""), DEADLINE).unwrap_err();
        assert!(
            err.message.contains("killed by signal 9"),
            "{}",
            err.message
        );
    }
}
