//! forward-mail's parts: reading the mail the MTA pipes in (bounded), its retry key and
//! text, the retry state, privileged mode and syslog. The run itself is
//! `cli::forward_mail`.

pub mod input;
pub mod isolate;
pub mod key;
pub mod parse;
pub mod privilege;
pub mod state;
pub mod syslog;

use crate::endpoints::MailSource;

impl MailSource for input::RawMail {
    fn write_from(&self, offset: u64, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        input::RawMail::write_from(self, offset, out)
    }

    fn read_at(&self, offset: u64, buf: &mut [u8]) -> std::io::Result<usize> {
        input::RawMail::read_at(self, offset, buf)
    }
}
