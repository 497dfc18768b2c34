//! The core's conformance suite on a standalone Redis (`OCTOTRACKER_TEST_REDIS_URL`, provided by
//! `scripts/test.sh`). Each test gets a fresh random key prefix.

mod support;

octotracker_core::conformance_tests!(|| async { support::store(support::standalone(), "conformance").await });
