//! The core's conformance suite on a standalone Redis with the `octotracker` module loaded
//! (`OCTOTRACKER_TEST_REDIS_URL`: `scripts/test.sh` starts it with `--loadmodule`), through the
//! module engine. Each test gets a fresh random key prefix.

mod support;

octotracker_core::conformance_tests!(|| async {
    support::module_store(support::standalone(), "conformance-module").await
});
