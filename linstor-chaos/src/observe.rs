//! What the cluster holds, in one plain structure: the controller's REST lists, each node's pool
//! files and loop devices, and each satellite's SIMULATED DRBD state. The parsing here is pure
//! (JSON in, [`Observed`] out); reading the files is [`crate::cluster`]'s job.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// The property the clients set on their definitions (its value names a canary file, so it
/// would show if it ever reached a shell).
pub const NOTE_KEY: &str = "Aux/chaos-note";

/// A node as the controller reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NodeSeen {
    /// `connection_status`.
    pub status: String,
    /// Flags (`EVACUATE`, …).
    pub flags: Vec<String>,
}

/// A resource (one node's replica) as the controller reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RscSeen {
    /// Flags (`DISKLESS`, `TIE_BREAKER`, `DELETE`, …).
    pub flags: Vec<String>,
    /// Disk state per volume number.
    pub disks: BTreeMap<u16, String>,
    /// Errors the satellite reported for it.
    pub errors: Vec<String>,
}

impl RscSeen {
    /// True for a replica without local storage (diskless client or tiebreaker).
    pub fn diskless(&self) -> bool {
        self.flags
            .iter()
            .any(|f| matches!(f.as_str(), "DISKLESS" | "DRBD_DISKLESS" | "TIE_BREAKER"))
    }
}

/// A snapshot as the controller reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SnapSeen {
    /// Flags (`SUCCESSFUL`, `DELETE`, …).
    pub flags: Vec<String>,
    /// Nodes it was taken on.
    pub nodes: Vec<String>,
    /// Size of volume 0 in it (KiB).
    pub size0: u64,
    /// Volume numbers in it.
    pub volumes: Vec<u16>,
}

/// A resource definition with its volumes, replicas and snapshots.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdSeen {
    /// Flags (`DELETE`, …).
    pub flags: Vec<String>,
    /// Volume sizes by volume number order (KiB).
    pub sizes: Vec<u64>,
    /// The value of [`NOTE_KEY`].
    pub note: Option<String>,
    /// Replicas by node.
    pub resources: BTreeMap<String, RscSeen>,
    /// Snapshots by name.
    pub snapshots: BTreeMap<String, SnapSeen>,
}

/// One node's storage as found on the host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostSeen {
    /// File names in the pool directory.
    pub files: BTreeSet<String>,
    /// Pool file names that a loop device is attached to.
    pub loops: BTreeSet<String>,
    /// SIMULATED DRBD: resource → volume number → disk state.
    pub sim: BTreeMap<String, BTreeMap<u16, String>>,
}

/// Everything observed at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// Nodes.
    pub nodes: BTreeMap<String, NodeSeen>,
    /// Resource definitions.
    pub rds: BTreeMap<String, RdSeen>,
    /// Host storage by node name.
    pub hosts: BTreeMap<String, HostSeen>,
}

/// The REST answers [`Observed::from_rest`] reads.
#[derive(Debug, Clone, Copy)]
pub struct RestLists<'a> {
    /// `GET /v1/nodes`.
    pub nodes: &'a Value,
    /// `GET /v1/resource-definitions?with_volume_definitions=true`.
    pub rds: &'a Value,
    /// `GET /v1/view/resources`.
    pub resources: &'a Value,
    /// `GET /v1/view/snapshots`.
    pub snapshots: &'a Value,
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_owned()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(s).collect())
        .unwrap_or_default()
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or_default()
}

fn u16_of(v: &Value) -> u16 {
    v.as_u64()
        .and_then(|n| u16::try_from(n).ok())
        .unwrap_or(u16::MAX)
}

