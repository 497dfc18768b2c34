//! The core's conformance suite on the 3-master Redis Cluster with the `octotracker` module
//! loaded on every node (`OCTOTRACKER_TEST_REDIS_CLUSTER_URLS`), through the module engine.

mod support;

octotracker_core::conformance_tests!(|| async {
    support::module_store(support::cluster(), "conformance-module").await
});
