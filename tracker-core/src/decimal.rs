//! [`Decimal`]: the digits of an unsigned integer, written on the stack. The one digit loop of
//! the workspace: bencode integers and string lengths, the HTTP frontend's `content-length`, the
//! load generator's query numbers all use it (hot paths, where `format!` costs more than the
//! write it serves).

/// The decimal digits of a `u64` (at most 20), without allocating.
///
/// ```
/// use octotracker_core::Decimal;
///
/// assert_eq!(Decimal::new(0).as_bytes(), b"0");
/// assert_eq!(Decimal::new(6881).as_bytes(), b"6881");
/// assert_eq!(Decimal::new(u64::MAX).as_bytes(), b"18446744073709551615");
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Decimal {
    digits: [u8; 20],
    start: u8,
}

impl Decimal {
    /// The digits of `value`.
    #[inline]
    pub fn new(mut value: u64) -> Self {
        let mut digits = [0u8; 20];
        let mut start = digits.len();
        loop {
            start -= 1;
            // value % 10 < 10: the cast keeps it.
            digits[start] = b'0' + (value % 10) as u8;
            value /= 10;
            if value == 0 {
                break;
            }
        }
        // start < 20, so it fits a u8.
        Decimal { digits, start: start as u8 }
    }

    /// The digits, most significant first, without leading zeros (`0` is `b"0"`).
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.digits[usize::from(self.start)..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_power_of_ten_and_its_neighbours_match_the_formatter() {
        let mut values = vec![0, 1, 9, u64::MAX, u64::MAX - 1];
        let mut p = 1u64;
        while let Some(next) = p.checked_mul(10) {
            values.extend([next - 1, next, next + 1]);
            p = next;
        }
        for value in values {
            assert_eq!(Decimal::new(value).as_bytes(), value.to_string().as_bytes(), "{value}");
        }
    }
}
