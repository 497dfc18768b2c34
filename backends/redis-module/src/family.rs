//! Peer families: which peers may be handed to which. The one place of the module that classifies
//! an address (as the core's `AddressFamily::of` does): IPv4 by its length, WebRTC peers by their
//! synthetic IPv6 addresses in 100::/64, every other IPv6 address as IPv6. A swarm keeps the
//! seeders and leechers of each family in sets of their own, so peer lists never mix while the
//! counts cover every family.

/// Length of a peer id.
pub(crate) const PEER_ID: usize = 20;

/// The first 8 bytes of every WebRTC peer's synthetic address (the core's `WEBRTC_PREFIX`,
/// 100::/64); the Lua engine's `records.lua` checks the same bytes.
const WEBRTC_PREFIX: [u8; 8] = [1, 0, 0, 0, 0, 0, 0, 0];

/// A family of peers: an announcer is given peers of its own family only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Compact IPv4 addresses: 4-byte IP + 2-byte port.
    V4,
    /// Compact IPv6 addresses: 16-byte IP + 2-byte port.
    V6,
    /// WebRTC peers (WebSocket trackers'): synthetic compact IPv6 addresses in 100::/64.
    WebRtc,
}

impl Family {
    /// Every family, in the order of the swarm's sets and of the serialized form.
    pub(crate) const ALL: [Family; 3] = [Family::V4, Family::V6, Family::WebRtc];

    /// The family of a compact address, `None` for a length no family has.
    pub(crate) fn of(addr: &[u8]) -> Option<Family> {
        match addr.len() {
            6 => Some(Family::V4),
            18 if addr[..8] == WEBRTC_PREFIX => Some(Family::WebRtc),
            18 => Some(Family::V6),
            _ => None,
        }
    }

    /// Length of the family's compact addresses.
    pub(crate) fn addr_len(self) -> usize {
        match self {
            Family::V4 => 6,
            Family::V6 | Family::WebRtc => 18,
        }
    }

    /// Position in [`Family::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Family::V4 => 0,
            Family::V6 => 1,
            Family::WebRtc => 2,
        }
    }

    /// The swarm's set of this family's seeders (its leechers are the next one).
    pub(crate) fn seeders(self) -> usize {
        2 * self.index()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_classified_by_length_and_the_webrtc_prefix() {
        assert_eq!(Family::of(&[0; 6]), Some(Family::V4));
        assert_eq!(Family::of(&[0; 18]), Some(Family::V6));
        assert_eq!(Family::of(&[0; 7]), None);
        let mut rtc = [7; 18];
        rtc[..8].copy_from_slice(&WEBRTC_PREFIX);
        assert_eq!(Family::of(&rtc), Some(Family::WebRtc));
        rtc[7] = 1;
        assert_eq!(Family::of(&rtc), Some(Family::V6), "100:0:0:1::/64 is not the WebRTC prefix");
        for f in Family::ALL {
            assert_eq!(Family::ALL[f.index()], f);
        }
    }
}
