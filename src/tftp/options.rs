//! The options of a request or OACK: RFC 2347 (negotiation), 2348 (`blksize`), 2349
//! (`timeout`, `tsize`) and 7440 (`windowsize`).
//!
//! Names are case-insensitive. Values are plain decimal digits, checked against the RFC's range
//! before use. More than eight options or one given twice refuses the packet; options this
//! server does not know are skipped (RFC 2347: ignored, and so never echoed in the OACK).

use std::ops::RangeInclusive;

use super::error::TftpError;
use super::packet::{MAX_BLKSIZE, MAX_FIELD, Reader, put_str};

/// The most options one packet may carry (known or not).
pub const MAX_OPTIONS: usize = 8;

/// What [`Options`] parsing does with a known option whose value is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadValues {
    /// Refuse the packet with [`TftpError::BadOptionValue`].
    Refuse,
    /// Leave the option out, as if it had not been sent (RFC 2347 lets a server decline any
    /// option). Real clients need this: atftp 0.8 sends `tsize` with the value `enable`.
    Ignore,
}

/// The options this server understands, each `None` when absent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// RFC 2348: 8..=65464 bytes per DATA block.
    pub blksize: Option<u16>,
    /// RFC 2349: 1..=255 seconds before a retransmission.
    pub timeout: Option<u8>,
    /// RFC 2349: the file size (0 in a read request, which asks for it).
    pub tsize: Option<u64>,
    /// RFC 7440: 1..=65535 blocks sent before waiting for an ACK.
    pub windowsize: Option<u16>,
}

impl Options {
    /// True when no option is set: a request without options, or an OACK with nothing to say.
    pub fn is_empty(&self) -> bool {
        *self == Options::default()
    }

    /// Reads name/value pairs to the end of the packet (trailing NUL padding is allowed).
    pub(super) fn parse(r: &mut Reader<'_>, bad_values: BadValues) -> Result<Options, TftpError> {
        let mut options = Options::default();
        let mut seen: Vec<String> = Vec::new();
        while !r.only_padding() {
            if seen.len() == MAX_OPTIONS {
                return Err(TftpError::TooManyOptions);
            }
            let name = r.field("option name", MAX_FIELD)?;
            let value = r.field("option value", MAX_FIELD)?;
            let name = String::from_utf8_lossy(name).to_ascii_lowercase();
            if seen.contains(&name) {
                return Err(TftpError::DuplicateOption(name));
            }
            match options.set(&name, value) {
                Err(TftpError::BadOptionValue { .. }) if bad_values == BadValues::Ignore => {}
                other => other?,
            }
            seen.push(name);
        }
        Ok(options)
    }

    fn set(&mut self, name: &str, value: &[u8]) -> Result<(), TftpError> {
        match name {
            "blksize" => self.blksize = Some(number(value, "blksize", 8..=MAX_BLKSIZE.into())?),
            "timeout" => self.timeout = Some(number(value, "timeout", 1..=255)?),
            "tsize" => self.tsize = Some(number(value, "tsize", 0..=u64::MAX)?),
            "windowsize" => self.windowsize = Some(number(value, "windowsize", 1..=65535)?),
            _ => {}
        }
        Ok(())
    }

    /// Appends the set options as name/value pairs, in a fixed order.
    pub(super) fn print(&self, out: &mut Vec<u8>) {
        let pairs = [
            ("blksize", self.blksize.map(u64::from)),
            ("timeout", self.timeout.map(u64::from)),
            ("tsize", self.tsize),
            ("windowsize", self.windowsize.map(u64::from)),
        ];
        for (name, value) in pairs {
            if let Some(value) = value {
                put_str(out, name);
                put_str(out, &value.to_string());
            }
        }
    }
}

/// A decimal value in `range` (digits only: no sign, no spaces, no hex).
fn number<T: TryFrom<u64>>(
    value: &[u8],
    option: &'static str,
    range: RangeInclusive<u64>,
) -> Result<T, TftpError> {
    let bad = || TftpError::BadOptionValue {
        option,
        value: String::from_utf8_lossy(value).into_owned(),
    };
    if value.is_empty() || !value.iter().all(u8::is_ascii_digit) {
        return Err(bad());
    }
    let n = value
        .iter()
        .try_fold(0u64, |n, d| {
            n.checked_mul(10)?.checked_add(u64::from(d - b'0'))
        })
        .ok_or_else(bad)?;
    if !range.contains(&n) {
        return Err(bad());
    }
    T::try_from(n).map_err(|_| bad())
}
