//! Tests of the projection and the plan: tables of single cases, and proptests that a plan over
//! random desired projections and random observed states converges in one apply.

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::cluster::{Cluster, SeededEnv};
use crate::name::NodeName;

/// A cluster and its environment, driven by commands in the JSON clients send.
struct T {
    c: Cluster,
    e: SeededEnv,
}

impl T {
    /// Runs a command; returns whether it was accepted.
    fn run(&mut self, cmd: &Value) -> bool {
        !self
            .c
            .execute_json(&cmd.to_string(), &mut self.e)
            .is_error()
    }

    /// Runs a command that must be accepted.
    fn must(&mut self, cmd: Value) {
        let out = self.c.execute_json(&cmd.to_string(), &mut self.e);
        assert!(!out.is_error(), "refused: {cmd}: {:?}", out.rc);
    }

    /// The projection for node `n`.
    fn project(&self, n: &str) -> NodeProjection {
        self.c.state().for_node(&node(n)).expect("node exists")
    }
}

/// Nodes n1..n3, each with an LVM pool `lvm` and a FILE_THIN pool `thin`; resource
/// definitions `r0`, `r1` (one 100 MiB volume each).
fn base() -> T {
    let mut e = SeededEnv::new(11);
    let c = Cluster::new(&mut e);
    let mut t = T { c, e };
    for (i, n) in ["n1", "n2", "n3"].iter().enumerate() {
        t.must(
            json!({"cmd": "node_create", "name": n, "node_type": "Satellite",
                "net_interfaces": [{"name": "default", "address": format!("10.0.0.{}", i + 1)}]}),
        );
        for (pool, kind, backing) in [
            ("lvm", "LVM", "vg0"),
            ("thin", "FILE_THIN", "/var/lib/thin"),
            ("zfs", "ZFS_THIN", "tank"),
        ] {
            t.must(
                json!({"cmd": "stor_pool_create", "node": n, "name": pool, "kind": kind,
                    "props": {"StorDriver/StorPoolName": backing}}),
            );
        }
    }
    for r in ["r0", "r1"] {
        t.must(json!({"cmd": "rsc_dfn_create", "name": r}));
        t.must(json!({"cmd": "vlm_dfn_create", "rsc_dfn": r, "size": 102_400}));
    }
    t
}

fn node(n: &str) -> NodeName {
    NodeName::new(n).unwrap()
}

fn rsc(n: &str) -> ResourceName {
    ResourceName::new(n).unwrap()
}

