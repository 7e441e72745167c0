//! Bounded reading of the message the MTA pipes into `forward-mail`.
//!
//! The first [`MEMORY_CAP`] bytes stay in memory (that is what parsing and the event use); anything
//! beyond is copied, as it is read, to an anonymous temporary file, so memory stays bounded while
//! mail targets can still be handed the complete message byte for byte.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::Path;

/// How much of a message is held in memory (spec: 32 MiB).
pub const MEMORY_CAP: usize = 32 * 1024 * 1024;

/// Size of the buffer used to copy the spooled part.
const CHUNK: usize = 64 * 1024;

/// One message as the MTA handed it over: the first `cap` bytes in memory, the rest spooled.
#[derive(Debug)]
pub struct RawMail {
    head: Vec<u8>,
    /// The bytes beyond the memory cap, in an unlinked file; read with positioned reads so that
    /// `&self` methods can be called any number of times.
    spool: Option<File>,
    spool_len: u64,
}

impl RawMail {
    /// Reads to EOF; bytes beyond `cap` are copied to an anonymous temporary file created in
    /// `spool_dir` (mode 0600, `O_TMPFILE` or unlinked right after creation) as they are read, so
    /// memory stays bounded. The spool file is only created when there is something beyond `cap`.
    pub fn read(mut reader: impl Read, spool_dir: &Path, cap: usize) -> io::Result<RawMail> {
        let mut head = Vec::new();
        reader
            .by_ref()
            .take(u64::try_from(cap).unwrap_or(u64::MAX))
            .read_to_end(&mut head)?;
        if head.len() < cap {
            return Ok(RawMail::from_bytes(head));
        }

        let mut buf = vec![0u8; CHUNK];
        let first = loop {
            match reader.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if first == 0 {
            return Ok(RawMail::from_bytes(head));
        }

        let mut spool = create_spool_file(spool_dir)?;
        spool.write_all(&buf[..first])?;
        let rest = io::copy(&mut reader, &mut spool)?;
        Ok(RawMail {
            head,
            spool: Some(spool),
            spool_len: first as u64 + rest,
        })
    }

    /// A message held entirely in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> RawMail {
        RawMail {
            head: bytes,
            spool: None,
            spool_len: 0,
        }
    }

    /// The in-memory part (the whole message unless [`is_truncated`](Self::is_truncated)).
    pub fn head(&self) -> &[u8] {
        &self.head
    }

    /// Length of the complete message in bytes.
    pub fn len(&self) -> u64 {
        self.head.len() as u64 + self.spool_len
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether part of the message lies beyond the memory cap (was spooled).
    pub fn is_truncated(&self) -> bool {
        self.spool_len > 0
    }

    /// Empty or only ASCII white space: nothing worth forwarding.
    pub fn is_blank(&self) -> bool {
        if !self.head.iter().all(u8::is_ascii_whitespace) {
            return false;
        }
        let mut check = BlankCheck { blank: true };
        // An I/O error on the spool file counts as "not blank": better to try to forward.
        self.write_spool_from(0, &mut check).is_ok() && check.blank
    }

    /// Writes the complete message (head + spooled rest), byte for byte.
    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        self.write_from(0, out)
    }

    /// Writes the complete message from byte `offset` on; nothing when `offset` is at or past the
    /// end.
    pub fn write_from(&self, offset: u64, out: &mut dyn Write) -> io::Result<()> {
        let head_len = self.head.len() as u64;
        if offset < head_len {
            // offset < head.len(), which is a usize, so the conversion cannot fail.
            let start = usize::try_from(offset).unwrap_or(self.head.len());
            out.write_all(&self.head[start..])?;
            self.write_spool_from(0, out)
        } else {
            self.write_spool_from(offset - head_len, out)
        }
    }

