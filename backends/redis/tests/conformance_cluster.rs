//! The core's conformance suite on a 3-master Redis Cluster (`OCTOTRACKER_TEST_REDIS_CLUSTER_URLS`,
//! provided by `scripts/test.sh`). Each test gets a fresh random key prefix; its swarms spread
//! over the three masters.

mod support;

octotracker_core::conformance_tests!(|| async { support::store(support::cluster(), "conformance-cluster").await });
