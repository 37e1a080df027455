//! Engine tests: one table per select-filter field through one `check` helper, refusal
//! snapshots, and property tests (validity, completeness against brute force, determinism,
//! capacity).

use proptest::prelude::{Strategy as PStrategy, *};

use super::*;
use crate::model::{NodeFlags, ProviderKind, RscFlags};
use crate::placement::sim::{GIB, apply_placement};
use crate::placement::testutil::*;

/// Parses a compact cluster description, one object per line:
///
/// ```text
/// n1 Aux/zone=a offline : data=LVM:100/100 thin=LVM_THIN:50/100
/// rd r0 10 n1=data            # resource definition (GiB) with diskful replicas
/// dl r0 n3                    # diskless peer;  tb r0 n3: tiebreaker
/// inuse r0 n1                 # the satellite reports r0 in use (Primary) on n1
/// ctrl Key=Value
/// ```
///
/// Node words: `k=v` (property), `offline`, `evacuate`, `delete`, `nocaps`, `nolayers`,
/// `drbd=9.0.18` (reported DRBD version; `drbd=-`: none).
/// Pools: `name=KIND:free/total` (GiB), `name=KIND:?` (unreported), `name=KIND:f/t:k=v` (prop).
pub(crate) fn cluster(spec: &str) -> crate::state::ClusterState {
    let mut b = Builder::new();
    for line in spec.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let words: Vec<&str> = line.split_whitespace().collect();
        match words[0] {
            "ctrl" => {
                for w in &words[1..] {
                    let (k, v) = w.split_once('=').unwrap();
                    b.ctrl_prop(k, v);
                }
            }
            "rd" => {
                b.rd(words[1], words[2].parse::<u64>().unwrap() * GIB);
                for w in &words[3..] {
                    let (n, p) = w.split_once('=').unwrap();
                    if n.contains('/') {
                        b.rd_prop(words[1], n, p);
                    } else {
                        b.replica(words[1], n, p);
                    }
                }
            }
            "inuse" => {
                let state = crate::model::RscObserved {
                    in_use: true,
                    up_to_date: true,
                    established: true,
                    ..Default::default()
                };
                b.observed_rsc(words[1], words[2], state);
            }
            "dl" => {
                b.resource(words[1], words[2], RscFlags::DRBD_DISKLESS);
            }
            "tb" => {
                b.resource(words[1], words[2], RscFlags::TIE_BREAKER);
            }
            "del" => {
                let mut f = RscFlags::DELETE;
                f.insert(RscFlags::DRBD_DISKLESS);
                b.resource(words[1], words[2], f);
            }
            node => {
                b.node(node);
                let mut pools = false;
                for w in &words[1..] {
                    if *w == ":" {
                        pools = true;
                        continue;
                    }
                    if pools {
                        let (pname, rest) = w.split_once('=').unwrap();
                        let mut parts = rest.split(':');
                        let kind = ProviderKind::parse(parts.next().unwrap()).unwrap();
                        let cap = parts.next().unwrap();
                        if cap == "?" {
                            b.pool_unreported(node, pname, kind);
                        } else {
                            let (f, t) = cap.split_once('/').unwrap();
                            b.pool(node, pname, kind, f.parse().unwrap(), t.parse().unwrap());
                        }
                        for kv in parts {
                            let (k, v) = kv.split_once('=').unwrap();
                            b.pool_prop(node, pname, k, v);
                        }
                        continue;
                    }
                    match *w {
                        "offline" => {
                            b.offline(node);
                        }
                        "evacuate" => {
                            b.node_flags(node, NodeFlags::EVACUATE);
                        }
                        "delete" => {
                            b.node_flags(node, NodeFlags::DELETE);
                        }
                        "nocaps" => {
                            b.layers(node, None);
                        }
                        "nolayers" => {
                            b.layers(node, Some(vec![crate::model::LayerKind::STORAGE]));
                        }
                        kv if kv.starts_with("drbd=") => {
                            let v: Vec<u16> =
                                kv[5..].split('.').filter_map(|x| x.parse().ok()).collect();
                            b.drbd_version(node, (v.len() == 3).then(|| (v[0], v[1], v[2])));
                        }
                        kv => {
                            let (k, v) = kv.split_once('=').unwrap();
                            b.node_prop(node, k, v);
                        }
                    }
                }
            }
        }
    }
    b.build()
}

fn request(st: &crate::state::ClusterState, filter: &str) -> PlacementRequest {
    let filter: crate::model::SelectFilter = serde_json::from_str(filter).unwrap();
    let r = rn("r0");
    let size = st
        .resource_definitions
        .get(&r)
        .map_or(SizeKib(10 * GIB), |rd| rd.total_size());
    PlacementRequest::new(r, filter, size)
}