/// The actions' kinds, as their serde tags (`create_volume`, …).
fn names(actions: &[Action]) -> Vec<String> {
    let tag = |a: &Action| {
        serde_json::to_value(a).unwrap()["action"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    actions.iter().map(tag).collect()
}

/// Applies a plan on a node without dependent-snapshot pools; every action must apply.
fn apply_all(local: &mut NodeLocal, actions: &[Action]) {
    for a in actions {
        local
            .apply(a, &BTreeSet::new())
            .unwrap_or_else(|e| panic!("{a:?}: {e}"));
    }
}

#[test]
fn projection_keeps_the_node_its_peers_and_nothing_else() {
    let mut t = base();
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n1", "storage_pool": "lvm"}));
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n2", "storage_pool": "lvm"}));
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r1", "node": "n3", "storage_pool": "lvm"}));
    let p = t.project("n1");
    assert_eq!(p.node, node("n1"));
    let rds: Vec<_> = p
        .state
        .resource_definitions
        .keys()
        .map(ToString::to_string)
        .collect();
    assert_eq!(rds, ["r0"]);
    let nodes: Vec<_> = p.state.nodes.keys().map(ToString::to_string).collect();
    assert_eq!(nodes, ["n1", "n2"]);
    // The local node keeps every pool; the peer only what its volumes of r0 use.
    let pools = |n: &str| -> Vec<String> {
        p.state.nodes[&node(n)]
            .storage_pools
            .keys()
            .map(ToString::to_string)
            .collect()
    };
    assert_eq!(pools("n1"), ["DfltDisklessStorPool", "lvm", "thin", "zfs"]);
    assert_eq!(pools("n2"), ["lvm"]);
    assert_eq!(p.state.resource_groups.len(), 1);
    assert!(t.c.state().for_node(&node("ghost")).is_none());
    // One serializable value.
    let text = serde_json::to_string(&p).unwrap();
    assert_eq!(serde_json::from_str::<NodeProjection>(&text).unwrap(), p);
}

#[test]
fn chains_over_the_projection_equal_chains_over_the_state() {
    let mut t = base();
    for (n, pool) in [("n1", "thin"), ("n2", "thin"), ("n3", "thin")] {
        t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": n, "storage_pool": pool}));
    }
    let set = |level: Value| json!({"override_props": level});
    t.must(json!({"cmd": "ctrl_props_modify", "props": set(json!({"DrbdOptions/Net/max-buffers": "9000"}))}));
    t.must(json!({"cmd": "node_modify", "name": "n2", "props": set(json!({"PrefNic": "default", "DrbdOptions/Disk/al-extents": "6007"}))}));
    t.must(json!({"cmd": "rsc_dfn_modify", "name": "r0", "props": set(json!({"DrbdOptions/Net/protocol": "A"}))}));
    t.must(json!({"cmd": "stor_pool_modify", "node": "n1", "name": "lvm", "props": set(json!({"DrbdOptions/SkipDisk": "true"}))}));
    let full = t.c.chains();
    let r0 = rsc("r0");
    for n in ["n1", "n2", "n3"] {
        let p = t.project(n);
        let part = crate::cluster::Chains::new(&p.state);
        let me = node(n);
        let flat = |pp: crate::props::PriorityProps<'_>| format!("{pp:?}");
        assert_eq!(
            flat(full.drbd_resource(&r0, &me)),
            flat(part.drbd_resource(&r0, &me))
        );
        assert_eq!(
            flat(full.drbd_volume(&r0, &me, 0)),
            flat(part.drbd_volume(&r0, &me, 0))
        );
        assert_eq!(
            flat(full.drbd_connection(&r0)),
            flat(part.drbd_connection(&r0))
        );
        assert_eq!(
            flat(full.stor_driver(&r0, &me, 0)),
            flat(part.stor_driver(&r0, &me, 0))
        );
        assert_eq!(
            flat(full.skip_disk(&r0, &me)),
            flat(part.skip_disk(&r0, &me))
        );
        assert_eq!(
            flat(full.rsc_dfn_policy(&r0)),
            flat(part.rsc_dfn_policy(&r0))
        );
        // The peers' PrefNic chains decide their addresses in this node's .res.
        for peer in ["n1", "n2", "n3"] {
            let peer = node(peer);
            assert_eq!(
                flat(full.pref_nic(&r0, &peer)),
                flat(part.pref_nic(&r0, &peer))
            );
        }
    }
}

#[test]
fn the_drbd_digest_follows_what_the_res_file_reads_and_nothing_else() {
    let mut t = base();
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n1", "storage_pool": "lvm"}));
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n2", "storage_pool": "lvm"}));
    let digest = |t: &T| t.project("n1").drbd_digest(&rsc("r0"));
    let before = digest(&t);
    // Unrelated: a label, another definition's resource, a pool r0 does not use.
    t.must(
        json!({"cmd": "node_modify", "name": "n2", "props": {"override_props": {"Aux/rack": "7"}}}),
    );
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r1", "node": "n2", "storage_pool": "thin"}));
    t.must(
        json!({"cmd": "stor_pool_modify", "node": "n2", "name": "thin",
        "props": {"override_props": {"PrefNic": "default"}}}),
    );
    assert_eq!(digest(&t), before);
    // What the file reads: a peer's DRBD option, a peer's pool's PrefNic.
    t.must(json!({"cmd": "node_modify", "name": "n2",
        "props": {"override_props": {"DrbdOptions/Net/max-buffers": "9000"}}}));
    let after_option = digest(&t);
    assert_ne!(after_option, before);
    t.must(
        json!({"cmd": "stor_pool_modify", "node": "n2", "name": "lvm",
        "props": {"override_props": {"PrefNic": "default"}}}),
    );
    assert_ne!(digest(&t), after_option);
}

#[test]
fn a_new_diskful_resource_is_created_in_order_and_then_nothing_is_left_to_do() {
    let mut t = base();
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n1", "storage_pool": "lvm"}));
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n2", "storage_pool": "lvm"}));
    let p = t.project("n1");
    let actions = plan(&p, &NodeLocal::default());
    assert_eq!(
        names(&actions),
        [
            "create_volume",
            "write_res_file",
            "create_metadata",
            "adjust"
        ]
    );
    // 100 MiB net + DRBD's metadata for the default 7 peer slots: 24 KiB of bitmap, the 32 KiB
    // activity log, the 4 KiB superblock (what drbdmeta lays out on such a device).
    let Action::CreateVolume { size, .. } = &actions[0] else {
        panic!("{actions:?}")
    };
    assert_eq!(
        t.c.state().resource_definitions[&rsc("r0")].drbd.peer_slots,
        7
    );
    assert_eq!(size.0, 102_400 + 60);
    let mut local = NodeLocal::default();
    apply_all(&mut local, &actions);
    assert_eq!(plan(&p, &local), []);
    assert_eq!(local, desired(&p).local);
}

#[test]
fn changes_plan_only_what_they_change() {
    let mut t = base();
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n1", "storage_pool": "lvm"}));
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n2", "storage_pool": "lvm"}));
    let mut local = NodeLocal::default();
    let first = plan(&t.project("n1"), &local);
    apply_all(&mut local, &first);
    // Growth of a running resource: the configuration, then the volume, then DRBD's resize.
    t.must(json!({"cmd": "vlm_dfn_resize", "rsc_dfn": "r0", "number": 0, "size": 204_800}));
    let actions = plan(&t.project("n1"), &local);
    assert_eq!(
        names(&actions),
        ["write_res_file", "adjust", "resize_volume", "drbd_resize"]
    );
    apply_all(&mut local, &actions);
    // A peer on another node changes the configuration only.
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n3", "diskless": true}));
    let actions = plan(&t.project("n1"), &local);
    assert_eq!(names(&actions), ["write_res_file", "adjust"]);
    apply_all(&mut local, &actions);
    // Deletion: down, file, volume; the entry is gone.
    t.must(json!({"cmd": "rsc_delete", "rsc_dfn": "r0", "node": "n1"}));
    let actions = plan(&t.project("n1"), &local);
    assert_eq!(
        names(&actions),
        ["down", "remove_res_file", "delete_volume"]
    );
    apply_all(&mut local, &actions);
    assert_eq!(local, NodeLocal::default());
}

/// r0 on n1's `pool`, deployed (`local` holds it), then its snapshot s1 restored into the
/// new definition r9.
fn restored_r9(pool: &str) -> (T, NodeLocal) {
    let mut t = base();
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n1", "storage_pool": pool}));
    let mut local = NodeLocal::default();
    let first = plan(&t.project("n1"), &local);
    apply_all(&mut local, &first);
    // Only a connected satellite takes a snapshot.
    t.must(json!({"cmd": "report_node", "node": "n1", "connection": "ONLINE"}));
    t.must(json!({"cmd": "snapshot_create", "rsc_dfn": "r0", "name": "s1"}));
    t.must(json!({"cmd": "snapshot_restore", "rsc_dfn": "r0", "snapshot": "s1", "target": "r9"}));
    (t, local)
}

#[test]
fn snapshots_and_restores_on_a_thin_pool() {
    let (mut t, mut local) = restored_r9("thin");
    let p = t.project("n1");
    let actions = plan(&p, &local);
    let pos = |f: &dyn Fn(&Action) -> bool| actions.iter().position(f).expect("planned");
    let snap = pos(&|a| matches!(a, Action::CreateSnapshot { .. }));
    let restore = pos(&|a| matches!(a, Action::RestoreVolume { rsc, .. } if rsc.as_str() == "r9"));
    assert!(snap < restore, "{actions:?}");
    apply_all(&mut local, &actions);
    assert_eq!(plan(&p, &local), []);
    // Deleting the snapshot removes it and nothing else.
    t.must(json!({"cmd": "snapshot_delete", "rsc_dfn": "r0", "name": "s1"}));
    let actions = plan(&t.project("n1"), &local);
    assert!(
        matches!(actions.as_slice(), [Action::DeleteSnapshot { snapshot, .. }] if snapshot.as_str() == "s1"),
        "{actions:?}"
    );
}

#[test]
fn zfs_snapshots_a_clone_hangs_on_are_kept() {
    let (mut t, mut local) = restored_r9("zfs");
    let p = t.project("n1");
    let dependent = desired(&p).dependent;
    assert!(dependent.iter().any(|d| d.as_str() == "zfs"));
    let actions = plan(&p, &local);
    assert!(
        actions
            .iter()
            .any(|a| matches!(a, Action::CreateSnapshot { .. })),
        "{actions:?}"
    );
    for a in &actions {
        local
            .apply(a, &dependent)
            .unwrap_or_else(|e| panic!("{a:?}: {e}"));
    }
    // r9 is a ZFS clone of s1: deleting the snapshot definition leaves the snapshot in place.
    t.must(json!({"cmd": "snapshot_delete", "rsc_dfn": "r0", "name": "s1"}));
    let actions = plan(&t.project("n1"), &local);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::DeleteSnapshot { .. })),
        "{actions:?}"
    );
    // The model refuses to delete a ZFS volume under its snapshot.
    let under = Action::DeleteVolume {
        rsc: rsc("r0"),
        vlm: 0,
        pool: StorPoolName::new("zfs").unwrap(),
    };
    assert!(matches!(
        local.apply(&under, &dependent),
        Err(ApplyError::HasSnapshots { .. })
    ));
}

