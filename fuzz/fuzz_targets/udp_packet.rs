//! The BEP 15 request and reply parsers: never panic; a parsed request, written again, parses
//! to the same request.
#![no_main]

use libfuzzer_sys::fuzz_target;
use octotracker_core::udp_wire::{
    UdpRequest, parse_reply, parse_request, write_announce_request, write_connect_request, write_scrape_request,
};

fuzz_target!(|data: &[u8]| {
    let _ = parse_reply(data, false);
    let _ = parse_reply(data, true);
    let Ok(request) = parse_request(data) else { return };
    let mut out = Vec::new();
    match &request {
        UdpRequest::Connect { transaction_id } => write_connect_request(&mut out, *transaction_id),
        UdpRequest::Announce(a) => {
            write_announce_request(&mut out, a.connection_id, a.transaction_id, &a.request, &a.url_data)
        }
        UdpRequest::Scrape { connection_id, transaction_id, info_hashes } => {
            write_scrape_request(&mut out, *connection_id, *transaction_id, info_hashes)
        }
    }
    assert_eq!(parse_request(&out).as_ref(), Ok(&request), "written again, it parses the same");
});
