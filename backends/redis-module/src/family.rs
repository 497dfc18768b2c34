//! Peer families: which peers may be handed to which. The one place that classifies an address.
//! WebRTC peers (synthetic IPv6 addresses in 100::/64) are not a family here: the backend keeps
//! them in a sibling swarm key of their own (`OCTO.ANNOUNCE`'s second key, see `commands.rs`),
//! where they are the IPv6 family, exactly as the Lua engine keeps them in a sibling group.

/// Length of a peer id.
pub(crate) const PEER_ID: usize = 20;

/// A family of peers: an announcer is given peers of its own family only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Family {
    /// Compact IPv4 addresses: 4-byte IP + 2-byte port.
    V4,
    /// Compact IPv6 addresses: 16-byte IP + 2-byte port.
    V6,
}

impl Family {
    /// Every family, in the order of the swarm's sets and of the serialized form.
    pub(crate) const ALL: [Family; 2] = [Family::V4, Family::V6];

    /// The family of a compact address, `None` for a length no family has.
    pub(crate) fn of(addr: &[u8]) -> Option<Family> {
        match addr.len() {
            6 => Some(Family::V4),
            18 => Some(Family::V6),
            _ => None,
        }
    }

    /// Length of the family's compact addresses.
    pub(crate) fn addr_len(self) -> usize {
        match self {
            Family::V4 => 6,
            Family::V6 => 18,
        }
    }

    /// Position in [`Family::ALL`].
    pub(crate) fn index(self) -> usize {
        match self {
            Family::V4 => 0,
            Family::V6 => 1,
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
    fn addresses_are_classified_by_length() {
        assert_eq!(Family::of(&[0; 6]), Some(Family::V4));
        assert_eq!(Family::of(&[0; 18]), Some(Family::V6));
        assert_eq!(Family::of(&[0; 7]), None);
        for f in Family::ALL {
            assert_eq!(Family::ALL[f.index()], f);
            assert_eq!(Family::of(&vec![0; f.addr_len()]), Some(f));
        }
    }
}