#[test]
fn a_restore_whose_snapshot_is_gone_fails_visibly_instead_of_creating_an_empty_volume() {
    let (t, _) = restored_r9("thin");
    let p = t.project("n1");
    // The source volume is gone from the node (and so is the snapshot): nothing to restore from.
    let actions = plan(&p, &NodeLocal::default());
    let restore = actions
        .iter()
        .find(|a| matches!(a, Action::RestoreVolume { .. }))
        .expect("still planned");
    let mut local = NodeLocal::default();
    assert!(matches!(
        local.apply(restore, &BTreeSet::new()),
        Err(ApplyError::NoSnapshot { .. })
    ));
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::CreateVolume { rsc, .. } if rsc.as_str() == "r9"))
    );
}

#[test]
fn inactive_resources_keep_their_volumes_and_go_down() {
    let mut t = base();
    t.must(json!({"cmd": "rsc_create", "rsc_dfn": "r0", "node": "n1", "storage_pool": "lvm"}));
    let mut local = NodeLocal::default();
    let first = plan(&t.project("n1"), &local);
    apply_all(&mut local, &first);
    let mut state = t.c.state().clone();
    state
        .resource_definitions
        .get_mut(&rsc("r0"))
        .unwrap()
        .resources
        .get_mut(&node("n1"))
        .unwrap()
        .flags
        .insert(RscFlags::INACTIVE);
    let p = state.for_node(&node("n1")).unwrap();
    let actions = plan(&p, &local);
    // Down; the file is rewritten (the flags are part of its inputs), nothing is adjusted.
    assert!(
        matches!(
            actions.as_slice(),
            [Action::Down { .. }, Action::WriteResFile { .. }]
        ),
        "{actions:?}"
    );
    apply_all(&mut local, &actions);
    assert_eq!(local.resources[&rsc("r0")].volumes.len(), 1);
    assert_eq!(plan(&p, &local), []);
}

