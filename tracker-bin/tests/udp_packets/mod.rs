//! BEP 15 packets written and read by hand (independently of the tracker's own codec), for the
//! hostile UDP tests.

/// The connect request's protocol id.
const PROTOCOL_ID: u64 = 0x0417_2710_1980;

pub(crate) const CONNECT: u32 = 0;
pub(crate) const ANNOUNCE: u32 = 1;
pub(crate) const SCRAPE: u32 = 2;
pub(crate) const ERROR: u32 = 3;

/// A connect request.
pub(crate) fn connect(transaction_id: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(16);
    p.extend_from_slice(&PROTOCOL_ID.to_be_bytes());
    p.extend_from_slice(&CONNECT.to_be_bytes());
    p.extend_from_slice(&transaction_id.to_be_bytes());
    p
}

/// An announce (event `started`, `left` bytes left) of `info_hash` by `peer_id` on `port`.
pub(crate) fn announce(
    connection_id: u64,
    transaction_id: u32,
    info_hash: [u8; 20],
    peer_id: [u8; 20],
    port: u16,
) -> Vec<u8> {
    let mut p = Vec::with_capacity(98);
    p.extend_from_slice(&connection_id.to_be_bytes());
    p.extend_from_slice(&ANNOUNCE.to_be_bytes());
    p.extend_from_slice(&transaction_id.to_be_bytes());
    p.extend_from_slice(&info_hash);
    p.extend_from_slice(&peer_id);
    p.extend_from_slice(&0u64.to_be_bytes()); // downloaded
    p.extend_from_slice(&1000u64.to_be_bytes()); // left
    p.extend_from_slice(&0u64.to_be_bytes()); // uploaded
    p.extend_from_slice(&2u32.to_be_bytes()); // event: started
    p.extend_from_slice(&0u32.to_be_bytes()); // ip: the sender's
    p.extend_from_slice(&7u32.to_be_bytes()); // key
    p.extend_from_slice(&(-1i32).to_be_bytes()); // num_want: default
    p.extend_from_slice(&port.to_be_bytes());
    p
}

/// A scrape of `hashes`.
pub(crate) fn scrape(connection_id: u64, transaction_id: u32, hashes: &[[u8; 20]]) -> Vec<u8> {
    let mut p = Vec::with_capacity(16 + 20 * hashes.len());
    p.extend_from_slice(&connection_id.to_be_bytes());
    p.extend_from_slice(&SCRAPE.to_be_bytes());
    p.extend_from_slice(&transaction_id.to_be_bytes());
    for h in hashes {
        p.extend_from_slice(h);
    }
    p
}

/// A reply: its action, transaction id and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Reply {
    pub action: u32,
    pub transaction_id: u32,
    pub body: Vec<u8>,
}

impl Reply {
    /// Parses the 8-byte header; `None` for a shorter packet.
    pub(crate) fn parse(packet: &[u8]) -> Option<Reply> {
        let action = u32::from_be_bytes(packet.get(0..4)?.try_into().ok()?);
        let transaction_id = u32::from_be_bytes(packet.get(4..8)?.try_into().ok()?);
        Some(Reply { action, transaction_id, body: packet[8..].to_vec() })
    }

    /// The connection id of a connect reply.
    pub(crate) fn connection_id(&self) -> Option<u64> {
        (self.action == CONNECT && self.body.len() == 8).then(|| u64::from_be_bytes(self.body[..8].try_into().unwrap()))
    }

    /// The message of an error reply.
    pub(crate) fn error(&self) -> Option<String> {
        (self.action == ERROR).then(|| String::from_utf8_lossy(&self.body).into_owned())
    }

    /// (interval, leechers, seeders, number of IPv4 peers) of an announce reply.
    pub(crate) fn announced(&self) -> Option<(u32, u32, u32, usize)> {
        if self.action != ANNOUNCE || self.body.len() < 12 || !(self.body.len() - 12).is_multiple_of(6) {
            return None;
        }
        let word = |i: usize| u32::from_be_bytes(self.body[i..i + 4].try_into().unwrap());
        Some((word(0), word(4), word(8), (self.body.len() - 12) / 6))
    }

    /// (seeders, completed, leechers) per hash of a scrape reply.
    pub(crate) fn scraped(&self) -> Option<Vec<(u32, u32, u32)>> {
        if self.action != SCRAPE || !self.body.len().is_multiple_of(12) {
            return None;
        }
        let word = |i: usize| u32::from_be_bytes(self.body[i..i + 4].try_into().unwrap());
        Some((0..self.body.len() / 12).map(|n| (word(12 * n), word(12 * n + 4), word(12 * n + 8))).collect())
    }
}
