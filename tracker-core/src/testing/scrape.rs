//! [`TorrentManager::scrape`] (BEP 48), [`TorrentManager::scrape_all`] and
//! [`TorrentManager::top_swarms`].

use super::peers::{AnnounceExt, announce_all, info_hash, leecher, ok, seeder, stats, v4, v6};
use super::unsupported;
use crate::{InfoHash, StoreTotals, SwarmRank, SwarmStats, TorrentManager, rank_swarms};

/// Stores swarm `n` (for `n` in `1..=count`) with `n % 4` seeders, `n % 3 + 1` leechers and one
/// download when `n` is even; returns each hash with its stats.
async fn fill(store: &dyn TorrentManager, count: u32) -> Vec<(InfoHash, SwarmStats)> {
    let mut swarms = Vec::new();
    for n in 1..=count {
        let h = info_hash(n);
        let seeders = n % 4;
        let leechers = n % 3 + 1;
        announce_all(store, (0..seeders).map(|k| seeder(h, v4(k)))).await;
        announce_all(store, (100..100 + leechers).map(|k| leecher(h, v4(k)))).await;
        let mut downloaded = 0;
        if n % 2 == 0 {
            announce_all(store, [leecher(h, v6(1)), leecher(h, v6(1)).completed().seeding()]).await;
            downloaded = 1;
        }
        swarms.push((h, stats(seeders + u32::from(n % 2 == 0), leechers, downloaded)));
    }
    swarms
}

/// A scrape answers each requested hash, in the order asked, with zeros for unknown hashes (and
/// a hash asked twice answered twice).
pub async fn scrape_returns_each_hash_in_order_with_zeros_for_unknown(store: &dyn TorrentManager) {
    let swarms = fill(store, 12).await;
    let mut hashes = Vec::new();
    let mut expected = Vec::new();
    for (i, (h, s)) in swarms.iter().enumerate().rev() {
        hashes.push(*h);
        expected.push(*s);
        if i % 4 == 0 {
            hashes.push(info_hash(1000 + i as u32));
            expected.push(SwarmStats::default());
        }
    }
    hashes.push(swarms[3].0);
    expected.push(swarms[3].1);
    let got = ok(store.scrape(&hashes).await, "scrape");
    assert_eq!(got, expected, "one entry per hash, in order");
}

/// A scrape of no hashes returns nothing; of unknown hashes, zeros.
pub async fn scrape_of_unknown_or_no_hashes(store: &dyn TorrentManager) {
    assert_eq!(ok(store.scrape(&[]).await, "scrape"), Vec::new(), "no hashes, no entries");
    let got = ok(store.scrape(&[info_hash(1), info_hash(2)]).await, "scrape");
    assert_eq!(got, vec![SwarmStats::default(); 2], "unknown hashes scrape as zeros");
}

/// A full scrape (if the backend offers one) lists exactly the swarms that have peers, with
/// their counts, each once; a swarm whose peers all stopped is not listed.
pub async fn scrape_all_lists_exactly_the_swarms_with_peers(store: &dyn TorrentManager) {
    let first = store.scrape_all(1_000).await;
    if unsupported(&first) {
        return;
    }
    assert_eq!(ok(first, "scrape_all"), Vec::new(), "an empty store has no swarms");

    let mut expected = fill(store, 30).await;
    let gone = info_hash(500);
    announce_all(store, [leecher(gone, v4(1)), leecher(gone, v4(1)).stopped()]).await;

    let mut all = ok(store.scrape_all(1_000).await, "scrape_all");
    all.sort_by_key(|(h, _)| *h);
    expected.sort_by_key(|(h, _)| *h);
    assert_eq!(all, expected, "every swarm with peers, once, with its counts");
}

/// [`TorrentManager::totals`] counts the swarms with peers and their seeders and leechers
/// (IPv4 and IPv6 alike), and forgets what stops and expiry remove.
pub async fn totals_count_every_swarm_with_peers(store: &dyn TorrentManager) {
    let first = store.totals().await;
    if unsupported(&first) {
        return;
    }
    assert_eq!(ok(first, "totals"), StoreTotals::default(), "an empty store holds nothing");
    let swarms = fill(store, 30).await;
    let six = info_hash(400);
    announce_all(store, [seeder(six, v6(1)), leecher(six, v6(2)), leecher(six, v4(3))]).await;
    let gone = info_hash(500);
    announce_all(store, [leecher(gone, v4(1)), leecher(gone, v4(1)).stopped()]).await;
    let mut expected = StoreTotals { torrents: 31, seeders: 1, leechers: 2 };
    for (_, s) in &swarms {
        expected.seeders += u64::from(s.complete);
        expected.leechers += u64::from(s.incomplete);
    }
    assert_eq!(ok(store.totals().await, "totals"), expected, "every swarm with peers, each peer once");

    announce_all(store, [seeder(six, v6(1)).stopped(), leecher(six, v6(2)).stopped(), leecher(six, v4(3)).stopped()])
        .await;
    expected.torrents -= 1;
    expected.seeders -= 1;
    expected.leechers -= 2;
    assert_eq!(ok(store.totals().await, "totals"), expected, "a swarm whose peers all stopped is not counted");
}

/// A full scrape returns at most `limit` swarms, each a real one with its counts.
pub async fn scrape_all_respects_the_limit(store: &dyn TorrentManager) {
    let probe = store.scrape_all(0).await;
    if unsupported(&probe) {
        return;
    }
    assert_eq!(ok(probe, "scrape_all"), Vec::new(), "limit 0 lists nothing");
    let swarms = fill(store, 40).await;
    for limit in [0, 1, 7, 39, 40, 41, usize::MAX] {
        let got = ok(store.scrape_all(limit).await, "scrape_all");
        assert_eq!(got.len(), limit.min(40), "a full scrape with limit {limit} of 40 swarms");
        let mut seen = std::collections::HashSet::new();
        for entry in &got {
            assert!(swarms.contains(entry), "listed swarm with wrong counts: {entry:?}");
            assert!(seen.insert(entry.0), "swarm listed twice: {:?}", entry.0);
        }
    }
}

/// The top swarms (if the backend can list swarms) are the busiest by the rank asked for,
/// highest first, ties by info hash, at most `limit` of them, each with its counts.
pub async fn top_swarms_are_the_busiest_by_rank(store: &dyn TorrentManager) {
    let probe = store.top_swarms(SwarmRank::Peers, 1).await;
    if unsupported(&probe) {
        return;
    }
    assert_eq!(ok(probe, "top_swarms"), Vec::new(), "an empty store has no top swarms");
    let swarms = fill(store, 30).await;
    for rank in SwarmRank::ALL {
        for limit in [0, 1, 5, 30, 31] {
            let got = ok(store.top_swarms(rank, limit).await, "top_swarms");
            let expected = rank_swarms(swarms.clone(), rank, limit);
            assert_eq!(got, expected, "top {limit} swarms by {}", rank.as_str());
        }
    }
}
