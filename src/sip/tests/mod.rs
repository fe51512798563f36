//! Tests across the SIP modules: the RFC 4475 torture messages.

mod rfc4475;
