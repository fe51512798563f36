//! The TFTP wire format (RFC 1350, OACK from RFC 2347): [`Packet::parse`] validates every field
//! before anything uses it, [`Packet::print`] writes what `parse` accepts.
//!
//! Bounds: a filename is at most 255 bytes of UTF-8, the other strings at most 255 bytes; a DATA
//! payload at most 65464 bytes (RFC 2348's largest block). ERROR is read leniently — the message
//! runs to its NUL or to the end of the datagram — because an ERROR from a peer must end a
//! transfer even when the peer forgot the terminator.

use std::fmt;

use bytes::Bytes;

use super::error::TftpError;
use super::options::{BadValues, Options};

/// The longest filename accepted, in bytes.
pub const MAX_FILENAME: usize = 255;
/// RFC 2348's largest block size, and so the largest DATA payload.
pub const MAX_BLKSIZE: u16 = 65464;
/// The block size without a `blksize` option (RFC 1350).
pub const DEFAULT_BLKSIZE: u16 = 512;
/// The bound for the other string fields: mode, option names and values, error messages.
pub(super) const MAX_FIELD: usize = 255;

const RRQ: u16 = 1;
const WRQ: u16 = 2;
const DATA: u16 = 3;
const ACK: u16 = 4;
const ERROR: u16 = 5;
const OACK: u16 = 6;

/// The code of an ERROR packet; any value parses, these are the ones RFC 1350 and 2347 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorCode(pub u16);

impl ErrorCode {
    pub const NOT_DEFINED: ErrorCode = ErrorCode(0);
    pub const FILE_NOT_FOUND: ErrorCode = ErrorCode(1);
    pub const ACCESS_VIOLATION: ErrorCode = ErrorCode(2);
    pub const DISK_FULL: ErrorCode = ErrorCode(3);
    pub const ILLEGAL_OPERATION: ErrorCode = ErrorCode(4);
    pub const UNKNOWN_TID: ErrorCode = ErrorCode(5);
    pub const FILE_EXISTS: ErrorCode = ErrorCode(6);
    pub const NO_SUCH_USER: ErrorCode = ErrorCode(7);
    pub const OPTION_REFUSED: ErrorCode = ErrorCode(8);
}

/// The transfer mode of a request. `mail` (obsolete since RFC 1350) is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Octet,
    /// Lines end in CR LF on the wire (the file is converted before the transfer).
    Netascii,
}

impl Mode {
    fn parse(field: &[u8]) -> Result<Mode, TftpError> {
        if field.eq_ignore_ascii_case(b"octet") {
            Ok(Mode::Octet)
        } else if field.eq_ignore_ascii_case(b"netascii") {
            Ok(Mode::Netascii)
        } else {
            Err(TftpError::BadMode(
                String::from_utf8_lossy(field).into_owned(),
            ))
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Mode::Octet => "octet",
            Mode::Netascii => "netascii",
        }
    }
}

/// A read or write request: the filename exactly as the client sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub filename: String,
    pub mode: Mode,
    pub options: Options,
}

impl Request {
    fn parse(r: &mut Reader<'_>, bad_values: BadValues) -> Result<Request, TftpError> {
        let filename = r.utf8("filename", MAX_FILENAME)?.to_owned();
        let mode = Mode::parse(r.field("mode", MAX_FIELD)?)?;
        let options = Options::parse(r, bad_values)?;
        Ok(Request {
            filename,
            mode,
            options,
        })
    }

    fn print(&self, out: &mut Vec<u8>) {
        put_str(out, &self.filename);
        put_str(out, self.mode.as_str());
        self.options.print(out);
    }
}

/// One TFTP packet.
#[derive(Clone, PartialEq, Eq)]
pub enum Packet {
    Rrq(Request),
    Wrq(Request),
    Data { block: u16, data: Bytes },
    Ack { block: u16 },
    Error { code: ErrorCode, message: String },
    Oack(Options),
}

impl Packet {
    /// Reads one datagram; every error is the exact reason the datagram is refused.
    pub fn parse(datagram: &[u8]) -> Result<Packet, TftpError> {
        Packet::parse_with(datagram, BadValues::Refuse)
    }