#[test]
fn md_size_follows_drbdmeta() {
    // (device KiB, peers) → metadata KiB, as `drbdmeta create-md` lays it out (read back with
    // `dump-md` for these sizes on a loop device; see linstor-drbd's real_drbdmeta tests).
    let table: &[(u64, u8, u64)] = &[
        (102_464, 7, 60),
        (131_112, 1, 44),
        (131_136, 7, 68),
        (1_048_836, 7, 264),
    ];
    for &(device, peers, md) in table {
        assert_eq!(
            drbd_md_size(SizeKib(device), peers, 1, 32).0,
            md,
            "{device} KiB, {peers} peers"
        );
    }
    assert_eq!(drbd_md_size(SizeKib(4), 1, 4, 64).0, 4 + 256 + 4);
}

proptest! {
    /// The gross size is the smallest that fits: its data area holds `net`, 1 KiB less does not.
    #[test]
    fn gross_size_is_the_smallest_that_fits(net in 1u64..(1 << 34), peers in 1u8..32) {
        let gross = drbd_gross_size_with(SizeKib(net), peers, 1, 32).0;
        let usable = |d: u64| d.saturating_sub(drbd_md_size(SizeKib(d), peers, 1, 32).0);
        prop_assert!(usable(gross) >= net);
        prop_assert!(usable(gross - 1) < net, "{gross} is not the smallest");
    }
}

