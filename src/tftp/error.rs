//! The module's one error type, and the one place where an error becomes a TFTP ERROR packet.

use super::files::TftpDenied;
use super::packet::{ErrorCode, Packet};

/// Everything that can go wrong with a TFTP packet or transfer.
///
/// The codec variants say what was wrong with a packet the peer sent; the rest end a request or
/// a transfer. [`TftpError::error_packet`] maps each to the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TftpError {
    /// Shorter than the fixed part its opcode needs (including an empty datagram).
    #[error("packet truncated")]
    Truncated,
    #[error("unknown opcode {0}")]
    BadOpcode(u16),
    /// A string field longer than its bound (filename: 255 bytes).
    #[error("{0} too long")]
    TooLong(&'static str),
    /// A string field without its terminating NUL.
    #[error("{0} not NUL-terminated")]
    Unterminated(&'static str),
    #[error("{0} is not UTF-8")]
    NotUtf8(&'static str),
    /// Only `octet` and `netascii` are served; `mail` and anything else is refused.
    #[error("unsupported transfer mode {0:?}")]
    BadMode(String),
    #[error("more than 8 options")]
    TooManyOptions,
    #[error("option {0:?} given twice")]
    DuplicateOption(String),
    #[error("option {option}: invalid value {value:?}")]
    BadOptionValue { option: &'static str, value: String },
    /// Bytes after a packet that has a fixed length (ACK) or ends with its last field.
    #[error("trailing bytes after the packet")]
    TrailingBytes,
    #[error("DATA payload of {0} bytes exceeds the largest block size")]
    DataTooLong(usize),
    /// A packet that is well-formed but has no business where it arrived (ACK at the server port).
    #[error("illegal TFTP operation")]
    Unexpected,
    /// A write request: this server only reads.
    #[error("read-only server")]
    ReadOnly,
    /// A name with a `..` component, a backslash or an absolute path after the one leading `/`.
    #[error("access violation")]
    UnsafeName,
    #[error("file not found")]
    NotFound,
    #[error("access violation")]
    AccessViolation,
    /// A datagram for a transfer from an address that is not that transfer's peer.
    #[error("unknown transfer ID")]
    UnknownTid,
    /// The peer ended the transfer with an ERROR packet.
    #[error("peer sent ERROR {code}: {message}")]
    Peer { code: u16, message: String },
    /// No acknowledgement after this many retransmissions.
    #[error("no answer after {0} retransmissions")]
    TimedOut(u8),
}

impl From<TftpDenied> for TftpError {
    fn from(denied: TftpDenied) -> Self {
        match denied {
            TftpDenied::NotFound => TftpError::NotFound,
            TftpDenied::AccessViolation => TftpError::AccessViolation,
        }
    }
}

impl TftpError {
    /// The ERROR packet that tells the peer about this error; `None` for an ERROR the peer sent
    /// (never answer an ERROR: two servers would bounce errors forever).
    pub fn error_packet(&self) -> Option<Packet> {
        use TftpError as E;
        let code = match self {
            E::Truncated
            | E::BadOpcode(_)
            | E::TooLong(_)
            | E::Unterminated(_)
            | E::NotUtf8(_)
            | E::BadMode(_)
            | E::TrailingBytes
            | E::DataTooLong(_)
            | E::Unexpected => ErrorCode::ILLEGAL_OPERATION,
            // RFC 2347: a request whose options cannot be negotiated is refused with code 8.
            E::TooManyOptions | E::DuplicateOption(_) | E::BadOptionValue { .. } => {
                ErrorCode::OPTION_REFUSED
            }
            E::ReadOnly | E::UnsafeName | E::AccessViolation => ErrorCode::ACCESS_VIOLATION,
            E::NotFound => ErrorCode::FILE_NOT_FOUND,
            E::UnknownTid => ErrorCode::UNKNOWN_TID,
            E::TimedOut(_) => ErrorCode::NOT_DEFINED,
            E::Peer { .. } => return None,
        };
        Some(Packet::Error {
            code,
            message: self.to_string(),
        })
    }
}
