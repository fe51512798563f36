//! [`SipLimits`]: the bounds every received message is held to before anything is allocated for
//! it (the brief: "never allocate without bound").

/// Bounds on one message. The defaults fit every RFC 4475 message and any phone's REGISTER or
/// INVITE with SDP by a wide margin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipLimits {
    /// Whole message, head and body (a UDP datagram cannot be larger than 65,507 anyway).
    pub max_message: usize,
    /// Header fields (after unfolding).
    pub max_headers: usize,
    /// One header field, after unfolding.
    pub max_line: usize,
}

impl Default for SipLimits {
    fn default() -> SipLimits {
        SipLimits {
            max_message: 65_535,
            max_headers: 100,
            max_line: 8_192,
        }
    }
}
