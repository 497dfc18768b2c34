//! Errors, split by who may see them: a [`Refusal`] is told to the peer as a `failure reason`;
//! a [`StorageError`](crate::StorageError) is logged, and the peer sees only a generic reason.

use std::borrow::Cow;

use crate::StorageError;

/// A request the tracker will not serve, with the reason the peer is told. Every variant names
/// what is wrong precisely enough for a user reading it in their client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// A required parameter is absent.
    #[error("missing {0}")]
    Missing(&'static str),
    /// An id parameter does not decode to exactly 20 bytes.
    #[error("invalid {param}: expected 20 bytes, got {got}")]
    WrongLength {
        /// The parameter.
        param: &'static str,
        /// The decoded length.
        got: usize,
    },
    /// A `%` not followed by two hex digits.
    #[error("invalid {0}: bad percent-encoding")]
    BadEscape(&'static str),
    /// A parameter that may appear once appears again.
    #[error("invalid {0}: given more than once")]
    Repeated(&'static str),
    /// A number that does not parse.
    #[error("invalid {0}: not a number")]
    NotANumber(&'static str),
    /// `port` outside 1–65535.
    #[error("invalid port: must be between 1 and 65535")]
    PortOutOfRange,
    /// `numwant` below zero.
    #[error("invalid numwant: must not be negative")]
    NegativeNumwant,
    /// An `event` that is not started, stopped, completed, paused or empty.
    #[error("invalid event: expected started, stopped, completed, paused or empty")]
    UnknownEvent,
    /// `compact=0` while non-compact replies are disabled.
    #[error("non-compact replies are disabled on this tracker: use compact=1")]
    NonCompactDisabled,
    /// Scrape is disabled.
    #[error("scrape is disabled on this tracker")]
    ScrapeDisabled,
    /// A scrape with no `info_hash` while full scrape is disabled.
    #[error("missing info_hash: full scrape is disabled on this tracker")]
    FullScrapeDisabled,
    /// More hashes in one scrape than the configured cap.
    #[error("too many info_hash values: at most {0} per scrape")]
    TooManyHashes(usize),
    /// `allow` mode: the torrent is neither registered nor on the allow list.
    #[error("unregistered torrent")]
    UnregisteredTorrent,
    /// `deny` mode: the torrent is on the deny list.
    #[error("denied torrent")]
    DeniedTorrent,
    /// A private tracker got a request without a passkey in its path.
    #[error("missing passkey: this tracker is private, use the announce URL with your passkey")]
    MissingPasskey,
    /// A private tracker got a passkey it does not know (never issued, or revoked).
    #[error("unknown passkey")]
    UnknownPasskey,
    /// The client filter refuses this peer id (its printable prefix).
    #[error("client not allowed: {0} is not accepted by this tracker")]
    ClientNotAllowed(String),
    /// An HTTP or UDP announce from (or claiming) an address in the block reserved for WebRTC
    /// peers' synthetic addresses ([`WEBRTC_PREFIX`](crate::WEBRTC_PREFIX), IPv6's discard prefix).
    #[error("invalid address: 100::/64 is reserved")]
    ReservedAddress,
}

impl Refusal {
    /// A short, fixed label for metrics and logs (bounded cardinality).
    pub fn label(&self) -> &'static str {
        match self {
            Refusal::Missing(_) => "missing_parameter",
            Refusal::WrongLength { .. } => "wrong_length",
            Refusal::BadEscape(_) => "bad_escape",
            Refusal::Repeated(_) => "repeated_parameter",
            Refusal::NotANumber(_) => "not_a_number",
            Refusal::PortOutOfRange => "port_out_of_range",
            Refusal::NegativeNumwant => "negative_numwant",
            Refusal::UnknownEvent => "unknown_event",
            Refusal::NonCompactDisabled => "non_compact_disabled",
            Refusal::ScrapeDisabled => "scrape_disabled",
            Refusal::FullScrapeDisabled => "full_scrape_disabled",
            Refusal::TooManyHashes(_) => "too_many_hashes",
            Refusal::UnregisteredTorrent => "unregistered_torrent",
            Refusal::DeniedTorrent => "denied_torrent",
            Refusal::ClientNotAllowed(_) => "client_not_allowed",
            Refusal::MissingPasskey => "missing_passkey",
            Refusal::UnknownPasskey => "unknown_passkey",
            Refusal::ReservedAddress => "reserved_address",
        }
    }
}

/// Why the engine did not answer a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TrackerError {
    /// The request was refused; the peer is told why.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// The storage failed; logged, the peer sees a generic reason.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl TrackerError {
    /// The `failure reason` a peer is sent: the refusal itself, or a generic text that reveals
    /// nothing of the internals.
    pub fn failure_reason(&self) -> Cow<'static, str> {
        match self {
            TrackerError::Refused(r) => Cow::Owned(r.to_string()),
            TrackerError::Storage(StorageError::Unavailable(_) | StorageError::Conflict(_)) => {
                Cow::Borrowed("storage unavailable, retry later")
            }
            TrackerError::Storage(StorageError::Unsupported(what)) => {
                Cow::Owned(format!("{what} is not supported by this tracker"))
            }
            TrackerError::Storage(StorageError::Internal(_)) => Cow::Borrowed("internal tracker error"),
        }
    }

    /// Whether the error is the peer's doing (a refusal) rather than the tracker's.
    pub fn is_refusal(&self) -> bool {
        matches!(self, TrackerError::Refused(_))
    }
}
