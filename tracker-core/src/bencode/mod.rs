//! Bencode (BEP 3): a small hand-written [`Encoder`] for the reply shapes the tracker writes, and
//! a borrowing [`decode`]r for replies and files the client and tests read.

mod decode;
mod encode;

pub use decode::{DecodeError, Value, decode, decode_prefix};
pub use encode::Encoder;
