//! The two 20-byte identifiers of the protocol: [`InfoHash`] and [`PeerId`].

use std::fmt;
use std::str::FromStr;

/// Why a hex string is not a 20-byte identifier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HexIdError {
    /// The string does not have exactly 40 characters.
    #[error("expected 40 hex characters, got {0}")]
    Length(usize),
    /// A character is not a hex digit.
    #[error("invalid hex character at position {0}")]
    Digit(usize),
}

macro_rules! twenty_byte_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub [u8; 20]);

        impl $name {
            /// The raw bytes.
            pub fn as_bytes(&self) -> &[u8; 20] {
                &self.0
            }
        }

        impl From<[u8; 20]> for $name {
            fn from(bytes: [u8; 20]) -> Self {
                Self(bytes)
            }
        }

        impl fmt::Display for $name {
            /// Lower-case hex, 40 characters.
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write_hex(f, &self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({self})", stringify!($name))
            }
        }

        impl FromStr for $name {
            type Err = HexIdError;

            /// Parses 40 hex characters, either case.
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                parse_hex20(s).map(Self)
            }
        }
    };
}

twenty_byte_id!(
    /// The 20-byte SHA-1 of a torrent's `info` dictionary (or a BEP 52 SHA-256 hash truncated to
    /// 20 bytes): the key of a swarm.
    ///
    /// ```
    /// use octotracker_core::InfoHash;
    /// let hash: InfoHash = "0123456789ABCDEF0123456789abcdef01234567".parse().unwrap();
    /// assert_eq!(hash.to_string(), "0123456789abcdef0123456789abcdef01234567");
    /// ```
    InfoHash
);

twenty_byte_id!(
    /// The 20 bytes a client chooses to name itself (BEP 3, BEP 20 for the usual prefixes).
    PeerId
);

fn write_hex(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 40];
    for (i, b) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    // Only ASCII hex digits were written.
    f.write_str(std::str::from_utf8(&out[..bytes.len() * 2]).map_err(|_| fmt::Error)?)
}

fn parse_hex20(s: &str) -> Result<[u8; 20], HexIdError> {
    let bytes = s.as_bytes();
    if bytes.len() != 40 {
        return Err(HexIdError::Length(s.chars().count()));
    }
    let mut out = [0u8; 20];
    for (i, pair) in bytes.chunks_exact(2).enumerate() {
        let hi = hex_value(pair[0]).ok_or(HexIdError::Digit(2 * i))?;
        let lo = hex_value(pair[1]).ok_or(HexIdError::Digit(2 * i + 1))?;
        out[i] = hi << 4 | lo;
    }
    Ok(out)
}

/// The value of one ASCII hex digit.
pub(crate) fn hex_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        let hash = InfoHash([0xab; 20]);
        assert_eq!(hash.to_string(), "ab".repeat(20));
        assert_eq!(hash.to_string().parse::<InfoHash>().unwrap(), hash);
    }

    #[test]
    fn hex_rejects_wrong_length_and_digits() {
        assert_eq!("abc".parse::<InfoHash>(), Err(HexIdError::Length(3)));
        let mut s = "0".repeat(40);
        s.replace_range(7..8, "g");
        assert_eq!(s.parse::<PeerId>(), Err(HexIdError::Digit(7)));
    }
}