// ---- proptest: random clusters, random observed states ----

/// One random command over a small universe (many are refused; that is fine).
fn arb_cmd() -> impl Strategy<Value = Value> {
    let n = prop::sample::select(vec!["n1", "n2", "n3"]);
    let r = prop::sample::select(vec!["r0", "r1", "r2", "r3"]);
    let pool = prop::sample::select(vec!["lvm", "thin", "thin", "zfs"]);
    let snap = prop::sample::select(vec!["s1", "s2"]);
    prop_oneof![
        6 => (r.clone(), prop_oneof![Just("n1"), n.clone()], pool).prop_map(|(r, n, p)| {
            json!({"cmd": "rsc_create", "rsc_dfn": r, "node": n, "storage_pool": p})
        }),
        1 => (r.clone(), n.clone()).prop_map(|(r, n)| {
            json!({"cmd": "rsc_create", "rsc_dfn": r, "node": n, "diskless": true})
        }),
        1 => r.clone().prop_map(|r| json!({"cmd": "rsc_dfn_create", "name": r})),
        1 => (r.clone(), n.clone()).prop_map(|(r, n)| json!({"cmd": "rsc_delete", "rsc_dfn": r, "node": n})),
        1 => (r.clone(), n.clone()).prop_map(|(r, n)| json!({"cmd": "resource_deleted", "rsc_dfn": r, "node": n})),
        1 => (r.clone(), 1u64..4).prop_map(|(r, m)| {
            json!({"cmd": "vlm_dfn_resize", "rsc_dfn": r, "number": 0, "size": 102_400 * m})
        }),
        1 => r.clone().prop_map(|r| json!({"cmd": "vlm_dfn_create", "rsc_dfn": r, "size": 51_200})),
        2 => (r.clone(), snap.clone()).prop_map(|(r, s)| json!({"cmd": "snapshot_create", "rsc_dfn": r, "name": s})),
        1 => (r.clone(), snap.clone()).prop_map(|(r, s)| json!({"cmd": "snapshot_delete", "rsc_dfn": r, "name": s})),
        2 => (r, snap).prop_map(|(r, s)| {
            json!({"cmd": "snapshot_restore", "rsc_dfn": r, "snapshot": s, "target": "r9"})
        }),
        1 => n.clone().prop_map(|n| json!({"cmd": "node_modify", "name": n, "props": {"override_props": {"Aux/x": "1"}}})),
        // Connected satellites take snapshots (and hold tiebreakers).
        2 => (n, prop::bool::ANY).prop_map(|(n, up)| {
            json!({"cmd": "report_node", "node": n, "connection": if up { "ONLINE" } else { "OFFLINE" }})
        }),
    ]
}

