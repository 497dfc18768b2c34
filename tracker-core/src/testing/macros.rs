//! [`conformance_tests!`](crate::conformance_tests): the whole suite as one `#[test]` per check.

/// Expands to the whole conformance suite: one `#[test]` per check, in one module per group
/// (`announce`, `counts`, `selection`, `families`, `expiry`, `scrape`, `concurrency`), each
/// running on a fresh store made by `factory`, a closure returning a future of a
/// [`TorrentManager`](crate::TorrentManager).
///
/// ```text
/// octotracker_core::conformance_tests!(|| async { MemoryTorrentManager::new(Default::default()) });
/// ```
///
/// See the [`testing`](crate::testing) module for what it checks and how to isolate stores.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr $(,)?) => {
        /// A fresh store for one conformance test.
        fn __octotracker_conformance_store()
        -> impl ::core::future::Future<Output = impl $crate::TorrentManager> {
            let factory = $factory;
            factory()
        }

        $crate::__conformance_group!(by_ref announce {
            a_first_announce_stores_the_peer,
            a_re_announce_updates_the_peer_without_duplicating_it,
            a_stopped_peer_is_removed,
            a_stopped_peer_can_come_back,
            stopped_for_an_unknown_swarm_returns_zeros_and_stores_nothing,
            stopped_for_an_unknown_peer_changes_nothing,
            the_same_peer_id_from_another_port_is_another_peer,
            a_new_peer_id_from_the_same_address_replaces_the_peer,
            peer_ids_returned_are_the_ones_stored,
            swarms_are_kept_apart,
        });
        $crate::__conformance_group!(by_ref counts {
            counts_in_the_reply_include_the_announce,
            a_leecher_turning_seeder_without_completed_counts_no_download,
            completed_from_a_known_leecher_counts_one_download,
            a_second_completed_counts_nothing,
            completed_from_an_unknown_peer_counts_nothing,
            completed_from_a_seeder_counts_nothing,
            downloads_are_counted_per_swarm,
        });
        $crate::__conformance_group!(by_ref selection {
            numwant_zero_returns_no_peers_but_the_counts,
            numwant_limits_the_peers_returned,
            a_want_larger_than_the_swarm_returns_every_other_peer,
            the_announcer_is_never_in_its_own_list,
            a_seeder_is_given_only_leechers,
            a_leecher_is_given_seeders_and_leechers,
            the_choice_varies_between_announces,
        });
        $crate::__conformance_group!(by_ref families {
            each_family_is_given_only_peers_of_its_own_family,
            a_family_alone_in_a_swarm_gets_no_peers_but_all_counts,
            ipv6_peers_are_counted_stopped_and_expired_like_ipv4_ones,
            webrtc_peers_are_counted_but_never_mixed_with_ip_peers,
            downloads_outlive_the_last_peer_of_a_family,
            family_counts_split_the_swarm_by_address_family,
        });
        $crate::__conformance_group!(by_ref expiry {
            expire_removes_peers_last_seen_before_the_cutoff,
            expire_removes_swarms_left_empty,
            a_re_announce_refreshes_last_seen,
            expire_with_nothing_stale_removes_nothing,
            expire_counts_exactly_over_many_swarms,
        });
        $crate::__conformance_group!(by_ref scrape {
            scrape_returns_each_hash_in_order_with_zeros_for_unknown,
            scrape_of_unknown_or_no_hashes,
            scrape_all_lists_exactly_the_swarms_with_peers,
            scrape_all_respects_the_limit,
            top_swarms_are_the_busiest_by_rank,
            totals_count_every_swarm_with_peers,
        });
        $crate::__conformance_group!(shared concurrency {
            concurrent_announces_are_all_counted,
            concurrent_completed_are_each_counted_once,
            concurrent_stops_leave_exact_counts,
        });
    };
}

/// One module of conformance tests; `by_ref` checks take `&dyn TorrentManager`, `shared` ones
/// an `Arc<dyn TorrentManager>`.
#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_group {
    (by_ref $group:ident { $($check:ident),* $(,)? }) => {
        mod $group {
            $(
                #[test]
                fn $check() {
                    $crate::testing::run(super::__octotracker_conformance_store(), |store| async move {
                        $crate::testing::$group::$check(&*store).await
                    });
                }
            )*
        }
    };
    (shared $group:ident { $($check:ident),* $(,)? }) => {
        mod $group {
            $(
                #[test]
                fn $check() {
                    $crate::testing::run(super::__octotracker_conformance_store(), |store| async move {
                        $crate::testing::$group::$check(store).await
                    });
                }
            )*
        }
    };
}