    /// Reads up to `buf.len()` bytes of the complete message at `offset` (head, then spool);
    /// 0 at the end.
    pub fn read_at(&self, offset: u64, buf: &mut [u8]) -> io::Result<usize> {
        let head_len = self.head.len() as u64;
        if offset < head_len {
            // offset < head.len(), which is a usize.
            let start = usize::try_from(offset).unwrap_or(self.head.len());
            let n = buf.len().min(self.head.len() - start);
            buf[..n].copy_from_slice(&self.head[start..start + n]);
            return Ok(n);
        }
        let (Some(spool), pos) = (&self.spool, offset - head_len) else {
            return Ok(0);
        };
        if pos >= self.spool_len {
            return Ok(0);
        }
        let want = usize::try_from(self.spool_len - pos)
            .unwrap_or(buf.len())
            .min(buf.len());
        loop {
            match spool.read_at(&mut buf[..want], pos) {
                Ok(0) if want > 0 => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "spool file shorter than what was written to it",
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }

    fn write_spool_from(&self, mut pos: u64, out: &mut dyn Write) -> io::Result<()> {
        let Some(spool) = &self.spool else {
            return Ok(());
        };
        let mut buf = vec![0u8; CHUNK];
        while pos < self.spool_len {
            let want = usize::try_from(self.spool_len - pos)
                .unwrap_or(CHUNK)
                .min(CHUNK);
            let n = match spool.read_at(&mut buf[..want], pos) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "spool file shorter than what was written to it",
                    ));
                }
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            out.write_all(&buf[..n])?;
            pos += n as u64;
        }
        Ok(())
    }
}

/// A sink that only remembers whether it saw a byte other than ASCII white space.
struct BlankCheck {
    blank: bool,
}