    /// Like [`Packet::parse`], with a choice for option values out of range.
    pub fn parse_with(datagram: &[u8], bad_values: BadValues) -> Result<Packet, TftpError> {
        let mut r = Reader { rest: datagram };
        match r.u16()? {
            RRQ => Ok(Packet::Rrq(Request::parse(&mut r, bad_values)?)),
            WRQ => Ok(Packet::Wrq(Request::parse(&mut r, bad_values)?)),
            DATA => {
                let block = r.u16()?;
                let data = r.take_rest();
                if data.len() > usize::from(MAX_BLKSIZE) {
                    return Err(TftpError::DataTooLong(data.len()));
                }
                Ok(Packet::Data {
                    block,
                    data: Bytes::copy_from_slice(data),
                })
            }
            ACK => {
                let block = r.u16()?;
                r.end()?;
                Ok(Packet::Ack { block })
            }
            ERROR => {
                let code = ErrorCode(r.u16()?);
                let message = r.lenient_message();
                Ok(Packet::Error { code, message })
            }
            OACK => Ok(Packet::Oack(Options::parse(&mut r, bad_values)?)),
            other => Err(TftpError::BadOpcode(other)),
        }
    }

    /// Appends the wire form to `out`. NUL bytes in an error message are left out.
    pub fn print(&self, out: &mut Vec<u8>) {
        match self {
            Packet::Rrq(request) => {
                out.extend_from_slice(&RRQ.to_be_bytes());
                request.print(out);
            }
            Packet::Wrq(request) => {
                out.extend_from_slice(&WRQ.to_be_bytes());
                request.print(out);
            }
            Packet::Data { block, data } => {
                out.extend_from_slice(&DATA.to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
                out.extend_from_slice(data);
            }
            Packet::Ack { block } => {
                out.extend_from_slice(&ACK.to_be_bytes());
                out.extend_from_slice(&block.to_be_bytes());
            }
            Packet::Error { code, message } => {
                out.extend_from_slice(&ERROR.to_be_bytes());
                out.extend_from_slice(&code.0.to_be_bytes());
                out.extend(message.bytes().filter(|&b| b != 0));
                out.push(0);
            }
            Packet::Oack(options) => {
                out.extend_from_slice(&OACK.to_be_bytes());
                options.print(out);
            }
        }
    }

    /// The wire form as a new buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.print(&mut out);
        out
    }
}

/// Like the derived one, but a DATA packet shows its length, never the file's bytes.
impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Packet::Rrq(r) => f.debug_tuple("Rrq").field(r).finish(),
            Packet::Wrq(r) => f.debug_tuple("Wrq").field(r).finish(),
            Packet::Data { block, data } => f
                .debug_struct("Data")
                .field("block", block)
                .field("len", &data.len())
                .finish(),
            Packet::Ack { block } => f.debug_struct("Ack").field("block", block).finish(),
            Packet::Error { code, message } => f
                .debug_struct("Error")
                .field("code", &code.0)
                .field("message", message)
                .finish(),
            Packet::Oack(o) => f.debug_tuple("Oack").field(o).finish(),
        }
    }
}

/// Appends `s` and its NUL terminator.
pub(super) fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(s.as_bytes());
    out.push(0);
}

/// A cursor over a datagram; every read checks the bytes are there first.
#[derive(Debug)]
pub(super) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn u16(&mut self) -> Result<u16, TftpError> {
        let (head, rest) = self
            .rest
            .split_first_chunk::<2>()
            .ok_or(TftpError::Truncated)?;
        self.rest = rest;
        Ok(u16::from_be_bytes(*head))
    }

    /// A NUL-terminated field of at most `max` bytes, without its NUL.
    pub(super) fn field(&mut self, name: &'static str, max: usize) -> Result<&'a [u8], TftpError> {
        let nul = self.rest.iter().take(max + 1).position(|&b| b == 0);
        let Some(len) = nul else {
            return Err(if self.rest.len() > max {
                TftpError::TooLong(name)
            } else {
                TftpError::Unterminated(name)
            });
        };
        let (value, rest) = self.rest.split_at(len);
        self.rest = rest.get(1..).unwrap_or_default();
        Ok(value)
    }

    fn utf8(&mut self, name: &'static str, max: usize) -> Result<&'a str, TftpError> {
        std::str::from_utf8(self.field(name, max)?).map_err(|_| TftpError::NotUtf8(name))
    }

    /// True when nothing but NUL padding is left (some boot ROMs pad their requests).
    pub(super) fn only_padding(&self) -> bool {
        self.rest.iter().all(|&b| b == 0)
    }

    fn take_rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    fn end(&self) -> Result<(), TftpError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(TftpError::TrailingBytes)
        }
    }

    /// The rest up to the first NUL (or the end), lossily decoded and cut to at most
    /// `MAX_FIELD` bytes on a character boundary.
    fn lenient_message(&mut self) -> String {
        let rest = self.take_rest();
        let text = rest.split(|&b| b == 0).next().unwrap_or_default();
        let mut message = String::from_utf8_lossy(text).into_owned();
        if message.len() > MAX_FIELD {
            let cut = (0..=MAX_FIELD)
                .rev()
                .find(|&i| message.is_char_boundary(i))
                .unwrap_or(0);
            message.truncate(cut);
        }
        message
    }
}