/// A random observed state: some of what is wanted (sizes off, digests stale, metadata
/// missing), plus leftovers of resources and snapshots nobody wants.
fn arb_observed(want: NodeLocal) -> impl Strategy<Value = NodeLocal> {
    let n = want.resources.len();
    (
        prop::collection::vec((any::<u8>(), any::<u8>(), any::<u8>()), n),
        prop::collection::vec(
            (
                prop::sample::select(vec!["r0", "r1", "r2", "r9", "old"]),
                prop::sample::select(vec!["lvm", "thin", "zfs"]),
                0u16..3,
                1u64..400_000,
                any::<bool>(),
                any::<bool>(),
            ),
            0..4,
        ),
    )
        .prop_map(move |(mutations, extras)| {
            let mut o = NodeLocal::default();
            for ((name, w), (keep, size, drbd)) in want.resources.iter().zip(mutations) {
                let mut l = LocalRsc::default();
                for (nr, copies) in &w.volumes {
                    if keep % 3 != 0 {
                        let c = copies.iter().map(|(pool, want)| {
                            let size = match size % 3 {
                                0 => SizeKib(want.0 / 2 + 1),
                                1 => *want,
                                _ => SizeKib(want.0 + 4096),
                            };
                            (pool.clone(), size)
                        });
                        l.volumes.insert(*nr, c.collect());
                    }
                }
                if keep % 2 == 0 {
                    l.snapshots = w.snapshots.clone();
                }
                if let Some(d) = &w.drbd {
                    l.drbd = match drbd % 4 {
                        0 => None,
                        1 => Some(d.clone()),
                        2 => Some(LocalDrbd {
                            res_file: Some(1),
                            up: Some(1),
                            metadata: BTreeMap::new(),
                        }),
                        _ => Some(LocalDrbd {
                            up: None,
                            ..d.clone()
                        }),
                    };
                    if let Some(d) = l.drbd.as_mut() {
                        d.metadata.retain(|nr, pool| {
                            l.volumes.get(nr).is_some_and(|c| c.contains_key(pool))
                        });
                    }
                }
                if !l.is_empty() {
                    o.resources.insert(name.clone(), l);
                }
            }
            for (r, pool, nr, size, snap, drbd) in extras {
                let l = o.resources.entry(rsc(r)).or_default();
                let pool = StorPoolName::new(pool).unwrap();
                // A copy of its own, or a second copy of a volume in another pool.
                l.volumes
                    .entry(nr)
                    .or_default()
                    .entry(pool.clone())
                    .or_insert(SizeKib(size));
                if snap {
                    l.snapshots
                        .entry(SnapshotName::new("old").unwrap())
                        .or_default()
                        .entry(nr)
                        .or_default()
                        .insert(pool);
                }
                if drbd {
                    let d = l.drbd.get_or_insert_default();
                    d.res_file = Some(7);
                    d.up = Some(7);
                }
            }
            o
        })
}

