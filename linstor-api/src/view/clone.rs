//! The answers of a resource definition's data questions: `GET …/{rd}/sync-status`
//! (`ResourceDefinitionSyncStatus`), `POST …/{rd}/clone` (`ResourceDefinitionCloneStarted`)
//! and `GET …/{rd}/clone/{clone}` (`ResourceDefinitionCloneStatus`).

use linstor_core::cluster::CloneStatus;
use serde::Serialize;
use serde_json::Value;

/// `GET /v1/resource-definitions/{rd}/sync-status` (`ResourceDefinitionSyncStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    /// Every diskful resource is UpToDate (always present: clients index it).
    pub synced_on_all: bool,
}

/// `GET /v1/resource-definitions/{rd}/clone/{clone}` (`ResourceDefinitionCloneStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CloneStatusView {
    /// `CLONING`, `FAILED` or `COMPLETE`.
    pub status: CloneStatus,
}

/// The answer of `POST /v1/resource-definitions/{rd}/clone`, whether the clone was started or
/// refused (`ResourceDefinitionCloneStarted`): LINSTOR answers this object in both cases, the
/// entries in `messages`, and python-linstor reads nothing else.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CloneStarted {
    /// Where the clone's status is (`/v1/resource-definitions/{rd}/clone/{clone}`).
    pub location: String,
    /// The source.
    pub source_name: String,
    /// The clone (the generated name when it was made from an external name).
    pub clone_name: String,
    /// The `ApiCallRc` entries of the request.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub messages: Vec<Value>,
}

/// The answer of a clone request of `source` into `clone` with its entries.
pub fn clone_started(source: &str, clone: &str, messages: Vec<Value>) -> CloneStarted {
    // LINSTOR's placeholder when no name was given (the field is required).
    let clone = if clone.is_empty() {
        "__invalid_name__"
    } else {
        clone
    };
    CloneStarted {
        location: format!(
            "/v1/resource-definitions/{}/clone/{}",
            path_segment(source),
            path_segment(clone)
        ),
        source_name: source.to_owned(),
        clone_name: clone.to_owned(),
        messages,
    }
}

/// `s` percent-encoded as one path segment (RFC 3986 unreserved characters stay).
fn path_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_answers_in_the_shapes_the_spec_gives() {
        let started = clone_started("src", "PVC_7", vec![]);
        assert_eq!(
            serde_json::to_value(&started).unwrap(),
            serde_json::json!({"location": "/v1/resource-definitions/src/clone/PVC_7",
                "source_name": "src", "clone_name": "PVC_7"})
        );
        let refused = clone_started("src", "", vec![serde_json::json!({"ret_code": -1})]);
        assert_eq!(refused.clone_name, "__invalid_name__");
        assert_eq!(refused.messages.len(), 1);
        assert_eq!(
            clone_started("a b", "ü", vec![]).location,
            "/v1/resource-definitions/a%20b/clone/%C3%BC"
        );
        let status = CloneStatusView {
            status: CloneStatus::Cloning,
        };
        assert_eq!(
            serde_json::to_value(status).unwrap(),
            serde_json::json!({"status": "CLONING"})
        );
        let sync = SyncStatus {
            synced_on_all: false,
        };
        assert_eq!(
            serde_json::to_value(sync).unwrap(),
            serde_json::json!({"synced_on_all": false})
        );
    }
}
