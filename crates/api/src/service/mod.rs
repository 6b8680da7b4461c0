//! What the API does, without HTTP: the routes and the web console call these.

pub mod nodes;
pub mod podms;
pub mod systems;
