//! The conformance suite run against a naive reference store: the suite passes a store that
//! keeps the contract, and catches stores that break it.
#![cfg(feature = "testing")]

mod support {
    pub(crate) mod reference;
}

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use octotracker_core::TorrentManager;
use octotracker_core::testing::{self, concurrency, counts, expiry, families, scrape, selection};
use support::reference::{Flaw, NoFullScrape, Reference};

/// The whole suite against a store that keeps the contract.
mod a_store_that_keeps_the_contract {
    use super::{Flaw, Reference};

    octotracker_core::conformance_tests!(|| async { Reference::new(Flaw::None) });
}

/// Whether `check` fails against a reference store with `flaw`.
fn fails<C, F>(flaw: Flaw, check: C) -> bool
where
    C: FnOnce(Arc<dyn TorrentManager>) -> F,
    F: Future<Output = ()>,
{
    catch_unwind(AssertUnwindSafe(|| testing::run(async move { Reference::new(flaw) }, check))).is_err()
}

mod a_backend_without_full_scrape {
    use super::*;

    #[test]
    fn passes_the_full_scrape_checks() {
        testing::run(async { NoFullScrape(Reference::new(Flaw::None)) }, |s| async move {
            scrape::scrape_all_lists_exactly_the_swarms_with_peers(&*s).await;
            scrape::scrape_all_respects_the_limit(&*s).await;
            expiry::expire_removes_swarms_left_empty(&*s).await;
        });
    }
}

mod the_suite_catches_a_store_that {
    use super::*;

    #[test]
    fn hands_out_the_announcer() {
        assert!(fails(Flaw::HandsOutItself, |s| async move {
            selection::the_announcer_is_never_in_its_own_list(&*s).await
        }));
    }

    #[test]
    fn returns_the_counts_from_before_the_announce() {
        assert!(fails(Flaw::CountsBeforeTheAnnounce, |s| async move {
            counts::counts_in_the_reply_include_the_announce(&*s).await
        }));
    }

    #[test]
    fn counts_completed_from_seeders() {
        assert!(fails(Flaw::CountsCompletedFromSeeders, |s| async move {
            counts::a_second_completed_counts_nothing(&*s).await
        }));
        assert!(fails(Flaw::CountsCompletedFromSeeders, |s| async move {
            counts::completed_from_a_seeder_counts_nothing(&*s).await
        }));
    }

    #[test]
    fn never_expires() {
        assert!(fails(Flaw::NeverExpires, |s| async move {
            expiry::expire_removes_peers_last_seen_before_the_cutoff(&*s).await
        }));
    }

    #[test]
    fn always_hands_out_the_same_peers() {
        assert!(fails(Flaw::NotRandom, |s| async move { selection::the_choice_varies_between_announces(&*s).await }));
    }

    #[test]
    fn loses_concurrent_updates() {
        assert!(fails(Flaw::NotAtomic, |s| async move { concurrency::concurrent_announces_are_all_counted(s).await }));
    }

    #[test]
    fn mixes_address_families() {
        assert!(fails(Flaw::MixesFamilies, |s| async move {
            families::each_family_is_given_only_peers_of_its_own_family(&*s).await
        }));
    }

    #[test]
    fn mixes_webrtc_peers_with_ip_peers() {
        assert!(fails(Flaw::MixesFamilies, |s| async move {
            families::webrtc_peers_are_counted_but_never_mixed_with_ip_peers(&*s).await
        }));
    }
}
