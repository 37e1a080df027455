//! `linstor-api`: LINSTOR's REST API v1 as JSON types, shared by the controller and the CLI.
//!
//! No server code: [`view`] builds the objects list endpoints answer from the core's state,
//! exactly in the shape python-linstor, the `linstor` CLI and linstor-csi read
//! (`shared/reference/rest-client-compat.md`): never `null`, never an empty collection, every
//! field the clients index always present, flags with every bit-subset name. [`request`] reads
//! request bodies as the real clients send them and maps them to `linstor_core` commands;
//! [`query`] holds the list filters.

pub mod answer;
pub mod query;
pub mod request;
pub mod view;

/// The REST API version this crate's types implement (python-linstor gates features on it).
pub const REST_API_VERSION: &str = "1.28.0";
