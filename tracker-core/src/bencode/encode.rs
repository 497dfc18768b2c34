//! Writing bencode into a caller's buffer, without intermediate values.

use crate::Decimal;

/// Appends bencode to a `Vec<u8>`. The caller writes dictionary keys in sorted order, as BEP 3
/// requires; the encoder does not reorder.
///
/// ```
/// use octotracker_core::bencode::Encoder;
/// let mut out = Vec::new();
/// let mut e = Encoder::new(&mut out);
/// e.dict();
/// e.key("interval").int(1800);
/// e.key("peers").bytes(b"");
/// e.end();
/// assert_eq!(out, b"d8:intervali1800e5:peers0:e");
/// ```
#[derive(Debug)]
pub struct Encoder<'a> {
    out: &'a mut Vec<u8>,
}

impl<'a> Encoder<'a> {
    /// An encoder appending to `out`.
    pub fn new(out: &'a mut Vec<u8>) -> Self {
        Encoder { out }
    }

    /// Starts a dictionary; close it with [`end`](Self::end).
    pub fn dict(&mut self) -> &mut Self {
        self.out.push(b'd');
        self
    }

    /// Starts a list; close it with [`end`](Self::end).
    pub fn list(&mut self) -> &mut Self {
        self.out.push(b'l');
        self
    }

    /// Closes the innermost dictionary or list.
    pub fn end(&mut self) -> &mut Self {
        self.out.push(b'e');
        self
    }

    /// Writes a dictionary key.
    pub fn key(&mut self, key: &str) -> &mut Self {
        self.bytes(key.as_bytes())
    }

    /// Writes a byte string.
    pub fn bytes(&mut self, value: &[u8]) -> &mut Self {
        self.length_prefix(value.len());
        self.out.extend_from_slice(value);
        self
    }

    /// Writes the length prefix of a byte string whose `len` bytes the caller appends itself with
    /// [`raw`](Self::raw) (used to write compact peer lists without a temporary buffer).
    pub fn length_prefix(&mut self, len: usize) -> &mut Self {
        self.decimal(len as u64, false);
        self.out.push(b':');
        self
    }

    /// Appends bytes as they are (the body of a string started with [`length_prefix`](Self::length_prefix)).
    pub fn raw(&mut self, bytes: &[u8]) -> &mut Self {
        self.out.extend_from_slice(bytes);
        self
    }

    /// Writes an integer.
    pub fn int(&mut self, value: i64) -> &mut Self {
        self.out.push(b'i');
        self.decimal(value.unsigned_abs(), value < 0);
        self.out.push(b'e');
        self
    }

    /// Writes an unsigned integer.
    pub fn uint(&mut self, value: u64) -> &mut Self {
        self.out.push(b'i');
        self.decimal(value, false);
        self.out.push(b'e');
        self
    }

    fn decimal(&mut self, value: u64, negative: bool) {
        if negative {
            self.out.push(b'-');
        }
        self.out.extend_from_slice(Decimal::new(value).as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(f: impl FnOnce(&mut Encoder<'_>)) -> Vec<u8> {
        let mut out = Vec::new();
        f(&mut Encoder::new(&mut out));
        out
    }

    #[test]
    fn integers_cover_zero_negative_and_extremes() {
        assert_eq!(
            encoded(|e| {
                e.int(0);
            }),
            b"i0e"
        );
        assert_eq!(
            encoded(|e| {
                e.int(-42);
            }),
            b"i-42e"
        );
        assert_eq!(
            encoded(|e| {
                e.int(i64::MIN);
            }),
            b"i-9223372036854775808e"
        );
        assert_eq!(
            encoded(|e| {
                e.uint(u64::MAX);
            }),
            b"i18446744073709551615e"
        );
    }

    #[test]
    fn strings_lists_and_dicts_nest() {
        let out = encoded(|e| {
            e.dict().key("a").list().bytes(b"xy").int(1).end().end();
        });
        assert_eq!(out, b"d1:al2:xyi1eee");
    }
}
