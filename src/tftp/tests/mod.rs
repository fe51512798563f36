//! Unit tests of the codec and the sans-IO core: no sockets, no sleeps, a stepped clock.

mod bad_packets;
mod codec;
mod transfer;
