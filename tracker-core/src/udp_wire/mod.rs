//! The UDP tracker protocol's wire format (BEP 15, with BEP 41 URL data), shared by the UDP
//! frontend and the client: request packets in ([`parse_request`]) and out
//! ([`write_announce_request`], …), replies out ([`write_announce`], …) and in
//! ([`parse_reply`]). No I/O and no allocation beyond the packet's own size.
//!
//! ```
//! use octotracker_core::udp_wire::*;
//! let mut packet = Vec::new();
//! write_connect_request(&mut packet, 7);
//! assert_eq!(parse_request(&packet), Ok(UdpRequest::Connect { transaction_id: 7 }));
//! let mut reply = Vec::new();
//! write_connect(&mut reply, 7, 0xfeed);
//! assert_eq!(parse_reply(&reply, false), Ok(UdpReply::Connect { transaction_id: 7, connection_id: 0xfeed }));
//! ```

mod reply;
mod request;

pub use reply::{
    UdpReply, UdpReplyError, max_peers, parse_reply, write_announce, write_connect, write_error, write_scrape,
};
pub use request::{
    ACTION_ANNOUNCE, ACTION_CONNECT, ACTION_ERROR, ACTION_SCRAPE, ANNOUNCE_LEN, MAX_SCRAPE_HASHES, MAX_URL_DATA,
    PROTOCOL_ID, UdpAnnounce, UdpParseError, UdpRequest, parse_request, write_announce_request, write_connect_request,
    write_scrape_request,
};

#[cfg(test)]
mod tests;
