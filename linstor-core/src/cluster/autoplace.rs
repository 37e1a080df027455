//! Autoplacement inside the command executor: the `RscAutoplace` command, the placement of
//! new replicas for spawn, adjust, balance and evacuation, and the select-filter helpers they
//! share.
//!
//! The placement engine ([`crate::placement`]) decides; this module creates the chosen
//! resources through the ordinary resource-create path (so numbers, properties and change sets
//! are exactly those of a manual create), then runs the quorum helpers. A refusal answers with
//! the engine's explanation (`FAIL_NOT_ENOUGH_NODES`, cause, correction, nearest misses) and
//! changes nothing.

use std::collections::BTreeMap;

use super::Cluster;
use super::ctx::{BoxedEntry, Ctx, Res, fail};
use super::indexes::with_placer;
use super::lookup::existing_rd;
use super::numbers::free_rsc_numbers;
use super::ops_rsc::{self, RscCreateArgs};
use super::quorum;
use crate::model::SelectFilter;
use crate::name::{NodeName, ResourceName};
use crate::placement::{self, PlacementRequest};
use crate::rc::{Obj, Op, code};

impl Cluster {
    /// Plans a placement without changing the state: the placer's answer for `req` on the
    /// current state, through the maintained cache (only its rows are refreshed).
    pub fn plan_placement(
        &mut self,
        req: &PlacementRequest,
    ) -> Result<placement::Placement, placement::Refusal> {
        self.idx.placer.autoplace(&self.state, req)
    }
}

/// Places `rd` with an already merged `filter` and creates the chosen resources. On error the
/// caller's state is untouched (the definition and the indexes are restored).
pub(super) fn place(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &ResourceName,
    filter: &SelectFilter,
) -> Res {
    let Some(def) = c.state.resource_definitions.get(rd) else {
        return Ok(());
    };
    let req = PlacementRequest::new(rd.clone(), filter.clone(), def.total_size());
    let placement = with_placer(c, rd, |state, placer| placer.autoplace(state, &req))
        .map_err(|r| Box::new(r.to_rc()))?;
    let def = &c.state.resource_definitions[rd];
    if placement.already_satisfied {
        ctx.warn(
            Obj::Rsc,
            code::WARN_RSC_ALREADY_DEPLOYED,
            format!("Resource '{rd}' is already deployed as requested."),
        );
        return Ok(());
    }
    // Only the definition is saved: resource creation changes nothing else but the ports and
    // the resources-per-node index, which the rollback below frees for the new resources.
    let backup = def.clone();
    let empty = BTreeMap::new();
    let res = (|| -> Res {
        for (node, pool) in &placement.diskful {
            let args = RscCreateArgs::in_pool(pool.as_str(), false, &empty);
            ops_rsc::rsc_create(c, ctx, rd.as_str(), node.as_str(), args)?;
        }
        for (node, pool) in &placement.diskless {
            let args = RscCreateArgs::in_pool(pool.as_str(), true, &empty);
            ops_rsc::rsc_create(c, ctx, rd.as_str(), node.as_str(), args)?;
        }
        Ok(())
    })();
    if let Err(e) = res {
        let current = c.state.resource_definitions.insert(rd.clone(), backup);
        for r in current.iter().flat_map(|d| d.resources.values()) {
            if !c.state.resource_definitions[rd]
                .resources
                .contains_key(&r.node)
            {
                free_rsc_numbers(c, rd, r);
            }
        }
        return Err(e);
    }
    Ok(())
}

/// The `RscAutoplace` command: merges `request` over the definition's group filter and places.
pub(super) fn autoplace_cmd(
    c: &mut Cluster,
    ctx: &mut Ctx<'_>,
    rd: &str,
    request: &SelectFilter,
) -> Res {
    let op = Op::Create;
    validate_filter(op, Obj::Rsc, request)?;
    let n = existing_rd(c, op, Obj::Rsc, rd)?;
    let def = &c.state.resource_definitions[&n];
    let filter = match c.state.resource_groups.get(&def.resource_group) {
        Some(g) => request.merged_over(&g.select_filter),
        None => request.clone(),
    };
    place(c, ctx, &n, &filter)?;
    quorum::manage(c, ctx, n.as_str());
    Ok(())
}

/// A group's filter used to replace diskful replicas: the place count is the request's, and
/// nothing of the group turns it into a diskless or one-off request.
pub(super) fn diskful_only(f: &mut SelectFilter) {
    f.additional_place_count = None;
    f.diskless_type = None;
    f.diskless_on_remaining = None;
}

/// The nodes a replacement may go to: `group`'s list narrowed by `targets` (if any), minus
/// `deny`; `None` when nothing narrows it. `all` are the cluster's nodes.
pub(super) fn replacement_nodes(
    group: Option<&Vec<NodeName>>,
    targets: &[NodeName],
    deny: &[NodeName],
    all: &[NodeName],
) -> Option<Vec<NodeName>> {
    if targets.is_empty() && deny.is_empty() {
        return group.cloned();
    }
    let base: Vec<NodeName> = match (targets.is_empty(), group) {
        (false, Some(g)) => targets.iter().filter(|n| g.contains(n)).cloned().collect(),
        (false, None) => targets.to_vec(),
        (true, Some(g)) => g.clone(),
        (true, None) => all.to_vec(),
    };
    Some(base.into_iter().filter(|n| !deny.contains(n)).collect())
}