/// A random cluster projected for n1, with the wanted local objects.
fn arb_projection() -> impl Strategy<Value = (NodeProjection, Desired)> {
    prop::collection::vec(arb_cmd(), 0..40).prop_map(|cmds| {
        let mut t = base();
        for cmd in &cmds {
            t.run(cmd);
        }
        let p = t.project("n1");
        let want = desired(&p);
        (p, want)
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

    /// plan → apply → plan again: what is left equals what is wanted and the second plan is
    /// empty, but for what the plan may rightly leave (see [`Leftovers`]); resources nobody
    /// wants are gone. Along the way the order is checked: metadata before `adjust`, no
    /// deletion under a running DRBD before its `adjust` or `down`, growth of DRBD volumes only
    /// while they run.
    #[test]
    fn plan_converges_in_one_apply(
        (p, want, observed) in arb_projection().prop_flat_map(|(p, want)| {
            let local = want.local.clone();
            (Just(p), Just(want), arb_observed(local))
        })
    ) {
        let actions = plan(&p, &observed);
        let mut local = observed.clone();
        let mut blocked: BTreeSet<ResourceName> = BTreeSet::new();
        let mut reconfigured: BTreeSet<ResourceName> = BTreeSet::new();
        for a in &actions {
            let r = a.rsc();
            if blocked.contains(r) {
                continue;
            }
            if let Err(why) = check_order(a, &want, &observed, &local, &reconfigured) {
                prop_assert!(false, "{why}: {a:?}\nplan: {actions:?}");
            }
            if matches!(a, Action::Adjust { .. } | Action::Down { .. }) {
                reconfigured.insert(r.clone());
            }
            match local.apply(a, &want.dependent) {
                Ok(()) => {}
                Err(ApplyError::NoSnapshot { .. }) if matches!(a, Action::RestoreVolume { .. }) => {
                    blocked.insert(r.clone());
                }
                Err(e) => prop_assert!(false, "{a:?} failed: {e}\nplan: {actions:?}"),
            }
        }
        let left = Leftovers { want: &want, observed: &observed, blocked: &blocked };
        let again = plan(&p, &local);
        prop_assert!(
            again.iter().all(|a| left.may_plan_again(a)),
            "second plan not empty: {again:?}\nfirst: {actions:?}"
        );
        for (name, l) in &local.resources {
            if let Err(why) = left.check(name, l) {
                prop_assert!(false, "{why}\nplan: {actions:?}");
            }
        }
    }

    /// Random projections round-trip through JSON, and their DRBD digests are stable (chain
    /// equality with the whole state is `chains_over_the_projection_equal_chains_over_the_state`).
    #[test]
    fn projections_are_serializable_and_stable((p, _want) in arb_projection()) {
        let text = serde_json::to_string(&p).unwrap();
        let back: NodeProjection = serde_json::from_str(&text).unwrap();
        prop_assert_eq!(&back, &p);
        for rd in back.state.resource_definitions.keys() {
            prop_assert_eq!(back.drbd_digest(rd), p.drbd_digest(rd));
        }
    }
}

/// What the order of a plan must respect (see `plan_converges_in_one_apply`).
fn check_order(
    a: &Action,
    want: &Desired,
    observed: &NodeLocal,
    local: &NodeLocal,
    reconfigured: &BTreeSet<ResourceName>,
) -> Result<(), String> {
    let r = a.rsc();
    let now = local
        .resources
        .get(r)
        .and_then(|l| l.drbd.clone())
        .unwrap_or_default();
    let was_up = observed
        .resources
        .get(r)
        .and_then(|l| l.drbd.as_ref())
        .is_some_and(|d| d.up.is_some());
    let wanted = want.local.resources.get(r);
    match a {
        Action::Adjust { .. } => {
            let vols = wanted.map(|w| w.volumes.clone()).unwrap_or_default();
            let ok = vols
                .iter()
                .all(|(nr, c)| now.metadata.get(nr).is_some_and(|p| c.contains_key(p)));
            ok.then_some(())
                .ok_or_else(|| "adjust before metadata".to_owned())
        }
        Action::DeleteVolume { vlm, pool, .. } if was_up && !reconfigured.contains(r) => {
            // DRBD uses the copy that carries its metadata.
            let md = observed
                .resources
                .get(r)
                .and_then(|l| l.drbd.as_ref()?.metadata.get(vlm));
            match md == Some(pool) {
                true => {
                    Err("a volume deleted under a running DRBD before adjust or down".to_owned())
                }
                false => Ok(()),
            }
        }
        Action::ResizeVolume { .. } if wanted.is_some_and(|w| w.drbd.is_some()) => {
            let running = now.up.is_some() && now.up == wanted.and_then(|w| w.drbd.as_ref()?.up);
            running
                .then_some(())
                .ok_or_else(|| "a DRBD volume grown while down".to_owned())
        }
        _ => Ok(()),
    }
}

/// What a plan may rightly leave different from what is wanted after one pass.
struct Leftovers<'a> {
    want: &'a Desired,
    observed: &'a NodeLocal,
    blocked: &'a BTreeSet<ResourceName>,
}

impl Leftovers<'_> {
    /// A second plan may retry a blocked restore, and take snapshots of volumes the first
    /// plan created (a snapshot is taken only of a volume that exists when planning).
    fn may_plan_again(&self, a: &Action) -> bool {
        let existed = |r: &ResourceName, nr: u16, pool: &StorPoolName| {
            self.observed
                .resources
                .get(r)
                .is_some_and(|l| l.has_volume(nr, pool))
        };
        self.blocked.contains(a.rsc())
            || matches!(a, Action::CreateSnapshot { rsc, vlm, pool, .. } if !existed(rsc, *vlm, pool))
    }

    /// What is left of one resource: wanted objects; unwanted volumes only where kept on
    /// purpose (unresolved, or a dependent pool's volume with snapshots); DRBD volumes of
    /// a resource that does not run at their old size.
    fn check(&self, name: &ResourceName, l: &LocalRsc) -> Result<(), String> {
        if self.blocked.contains(name) {
            return Ok(());
        }
        let empty = LocalRsc::default();
        let w = self.want.local.resources.get(name).unwrap_or(&empty);
        if l.drbd != w.drbd {
            return Err(format!("'{name}': DRBD {:?}, wanted {:?}", l.drbd, w.drbd));
        }
        let down = w.drbd.as_ref().is_some_and(|d| d.up.is_none());
        for (nr, copies) in &l.volumes {
            for (pool, size) in copies {
                let kept = self.want.keep.contains(&(name.clone(), *nr))
                    || (self.want.dependent.contains(pool)
                        && l.snapshots.keys().any(|s| l.has_snapshot(s, *nr, pool)));
                match w.volumes.get(nr).and_then(|c| c.get(pool)) {
                    Some(want) if size.0 < want.0 && !down => {
                        return Err(format!("'{name}' volume {nr} is {size}, wanted {want}"));
                    }
                    Some(_) => {}
                    None if kept => {}
                    None => return Err(format!("'{name}' volume {nr} in '{pool}' is not wanted")),
                }
            }
        }
        for (nr, c) in &w.volumes {
            if !c.keys().all(|p| l.has_volume(*nr, p)) {
                return Err(format!("'{name}' volume {nr} is missing"));
            }
        }
        // Snapshots: never one that is not wanted (unless a clone hangs on it).
        for (s, vols) in &l.snapshots {
            for (nr, pool) in vols
                .iter()
                .flat_map(|(nr, ps)| ps.iter().map(move |p| (nr, p)))
            {
                let wanted = w.has_snapshot(s, *nr, pool);
                if !wanted && !self.want.dependent.contains(pool) {
                    return Err(format!(
                        "'{name}' snapshot {s} of volume {nr} is not wanted"
                    ));
                }
            }
        }
        Ok(())
    }
}

#[test]
fn a_replica_is_gone_without_volumes_and_drbd_state_though_snapshots_stay() {
    let snap: SnapshotName = "s1".parse().unwrap();
    let pool: StorPoolName = "thin".parse().unwrap();
    let only_snapshots = LocalRsc {
        snapshots: BTreeMap::from([(snap, BTreeMap::from([(0, BTreeSet::from([pool.clone()]))]))]),
        ..LocalRsc::default()
    };
    let with_volume = LocalRsc {
        volumes: BTreeMap::from([(0, BTreeMap::from([(pool, SizeKib(8))]))]),
        ..LocalRsc::default()
    };
    let with_drbd = LocalRsc {
        drbd: Some(LocalDrbd::default()),
        ..LocalRsc::default()
    };
    let cases = [
        ("nothing", LocalRsc::default(), true),
        ("only snapshots", only_snapshots, true),
        ("a volume", with_volume, false),
        ("DRBD state", with_drbd, false),
    ];
    for (name, local, gone) in cases {
        assert_eq!(local.replica_gone(), gone, "{name}");
    }
}
