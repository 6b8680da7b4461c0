//! Shared harness for end-to-end tests: starts the built server, simulated PODMs and databases.
