//! Embedding example: build a 3-node cluster with storage pools, a resource group with volume
//! groups, spawn a resource, print what the cluster holds, and show refused commands with their
//! cause and correction.
//!
//! Run: `cargo run --example cluster_tour` (add `-- --json` for the state as JSON).
#![allow(clippy::print_stdout, reason = "an example prints its results")]

use std::collections::BTreeMap;

use linstor_core::cluster::{Cluster, Command, NetIfSpec, NodePlacement, Outcome, SeededEnv};
use linstor_core::model::{
    Capabilities, ConnectionStatus, EncryptionType, LayerKind, NodeType, ProviderKind,
    SelectFilter, VlmGrpFlags,
};
use linstor_core::props::PropsModify;
use linstor_core::size::SizeKib;

fn show(title: &str, o: &Outcome) {
    println!("$ {title}");
    for e in &o.rc.0 {
        let text = e.to_string().replace('\n', "\n    ");
        println!("    {text}  [ret_code {}]", e.ret_code());
    }
}

fn run(c: &mut Cluster, env: &mut SeededEnv, title: &str, cmd: Command) -> Outcome {
    let o = c.execute(cmd, env);
    show(title, &o);
    o
}

fn main() {
    let json = std::env::args().any(|a| a == "--json");
    // Time and randomness are inputs: the same seed gives the same secrets, UUIDs and output.
    let mut env = SeededEnv::new(2026);
    let mut c = Cluster::new(&mut env);

    println!("== Building a 3-node cluster ==");
    for (i, zone) in [(1, "a"), (2, "b"), (3, "c")] {
        let node = format!("alpha{i}");
        run(
            &mut c,
            &mut env,
            &format!("node create {node}"),
            Command::NodeCreate {
                name: node.clone(),
                node_type: NodeType::Satellite,
                net_interfaces: vec![NetIfSpec {
                    name: "default".into(),
                    address: format!("10.0.0.{i}"),
                    satellite_port: Some(3366),
                    encryption: EncryptionType::Plain,
                }],
                props: [("Aux/zone".to_owned(), zone.to_owned())].into(),
            },
        );
        run(
            &mut c,
            &mut env,
            &format!("storage-pool create lvmthin {node} thin vg0/thin"),
            Command::StorPoolCreate {
                node: node.clone(),
                name: "thin".into(),
                kind: ProviderKind::LVM_THIN,
                props: [("StorDriver/StorPoolName".to_owned(), "vg0/thin".to_owned())].into(),
                shared_space: None,
            },
        );
        run(
            &mut c,
            &mut env,
            &format!("(satellite {node} connects)"),
            Command::NodeReport {
                node: node.clone(),
                connection: ConnectionStatus::ONLINE,
                capabilities: Some(Capabilities {
                    storage_providers: vec![
                        ProviderKind::DISKLESS,
                        ProviderKind::LVM,
                        ProviderKind::LVM_THIN,
                    ],
                    resource_layers: vec![LayerKind::DRBD, LayerKind::STORAGE],
                    unsupported_providers: [(
                        ProviderKind::ZFS,
                        vec!["'zfs' kernel module is not loaded".to_owned()],
                    )]
                    .into(),
                    drbd_version: Some((9, 2, 12)),
                    ..Default::default()
                }),
            },
        );
        run(
            &mut c,
            &mut env,
            &format!("(satellite {node} reports its pool)"),
            Command::StorPoolReport {
                node,
                pool: "thin".into(),
                free: SizeKib::parse("900G").expect("valid size"),
                total: SizeKib::parse("1T").expect("valid size"),
            },
        );
    }

    println!("\n== A resource group with two volume groups ==");
    run(
        &mut c,
        &mut env,
        "resource-group create sc-replicated --place-count 2 --storage-pool thin",
        Command::RscGrpCreate {
            name: "sc-replicated".into(),
            description: "two replicas on thin LVM".into(),
            props: [("DrbdOptions/Net/protocol".to_owned(), "C".to_owned())].into(),
            select_filter: SelectFilter {
                place_count: Some(2),
                storage_pool_list: Some(vec!["thin".parse().expect("valid")]),
                replicas_on_different: Some(vec!["Aux/zone".into()]),
                ..Default::default()
            },
            peer_slots: None,
        },
    );
    for _ in 0..2 {
        run(
            &mut c,
            &mut env,
            "volume-group create sc-replicated",
            Command::VlmGrpCreate {
                rsc_grp: "sc-replicated".into(),
                number: None,
                props: BTreeMap::new(),
                flags: VlmGrpFlags::default(),
            },
        );
    }

    println!(
        "\n== Spawning: the autoplacer picks two zones, auto-quorum and a tiebreaker follow =="
    );
    let sizes = ["20G", "1G"]
        .map(|s| SizeKib::parse(s).expect("valid size"))
        .to_vec();
    let o = run(
        &mut c,
        &mut env,
        "resource-group spawn sc-replicated pvc-db 20G 1G",
        Command::RscGrpSpawn {
            rsc_grp: "sc-replicated".into(),
            rsc_dfn: "pvc-db".into(),
            external_name: None,
            volume_sizes: sizes,
            partial: false,
            nodes: Vec::new(),
            select_filter: None,
            definitions_only: false,
            peer_slots: None,
            rsc_dfn_props: BTreeMap::new(),
        },
    );
    println!(
        "    changes: {} created, {} modified, {} deleted",
        o.changes.created.len(),
        o.changes.modified.len(),
        o.changes.deleted.len()
    );
    run(
        &mut c,
        &mut env,
        "resource-group spawn sc-replicated pvc-web 5G 1G (explicitly on alpha3)",
        Command::RscGrpSpawn {
            rsc_grp: "sc-replicated".into(),
            rsc_dfn: "pvc-web".into(),
            external_name: None,
            volume_sizes: ["5G", "1G"]
                .map(|s| SizeKib::parse(s).expect("valid size"))
                .to_vec(),
            partial: false,
            nodes: vec![NodePlacement {
                node: "alpha3".into(),
                storage_pool: Some("thin".into()),
                diskless: false,
            }],
            select_filter: None,
            definitions_only: false,
            peer_slots: None,
            rsc_dfn_props: BTreeMap::new(),
        },
    );

    println!("\n== What the cluster holds ==");
    let s = c.state();
    for n in s.nodes.values() {
        let pools: Vec<String> = n
            .storage_pools
            .values()
            .map(|p| format!("{} ({})", p.name, p.kind))
            .collect();
        let addr = n
            .net_interfaces
            .values()
            .next()
            .map(|i| i.address.to_string())
            .unwrap_or_default();
        println!(
            "node {:<8} {:?} {addr:<10} zone={:<2} pools: {}",
            n.name,
            n.node_type,
            n.props.get("Aux/zone").unwrap_or("-"),
            pools.join(", ")
        );
    }
    for rd in s.resource_definitions.values() {
        println!(
            "resource definition {} (group {}, secret {} chars, peer slots {})",
            rd.name,
            rd.resource_group,
            rd.drbd.secret.len(),
            rd.drbd.peer_slots
        );
        for vd in rd.volume_definitions.values() {
            println!(
                "  volume {}: {} minor {} (/dev/drbd{})",
                vd.number, vd.size, vd.minor, vd.minor
            );
        }
        for r in rd.resources.values() {
            let pools: Vec<String> = r
                .volumes
                .values()
                .map(|v| v.storage_pool.to_string())
                .collect();
            println!(
                "  on {:<8} node-id {} port {:?} flags {:?} pools {}",
                r.node,
                r.node_id,
                r.tcp_ports,
                r.flags.names(),
                pools.join(",")
            );
        }
        let chain = c
            .chains()
            .drbd_resource(&rd.name, &"alpha1".parse().expect("valid"));
        for key in ["DrbdOptions/Net/protocol", "DrbdOptions/Resource/quorum"] {
            if let Some((v, level)) = chain.get_with_level(key) {
                println!("  {key} = {v} (from the {level})");
            }
        }
    }

    println!("\n== Refused commands change nothing and say what to do ==");
    let before = c.to_json();
    run(
        &mut c,
        &mut env,
        "node create 'alpha 4'",
        Command::NodeCreate {
            name: "alpha 4".into(),
            node_type: NodeType::Satellite,
            net_interfaces: vec![NetIfSpec {
                name: "default".into(),
                address: "10.0.0.4".into(),
                satellite_port: None,
                encryption: EncryptionType::Plain,
            }],
            props: BTreeMap::new(),
        },
    );
    run(
        &mut c,
        &mut env,
        "volume-definition set-size pvc-db 0 10G",
        Command::VlmDfnResize {
            rsc_dfn: "pvc-db".into(),
            number: 0,
            size: SizeKib::parse("10G").expect("valid size"),
        },
    );
    run(
        &mut c,
        &mut env,
        "resource-definition set-property pvc-db StorPoolNam thin",
        Command::RscDfnModify {
            name: "pvc-db".into(),
            props: PropsModify::set([("StorPoolNam", "thin")]),
            peer_slots: None,
            rsc_grp: None,
        },
    );
    run(
        &mut c,
        &mut env,
        "resource-group spawn sc-replicated pvc-big 20G 1G --place-count 4",
        Command::RscGrpSpawn {
            rsc_grp: "sc-replicated".into(),
            rsc_dfn: "pvc-big".into(),
            external_name: None,
            volume_sizes: ["20G", "1G"]
                .map(|s| SizeKib::parse(s).expect("valid size"))
                .to_vec(),
            partial: false,
            nodes: Vec::new(),
            select_filter: Some(SelectFilter {
                place_count: Some(4),
                ..Default::default()
            }),
            definitions_only: false,
            peer_slots: None,
            rsc_dfn_props: BTreeMap::new(),
        },
    );
    run(
        &mut c,
        &mut env,
        "node delete alpha1",
        Command::NodeDelete {
            name: "alpha1".into(),
        },
    );
    run(
        &mut c,
        &mut env,
        "storage-pool create zfs alpha1 tank 'tank;reboot'",
        Command::StorPoolCreate {
            node: "alpha1".into(),
            name: "tank".into(),
            kind: ProviderKind::ZFS,
            props: [(
                "StorDriver/StorPoolName".to_owned(),
                "tank;reboot".to_owned(),
            )]
            .into(),
            shared_space: None,
        },
    );
    assert_eq!(
        before,
        c.to_json(),
        "refused commands must not change the state"
    );
    println!(
        "\nstate unchanged by the refused commands: {} bytes of JSON",
        before.len()
    );
    if json {
        println!("{}", c.to_json());
    }
}
