//! The `valence` command: the server (`serve`, `migrate`) and the CLI client of its REST API.

fn main() {}
