//! `ResConfig::from_projection`: a cluster built through the core's commands, projected for each
//! node (`ClusterState::for_node`) and rendered from that, snapshot-tested and checked by the
//! real drbdadm.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;

use linstor_core::SizeKib;
use linstor_core::cluster::{Cluster, Command, NetIfSpec, SeededEnv};
use linstor_core::model::{EncryptionType, NodeType, ProviderKind};
use linstor_core::props::PropsModify;
use linstor_core::{NodeName, ResourceName};
use linstor_drbd::{DrbdOptionsValidator, OptionWhitelist, ResConfig};

fn must(c: &mut Cluster, e: &mut SeededEnv, cmd: Command) {
    let what = format!("{cmd:?}");
    let out = c.execute(cmd, e);
    assert!(!out.is_error(), "{what}: {out:?}");
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// alpha and beta diskful (LVM), gamma diskless; options on controller, group, definition and
/// resource; alpha's uname differs from its node name; beta prefers its `data` interface.
fn cluster() -> (Cluster, SeededEnv) {
    let mut e = SeededEnv::new(7);
    let mut c = Cluster::new(&mut e);
    c.set_drbd_option_validator(Arc::new(DrbdOptionsValidator::builtin()));
    type NodeSpec<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let nodes: [NodeSpec<'_>; 3] = [
        ("alpha", "10.0.0.1", &[("NodeUname", "alpha.example.com")]),
        ("beta", "10.0.0.2", &[("PrefNic", "data")]),
        ("gamma", "fd00::3", &[]),
    ];
    for (name, ip, p) in nodes {
        must(
            &mut c,
            &mut e,
            Command::NodeCreate {
                name: name.into(),
                node_type: NodeType::Satellite,
                net_interfaces: vec![NetIfSpec {
                    name: "default".into(),
                    address: ip.into(),
                    satellite_port: Some(3366),
                    encryption: EncryptionType::Plain,
                }],
                props: props(p),
            },
        );
        must(
            &mut c,
            &mut e,
            Command::StorPoolCreate {
                node: name.into(),
                name: "data".into(),
                kind: ProviderKind::LVM,
                props: props(&[("StorDriver/StorPoolName", "vg0")]),
                shared_space: None,
            },
        );
    }
    must(
        &mut c,
        &mut e,
        Command::NetIfCreate {
            node: "beta".into(),
            netif: NetIfSpec {
                name: "data".into(),
                address: "192.168.10.2".into(),
                satellite_port: None,
                encryption: EncryptionType::Plain,
            },
        },
    );
    must(
        &mut c,
        &mut e,
        Command::CtrlPropsModify {
            props: PropsModify::set([
                ("DrbdOptions/Net/max-buffers", "8000"),
                ("DrbdOptions/Resource/on-no-quorum", "io-error"),
                // Keep the node set fixed: no automatic tiebreaker while resources are added.
                ("DrbdOptions/auto-add-quorum-tiebreaker", "False"),
            ]),
        },
    );
    must(
        &mut c,
        &mut e,
        Command::RscDfnCreate {
            name: "pvc-core".into(),
            rsc_grp: None,
            external_name: None,
            props: props(&[
                ("DrbdOptions/Net/max-buffers", "9000"),
                ("DrbdOptions/ExactSize", "True"),
            ]),
            secret: Some("c2VjcmV0LXNlY3JldC0x".into()),
            peer_slots: None,
            layer_stack: None,
        },
    );
    must(
        &mut c,
        &mut e,
        Command::VlmDfnCreate {
            rsc_dfn: "pvc-core".into(),
            number: None,
            size: SizeKib(1 << 20),
            minor: None,
            props: props(&[("DrbdOptions/Disk/al-extents", "6007")]),
        },
    );
    for (node, diskless) in [("alpha", false), ("beta", false), ("gamma", true)] {
        must(
            &mut c,
            &mut e,
            Command::RscCreate {
                rsc_dfn: "pvc-core".into(),
                node: node.into(),
                storage_pool: (!diskless).then(|| "data".into()),
                diskless,
                drbd_client: false,
                props: if node == "alpha" {
                    props(&[("DrbdOptions/Net/max-buffers", "10000")])
                } else {
                    BTreeMap::new()
                },
            },
        );
    }
    (c, e)
}

fn render(c: &Cluster, node: &str) -> (ResConfig, String) {
    let rd = ResourceName::new("pvc-core").expect("name");
    let local = NodeName::new(node).expect("name");
    let disks: BTreeMap<u16, std::path::PathBuf> =
        [(0u16, std::path::PathBuf::from("/dev/vg0/pvc-core_00000"))].into();
    let projection = c.state().for_node(&local).expect("node exists");
    let config = ResConfig::from_projection(
        &projection,
        &rd,
        &disks,
        "linstor-rs (test)",
        None,
        common::scenarios::old_drbd(),
    )
    .expect("from_cluster");
    let text = config.render(OptionWhitelist::builtin()).expect("renders");
    (config, text)
}

#[test]
fn from_cluster_resolves_chains_names_addresses_and_roles() {
    let (c, _) = cluster();
    let (config, alpha) = render(&c, "alpha");
    assert_eq!(config.local_node, "alpha.example.com");
    let beta = config
        .nodes
        .iter()
        .find(|n| n.uname == "beta")
        .expect("beta");
    assert_eq!(
        beta.address.to_string(),
        "192.168.10.2",
        "PrefNic=data on beta"
    );
    let mb = config
        .options
        .get(linstor_drbd::Section::Net, "max-buffers")
        .expect("max-buffers");
    assert_eq!(
        (mb.value.as_str(), mb.source.as_deref()),
        ("10000", Some("resource"))
    );
    assert!(alpha.contains("size 1048576k;"), "ExactSize: {alpha}");
    assert!(
        alpha.contains("al-extents 6007;"),
        "volume-definition disk option: {alpha}"
    );
    let ooq = config
        .options
        .get(linstor_drbd::Section::Resource, "on-no-quorum")
        .expect("on-no-quorum");
    assert_eq!(
        (ooq.value.as_str(), ooq.source.as_deref()),
        ("io-error", Some("controller"))
    );
    assert!(alpha.contains("max-buffers 10000;    # from resource; overrides '9000' from resource definition, '8000' from controller"));
    // The option sections depend on what the core manages automatically (auto-quorum may add
    // `quorum`); the snapshots pin the part this adapter decides: nodes, volumes, connections.
    let nodes_part = |text: &str| text[text.find("    on \"").unwrap_or(0)..].to_owned();
    insta::assert_snapshot!("from_cluster_alpha", nodes_part(&alpha));
    let (_, gamma) = render(&c, "gamma");
    insta::assert_snapshot!("from_cluster_gamma", nodes_part(&gamma));
}

#[test]
fn real_from_cluster_renders_pass_drbdadm() {
    let Some(bin) = common::tool("drbdadm", "real_from_cluster_renders_pass_drbdadm") else {
        return;
    };
    let (c, _) = cluster();
    let dir = tempfile::tempdir().expect("temp dir");
    for node in ["alpha", "beta", "gamma"] {
        let (config, text) = render(&c, node);
        let file = dir.path().join("pvc-core.res");
        std::fs::write(&file, &text).expect("write");
        let f = file.to_str().expect("utf-8");
        for args in [vec!["-c", f, "sh-nop"], vec!["-c", f, "dump", "pvc-core"]] {
            let out = common::run(
                &bin,
                &args,
                &[("__DRBD_NODE__", config.local_node.as_str())],
            );
            assert!(
                out.status.success(),
                "{node}: drbdadm {args:?}: {}\n{text}",
                common::text(&out)
            );
        }
    }
}

#[test]
fn unknown_or_missing_objects_are_errors() {
    let (mut c, mut e) = cluster();
    let rd = ResourceName::new("pvc-core").expect("name");
    let disks = BTreeMap::new();
    let v = common::scenarios::old_drbd();
    let missing_rd = ResourceName::new("pvc-none").expect("name");
    let alpha = NodeName::new("alpha").expect("name");
    let nowhere = NodeName::new("delta").expect("name");
    let p = c.state().for_node(&alpha).expect("alpha");
    assert!(ResConfig::from_projection(&p, &missing_rd, &disks, "t", None, v).is_err());
    assert!(c.state().for_node(&nowhere).is_none());
    // A node without a resource of the definition has no view of it.
    must(
        &mut c,
        &mut e,
        Command::NodeCreate {
            name: "delta".into(),
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
    let p = c.state().for_node(&nowhere).expect("delta");
    assert!(ResConfig::from_projection(&p, &rd, &disks, "t", None, v).is_err());
}

fn adjust_opts(
    c: &Cluster,
    rd: &ResourceName,
    node: &NodeName,
) -> linstor_drbd::commands::AdjustOpts {
    let p = c.state().for_node(node).expect("node exists");
    linstor_drbd::commands::AdjustOpts::from_projection(&p, rd)
}

#[test]
fn skip_disk_comes_from_the_chain() {
    let (mut c, mut e) = cluster();
    let rd = ResourceName::new("pvc-core").expect("name");
    let beta = NodeName::new("beta").expect("name");
    assert!(!adjust_opts(&c, &rd, &beta).skip_disk);
    must(
        &mut c,
        &mut e,
        Command::NodeModify {
            name: "beta".into(),
            node_type: None,
            props: PropsModify::set([("DrbdOptions/SkipDisk", "True")]),
        },
    );
    assert!(adjust_opts(&c, &rd, &beta).skip_disk);
    let alpha = NodeName::new("alpha").expect("name");
    assert!(!adjust_opts(&c, &rd, &alpha).skip_disk);
}