fn render(res: &Result<Placement, Refusal>) -> String {
    match res {
        Ok(p) if p.already_satisfied => "already".into(),
        Ok(p) => {
            let mut df: Vec<String> = p.diskful.iter().map(|(n, s)| format!("{n}:{s}")).collect();
            df.sort();
            let mut dl: Vec<String> = p.diskless.iter().map(|(n, _)| format!("{n}")).collect();
            dl.sort();
            let mut s = df.join(" ");
            if !dl.is_empty() {
                s.push_str(&format!(" | dl {}", dl.join(" ")));
            }
            s.trim().to_string()
        }
        Err(r) => format!("ERR {} {}", r.code(), r.cause_text()),
    }
}

/// Places `r0` with `filter` (JSON) on `spec`. `expect`: the chosen `node:pool` set (sorted), or
/// `ERR <code> …` matched as a prefix-free substring of the rendered refusal.
fn check(spec: &str, filter: &str, expect: &str) {
    let st = cluster(spec);
    let req = request(&st, filter);
    let got = render(&autoplace(&st, &req));
    if let Some(e) = expect.strip_prefix("ERR ") {
        let (code, text) = e.split_once(' ').unwrap();
        assert!(
            got.starts_with(&format!("ERR {code} ")) && got.contains(text),
            "filter {filter}\n got: {got}\nwant: {expect}"
        );
    } else {
        assert_eq!(got, expect, "filter {filter}");
    }
}

const FOUR: &str = "
    n1 Aux/zone=a Aux/rack=r1 : data=LVM:100/100
    n2 Aux/zone=a Aux/rack=r2 : data=LVM:90/100
    n3 Aux/zone=b Aux/rack=r3 : data=LVM:80/100
    n4 Aux/zone=c Aux/rack=r4 : data=LVM:70/100
";