impl Observed {
    /// The controller's view, from its REST lists (host storage left empty).
    pub fn from_rest(l: RestLists<'_>) -> Observed {
        let mut o = Observed::default();
        for n in items(l.nodes) {
            let seen = NodeSeen {
                status: s(&n["connection_status"]),
                flags: strings(&n["flags"]),
            };
            o.nodes.insert(s(&n["name"]), seen);
        }
        for d in items(l.rds) {
            let mut vds: Vec<(u16, u64)> = items(&d["volume_definitions"])
                .iter()
                .map(|v| {
                    (
                        u16_of(&v["volume_number"]),
                        v["size_kib"].as_u64().unwrap_or(0),
                    )
                })
                .collect();
            vds.sort_unstable();
            let rd = RdSeen {
                flags: strings(&d["flags"]),
                sizes: vds.into_iter().map(|(_, size)| size).collect(),
                note: d["props"][NOTE_KEY].as_str().map(str::to_owned),
                ..RdSeen::default()
            };
            o.rds.insert(s(&d["name"]), rd);
        }
        for r in items(l.resources) {
            let Some(rd) = o.rds.get_mut(r["name"].as_str().unwrap_or_default()) else {
                continue;
            };
            let disks = items(&r["volumes"])
                .iter()
                .map(|v| (u16_of(&v["volume_number"]), s(&v["state"]["disk_state"])))
                .collect();
            let seen = RscSeen {
                flags: strings(&r["flags"]),
                disks,
                errors: strings(&r["state"]["errors"]),
            };
            rd.resources.insert(s(&r["node_name"]), seen);
        }
        for sn in items(l.snapshots) {
            let Some(rd) = o
                .rds
                .get_mut(sn["resource_name"].as_str().unwrap_or_default())
            else {
                continue;
            };
            let vds = items(&sn["volume_definitions"]);
            let seen = SnapSeen {
                flags: strings(&sn["flags"]),
                nodes: strings(&sn["nodes"]),
                size0: vds
                    .iter()
                    .find(|v| v["volume_number"] == 0)
                    .and_then(|v| v["size_kib"].as_u64())
                    .unwrap_or(0),
                volumes: vds.iter().map(|v| u16_of(&v["volume_number"])).collect(),
            };
            rd.snapshots.insert(s(&sn["name"]), seen);
        }
        o
    }
}

/// SIMULATED DRBD state of one resource (`<state>/simulated-drbd/<rsc>.json`): volume number →
/// disk state; `None` if the text does not read.
pub fn sim_volumes(text: &str) -> Option<BTreeMap<u16, String>> {
    let v: Value = serde_json::from_str(text).ok()?;
    let vols = v["volumes"].as_object()?;
    vols.iter()
        .map(|(nr, vol)| Some((nr.parse().ok()?, s(&vol["disk"]))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rest_lists_become_one_structure() {
        let nodes =
            json!([{"name": "node-1", "connection_status": "ONLINE", "flags": ["EVACUATE"]}]);
        let rds = json!([
            {"name": "r", "props": {NOTE_KEY: "n"}, "volume_definitions": [
                {"volume_number": 1, "size_kib": 4096}, {"volume_number": 0, "size_kib": 8192}]},
            {"name": "q", "flags": ["DELETE"]}
        ]);
        let resources = json!([
            {"name": "r", "node_name": "node-1", "state": {"errors": ["boom"]},
             "volumes": [{"volume_number": 0, "state": {"disk_state": "UpToDate"}}]},
            {"name": "r", "node_name": "node-2", "flags": ["TIE_BREAKER"], "volumes": []},
            {"name": "gone", "node_name": "node-1"}
        ]);
        let snapshots = json!([{"name": "s", "resource_name": "r", "flags": ["SUCCESSFUL"],
            "nodes": ["node-1"], "volume_definitions": [{"volume_number": 0, "size_kib": 8192}]}]);
        let o = Observed::from_rest(RestLists {
            nodes: &nodes,
            rds: &rds,
            resources: &resources,
            snapshots: &snapshots,
        });
        assert_eq!(o.nodes["node-1"].flags, ["EVACUATE"]);
        let r = &o.rds["r"];
        assert_eq!(r.sizes, [8192, 4096]);
        assert_eq!(r.note.as_deref(), Some("n"));
        assert_eq!(r.resources["node-1"].disks[&0], "UpToDate");
        assert_eq!(r.resources["node-1"].errors, ["boom"]);
        assert!(r.resources["node-2"].diskless());
        assert_eq!(r.snapshots["s"].size0, 8192);
        assert_eq!(o.rds["q"].flags, ["DELETE"]);
        assert_eq!(o.rds.len(), 2);
    }

    #[test]
    fn simulated_drbd_state_files() {
        let text = r#"{"digest":1,"volumes":{"0":{"minor":1000,"disk":"UpToDate","done":null},
            "1":{"minor":1001,"disk":"Inconsistent","done":25.0}},"peers":[]}"#;
        let v = sim_volumes(text).unwrap();
        assert_eq!(v[&0], "UpToDate");
        assert_eq!(v[&1], "Inconsistent");
        assert_eq!(sim_volumes("{\"digest\":"), None);
    }
}
