//! Reading bencode into borrowed [`Value`]s. Strict: canonical integers only, keys are byte
//! strings, nesting is bounded, and [`decode`] rejects trailing bytes.

use std::fmt;

/// A decoded bencode value, borrowing its byte strings from the input.
#[derive(Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// `i…e`
    Int(i64),
    /// `N:…`
    Bytes(&'a [u8]),
    /// `l…e`
    List(Vec<Value<'a>>),
    /// `d…e`, entries in the order they appear, with the raw encoded bytes of each value kept
    /// beside it (the SHA-1 of a torrent's `info` value is its info hash).
    Dict(Vec<DictEntry<'a>>),
}

/// One entry of a [`Value::Dict`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DictEntry<'a> {
    /// The key.
    pub key: &'a [u8],
    /// The value.
    pub value: Value<'a>,
    /// The value exactly as it was encoded.
    pub raw: &'a [u8],
}

impl fmt::Debug for Value<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Bytes(b) => write!(f, "b\"{}\"", b.escape_ascii()),
            Value::List(l) => f.debug_list().entries(l).finish(),
            Value::Dict(d) => {
                f.debug_map().entries(d.iter().map(|e| (e.key.escape_ascii().to_string(), &e.value))).finish()
            }
        }
    }
}

impl<'a> Value<'a> {
    /// The value under `key`, when this is a dictionary that has it.
    pub fn get(&self, key: &str) -> Option<&Value<'a>> {
        self.entry(key).map(|e| &e.value)
    }

    /// The entry under `key` (value and raw bytes), when this is a dictionary that has it.
    pub fn entry(&self, key: &str) -> Option<&DictEntry<'a>> {
        match self {
            Value::Dict(entries) => entries.iter().find(|e| e.key == key.as_bytes()),
            _ => None,
        }
    }

    /// The integer, when this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The byte string, when this is one.
    pub fn as_bytes(&self) -> Option<&'a [u8]> {
        match self {
            Value::Bytes(b) => Some(b),
            _ => None,
        }
    }

    /// The byte string as UTF-8, when this is one and it is valid.
    pub fn as_str(&self) -> Option<&'a str> {
        self.as_bytes().and_then(|b| std::str::from_utf8(b).ok())
    }

    /// The list, when this is one.
    pub fn as_list(&self) -> Option<&[Value<'a>]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
}

/// Why bytes are not bencode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("unexpected end of input at byte {0}")]
    Eof(usize),
    /// A byte that cannot start or continue a value here.
    #[error("unexpected byte {byte:#04x} at byte {at}")]
    Unexpected {
        /// The byte.
        byte: u8,
        /// Its offset.
        at: usize,
    },
    /// An integer that is empty, non-canonical (`i03e`, `i-0e`) or out of range.
    #[error("invalid integer at byte {0}")]
    BadInt(usize),
    /// A dictionary key that is not a byte string.
    #[error("dictionary key is not a byte string at byte {0}")]
    BadKey(usize),
    /// Nesting deeper than the decoder allows.
    #[error("nesting deeper than {MAX_DEPTH} levels")]
    TooDeep,
    /// Bytes after the value.
    #[error("trailing bytes after the value at byte {0}")]
    Trailing(usize),
}

const MAX_DEPTH: usize = 64;

/// Decodes exactly one value; trailing bytes are an error.
///
/// ```
/// use octotracker_core::bencode::{decode, Value};
/// let v = decode(b"d8:intervali1800ee").unwrap();
/// assert_eq!(v.get("interval"), Some(&Value::Int(1800)));
/// assert!(decode(b"i1ei2e").is_err());
/// ```
pub fn decode(input: &[u8]) -> Result<Value<'_>, DecodeError> {
    let (value, used) = decode_prefix(input)?;
    if used != input.len() {
        return Err(DecodeError::Trailing(used));
    }
    Ok(value)
}

/// Decodes one value from the start of `input`; returns it and the number of bytes it used.
pub fn decode_prefix(input: &[u8]) -> Result<(Value<'_>, usize), DecodeError> {
    let mut parser = Parser { input, at: 0 };
    let value = parser.value(0)?;
    Ok((value, parser.at))
}

