//! What the API does, without HTTP: the routes and the web console call these.

pub mod devices;
pub mod nodes;
pub mod podms;
pub mod recovery;
pub mod systems;
