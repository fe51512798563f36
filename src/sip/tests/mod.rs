//! Tests across the SIP modules: the RFC 4475 torture messages.

mod fuzz_regressions;
mod rfc4475;
mod rfc4475_cases;
