#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Integration tests of valence-db: every repository function and constraint, each test run on
//! a SQLite file and on PostgreSQL (`VALENCE_TEST_DATABASE_URL`).

mod harness;

mod connect;
mod devices;
mod flavors;
mod indexes;
mod instances;
mod nodes;
mod paging;
mod pod_managers;
mod transactions;