impl Write for BlankCheck {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !buf.iter().all(u8::is_ascii_whitespace) {
            self.blank = false;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An anonymous file in `dir`: `O_TMPFILE` where the kernel and file system support it, else a
/// freshly created (exclusive, no symlink following) file that is unlinked at once. Either way
/// nothing is left behind, whatever way the process ends.
fn create_spool_file(dir: &Path) -> io::Result<File> {
    match OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        // O_EXCL: the file can never be linked into the file system.
        .custom_flags(libc::O_TMPFILE | libc::O_EXCL)
        .open(dir)
    {
        Ok(file) => return Ok(file),
        // Old kernels (EISDIR) and file systems without O_TMPFILE support (EOPNOTSUPP).
        Err(e)
            if matches!(
                e.raw_os_error(),
                Some(libc::EISDIR | libc::EOPNOTSUPP | libc::EINVAL)
            ) => {}
        Err(e) => return Err(e),
    }
    create_unlinked_file(dir)
}

/// A new private file in `dir` whose name is removed right away.
fn create_unlinked_file(dir: &Path) -> io::Result<File> {
    let pid = std::process::id();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    for attempt in 0u32..100 {
        let path = dir.join(format!(".pvenotify-spool.{pid}.{nanos:x}.{attempt}"));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
        {
            Ok(file) => {
                std::fs::remove_file(&path)?;
                return Ok(file);
            }
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::AlreadyExists,
        format!("could not create a spool file in {}", dir.display()),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out data in small, uneven pieces and is interrupted now and then.
    struct Choppy {
        data: Vec<u8>,
        pos: usize,
        calls: usize,
    }

    impl Read for Choppy {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(7) {
                return Err(io::Error::from(io::ErrorKind::Interrupted));
            }
            let n = (self.calls % 13 + 1)
                .min(buf.len())
                .min(self.data.len() - self.pos);
            buf[..n].copy_from_slice(&self.data[self.pos..self.pos + n]);
            self.pos += n;
            Ok(n)
        }
    }

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    fn collect(mail: &RawMail) -> Vec<u8> {
        let mut out = Vec::new();
        mail.write_to(&mut out).unwrap();
        out
    }

    #[test]
    fn small_input_stays_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let data = b"Subject: hi\n\nbody\n".to_vec();
        let mail = RawMail::read(&data[..], dir.path(), 1024).unwrap();
        assert!(!mail.is_truncated());
        assert_eq!(mail.head(), &data[..]);
        assert_eq!(mail.len(), data.len() as u64);
        assert_eq!(collect(&mail), data);
    }

    #[test]
    fn input_of_exactly_cap_is_not_spooled() {
        let dir = tempfile::tempdir().unwrap();
        let data = pattern(4096);
        let mail = RawMail::read(&data[..], dir.path(), 4096).unwrap();
        assert!(!mail.is_truncated());
        assert_eq!(collect(&mail), data);
    }

    #[test]
    fn large_input_is_spooled_and_comes_back_complete() {
        let dir = tempfile::tempdir().unwrap();
        let data = pattern(300_000);
        let reader = Choppy {
            data: data.clone(),
            pos: 0,
            calls: 0,
        };
        let mail = RawMail::read(reader, dir.path(), 1000).unwrap();
        assert!(mail.is_truncated());
        assert_eq!(mail.head(), &data[..1000]);
        assert_eq!(mail.len(), data.len() as u64);
        // Several targets: every call re-reads from the start.
        assert_eq!(collect(&mail), data);
        assert_eq!(collect(&mail), data);
        // The spool file is anonymous: nothing is left in the directory.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn write_from_offsets() {
        let dir = tempfile::tempdir().unwrap();
        let data = pattern(200_000);
        let mail = RawMail::read(&data[..], dir.path(), 5000).unwrap();
        for offset in [0u64, 1, 4999, 5000, 5001, 70_000, 199_999, 200_000, 300_000] {
            let mut out = Vec::new();
            mail.write_from(offset, &mut out).unwrap();
            let start = (offset as usize).min(data.len());
            assert_eq!(out, &data[start..], "offset {offset}");
        }
        let small = RawMail::from_bytes(b"abc".to_vec());
        let mut out = Vec::new();
        small.write_from(2, &mut out).unwrap();
        small.write_from(9, &mut out).unwrap();
        assert_eq!(out, b"c");
    }

    #[test]
    fn blank_detection() {
        assert!(RawMail::from_bytes(Vec::new()).is_blank());
        assert!(RawMail::from_bytes(Vec::new()).is_empty());
        assert!(RawMail::from_bytes(b" \r\n\t\n".to_vec()).is_blank());
        assert!(!RawMail::from_bytes(b" \r\n\t\n".to_vec()).is_empty());
        assert!(!RawMail::from_bytes(b"\n x".to_vec()).is_blank());
        // Non-ASCII white space is content.
        assert!(!RawMail::from_bytes("\u{a0}".as_bytes().to_vec()).is_blank());

        let dir = tempfile::tempdir().unwrap();
        let spaces = vec![b' '; 10_000];
        let mail = RawMail::read(&spaces[..], dir.path(), 100).unwrap();
        assert!(mail.is_truncated());
        assert!(mail.is_blank());
        let mut tail_x = spaces.clone();
        tail_x.push(b'x');
        let mail = RawMail::read(&tail_x[..], dir.path(), 100).unwrap();
        assert!(!mail.is_blank());
    }

    #[test]
    fn read_error_is_reported() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("boom"))
            }
        }
        let dir = tempfile::tempdir().unwrap();
        assert!(RawMail::read(Failing, dir.path(), 10).is_err());
        // Error after the cap, while spooling.
        let data = pattern(50);
        let failing_late = (&data[..]).chain(Failing);
        assert!(RawMail::read(failing_late, dir.path(), 10).is_err());
    }

    #[test]
    fn spool_file_is_private_and_unlinked() {
        let dir = tempfile::tempdir().unwrap();
        let file = create_spool_file(dir.path()).unwrap();
        use std::os::unix::fs::MetadataExt;
        assert_eq!(file.metadata().unwrap().mode() & 0o777, 0o600);
        assert_eq!(file.metadata().unwrap().nlink(), 0);
        assert!(create_spool_file(&dir.path().join("missing")).is_err());
    }

    #[test]
    fn fallback_file_is_private_and_unlinked() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let mut file = create_unlinked_file(dir.path()).unwrap();
        let meta = file.metadata().unwrap();
        assert_eq!(meta.mode() & 0o777, 0o600);
        assert_eq!(meta.nlink(), 0);
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        file.write_all(b"spooled").unwrap();
        let mut back = [0u8; 7];
        file.read_exact_at(&mut back, 0).unwrap();
        assert_eq!(&back, b"spooled");
    }
}