struct Parser<'a> {
    input: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Result<u8, DecodeError> {
        self.input.get(self.at).copied().ok_or(DecodeError::Eof(self.at))
    }

    fn value(&mut self, depth: usize) -> Result<Value<'a>, DecodeError> {
        if depth > MAX_DEPTH {
            return Err(DecodeError::TooDeep);
        }
        match self.peek()? {
            b'i' => {
                self.at += 1;
                let n = self.integer(b'e')?;
                Ok(Value::Int(n))
            }
            b'0'..=b'9' => Ok(Value::Bytes(self.string()?)),
            b'l' => {
                self.at += 1;
                let mut items = Vec::new();
                while self.peek()? != b'e' {
                    items.push(self.value(depth + 1)?);
                }
                self.at += 1;
                Ok(Value::List(items))
            }
            b'd' => {
                self.at += 1;
                let mut entries = Vec::new();
                while self.peek()? != b'e' {
                    if !self.peek()?.is_ascii_digit() {
                        return Err(DecodeError::BadKey(self.at));
                    }
                    let key = self.string()?;
                    let start = self.at;
                    let value = self.value(depth + 1)?;
                    entries.push(DictEntry { key, value, raw: &self.input[start..self.at] });
                }
                self.at += 1;
                Ok(Value::Dict(entries))
            }
            byte => Err(DecodeError::Unexpected { byte, at: self.at }),
        }
    }

    fn string(&mut self) -> Result<&'a [u8], DecodeError> {
        let start = self.at;
        let len = self.integer(b':')?;
        let len = usize::try_from(len).map_err(|_| DecodeError::BadInt(start))?;
        let end = self.at.checked_add(len).ok_or(DecodeError::BadInt(start))?;
        if end > self.input.len() {
            return Err(DecodeError::Eof(self.input.len()));
        }
        let s = &self.input[self.at..end];
        self.at = end;
        Ok(s)
    }

    /// Reads a canonical decimal integer terminated by `end`, consuming the terminator.
    fn integer(&mut self, end: u8) -> Result<i64, DecodeError> {
        let start = self.at;
        let rest = &self.input[start..];
        let len = rest.iter().position(|&b| b == end).ok_or(DecodeError::Eof(self.input.len()))?;
        let digits = &rest[..len];
        let (negative, body) = match digits.split_first() {
            Some((b'-', body)) if end == b'e' => (true, body),
            _ => (false, digits),
        };
        let canonical = !body.is_empty()
            && body.iter().all(u8::is_ascii_digit)
            && (body == b"0" || body[0] != b'0')
            && !(negative && body == b"0");
        if !canonical {
            return Err(DecodeError::BadInt(start));
        }
        let text = std::str::from_utf8(digits).map_err(|_| DecodeError::BadInt(start))?;
        let n = text.parse::<i64>().map_err(|_| DecodeError::BadInt(start))?;
        self.at = start + len + 1;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_nested_values_and_keeps_raw_bytes() {
        let input = b"d4:infod4:name1:xe5:peersl1:ai-3eee";
        let v = decode(input).unwrap();
        assert_eq!(v.entry("info").unwrap().raw, b"d4:name1:xe");
        assert_eq!(v.get("peers").unwrap().as_list().unwrap()[1], Value::Int(-3));
    }

    #[test]
    fn rejects_malformed_input() {
        for bad in [
            &b""[..],
            b"i",
            b"ie",
            b"i03e",
            b"i-0e",
            b"i-e",
            b"5:abc",
            b"l",
            b"di1ei2ee",
            b"x",
            b"1:ab",
            b"99999999999999999999:",
            b"i99999999999999999999e",
        ] {
            assert!(decode(bad).is_err(), "accepted {:?}", bad.escape_ascii().to_string());
        }
    }

    #[test]
    fn bounds_nesting() {
        let deep = [b"l".repeat(100), b"e".repeat(100)].concat();
        assert_eq!(decode(&deep), Err(DecodeError::TooDeep));
    }
}