#[test]
fn place_count_and_additional() {
    check(FOUR, r#"{"place_count":2}"#, "n1:data n2:data");
    check(
        FOUR,
        r#"{"place_count":4}"#,
        "n1:data n2:data n3:data n4:data",
    );
    check(FOUR, r#"{"place_count":5}"#, "ERR 996 only 4 node(s)");
    let with = format!("{FOUR}\nrd r0 10 n1=data");
    check(&with, r#"{"place_count":2}"#, "n2:data");
    check(&with, r#"{"place_count":1}"#, "already");
    check(&with, r#"{"additional_place_count":2}"#, "n2:data n3:data");
    let two = format!("{FOUR}\nrd r0 10 n1=data n2=data");
    check(&two, r#"{"place_count":1}"#, "ERR 219 lower than the 2");
    check(FOUR, r#"{}"#, "ERR 219 neither");
}

#[test]
fn node_name_list() {
    check(
        FOUR,
        r#"{"place_count":2,"node_name_list":["n3","N4"]}"#,
        "n3:data n4:data",
    );
    check(
        FOUR,
        r#"{"place_count":3,"node_name_list":["n3","n4"]}"#,
        "ERR 996 node not in the node name list: 2 pool(s) on 2 node(s)",
    );
}

#[test]
fn storage_pool_lists() {
    let spec = "
        n1 : fast=LVM:10/100 slow=LVM:100/100
        n2 : fast=LVM:10/100 slow=LVM:100/100
    ";
    check(spec, r#"{"place_count":2}"#, "n1:slow n2:slow");
    check(
        spec,
        r#"{"place_count":2,"storage_pool":"fast"}"#,
        "n1:fast n2:fast",
    );
    check(
        spec,
        r#"{"place_count":2,"storage_pool_list":["FAST"]}"#,
        "n1:fast n2:fast",
    );
    check(
        spec,
        r#"{"place_count":2,"storage_pool_list":["nope"]}"#,
        "ERR 996 pool not in the storage pool list: 4 pool(s)",
    );
    // The list wins over the legacy single pool.
    check(
        spec,
        r#"{"place_count":2,"storage_pool":"fast","storage_pool_list":["slow"]}"#,
        "n1:slow n2:slow",
    );
    // Diskless list.
    let dl = "
        n1 : data=LVM:100/100 dl2=DISKLESS:0/0
        n2 : data=LVM:100/100
    ";
    check(
        dl,
        r#"{"place_count":1,"diskless_type":"DRBD_DISKLESS","storage_pool_diskless_list":["dl2"]}"#,
        "| dl n1",
    );
    check(
        dl,
        r#"{"place_count":2,"diskless_type":"DRBD_DISKLESS","storage_pool_diskless_list":["dl2"]}"#,
        "ERR 996 pool not in the storage pool list: 2 pool(s) on 2 node(s)",
    );
}

#[test]
fn not_place_with() {
    let spec = format!("{FOUR}\nrd other 1 n1=data\nrd Other_x 1 n2=data");
    check(
        &spec,
        r#"{"place_count":2,"not_place_with_rsc":["other"]}"#,
        "n2:data n3:data",
    );
    check(
        &spec,
        r#"{"place_count":2,"not_place_with_rsc_regex":"^OTHER"}"#,
        "n3:data n4:data",
    );
    check(
        &spec,
        r#"{"place_count":2,"not_place_with_rsc_regex":"nomatch"}"#,
        "n1:data n2:data",
    );
    check(
        &spec,
        r#"{"place_count":3,"not_place_with_rsc_regex":"other"}"#,
        "ERR 996 matching not_place_with_rsc_regex: 2 pool(s)",
    );
    check(
        &spec,
        r#"{"place_count":2,"not_place_with_rsc_regex":"("}"#,
        "ERR 234 invalid",
    );
    // A resource being deleted does not block.
    let del = format!("{FOUR}\ndel other n1");
    check(
        &del,
        r#"{"place_count":2,"not_place_with_rsc":["other"]}"#,
        "n1:data n2:data",
    );
}

#[test]
fn replicas_on_same() {
    check(
        FOUR,
        r#"{"place_count":2,"replicas_on_same":["Aux/zone"]}"#,
        "n1:data n2:data",
    );
    check(
        FOUR,
        r#"{"place_count":1,"replicas_on_same":["Aux/zone=c"]}"#,
        "n4:data",
    );
    check(
        FOUR,
        r#"{"place_count":3,"replicas_on_same":["Aux/zone"]}"#,
        "ERR 996 the largest group (Aux/zone=a) has only 2",
    );
    // Seeded by an existing replica.
    let seeded = format!("{FOUR}\nrd r0 10 n3=data");
    check(
        &seeded,
        r#"{"place_count":2,"replicas_on_same":["Aux/zone"]}"#,
        "ERR 996 replicas_on_same value missing or different: 3 pool(s)",
    );
    // A node without the key never qualifies.
    let unl =
        "n1 Aux/zone=a : data=LVM:10/100\n n2 : data=LVM:100/100\n n3 Aux/zone=a : data=LVM:10/100";
    check(
        unl,
        r#"{"place_count":2,"replicas_on_same":["Aux/zone"]}"#,
        "n1:data n3:data",
    );
    // Existing replicas that disagree: undecidable.
    let bad = format!("{FOUR}\nrd r0 10 n1=data n3=data");
    check(
        &bad,
        r#"{"place_count":3,"replicas_on_same":["Aux/zone"]}"#,
        "ERR 985 disagree",
    );
}

#[test]
fn replicas_on_different() {
    check(
        FOUR,
        r#"{"place_count":3,"replicas_on_different":["Aux/zone"]}"#,
        "n1:data n3:data n4:data",
    );
    check(
        FOUR,
        r#"{"place_count":2,"replicas_on_different":["Aux/zone=a"]}"#,
        "n3:data n4:data",
    );
    check(
        FOUR,
        r#"{"place_count":4,"replicas_on_different":["Aux/zone"]}"#,
        "ERR 996 replicas_on_different 'Aux/zone' (at most 1 per value): the candidates span 3 value(s) (a, b, c), room for only 3",
    );
    let seeded = format!("{FOUR}\nrd r0 10 n2=data");
    check(
        &seeded,
        r#"{"place_count":3,"replicas_on_different":["Aux/zone"]}"#,
        "n3:data n4:data",
    );
    // Unlabeled nodes are one group.
    let unl = "n1 : data=LVM:100/100\n n2 : data=LVM:100/100\n n3 Aux/zone=a : data=LVM:10/100";
    check(
        unl,
        r#"{"place_count":2,"replicas_on_different":["Aux/zone"]}"#,
        "n1:data n3:data",
    );
    // Nested keys (zone ⊃ rack) stay greedy-exact.
    check(
        FOUR,
        r#"{"place_count":3,"replicas_on_different":["Aux/zone","Aux/rack"]}"#,
        "n1:data n3:data n4:data",
    );
}

#[test]
fn x_replicas_on_different() {
    let six = "
        n1 Aux/zone=a : data=LVM:100/100
        n2 Aux/zone=a : data=LVM:99/100
        n3 Aux/zone=b : data=LVM:98/100
        n4 Aux/zone=c : data=LVM:97/100
        n5 Aux/zone=b : data=LVM:10/100
        n6 Aux/zone=c : data=LVM:10/100
    ";
    // 2 + 1, never 1 + 1 + 1.
    check(
        six,
        r#"{"place_count":3,"x_replicas_on_different_map":{"Aux/zone":2}}"#,
        "n1:data n2:data n3:data",
    );
    check(
        six,
        r#"{"place_count":4,"x_replicas_on_different_map":{"Aux/zone":2}}"#,
        "n1:data n2:data n3:data n5:data",
    );
    check(
        six,
        r#"{"place_count":2,"replicas_on_different":["Aux/zone"],"x_replicas_on_different_map":{"Aux/zone":1}}"#,
        "n1:data n3:data",
    );
    // Seeded: zone a already holds 1 of 2 → fill it rather than open a second partial group.
    let seeded = format!("{six}\nrd r0 10 n3=data");
    check(
        &seeded,
        r#"{"place_count":3,"x_replicas_on_different_map":{"Aux/zone":2}}"#,
        "n1:data n2:data",
    );
    // Impossible: every zone has one node, x = 2 and 3 replicas would leave 3 partial groups.
    let one_each = "n1 Aux/zone=a : data=LVM:100/100\n n2 Aux/zone=b : data=LVM:100/100\n n3 Aux/zone=c : data=LVM:100/100";
    check(
        one_each,
        r#"{"place_count":3,"x_replicas_on_different_map":{"Aux/zone":2}}"#,
        "ERR 996 at most one partially filled group",
    );
}

#[test]
fn layers_and_providers() {
    let spec = "
        n1 : data=LVM:100/100
        n2 nolayers : data=LVM:100/100
        n3 nocaps : data=ZFS:100/100
    ";
    check(
        spec,
        r#"{"place_count":1,"layer_stack":["DRBD","STORAGE"]}"#,
        "n1:data",
    );
    check(
        spec,
        r#"{"place_count":2,"layer_stack":["DRBD","STORAGE"]}"#,
        "ERR 996 capabilities not reported yet: 1 pool(s) on 1 node(s)\n- node does not support the layer stack: 1 pool(s) on 1 node(s)",
    );
    check(
        spec,
        r#"{"place_count":1,"layer_stack":["STORAGE"]}"#,
        "n1:data",
    );
    check(
        spec,
        r#"{"place_count":1,"provider_list":["ZFS"]}"#,
        "n3:data",
    );
    check(
        spec,
        r#"{"place_count":2,"provider_list":["ZFS"]}"#,
        "ERR 996 provider kind not in the provider list: 2 pool(s)",
    );
}

#[test]
fn node_states_and_targets() {
    let spec = "
        n1 offline : data=LVM:100/100
        n2 evacuate : data=LVM:100/100
        n3 delete : data=LVM:100/100
        n4 AutoplaceTarget=false : data=LVM:100/100
        n5 : data=LVM:100/100:AutoplaceTarget=false
        n6 : data=LVM:10/100
    ";
    check(spec, r#"{"place_count":1}"#, "n6:data");
    check(
        spec,
        r#"{"place_count":2}"#,
        "ERR 996 node offline: 1 pool(s) on 1 node(s)",
    );
    let ctrl = "ctrl AutoplaceTarget=false\n n1 : data=LVM:100/100\n n2 AutoplaceTarget=true : data=LVM:100/100";
    check(ctrl, r#"{"place_count":1}"#, "n2:data");
}

#[test]
fn capacity_filters() {
    let spec = "
        ctrl AllowMixingStoragePoolDriver=true
        rd r0 50
        n1 : data=LVM:40/100
        n2 : data=LVM:60/100
        n3 : data=LVM:?
        n4 : thin=LVM_THIN:5/100
        n5 : thin=LVM_THIN:20/100
    ";
    check(spec, r#"{"place_count":2}"#, "n2:data n5:thin");
    check(
        spec,
        r#"{"place_count":3}"#,
        "ERR 996 not enough free space: 1 pool(s)",
    );
    check(
        spec,
        r#"{"place_count":3}"#,
        "ERR 996 thin pool below Autoplacer/MinThinFreeSpace: 1 pool(s)",
    );
    check(
        spec,
        r#"{"place_count":3}"#,
        "ERR 996 capacity not reported yet: 1 pool(s)",
    );
    // MinThinFreeSpace as an absolute size on the controller.
    let abs = format!("{spec}\nctrl Autoplacer/MinThinFreeSpace=1GiB");
    check(&abs, r#"{"place_count":3}"#, "n2:data n4:thin n5:thin");
}

#[test]
fn issue_494_total_ratio_caps() {
    // 100 GiB thin pool with 1990 GiB promised: free ratio 1000 alone does not help.
    let base = "
        rd big 1990 n1=thin
        rd r0 50
        n1 : thin=LVM_THIN:80/100:MaxFreeCapacityOversubscriptionRatio=1000
    ";
    check(
        base,
        r#"{"place_count":1}"#,
        "ERR 996 not enough free space: 1 pool(s)",
    );
    let st = cluster(base);
    let err = autoplace(&st, &request(&st, r#"{"place_count":1}"#)).unwrap_err();
    assert!(
        err.details_text()
            .unwrap()
            .contains("MaxTotalCapacityOversubscriptionRatio 20 (default)")
    );
    let fixed = format!("{base}\nctrl MaxTotalCapacityOversubscriptionRatio=1000");
    check(&fixed, r#"{"place_count":1}"#, "n1:thin");
    let other = "
        rd big 1990 n1=thin
        rd r0 50
        n1 : thin=LVM_THIN:80/100:MaxFreeCapacityOversubscriptionRatio=1000:MaxTotalCapacityOversubscriptionRatio=1000
        n2 : thin=LVM_THIN:80/100:MaxFreeCapacityOversubscriptionRatio=1000
    ";
    check(other, r#"{"place_count":1}"#, "n1:thin");
}

#[test]
fn provider_mixing_and_shared_space() {
    let spec = "
        rd r0 10 n1=lvm
        n1 : lvm=LVM:100/100
        n2 : zfs=ZFS:100/100
        n3 : lvm=LVM:50/100 zfs=ZFS:100/100
    ";
    check(spec, r#"{"place_count":2}"#, "n3:lvm");
    let allow = format!("{spec}\nctrl AllowMixingStoragePoolDriver=true");
    check(&allow, r#"{"place_count":3}"#, "n2:zfs n3:zfs");
    // Mixing also needs DRBD 9.1.18+ (< 9.2) or 9.2.7+: 9.2.3 on n2 keeps its ZFS out, 9.1.20
    // on n4 qualifies (the builder's nodes run 9.2.8).
    let versions = "
        rd r0 10 n1=lvm
        n1 : lvm=LVM:100/100
        n2 drbd=9.2.3 : zfs=ZFS:100/100
        n4 drbd=9.1.20 : zfs=ZFS:90/100
        ctrl AllowMixingStoragePoolDriver=true
    ";
    check(versions, r#"{"place_count":2}"#, "n4:zfs");
    check(
        versions,
        r#"{"place_count":3}"#,
        "ERR 996 provider kind does not mix",
    );
    // Never stricter than without mixing: LVM replicas on a qualifying and a non-qualifying
    // node, ZFS elsewhere in the cluster — more LVM still fits.
    let mixed_versions = "
        rd r0 10 n1=lvm n2=lvm
        n1 : lvm=LVM:100/100
        n2 drbd=9.2.3 : lvm=LVM:100/100
        n3 : lvm=LVM:100/100
        n9 : zfs=ZFS:100/100
        ctrl AllowMixingStoragePoolDriver=true
    ";
    check(mixed_versions, r#"{"place_count":3}"#, "n3:lvm");
    // One kind only: versions do not matter.
    let same = "rd r0 10 n1=lvm\n n1 : lvm=LVM:100/100\n n2 drbd=9.0.1 : lvm=LVM:100/100\n ctrl AllowMixingStoragePoolDriver=true";
    check(same, r#"{"place_count":2}"#, "n2:lvm");
    // Fresh resource: picks must not mix LVM and ZFS.
    let fresh = "n1 : lvm=LVM:100/100\n n2 : zfs=ZFS:100/100\n n3 : lvm=LVM:10/100";
    check(fresh, r#"{"place_count":2}"#, "n1:lvm n3:lvm");
    check(fresh, r#"{"place_count":3}"#, "ERR 996 provider mixing");
    // Two nodes sharing one space: at most one replica there.
    let mut b = Builder::new();
    b.node("n1").pool("n1", "data", ProviderKind::LVM, 100, 100);
    b.node("n2").pool("n2", "data", ProviderKind::LVM, 100, 100);
    b.node("n3").pool("n3", "data", ProviderKind::LVM, 10, 100);
    b.shared_space("n1", "data", "san")
        .shared_space("n2", "data", "san");
    let st = b.build();
    let got = render(&autoplace(&st, &request(&st, r#"{"place_count":2}"#)));
    assert_eq!(got, "n1:data n3:data");
}

#[test]
fn diskless_modes() {
    let spec = format!("{FOUR}\nrd r0 10 n1=data");
    check(
        &spec,
        r#"{"place_count":2,"diskless_on_remaining":true}"#,
        "n2:data | dl n3 n4",
    );
    check(
        &spec,
        r#"{"place_count":1,"diskless_on_remaining":true}"#,
        "| dl n2 n3 n4",
    );
    check(
        &spec,
        r#"{"place_count":1,"diskless_type":"DRBD_DISKLESS"}"#,
        "| dl n2",
    );
    check(
        &spec,
        r#"{"place_count":1,"diskless_type":"DRBD_DISKLESS","replicas_on_different":["Aux/zone"]}"#,
        "| dl n3",
    );
}

#[test]
fn merge_rules() {
    let mut st = cluster(&format!("{FOUR}\nrd r0 10"));
    let rg = st.resource_groups.values_mut().next().unwrap();
    rg.select_filter = serde_json::from_str(
        r#"{"place_count":3,"replicas_on_different":["Aux/zone"],"node_name_list":["n1","n2"]}"#,
    )
    .unwrap();
    // The request's node list overrides the group's; the rest is inherited.
    let req_f: crate::model::SelectFilter =
        serde_json::from_str(r#"{"node_name_list":["n2","n3","n4"]}"#).unwrap();
    let req = PlacementRequest::for_existing(&st, &rn("r0"), &req_f).unwrap();
    assert_eq!(req.filter.place_count, Some(3));
    assert_eq!(render(&autoplace(&st, &req)), "n2:data n3:data n4:data");
    // The group alone.
    let req = PlacementRequest::for_existing(&st, &rn("r0"), &Default::default()).unwrap();
    assert!(render(&autoplace(&st, &req)).starts_with("ERR 996"));
    assert!(PlacementRequest::for_existing(&st, &rn("nope"), &Default::default()).is_none());
}

#[test]
fn balanced_never_fills_the_fuller_of_identical_pools() {
    let mut st = cluster("n1 : data=LVM:100/100\n n2 : data=LVM:100/100\n n3 : data=LVM:100/100");
    for i in 0..30 {
        let name = rn(&format!("r{i}"));
        crate::placement::sim::add_rd(&mut st, &name, SizeKib(GIB));
        let p = autoplace(
            &st,
            &PlacementRequest::new(
                name.clone(),
                serde_json::from_str(r#"{"place_count":1}"#).unwrap(),
                SizeKib(GIB),
            ),
        )
        .unwrap();
        apply_placement(&mut st, &name, &p);
    }
    let u = PoolUsage::compute(&st);
    for n in ["n1", "n2", "n3"] {
        assert_eq!(u.get(&nn(n), &sp_name("data")).resources, 10, "{n}");
    }
}

#[test]
fn refusal_snapshots() {
    let snap = |spec: &str, filter: &str| {
        let st = cluster(spec);
        let e = autoplace(&st, &request(&st, filter)).unwrap_err().to_rc();
        format!(
            "ret_code: {}\nmessage: {}\ncause: {}\ncorrection: {}\ndetails: {}",
            e.code,
            e.message,
            e.cause.unwrap_or_default(),
            e.correction.unwrap_or_default(),
            e.details.unwrap_or_default()
        )
    };
    insta::assert_snapshot!(
        "capacity",
        snap(
            "rd r0 50\n n1 : data=LVM:100/100\n n2 : data=LVM:45/100\n n3 offline : data=LVM:100/100\n n4 : data=LVM_THIN:1/100 data2=LVM:40/100",
            r#"{"place_count":3}"#
        )
    );
    insta::assert_snapshot!(
        "zones",
        snap(
            FOUR,
            r#"{"place_count":3,"replicas_on_different":["Aux/zone"],"node_name_list":["n1","n2","n3"]}"#
        )
    );
    insta::assert_snapshot!(
        "issue_494",
        snap(
            "rd big 1990 n1=thin\n rd r0 50\n n1 : thin=LVM_THIN:80/100:MaxFreeCapacityOversubscriptionRatio=1000\n n2 : thin=LVM_THIN:80/100:MaxFreeCapacityOversubscriptionRatio=1000",
            r#"{"place_count":2}"#
        )
    );
    insta::assert_snapshot!(
        "mixed_criteria",
        snap(
            "n1 nocaps : data=LVM:100/100\n n2 AutoplaceTarget=false : data=LVM:100/100\n n3 : data=LVM:100/100\n rd other 1 n3=data",
            r#"{"place_count":2,"layer_stack":["DRBD"],"not_place_with_rsc":["other"]}"#
        )
    );
}

// ---------------------------------------------------------------- property tests

/// online, zone, rack, pools (kind, free, total).
type CaseNode = (bool, Option<u8>, Option<u8>, Vec<(u8, u64, u64)>);
type Set = [(NodeName, StorPoolName)];

/// A random small cluster plus a request.
#[derive(Debug, Clone)]
struct Case {
    nodes: Vec<CaseNode>,
    existing: Vec<usize>,
    place: u32,
    different: Option<u32>, // x for Aux/zone
    same_rack: bool,
    pool_list: bool,
    size: u64,
}

fn case() -> impl PStrategy<Value = Case> {
    let node = (
        prop::bool::weighted(0.85),
        prop::option::weighted(0.8, 0u8..3),
        prop::option::weighted(0.9, 0u8..2),
        prop::collection::vec((0u8..3, 0u64..120, 60u64..120), 1..=2),
    );
    (
        prop::collection::vec(node, 1..=8),
        prop::collection::vec(0usize..8, 0..=2),
        1u32..=4,
        prop::option::weighted(0.6, 1u32..=2),
        prop::bool::weighted(0.25),
        prop::bool::weighted(0.3),
        1u64..=40,
    )
        .prop_map(
            |(nodes, existing, place, different, same_rack, pool_list, size)| Case {
                nodes,
                existing,
                place,
                different,
                same_rack,
                pool_list,
                size,
            },
        )
}

const KINDS: [ProviderKind; 3] = [ProviderKind::LVM, ProviderKind::LVM_THIN, ProviderKind::ZFS];
const POOLS: [&str; 2] = ["poola", "poolb"];

fn build_case(c: &Case) -> (crate::state::ClusterState, PlacementRequest) {
    let mut b = Builder::new();
    b.ctrl_prop("AllowMixingStoragePoolDriver", "false");
    for (i, (online, zone, rack, pools)) in c.nodes.iter().enumerate() {
        let n = format!("n{i}");
        b.node(&n);
        if !online {
            b.offline(&n);
        }
        if let Some(z) = zone {
            b.node_prop(&n, "Aux/zone", &format!("z{z}"));
        }
        if let Some(r) = rack {
            b.node_prop(&n, "Aux/rack", &format!("r{r}"));
        }
        for (j, (k, free, total)) in pools.iter().enumerate() {
            let free = (*free).min(*total);
            b.pool(&n, POOLS[j], KINDS[*k as usize], free, *total);
        }
    }
    b.rd("r0", c.size * GIB);
    for &e in &c.existing {
        if e < c.nodes.len() {
            b.replica("r0", &format!("n{e}"), "poola");
        }
    }
    let mut f = crate::model::SelectFilter {
        place_count: Some(c.place),
        ..Default::default()
    };
    match c.different {
        Some(1) => f.replicas_on_different = Some(vec!["Aux/zone".into()]),
        Some(x) => {
            f.x_replicas_on_different_map =
                Some([("Aux/zone".to_string(), x)].into_iter().collect())
        }
        None => {}
    }
    if c.same_rack {
        f.replicas_on_same = Some(vec!["Aux/rack".into()]);
    }
    if c.pool_list {
        f.storage_pool_list = Some(vec![sp_name("poola")]);
    }
    let st = b.build();
    let req = PlacementRequest::new(rn("r0"), f, SizeKib(c.size * GIB));
    (st, req)
}

/// An independent validity check of a full set of diskful replicas (existing + new).
fn valid(
    st: &crate::state::ClusterState,
    req: &PlacementRequest,
    new: &[(NodeName, StorPoolName)],
) -> bool {
    let rd = &st.resource_definitions[&req.resource];
    let f = &req.filter;
    let usage = PoolUsage::compute(st);
    let existing: Vec<(NodeName, StorPoolName)> = rd
        .resources
        .values()
        .filter(|r| !r.is_diskless())
        .map(|r| (r.node.clone(), r.volumes[&0].storage_pool.clone()))
        .collect();
    let mut nodes: Vec<&NodeName> = Vec::new();
    for (n, p) in new {
        let node = &st.nodes[n];
        if rd.resources.contains_key(n) || nodes.contains(&n) {
            return false;
        }
        nodes.push(n);
        if st.observed.nodes[n].connection != crate::model::ConnectionStatus::ONLINE {
            return false;
        }
        if f.storage_pool_list.as_ref().is_some_and(|l| !l.contains(p)) {
            return false;
        }
        let pool = &node.storage_pools[p];
        let cap = st.observed.nodes[n].pools[p];
        let reserved = usage.get(n, p).reserved;
        let (fr, tr) = if pool.kind.caps().thin {
            (20.0, 20.0)
        } else {
            (1.0, 1.0)
        };
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let est = ((cap.free.0 as f64 * fr) as u64)
            .min(((cap.total.0 as f64 * tr) as u64).saturating_sub(reserved));
        if est < req.size.0 {
            return false;
        }
        if pool.kind.caps().thin && cap.free.0 < cap.total.0 / 10 {
            return false;
        }
    }
    let all: Vec<&(NodeName, StorPoolName)> = existing.iter().chain(new).collect();
    let kinds: Vec<ProviderKind> = all
        .iter()
        .map(|(n, p)| st.nodes[n].storage_pools[p].kind)
        .collect();
    if kinds.iter().any(|k| *k != kinds[0]) {
        return false;
    }
    let val = |n: &NodeName, k: &str| st.nodes[n].props.get(k).map(str::to_string);
    if f.replicas_on_same.is_some() {
        let vals: Vec<Option<String>> = all.iter().map(|(n, _)| val(n, "Aux/rack")).collect();
        if new.iter().any(|(n, _)| val(n, "Aux/rack").is_none()) {
            return false;
        }
        let set: std::collections::BTreeSet<&String> = vals.iter().flatten().collect();
        if set.len() > 1 {
            return false;
        }
    }
    let x = match (&f.replicas_on_different, &f.x_replicas_on_different_map) {
        (Some(_), _) => Some(1),
        (_, Some(m)) => m.get("Aux/zone").copied(),
        _ => None,
    };
    if let Some(x) = x {
        let mut counts: std::collections::BTreeMap<Option<String>, u32> = Default::default();
        for (n, _) in &all {
            *counts.entry(val(n, "Aux/zone")).or_default() += 1;
        }
        if counts.values().any(|c| *c > x) {
            return false;
        }
        if x >= 2 && counts.values().filter(|c| **c < x).count() > 1 {
            return false;
        }
    }
    true
}

fn subsets(
    items: &[(NodeName, StorPoolName)],
    k: usize,
    start: usize,
    cur: &mut Vec<(NodeName, StorPoolName)>,
    f: &mut dyn FnMut(&Set) -> bool,
) -> bool {
    if cur.len() == k {
        return f(cur);
    }
    for i in start..items.len() {
        cur.push(items[i].clone());
        if subsets(items, k, i + 1, cur, f) {
            return true;
        }
        cur.pop();
    }
    false
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    /// Validity, completeness (brute force on ≤ 8 nodes) and determinism of one placement.
    #[test]
    fn placement_is_valid_complete_and_deterministic(c in case()) {
        let (st, req) = build_case(&c);
        // Existing replicas that already break the rules are out of scope (nothing is valid).
        prop_assume!(valid(&st, &req, &[]));
        let res = autoplace(&st, &req);
        let again = autoplace(&st.clone(), &req.clone());
        prop_assert_eq!(render(&res), render(&again));
        let existing = st.resource_definitions[&req.resource].resources.len();
        prop_assume!(c.place as usize > existing);
        let need = c.place as usize - existing;
        let mut all: Vec<(NodeName, StorPoolName)> = Vec::new();
        for (n, node) in &st.nodes {
            for p in node.storage_pools.values().filter(|p| p.kind.is_diskful()) {
                all.push((n.clone(), p.name.clone()));
            }
        }
        let exists = subsets(&all, need, 0, &mut Vec::new(), &mut |s| valid(&st, &req, s));
        match &res {
            Ok(p) => {
                prop_assert!(exists, "placer found {:?} but brute force found nothing", p);
                prop_assert_eq!(p.diskful.len(), need);
                prop_assert!(valid(&st, &req, &p.diskful), "invalid placement {:?}", p);
            }
            Err(r) => {
                let is_placecount = r.code() == crate::rc::code::INVLD_PLACE_COUNT;
                prop_assert!(!exists || is_placecount, "refused but a placement exists: {}", r);
            }
        }
    }

    /// Repeated placement never exceeds any pool's capacity and never doubles a node; the
    /// cached placer (told about each placement) answers exactly as the pure one.
    #[test]
    fn repeated_placement_respects_capacity(c in case(), sizes in prop::collection::vec(1u64..60, 1..25)) {
        let (mut st, _) = build_case(&c);
        let mut cache = PlacementCache::new(&st);
        for (i, s) in sizes.iter().enumerate() {
            let name = rn(&format!("x{i}"));
            crate::placement::sim::add_rd(&mut st, &name, SizeKib(s * GIB));
            let f = crate::model::SelectFilter { place_count: Some(c.place.min(2)), ..Default::default() };
            let req = PlacementRequest::new(name.clone(), f, SizeKib(s * GIB));
            let res = autoplace(&st, &req);
            prop_assert_eq!(&cache.autoplace(&st, &req), &res);
            match res {
                Ok(p) => {
                    for (n, pool) in &p.diskful {
                        cache.add(n, pool, SizeKib(s * GIB));
                    }
                    let mut ns: Vec<&NodeName> = p.diskful.iter().map(|(n, _)| n).collect();
                    ns.sort();
                    ns.dedup();
                    prop_assert_eq!(ns.len(), p.diskful.len());
                    apply_placement(&mut st, &name, &p);
                }
                Err(_) => break,
            }
        }
        let usage = PoolUsage::compute(&st);
        for node in st.nodes.values() {
            for p in node.storage_pools.values().filter(|p| p.kind.is_diskful()) {
                let cap = st.observed.nodes[&node.name].pools[&p.name];
                let ratio = if p.kind.caps().thin { 20 } else { 1 };
                prop_assert!(usage.get(&node.name, &p.name).reserved <= cap.total.0 * ratio);
                if !p.kind.caps().thin {
                    prop_assert!(usage.get(&node.name, &p.name).reserved <= cap.free.0.max(cap.total.0));
                }
            }
        }
    }
}
