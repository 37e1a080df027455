//! `advise`: how many volumes fit, and what a failure does, on the shared fixture (online
//! nodes with 100 GiB LVM pools and zone labels a, b, c, d, a…).

use std::collections::BTreeSet;

use super::fixture::{create_group, online_cluster, spawn_in};
use crate::advise::{failure, fit, nodes_with};
use crate::model::SelectFilter;
use crate::name::NodeName;
use crate::quorum::Role;
use crate::size::SizeKib;

fn zones3() -> SelectFilter {
    SelectFilter {
        place_count: Some(3),
        replicas_on_different: Some(vec!["Aux/zone".into()]),
        ..SelectFilter::default()
    }
}

fn names(v: &[&str]) -> BTreeSet<NodeName> {
    v.iter().map(|n| (*n).parse().expect("name")).collect()
}

#[test]
fn fit_counts_until_the_pools_are_full_and_says_why() {
    let (c, _) = online_cluster(3);
    let before = c.state().clone();
    let f = fit(c.state(), &zones3(), SizeKib(10 << 20), 1000);
    // 100 GiB per node, 10 GiB per replica (no layer stack asked: storage only), one replica
    // per node.
    assert_eq!(f.count, 10, "{f:?}");
    assert!(!f.capped);
    assert_eq!(f.first.len(), 3);
    assert!(f.replicas_per_node.values().all(|n| *n == 10), "{f:?}");
    let why = f.stopped_by.expect("a reason");
    assert!(
        why.details.is_some_and(|d| !d.is_empty()),
        "{:?}",
        why.cause
    );
    assert!(!why.correction.is_empty());
    // Nothing changed.
    assert_eq!(c.state(), &before);
    // A limit caps the count.
    let capped = fit(c.state(), &zones3(), SizeKib(10 << 20), 4);
    assert_eq!((capped.count, capped.capped), (4, true));
    assert!(capped.stopped_by.is_none());
}

#[test]
fn fit_of_an_impossible_filter_is_zero_with_the_placers_explanation() {
    let (c, _) = online_cluster(2);
    let f = fit(c.state(), &zones3(), SizeKib(1 << 20), 10);
    assert_eq!(f.count, 0);
    let why = f.stopped_by.expect("refused");
    assert!(
        why.cause.contains('3') || why.cause.contains("three"),
        "{}",
        why.cause
    );
}

#[test]
fn failure_of_a_zone_keeps_quorum_and_says_where_to_rebuild() {
    // Zones: n0 a, n1 b, n2 c, n3 d.
    let (mut c, mut env) = online_cluster(4);
    create_group(&mut c, &mut env, zones3());
    spawn_in(&mut c, &mut env, "r1", Some(3), 1);
    let on: BTreeSet<NodeName> = c.state().resource_definitions[&"r1".parse().expect("rd")]
        .resources
        .keys()
        .cloned()
        .collect();
    assert_eq!(on.len(), 3, "{on:?}");
    let victim = on.iter().next().expect("a replica").clone();
    let zone = c.state().nodes[&victim]
        .props
        .get("Aux/zone")
        .expect("zone")
        .to_owned();
    let failed = nodes_with(c.state(), "Aux/zone", &zone);
    assert_eq!(failed, BTreeSet::from([victim.clone()]));
    let report = failure(c.state(), &failed);
    assert_eq!(report.affected.len(), 1);
    let i = &report.affected[0];
    assert_eq!(i.lost, vec![(victim.clone(), Role::Diskful)]);
    assert_eq!(i.diskful_left, 2);
    assert!(i.quorum_kept && !i.data_lost, "{i:?}");
    // The fourth node (zone d) takes the lost replica.
    let spare: Vec<NodeName> = c
        .state()
        .nodes
        .keys()
        .filter(|n| !on.contains(*n))
        .cloned()
        .collect();
    assert_eq!(
        i.rebuild.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>(),
        spare
    );
    assert!(i.cannot_rebuild.is_none());
}

#[test]
fn failure_of_two_of_three_loses_quorum_and_cannot_rebuild() {
    let (mut c, mut env) = online_cluster(3);
    create_group(&mut c, &mut env, zones3());
    spawn_in(&mut c, &mut env, "r1", Some(3), 1);
    spawn_in(&mut c, &mut env, "r2", Some(3), 1);
    let report = failure(c.state(), &names(&["n0", "n1"]));
    assert_eq!(report.affected.len(), 2);
    for i in &report.affected {
        assert_eq!(i.diskful_left, 1, "{i:?}");
        assert!(!i.quorum_kept, "one of three may not write: {i:?}");
        assert!(!i.data_lost);
        assert!(i.rebuild.is_empty());
        let why = i
            .cannot_rebuild
            .as_ref()
            .expect("no node left to rebuild on");
        assert!(!why.cause.is_empty());
    }
    let all = failure(c.state(), &names(&["n0", "n1", "n2"]));
    assert!(
        all.affected
            .iter()
            .all(|i| i.data_lost && i.cannot_rebuild.is_none())
    );
    assert_eq!(failure(c.state(), &BTreeSet::new()).unaffected, 2);
}
