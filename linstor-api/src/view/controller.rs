//! Objects the controller fills from its own data rather than the core's state: the payloads
//! of the server-sent events (`GET /v1/events/nodes`, `GET /v1/events/drbd/promotion`) and
//! error reports (`GET /v1/error-reports`).

use serde::Serialize;

use super::NodeView;

non_empty! {
    /// `node-create`, `node-delete`, `node-evacuate`, `node-evicted`, `node-restored`
    /// (`EventNode`).
    pub struct EventNode {
        /// The node (after the change; before it for `node-delete`).
        pub node: NodeView,
    }

    /// `node-modified` (`EventNodeModified`).
    pub struct EventNodeModified {
        /// Before.
        pub old_node: NodeView,
        /// After.
        pub new_node: NodeView,
    }

    /// `may-promote-change` (`EventMayPromoteChange`).
    pub struct EventMayPromoteChange {
        /// Resource.
        pub resource_name: String,
        /// Node.
        pub node_name: String,
        /// Whether the resource may become Primary there now.
        pub may_promote: bool,
    }

    /// An error report (`ErrorReport`; ids look like `5DF8597F-00000-000195`).
    pub struct ErrorReport {
        /// The node that wrote it.
        #[serde(skip_serializing_if = "String::is_empty")]
        pub node_name: String,
        /// When, ms since the epoch.
        pub error_time: i64,
        /// `ErrorReport-{instance}-{node}-{sequence}.log`.
        #[serde(skip_serializing_if = "String::is_empty")]
        pub filename: String,
        /// The whole report (only with `?withContent=true`).
        #[serde(skip_serializing_if = "Option::is_none")]
        pub text: Option<String>,
        /// `CONTROLLER` or `SATELLITE`.
        #[serde(skip_serializing_if = "String::is_empty")]
        pub module: String,
        /// The version that wrote it.
        #[serde(skip_serializing_if = "String::is_empty")]
        pub version: String,
        /// The client involved.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub peer: Option<String>,
        /// The error's kind.
        #[serde(skip_serializing_if = "String::is_empty")]
        pub exception: String,
        /// The error's message.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub exception_message: Option<String>,
        /// Source file where it arose.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub origin_file: Option<String>,
        /// Function where it arose.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub origin_method: Option<String>,
        /// Line where it arose.
        #[serde(skip_serializing_if = "Option::is_none")]
        pub origin_line: Option<u32>,
    }
}

/// The node events of `GET /v1/events/nodes`, by their SSE `event:` name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeEvent {
    /// `node-create` ([`EventNode`]).
    Create,
    /// `node-delete` ([`EventNode`]).
    Delete,
    /// `node-evacuate` ([`EventNode`]).
    Evacuate,
    /// `node-evicted` ([`EventNode`]).
    Evicted,
    /// `node-restored` ([`EventNode`]).
    Restored,
    /// `node-modified` ([`EventNodeModified`]).
    Modified,
}

impl NodeEvent {
    /// The SSE `event:` name.
    pub fn name(self) -> &'static str {
        match self {
            NodeEvent::Create => "node-create",
            NodeEvent::Delete => "node-delete",
            NodeEvent::Evacuate => "node-evacuate",
            NodeEvent::Evicted => "node-evicted",
            NodeEvent::Restored => "node-restored",
            NodeEvent::Modified => "node-modified",
        }
    }
}

/// The SSE `event:` name of [`EventMayPromoteChange`] on `GET /v1/events/drbd/promotion`.
pub const MAY_PROMOTE_CHANGE: &str = "may-promote-change";