/// Checks a select filter's own consistency (not whether it can be satisfied).
pub(crate) fn validate_filter(op: Op, obj: Obj, f: &SelectFilter) -> Res {
    let bad = |what: String, fix: &str| {
        Err(fail(op, obj, code::INVLD_PLACE_COUNT, what).correction(fix.to_owned()))
    };
    if let Some(n) = f.place_count {
        if !(1..=32).contains(&n) {
            return bad(
                format!("Invalid place count {n}"),
                "Use a place count from 1 to 32 (one replica per node, at most 32 DRBD peers).",
            );
        }
    }
    if let Some(n) = f.additional_place_count {
        if n > 31 {
            return bad(
                format!("Invalid additional place count {n}"),
                "Add at most 31 replicas.",
            );
        }
    }
    for key in f
        .replicas_on_same
        .iter()
        .flatten()
        .chain(f.replicas_on_different.iter().flatten())
    {
        let k = key.split_once('=').map_or(key.as_str(), |(k, _)| k);
        if k.is_empty() || k.contains(char::is_whitespace) {
            return Err(fail(
                op,
                obj,
                code::INVLD_PROP,
                format!("Invalid replicas-on key '{key}'"),
            )
            .correction("Give a node property key such as Aux/zone, optionally with =value."));
        }
    }
    for (k, v) in f.x_replicas_on_different_map.iter().flatten() {
        if k.is_empty() || *v == 0 {
            return Err(fail(
                op,
                obj,
                code::INVLD_PROP,
                format!("Invalid x-replicas-on-different entry '{k}' = {v}"),
            )
            .correction("Give a node property key and a count of at least 1."));
        }
    }
    if let Some(re) = &f.not_place_with_rsc_regex {
        if let Err(e) = regex::RegexBuilder::new(re)
            .case_insensitive(true)
            .size_limit(1 << 20)
            .build()
        {
            return Err(fail(
                op,
                obj,
                code::INVLD_REQUEST,
                format!("Invalid regular expression '{re}'"),
            )
            .cause(e.to_string())
            .correction("Fix the regular expression."));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::cluster::{Cluster, Command, NetIfSpec, SeededEnv};
    use crate::model::{
        Capabilities, ConnectionStatus, LayerKind, NodeType, ProviderKind, RscFlags, SelectFilter,
    };
    use crate::rc::{Severity, code};
    use crate::size::SizeKib;

    fn run(c: &mut Cluster, env: &mut SeededEnv, cmd: Command) -> crate::cluster::Outcome {
        c.execute(cmd, env)
    }

    /// A cluster of `n` online nodes with one 100 GiB LVM pool `data` each, zone labels a/b/c….
    fn cluster(n: usize) -> (Cluster, SeededEnv) {
        let mut env = SeededEnv::new(1);
        let mut c = Cluster::new(&mut env);
        for i in 0..n {
            let name = format!("n{i}");
            let zone = ["a", "b", "c", "d"][i % 4];
            let out = run(
                &mut c,
                &mut env,
                Command::NodeCreate {
                    name: name.clone(),
                    node_type: NodeType::Satellite,
                    net_interfaces: vec![NetIfSpec {
                        name: "default".into(),
                        address: format!("10.0.0.{}", i + 1),
                        satellite_port: None,
                        encryption: Default::default(),
                    }],
                    props: [("Aux/zone".to_string(), zone.to_string())]
                        .into_iter()
                        .collect(),
                },
            );
            assert!(!out.is_error(), "{out:?}");
            let out = run(
                &mut c,
                &mut env,
                Command::StorPoolCreate {
                    node: name.clone(),
                    name: "data".into(),
                    kind: ProviderKind::LVM,
                    props: [("StorDriver/StorPoolName".to_string(), "vg".to_string())]
                        .into_iter()
                        .collect(),
                    shared_space: None,
                },
            );
            assert!(!out.is_error(), "{out:?}");
            run(
                &mut c,
                &mut env,
                Command::NodeReport {
                    node: name.clone(),
                    connection: ConnectionStatus::ONLINE,
                    capabilities: Some(Capabilities {
                        storage_providers: vec![ProviderKind::LVM, ProviderKind::DISKLESS],
                        resource_layers: vec![LayerKind::DRBD, LayerKind::STORAGE],
                        drbd_version: Some((9, 2, 8)),
                        ..Default::default()
                    }),
                },
            );
            run(
                &mut c,
                &mut env,
                Command::StorPoolReport {
                    node: name,
                    pool: "data".into(),
                    free: SizeKib(100 << 20),
                    total: SizeKib(100 << 20),
                },
            );
        }
        (c, env)
    }

    fn spawn(
        c: &mut Cluster,
        env: &mut SeededEnv,
        rd: &str,
        place: u32,
        gib: u64,
    ) -> crate::cluster::Outcome {
        run(
            c,
            env,
            Command::RscGrpSpawn {
                rsc_grp: "DfltRscGrp".into(),
                rsc_dfn: rd.into(),
                external_name: None,
                volume_sizes: vec![SizeKib(gib << 20)],
                partial: false,
                nodes: vec![],
                select_filter: Some(SelectFilter {
                    place_count: Some(place),
                    ..Default::default()
                }),
                definitions_only: false,
                peer_slots: None,
                rsc_dfn_props: Default::default(),
            },
        )
    }

    fn flags(c: &Cluster, rd: &str) -> Vec<(String, Vec<&'static str>)> {
        let rd: crate::name::ResourceName = rd.parse().unwrap();
        c.state().resource_definitions[&rd]
            .resources
            .values()
            .map(|r| (r.node.to_string(), r.flags.names()))
            .collect()
    }

    #[test]
    fn spawn_places_and_manages_quorum_and_tiebreaker() {
        let (mut c, mut env) = cluster(4);
        let out = spawn(&mut c, &mut env, "r1", 2, 10);
        assert!(!out.is_error(), "{out:?}");
        // 2 diskful + a tiebreaker, quorum majority.
        let f = flags(&c, "r1");
        assert_eq!(f.iter().filter(|(_, fl)| fl.is_empty()).count(), 2, "{f:?}");
        assert_eq!(
            f.iter()
                .filter(|(_, fl)| fl.contains(&"TIE_BREAKER"))
                .count(),
            1,
            "{f:?}"
        );
        let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
        assert_eq!(
            rd.props.get("DrbdOptions/Resource/quorum"),
            Some("majority")
        );
        assert!(
            out.rc
                .0
                .iter()
                .any(|e| e.code == code::INFO_TIE_BREAKER_CREATED),
            "{out:?}"
        );
        // Autoplace one more: 3 diskful → the tiebreaker goes away (marked DELETE).
        let out = run(
            &mut c,
            &mut env,
            Command::RscAutoplace {
                rsc_dfn: "r1".into(),
                select_filter: SelectFilter {
                    additional_place_count: Some(1),
                    ..Default::default()
                },
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let f = flags(&c, "r1");
        assert_eq!(f.iter().filter(|(_, fl)| fl.is_empty()).count(), 3, "{f:?}");
        assert!(f.iter().any(|(_, fl)| fl.contains(&"DELETE")), "{f:?}");
        let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
        assert_eq!(
            rd.props.get("DrbdOptions/Resource/quorum"),
            Some("majority")
        );
    }

    #[test]
    fn refusal_is_explained_and_changes_nothing() {
        let (mut c, mut env) = cluster(3);
        let before = c.state().clone();
        let out = spawn(&mut c, &mut env, "big", 2, 200);
        assert!(out.is_error());
        let e = &out.rc.0[0];
        assert_eq!(
            (e.severity, e.code),
            (Severity::Error, code::NOT_ENOUGH_NODES)
        );
        assert_eq!(e.message, "Not enough available nodes");
        assert!(
            e.cause
                .as_deref()
                .unwrap_or("")
                .contains("not enough free space: 3 pool(s)"),
            "{e:?}"
        );
        assert!(
            e.details
                .as_deref()
                .unwrap_or("")
                .contains("100 GiB free, 200 GiB needed"),
            "{e:?}"
        );
        assert_eq!(c.state(), &before);
        // Autoplace on an existing definition with too many replicas: refused, unchanged.
        assert!(!spawn(&mut c, &mut env, "r2", 1, 1).is_error());
        let before = c.state().clone();
        let out = run(
            &mut c,
            &mut env,
            Command::RscAutoplace {
                rsc_dfn: "r2".into(),
                select_filter: SelectFilter {
                    place_count: Some(5),
                    ..Default::default()
                },
            },
        );
        assert!(out.is_error());
        assert_eq!(c.state(), &before);
    }

    #[test]
    fn already_deployed_and_user_quorum() {
        let (mut c, mut env) = cluster(3);
        assert!(!spawn(&mut c, &mut env, "r1", 3, 1).is_error());
        let out = run(
            &mut c,
            &mut env,
            Command::RscAutoplace {
                rsc_dfn: "r1".into(),
                select_filter: SelectFilter {
                    place_count: Some(3),
                    ..Default::default()
                },
            },
        );
        assert!(
            out.rc
                .0
                .iter()
                .any(|e| e.code == code::WARN_RSC_ALREADY_DEPLOYED),
            "{out:?}"
        );
        // 3 diskful: majority, no tiebreaker.
        assert!(flags(&c, "r1").iter().all(|(_, f)| f.is_empty()));
        // Deleting one replica: 2 diskful → a tiebreaker is added on the third node? No: that
        // node still holds the resource being deleted → takeover.
        let out = run(
            &mut c,
            &mut env,
            Command::RscDelete {
                rsc_dfn: "r1".into(),
                node: "n2".into(),
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let f = flags(&c, "r1");
        assert!(
            f.iter()
                .any(|(n, fl)| n == "n2" && fl.contains(&"TIE_BREAKER") && !fl.contains(&"DELETE")),
            "{f:?}"
        );
        // A user setting wins over auto-quorum.
        let out = run(
            &mut c,
            &mut env,
            Command::RscDfnModify {
                name: "r1".into(),
                props: crate::props::PropsModify::set([("DrbdOptions/Resource/quorum", "off")]),
                peer_slots: None,
                rsc_grp: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
        assert_eq!(rd.props.get("DrbdOptions/Resource/quorum"), Some("off"));
        let _ = RscFlags::TIE_BREAKER;
    }

    fn spawn_in(
        c: &mut Cluster,
        env: &mut SeededEnv,
        rd: &str,
        place: Option<u32>,
        gib: u64,
    ) -> crate::cluster::Outcome {
        run(
            c,
            env,
            Command::RscGrpSpawn {
                rsc_grp: "grp".into(),
                rsc_dfn: rd.into(),
                external_name: None,
                volume_sizes: vec![SizeKib(gib << 20)],
                partial: false,
                nodes: vec![],
                select_filter: place.map(|p| SelectFilter {
                    place_count: Some(p),
                    ..Default::default()
                }),
                definitions_only: place.is_none(),
                peer_slots: None,
                rsc_dfn_props: Default::default(),
            },
        )
    }

    /// Creates resource group `grp` with `filter`.
    fn create_group(c: &mut Cluster, env: &mut SeededEnv, filter: SelectFilter) {
        let out = run(
            c,
            env,
            Command::RscGrpCreate {
                name: "grp".into(),
                description: String::new(),
                props: Default::default(),
                select_filter: filter,
                peer_slots: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
    }

    /// Gives `DfltRscGrp` a place count.
    fn default_group_places(c: &mut Cluster, env: &mut SeededEnv, place: u32) {
        let out = run(
            c,
            env,
            Command::RscGrpModify {
                name: "DfltRscGrp".into(),
                description: None,
                props: Default::default(),
                select_filter: Some(SelectFilter {
                    place_count: Some(place),
                    ..Default::default()
                }),
                peer_slots: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
    }

    fn diskful(c: &Cluster, rd: &str) -> usize {
        let rd: crate::name::ResourceName = rd.parse().unwrap();
        c.state().resource_definitions[&rd]
            .resources
            .values()
            .filter(|r| !r.is_diskless())
            .count()
    }

    #[test]
    fn group_adjust_adds_missing_replicas_and_warns_for_what_cannot_be_placed() {
        let (mut c, mut env) = cluster(4);
        create_group(
            &mut c,
            &mut env,
            SelectFilter {
                place_count: Some(2),
                replicas_on_different: Some(vec!["Aux/zone".into()]),
                ..Default::default()
            },
        );
        assert!(!spawn_in(&mut c, &mut env, "r1", Some(1), 10).is_error());
        assert!(!spawn_in(&mut c, &mut env, "r2", Some(2), 10).is_error());
        assert!(!spawn_in(&mut c, &mut env, "r3", None, 150).is_error());
        let before_r2 = c.state().resource_definitions[&"r2".parse().unwrap()].clone();

        let adjust = |name: Option<&str>, place: Option<u32>| Command::RscGrpAdjust {
            name: name.map(str::to_string),
            select_filter: place.map(|p| SelectFilter {
                place_count: Some(p),
                ..Default::default()
            }),
        };
        let out = run(&mut c, &mut env, adjust(Some("GRP"), None));
        assert!(!out.is_error(), "{out:?}");
        assert_eq!(
            (diskful(&c, "r1"), diskful(&c, "r2"), diskful(&c, "r3")),
            (2, 2, 0)
        );
        assert_eq!(
            c.state().resource_definitions[&"r2".parse().unwrap()],
            before_r2,
            "a definition at its place count is left alone"
        );
        let warn = out
            .rc
            .0
            .iter()
            .find(|e| e.severity == Severity::Warning && e.code == code::NOT_ENOUGH_NODES)
            .unwrap_or_else(|| panic!("{out:?}"));
        assert!(
            warn.cause
                .as_deref()
                .unwrap_or("")
                .contains("not enough free space"),
            "{warn:?}"
        );
        assert!(
            out.rc
                .0
                .last()
                .unwrap()
                .message
                .contains("1 resource definition(s) got new replicas, 1 could not be placed")
        );
        c.check_invariants().unwrap();

        // Nothing left to do but the one that does not fit.
        let out = run(&mut c, &mut env, adjust(Some("grp"), None));
        assert!(!out.is_error(), "{out:?}");
        assert!(out.changes.is_empty(), "{:?}", out.changes);
        // The request's place count over the group's, for every group.
        let out = run(&mut c, &mut env, adjust(None, Some(3)));
        assert!(!out.is_error(), "{out:?}");
        assert_eq!((diskful(&c, "r1"), diskful(&c, "r2")), (3, 3));
        c.check_invariants().unwrap();
        // An unknown group is refused and changes nothing.
        let before = c.to_json();
        let out = run(&mut c, &mut env, adjust(Some("nope"), None));
        assert_eq!(
            out.rc.first_error().map(|e| e.code),
            Some(code::NOT_FOUND_RSC_GRP)
        );
        assert_eq!(c.to_json(), before);
    }

    fn report_all(c: &mut Cluster, env: &mut SeededEnv, in_use: &[(&str, &str)]) {
        let rscs: Vec<(String, String)> = c
            .state()
            .resource_definitions
            .values()
            .flat_map(|d| {
                d.resources
                    .keys()
                    .map(|n| (d.name.to_string(), n.to_string()))
            })
            .collect();
        for (rd, node) in rscs {
            let state = crate::model::RscObserved {
                in_use: in_use.contains(&(rd.as_str(), node.as_str())),
                up_to_date: true,
                established: true,
            };
            let out = run(
                c,
                env,
                Command::RscReport {
                    node,
                    rsc_dfn: rd,
                    state,
                },
            );
            assert!(!out.is_error(), "{out:?}");
        }
    }

    fn nodes_of(c: &Cluster, rd: &str) -> Vec<String> {
        let rd: crate::name::ResourceName = rd.parse().unwrap();
        c.state().resource_definitions[&rd]
            .resources
            .values()
            .filter(|r| !r.is_diskless() && !r.is_deleting())
            .map(|r| r.node.to_string())
            .collect()
    }

    #[test]
    fn balance_adds_and_removes_toward_the_place_count_once_replicas_settled() {
        use crate::cluster::balance::{Balance, balance_decision};
        let (mut c, mut env) = cluster(4);
        create_group(
            &mut c,
            &mut env,
            SelectFilter {
                place_count: Some(2),
                ..Default::default()
            },
        );
        assert!(!spawn_in(&mut c, &mut env, "r1", Some(4), 10).is_error());
        assert!(!spawn_in(&mut c, &mut env, "r2", Some(1), 10).is_error());
        let balance = |rd: Option<&str>| Command::RscBalance {
            rsc_dfn: rd.map(str::to_string),
        };
        let r1: crate::name::ResourceName = "r1".parse().unwrap();
        let decide = |c: &Cluster, env: &mut SeededEnv| {
            balance_decision(c.state(), &r1, crate::cluster::Env::now_ms(env))
        };

        // Fresh replicas: within the grace period nothing happens.
        assert!(matches!(decide(&c, &mut env), Balance::Skip(w) if w.contains("GracePeriod")));
        let out = run(&mut c, &mut env, balance(None));
        assert!(!out.is_error() && out.changes.is_empty(), "{out:?}");
        // Later, but nothing reported: still nothing.
        env.advance(2 * 3_600_000);
        assert!(
            matches!(decide(&c, &mut env), Balance::Skip(w) if w.contains("not reported")),
            "{:?}",
            decide(&c, &mut env)
        );
        // Reported settled, with r1 in use on n0: r1 gives up two replicas (never n0), r2 gets one.
        report_all(&mut c, &mut env, &[("r1", "n0")]);
        let out = run(&mut c, &mut env, balance(None));
        assert!(!out.is_error(), "{out:?}");
        let r1_nodes = nodes_of(&c, "r1");
        assert_eq!(r1_nodes.len(), 2, "{r1_nodes:?}");
        assert!(r1_nodes.contains(&"n0".to_string()), "{r1_nodes:?}");
        assert_eq!(nodes_of(&c, "r2").len(), 2);
        c.check_invariants().unwrap();
        // The removed ones are marked for deletion; until the satellites confirm, r1 is in flux.
        assert!(
            matches!(decide(&c, &mut env), Balance::Skip(w) if w.contains("being deleted")),
            "{:?}",
            decide(&c, &mut env)
        );
        // Turned off on the definition: left alone, and an explicit request says why.
        let out = run(
            &mut c,
            &mut env,
            Command::RscDfnModify {
                name: "r2".into(),
                props: crate::props::PropsModify::set([("BalanceResourcesEnabled", "false")]),
                peer_slots: None,
                rsc_grp: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let out = run(&mut c, &mut env, balance(Some("r2")));
        assert!(!out.is_error(), "{out:?}");
        assert!(
            out.rc
                .0
                .iter()
                .any(|e| e.code == code::WARN_NO_EFFECT
                    && e.message.contains("BalanceResourcesEnabled")),
            "{out:?}"
        );
        // An unknown definition is refused.
        let out = run(&mut c, &mut env, balance(Some("nope")));
        assert_eq!(
            out.rc.first_error().map(|e| e.code),
            Some(code::NOT_FOUND_RSC_DFN)
        );
    }

    #[test]
    fn balance_skips_failed_disks_and_unsettled_replicas() {
        use crate::cluster::balance::{Balance, balance_decision};
        let (mut c, mut env) = cluster(3);
        assert!(!spawn(&mut c, &mut env, "r1", 3, 10).is_error());
        let r1: crate::name::ResourceName = "r1".parse().unwrap();
        env.advance(2 * 3_600_000);
        report_all(&mut c, &mut env, &[]);
        // DfltRscGrp has no place count.
        let d = balance_decision(c.state(), &r1, crate::cluster::Env::now_ms(&mut env));
        assert!(
            matches!(&d, Balance::Skip(w) if w.contains("no place count")),
            "{d:?}"
        );
        default_group_places(&mut c, &mut env, 2);
        let now = crate::cluster::Env::now_ms(&mut env);
        assert!(
            matches!(balance_decision(c.state(), &r1, now), Balance::Remove(n) if n.len() == 1)
        );
        // A resync running on one replica: nothing is removed.
        let out = run(
            &mut c,
            &mut env,
            Command::RscReport {
                node: "n1".into(),
                rsc_dfn: "r1".into(),
                state: crate::model::RscObserved {
                    in_use: false,
                    up_to_date: false,
                    established: false,
                },
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let d = balance_decision(c.state(), &r1, now);
        assert!(
            matches!(&d, Balance::Skip(w) if w.contains("n1") && w.contains("UpToDate")),
            "{d:?}"
        );
        report_all(&mut c, &mut env, &[]);
        // A failed disk (SkipDisk on the node): nothing is touched.
        let out = run(
            &mut c,
            &mut env,
            Command::NodeModify {
                name: "n2".into(),
                node_type: None,
                props: crate::props::PropsModify::set([("DrbdOptions/SkipDisk", "True")]),
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let d = balance_decision(c.state(), &r1, now);
        assert!(
            matches!(&d, Balance::Skip(w) if w.contains("SkipDisk")),
            "{d:?}"
        );
    }

    #[test]
    fn group_adjust_sees_what_it_placed_for_the_definitions_before() {
        // n0..n2 with 100 GiB each; r1 (60 GiB) on n0, r2 (60 GiB) on n1. Adjusting to two
        // replicas puts r1's second on n2, and then r2 no longer fits there.
        let (mut c, mut env) = cluster(3);
        create_group(&mut c, &mut env, SelectFilter::default());
        for (rd, node) in [("r1", "n0"), ("r2", "n1")] {
            let out = run(
                &mut c,
                &mut env,
                Command::RscGrpSpawn {
                    rsc_grp: "grp".into(),
                    rsc_dfn: rd.into(),
                    external_name: None,
                    volume_sizes: vec![SizeKib(60 << 20)],
                    partial: false,
                    nodes: vec![],
                    select_filter: Some(SelectFilter {
                        place_count: Some(1),
                        node_name_list: Some(vec![node.parse().unwrap()]),
                        ..Default::default()
                    }),
                    definitions_only: false,
                    peer_slots: None,
                    rsc_dfn_props: Default::default(),
                },
            );
            assert!(!out.is_error(), "{out:?}");
        }
        let out = run(
            &mut c,
            &mut env,
            Command::RscGrpAdjust {
                name: Some("grp".into()),
                select_filter: Some(SelectFilter {
                    place_count: Some(2),
                    ..Default::default()
                }),
            },
        );
        assert!(!out.is_error(), "{out:?}");
        assert_eq!(nodes_of(&c, "r1"), ["n0", "n2"]);
        assert_eq!(nodes_of(&c, "r2"), ["n1"], "n2 has 40 GiB left: {out:?}");
        assert!(
            out.rc
                .0
                .iter()
                .any(|e| e.severity == Severity::Warning && e.code == code::NOT_ENOUGH_NODES),
            "{out:?}"
        );
        c.check_invariants().unwrap();
    }

    #[test]
    fn balance_leaves_undeployed_and_offline_definitions_alone() {
        use crate::cluster::balance::{Balance, balance_decision};
        let (mut c, mut env) = cluster(3);
        default_group_places(&mut c, &mut env, 2);
        assert!(!spawn(&mut c, &mut env, "r1", 3, 10).is_error());
        let out = run(
            &mut c,
            &mut env,
            Command::RscDfnCreate {
                name: "r2".into(),
                rsc_grp: None,
                external_name: None,
                props: Default::default(),
                secret: None,
                peer_slots: None,
                layer_stack: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        env.advance(2 * 3_600_000);
        report_all(&mut c, &mut env, &[]);
        let now = crate::cluster::Env::now_ms(&mut env);
        let decide = |c: &Cluster, rd: &str| balance_decision(c.state(), &rd.parse().unwrap(), now);
        assert!(matches!(decide(&c, "r2"), Balance::Skip(w) if w.contains("not deployed")));
        assert!(matches!(decide(&c, "r1"), Balance::Remove(n) if n.len() == 1));
        let out = run(
            &mut c,
            &mut env,
            Command::NodeReport {
                node: "n1".into(),
                connection: ConnectionStatus::OFFLINE,
                capabilities: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let d = decide(&c, "r1");
        assert!(
            matches!(&d, Balance::Skip(w) if w.contains("n1") && w.contains("online")),
            "{d:?}"
        );
        let out = run(&mut c, &mut env, Command::RscBalance { rsc_dfn: None });
        assert!(!out.is_error() && out.changes.is_empty(), "{out:?}");
    }

    fn on(c: &Cluster, node: &str) -> Vec<(String, Vec<&'static str>)> {
        let n: crate::name::NodeName = node.parse().unwrap();
        c.state()
            .resource_definitions
            .values()
            .filter_map(|d| {
                d.resources
                    .get(&n)
                    .map(|r| (d.name.to_string(), r.flags.names()))
            })
            .collect()
    }

    #[test]
    fn evacuation_places_replacements_then_deletes_the_originals_once_synced() {
        let (mut c, mut env) = cluster(4);
        assert!(!spawn(&mut c, &mut env, "r1", 2, 10).is_error());
        assert!(!spawn(&mut c, &mut env, "r2", 3, 10).is_error());
        let before: Vec<usize> = ["r1", "r2"].iter().map(|r| diskful(&c, r)).collect();
        let evacuate = |n: &str| Command::NodeEvacuate {
            name: n.into(),
            target: vec![],
            do_not_target: vec![],
        };
        // n0 carries both (the placer fills n0 first on equal pools).
        assert_eq!(on(&c, "n0").len(), 2, "{:?}", on(&c, "n0"));
        let out = run(&mut c, &mut env, evacuate("n0"));
        assert!(!out.is_error(), "{out:?}");
        c.check_invariants().unwrap();
        assert!(on(&c, "n0").iter().all(|(_, f)| f.contains(&"EVACUATE")));
        for (rd, n) in ["r1", "r2"].iter().zip(&before) {
            // The originals stay until the replacements are in sync: one more diskful each.
            assert_eq!(diskful(&c, rd), n + 1, "{rd}: {:?}", flags(&c, rd));
        }
        // Not reported yet: nothing is deleted.
        let balance = Command::RscBalance { rsc_dfn: None };
        let out = run(&mut c, &mut env, balance.clone());
        assert!(!out.is_error() && out.changes.is_empty(), "{out:?}");
        report_all(&mut c, &mut env, &[]);
        let out = run(&mut c, &mut env, balance);
        assert!(!out.is_error(), "{out:?}");
        assert!(
            on(&c, "n0").iter().all(|(_, f)| f.contains(&"DELETE")),
            "{:?}",
            on(&c, "n0")
        );
        for (rd, n) in ["r1", "r2"].iter().zip(&before) {
            assert_eq!(nodes_of(&c, rd).len(), *n, "{rd}");
            assert!(!nodes_of(&c, rd).contains(&"n0".to_string()));
        }
        // The satellite confirms; the node can go.
        for (rd, _) in on(&c, "n0") {
            let out = run(
                &mut c,
                &mut env,
                Command::RscDeleteConfirmed {
                    rsc_dfn: rd,
                    node: "n0".into(),
                },
            );
            assert!(!out.is_error(), "{out:?}");
        }
        let out = run(&mut c, &mut env, Command::NodeDelete { name: "n0".into() });
        assert!(!out.is_error(), "{out:?}");
        c.check_invariants().unwrap();
    }

    #[test]
    fn evacuation_is_all_or_nothing_and_can_be_cancelled() {
        let (mut c, mut env) = cluster(3);
        assert!(!spawn(&mut c, &mut env, "r1", 1, 10).is_error());
        assert!(!spawn(&mut c, &mut env, "r2", 3, 10).is_error());
        let before = c.to_json();
        let out = run(
            &mut c,
            &mut env,
            Command::NodeEvacuate {
                name: "n0".into(),
                target: vec![],
                do_not_target: vec![],
            },
        );
        let e = out.rc.first_error().unwrap_or_else(|| panic!("{out:?}"));
        assert_eq!(e.code, code::NOT_ENOUGH_NODES);
        assert!(e.message.contains("'r2'"), "{e}");
        assert!(e.cause.is_some() && e.correction.is_some(), "{e}");
        assert_eq!(c.to_json(), before, "a refused evacuation changes nothing");
        assert!(out.changes.is_empty());
        c.check_invariants().unwrap();
        // Without r2 it works; restore cancels it (the replacement stays).
        let out = run(
            &mut c,
            &mut env,
            Command::NodeEvacuate {
                name: "n0".into(),
                target: vec![],
                do_not_target: vec!["n1".into()],
            },
        );
        assert!(out.is_error(), "r2 still blocks: {out:?}");
        let out = run(
            &mut c,
            &mut env,
            Command::RscDfnDelete { name: "r2".into() },
        );
        assert!(!out.is_error(), "{out:?}");
        for n in ["n0", "n1", "n2"] {
            run(
                &mut c,
                &mut env,
                Command::RscDeleteConfirmed {
                    rsc_dfn: "r2".into(),
                    node: n.into(),
                },
            );
        }
        let out = run(
            &mut c,
            &mut env,
            Command::NodeEvacuate {
                name: "n0".into(),
                target: vec![],
                do_not_target: vec!["n1".into()],
            },
        );
        assert!(!out.is_error(), "{out:?}");
        assert_eq!(
            nodes_of(&c, "r1"),
            ["n0", "n2"],
            "do_not_target kept n1 out"
        );
        let on_n0 = &c.state().resource_definitions[&"r1".parse().unwrap()].resources
            [&"n0".parse().unwrap()];
        assert_eq!(
            on_n0.props.get(crate::keys::EVACUATION_DO_NOT_TARGET),
            Some("n1"),
            "kept for a replacement placed again"
        );
        let out = run(
            &mut c,
            &mut env,
            Command::NodeRestore {
                name: "n0".into(),
                delete_resources: false,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        assert!(on(&c, "n0").iter().all(|(_, f)| !f.contains(&"EVACUATE")));
        assert_eq!(c.state().nodes[&"n0".parse().unwrap()].flags.0, 0);
        c.check_invariants().unwrap();
    }

    #[test]
    fn eviction_replaces_an_offline_node_and_restore_reactivates_or_deletes() {
        let (mut c, mut env) = cluster(4);
        assert!(!spawn(&mut c, &mut env, "r1", 2, 10).is_error());
        assert!(!spawn(&mut c, &mut env, "r2", 3, 10).is_error());
        let evict = Command::NodeEvict { name: "n0".into() };
        // Online: refused, nothing changes.
        let before = c.to_json();
        let out = run(&mut c, &mut env, evict.clone());
        assert_eq!(
            out.rc.first_error().map(|e| e.code),
            Some(code::INVLD_REQUEST)
        );
        assert_eq!(c.to_json(), before);
        let out = run(
            &mut c,
            &mut env,
            Command::NodeReport {
                node: "n0".into(),
                connection: ConnectionStatus::OFFLINE,
                capabilities: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        let out = run(&mut c, &mut env, evict.clone());
        assert!(!out.is_error(), "{out:?}");
        c.check_invariants().unwrap();
        assert!(
            on(&c, "n0").iter().all(|(_, f)| f.contains(&"EVICTED")),
            "{:?}",
            on(&c, "n0")
        );
        // r1 is back to 2 live diskful replicas elsewhere; r2 (3 on 4 nodes) too.
        let live =
            |c: &Cluster, rd: &str| nodes_of(c, rd).into_iter().filter(|n| n != "n0").count();
        assert_eq!((live(&c, "r1"), live(&c, "r2")), (2, 3));
        // Twice: no effect.
        let out = run(&mut c, &mut env, evict);
        assert!(
            out.rc.0.iter().any(|e| e.code == code::WARN_NO_EFFECT),
            "{out:?}"
        );
        // Restore: reactivated (the replacements stay; the balance task trims surplus).
        let out = run(
            &mut c,
            &mut env,
            Command::NodeRestore {
                name: "n0".into(),
                delete_resources: false,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        assert!(
            on(&c, "n0")
                .iter()
                .all(|(_, f)| !f.contains(&"EVICTED") && !f.contains(&"DELETE"))
        );
        c.check_invariants().unwrap();
        // Evicted again and restored with delete_resources: marked for deletion.
        run(
            &mut c,
            &mut env,
            Command::NodeReport {
                node: "n0".into(),
                connection: ConnectionStatus::OFFLINE,
                capabilities: None,
            },
        );
        assert!(!run(&mut c, &mut env, Command::NodeEvict { name: "n0".into() }).is_error());
        let out = run(
            &mut c,
            &mut env,
            Command::NodeRestore {
                name: "n0".into(),
                delete_resources: true,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        assert!(
            on(&c, "n0")
                .iter()
                .all(|(_, f)| f.contains(&"DELETE") && !f.contains(&"EVICTED")),
            "{:?}",
            on(&c, "n0")
        );
        c.check_invariants().unwrap();
    }

    #[test]
    fn evacuating_a_tiebreaker_moves_it_and_keeps_automatic_tiebreakers_on() {
        let (mut c, mut env) = cluster(4);
        assert!(!spawn(&mut c, &mut env, "r1", 2, 10).is_error());
        let tb = |c: &Cluster| -> Vec<String> {
            flags(c, "r1")
                .into_iter()
                .filter(|(_, f)| f.contains(&"TIE_BREAKER") && !f.contains(&"DELETE"))
                .map(|(n, _)| n)
                .collect()
        };
        let first = tb(&c);
        assert_eq!(first.len(), 1, "{:?}", flags(&c, "r1"));
        let out = run(
            &mut c,
            &mut env,
            Command::NodeEvacuate {
                name: first[0].clone(),
                target: vec![],
                do_not_target: vec![],
            },
        );
        assert!(!out.is_error(), "{out:?}");
        // A second tiebreaker is placed elsewhere while the first waits to be removed.
        let now = tb(&c);
        assert_eq!(now.len(), 2, "{:?}", flags(&c, "r1"));
        report_all(&mut c, &mut env, &[]);
        let out = run(&mut c, &mut env, Command::RscBalance { rsc_dfn: None });
        assert!(!out.is_error(), "{out:?}");
        let after = tb(&c);
        assert_eq!(after.len(), 1, "{:?}", flags(&c, "r1"));
        assert_ne!(after[0], first[0]);
        let rd = &c.state().resource_definitions[&"r1".parse().unwrap()];
        assert_eq!(rd.props.get("DrbdOptions/auto-add-quorum-tiebreaker"), None);
        c.check_invariants().unwrap();
    }

    #[test]
    fn stale_reports_and_resources_without_drbd_are_never_acted_on() {
        use crate::cluster::balance::{Balance, balance_decision};
        let (mut c, mut env) = cluster(3);
        assert!(!spawn(&mut c, &mut env, "r1", 3, 10).is_error());
        env.advance(2 * 3_600_000);
        report_all(&mut c, &mut env, &[]);
        // A reconnect makes the node's reports stale.
        for conn in [ConnectionStatus::OFFLINE, ConnectionStatus::ONLINE] {
            let out = run(
                &mut c,
                &mut env,
                Command::NodeReport {
                    node: "n1".into(),
                    connection: conn,
                    capabilities: None,
                },
            );
            assert!(!out.is_error(), "{out:?}");
        }
        let now = crate::cluster::Env::now_ms(&mut env);
        default_group_places(&mut c, &mut env, 2);
        let d = balance_decision(c.state(), &"r1".parse().unwrap(), now);
        assert!(
            matches!(&d, Balance::Skip(w) if w.contains("n1") && w.contains("not reported")),
            "{d:?}"
        );
        // A definition without DRBD: its replicas are not copies of each other.
        let out = run(
            &mut c,
            &mut env,
            Command::RscDfnCreate {
                name: "plain".into(),
                rsc_grp: None,
                external_name: None,
                props: Default::default(),
                secret: None,
                peer_slots: None,
                layer_stack: Some(vec![LayerKind::STORAGE]),
            },
        );
        assert!(!out.is_error(), "{out:?}");
        for cmd in [
            Command::VlmDfnCreate {
                rsc_dfn: "plain".into(),
                number: None,
                size: SizeKib(1 << 20),
                minor: None,
                props: Default::default(),
            },
            Command::RscCreate {
                rsc_dfn: "plain".into(),
                node: "n0".into(),
                storage_pool: Some("data".into()),
                diskless: false,
                drbd_client: false,
                props: Default::default(),
            },
        ] {
            let out = run(&mut c, &mut env, cmd);
            assert!(!out.is_error(), "{out:?}");
        }
        let d = balance_decision(c.state(), &"plain".parse().unwrap(), now);
        assert!(
            matches!(&d, Balance::Skip(w) if w.contains("DRBD")),
            "{d:?}"
        );
        let before = c.to_json();
        let out = run(
            &mut c,
            &mut env,
            Command::NodeEvacuate {
                name: "n0".into(),
                target: vec![],
                do_not_target: vec![],
            },
        );
        assert_eq!(
            out.rc.first_error().map(|e| e.code),
            Some(code::INVLD_LAYER_STACK),
            "{out:?}"
        );
        assert_eq!(c.to_json(), before);
    }

    #[test]
    fn a_replacement_must_mix_with_the_replica_it_copies() {
        let (mut c, mut env) = cluster(3);
        run(
            &mut c,
            &mut env,
            Command::NodeReport {
                node: "n0".into(),
                connection: ConnectionStatus::ONLINE,
                capabilities: Some(Capabilities {
                    storage_providers: vec![
                        ProviderKind::LVM,
                        ProviderKind::ZFS,
                        ProviderKind::DISKLESS,
                    ],
                    resource_layers: vec![LayerKind::DRBD, LayerKind::STORAGE],
                    drbd_version: Some((9, 2, 8)),
                    ..Default::default()
                }),
            },
        );
        let out = run(
            &mut c,
            &mut env,
            Command::StorPoolCreate {
                node: "n0".into(),
                name: "zfs".into(),
                kind: ProviderKind::ZFS,
                props: [("StorDriver/StorPoolName".to_string(), "tank".to_string())]
                    .into_iter()
                    .collect(),
                shared_space: None,
            },
        );
        assert!(!out.is_error(), "{out:?}");
        run(
            &mut c,
            &mut env,
            Command::StorPoolReport {
                node: "n0".into(),
                pool: "zfs".into(),
                free: SizeKib(100 << 20),
                total: SizeKib(100 << 20),
            },
        );
        let out = run(
            &mut c,
            &mut env,
            Command::RscGrpSpawn {
                rsc_grp: "DfltRscGrp".into(),
                rsc_dfn: "r1".into(),
                external_name: None,
                volume_sizes: vec![SizeKib(10 << 20)],
                partial: false,
                nodes: vec![],
                select_filter: Some(SelectFilter {
                    place_count: Some(1),
                    storage_pool: Some("zfs".parse().unwrap()),
                    ..Default::default()
                }),
                definitions_only: false,
                peer_slots: None,
                rsc_dfn_props: Default::default(),
            },
        );
        assert!(!out.is_error(), "{out:?}");
        // Only LVM elsewhere: the ZFS replica on n0 cannot be copied there.
        let out = run(
            &mut c,
            &mut env,
            Command::NodeEvacuate {
                name: "n0".into(),
                target: vec![],
                do_not_target: vec![],
            },
        );
        let e = out.rc.first_error().unwrap_or_else(|| panic!("{out:?}"));
        assert_eq!(e.code, code::NOT_ENOUGH_NODES, "{e}");
        assert!(format!("{e}").contains("mix"), "{e}");
        // A new handshake makes earlier resource reports stale.
        report_all(&mut c, &mut env, &[]);
        let n0: crate::name::NodeName = "n0".parse().unwrap();
        assert!(!c.state().observed.nodes[&n0].resources.is_empty());
        run(
            &mut c,
            &mut env,
            Command::NodeReport {
                node: "n0".into(),
                connection: ConnectionStatus::ONLINE,
                capabilities: Some(Capabilities::default()),
            },
        );
        assert!(c.state().observed.nodes[&n0].resources.is_empty());
    }
}
