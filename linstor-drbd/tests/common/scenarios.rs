//! The `.res` scenarios every render test uses: snapshot tests render them, the real_* tests feed
//! the same files to drbdadm.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use linstor_core::SizeKib;
use linstor_drbd::resolve::{PropLevel, resolve_options};
use linstor_drbd::{
    DrbdVersion, DrbdVersions, Header, MetaDisk, NodeRole, OptionValue, ResConfig, ResConnection,
    ResNode, ResPath, ResVolume, ResolvedOptions,
};

/// drbd-utils of Debian bookworm with a DRBD 9.2 module: tiebreaker lines are comments.
pub fn old_drbd() -> DrbdVersions {
    DrbdVersions::new(DrbdVersion::new(9, 2, 12), DrbdVersion::new(9, 22, 0))
}

/// Versions that support `tiebreaker yes|no;`.
pub fn new_drbd() -> DrbdVersions {
    DrbdVersions::new(DrbdVersion::new(9, 3, 1), DrbdVersion::new(9, 34, 0))
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("test address")
}

/// A node with `vols` volumes (minors 1000, 1001, …) on `/dev/vg0/<rsc>_0000<n>`.
pub fn node(rsc: &str, uname: &str, id: u8, role: NodeRole, addr: &str, vols: u16) -> ResNode {
    ResNode {
        uname: uname.into(),
        node_id: id,
        role,
        address: ip(addr),
        port: 7000,
        volumes: (0..vols)
            .map(|nr| {
                let v = ResVolume::new(nr, 1000 + u32::from(nr));
                if role.is_diskless() {
                    v
                } else {
                    v.with_disk(format!("/dev/vg0/{rsc}_{nr:05}"))
                }
            })
            .collect(),
    }
}

fn quorum() -> ResolvedOptions {
    let mut o = ResolvedOptions::default();
    o.set(
        linstor_drbd::Section::Resource,
        OptionValue::plain("quorum", "majority"),
    );
    o.set(
        linstor_drbd::Section::Resource,
        OptionValue::plain("on-no-quorum", "io-error"),
    );
    o
}

/// A config with the usual header, secret and no options.
pub fn base(name: &str, local: &str, nodes: Vec<ResNode>) -> ResConfig {
    ResConfig {
        name: name.into(),
        local_node: local.into(),
        header: Header {
            generator: "linstor-rs (test)".into(),
            node_name: local.into(),
            generated_at: None,
        },
        secret: "Rt9pQk2x7LmN4vB1cZ8s".into(),
        cram_hmac_alg: "sha1".into(),
        options: ResolvedOptions::default(),
        nodes,
        connections: Vec::new(),
        versions: old_drbd(),
    }
}

/// Every scenario: (snapshot name, config). The local node is always `alpha` or `delta`.
pub fn all() -> Vec<(&'static str, ResConfig)> {
    let mut out = Vec::new();

    // 2 diskful + a tiebreaker, on a host whose DRBD does not know `tiebreaker` yet.
    let mut c = base(
        "pvc-tb",
        "alpha",
        vec![
            node("pvc-tb", "alpha", 0, NodeRole::Diskful, "10.0.0.1", 1),
            node("pvc-tb", "beta", 1, NodeRole::Diskful, "10.0.0.2", 1),
            node("pvc-tb", "gamma", 2, NodeRole::TieBreaker, "10.0.0.3", 1),
        ],
    );
    c.options = quorum();
    out.push(("two_diskful_tiebreaker", c.clone()));
    c.versions = new_drbd();
    out.push(("two_diskful_tiebreaker_drbd_9_3", c));

    // 3 diskful.
    let mut c = base(
        "pvc-3",
        "alpha",
        vec![
            node("pvc-3", "gamma", 2, NodeRole::Diskful, "10.0.0.3", 1),
            node("pvc-3", "alpha", 0, NodeRole::Diskful, "10.0.0.1", 1),
            node("pvc-3", "beta", 1, NodeRole::Diskful, "10.0.0.2", 1),
        ],
    );
    c.options = quorum();
    out.push(("three_diskful", c));

    // Diskful + diskless client, seen from the diskful node and from the client; the client does
    // not connect to the other diskless node (the tiebreaker).
    let nodes = vec![
        node("pvc-c", "alpha", 0, NodeRole::Diskful, "10.0.0.1", 1),
        node("pvc-c", "beta", 1, NodeRole::Diskful, "10.0.0.2", 1),
        node("pvc-c", "delta", 3, NodeRole::Client, "10.0.0.4", 1),
        node("pvc-c", "gamma", 2, NodeRole::TieBreaker, "10.0.0.3", 1),
    ];
    out.push(("diskful_with_client", base("pvc-c", "alpha", nodes.clone())));
    let mut c = base("pvc-c", "delta", nodes);
    c.versions = new_drbd();
    out.push(("client_view_no_diskless_connection_drbd_9_3", c.clone()));
    c.versions = old_drbd();
    out.push(("client_view_no_diskless_connection", c));

    // Two volumes.
    out.push((
        "two_volumes",
        base(
            "pvc-2v",
            "alpha",
            vec![
                node("pvc-2v", "alpha", 0, NodeRole::Diskful, "10.0.0.1", 2),
                node("pvc-2v", "beta", 1, NodeRole::Diskful, "10.0.0.2", 2),
            ],
        ),
    ));

    // IPv6.
    out.push((
        "ipv6",
        base(
            "pvc-v6",
            "alpha",
            vec![
                node("pvc-v6", "alpha", 0, NodeRole::Diskful, "fd00:10::1", 1),
                node("pvc-v6", "beta", 1, NodeRole::Diskful, "fd00:10::2", 1),
            ],
        ),
    ));

    // Two paths (Paths/data1, Paths/data2), one of them IPv6.
    let mut c = base(
        "pvc-paths",
        "alpha",
        vec![
            node("pvc-paths", "alpha", 0, NodeRole::Diskful, "10.0.0.1", 1),
            node("pvc-paths", "beta", 1, NodeRole::Diskful, "10.0.0.2", 1),
        ],
    );
    let sa = |s: &str| -> SocketAddr { s.parse().expect("test socket address") };
    c.connections.push(ResConnection {
        peer: "beta".into(),
        paths: vec![
            ResPath {
                name: "data2".into(),
                local: sa("[fd00:20::1]:7000"),
                peer: sa("[fd00:20::2]:7000"),
            },
            ResPath {
                name: "data1".into(),
                local: sa("192.168.1.1:7000"),
                peer: sa("192.168.1.2:7000"),
            },
        ],
        ..ResConnection::default()
    });
    out.push(("two_paths", c));

    out.push(("options_at_every_level", options_at_every_level()));

    // External metadata, exact size, per-volume disk options, a diskless local volume.
    let mut c = base(
        "pvc-ext",
        "alpha",
        vec![
            node("pvc-ext", "alpha", 0, NodeRole::Diskful, "10.0.0.1", 2),
            node("pvc-ext", "beta", 1, NodeRole::Diskful, "10.0.0.2", 2),
        ],
    );
    let v0 = &mut c.nodes[0].volumes[0];
    v0.meta_disk = MetaDisk::External("/dev/vg0/pvc-ext_00000.meta".into());
    v0.exact_size = Some(SizeKib(1_048_576));
    v0.disk_options = vec![
        OptionValue {
            name: "al-extents".into(),
            value: "6007".into(),
            source: Some("volume".into()),
            overrides: vec![],
        },
        OptionValue::plain("rs-discard-granularity", "65536"),
    ];
    c.nodes[0].volumes[1].disk = None;
    out.push(("external_meta_exact_size_volume_options", c));
    out
}

fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Options set on the controller, resource group, resource definition and resource; the most
/// specific level wins: resource > resource-definition > resource-group > node > controller.
pub fn options_at_every_level() -> ResConfig {
    let rsc = props(&[
        ("DrbdOptions/Net/max-buffers", "10000"),
        ("DrbdOptions/Disk/disk-flushes", "no"),
    ]);
    let rd = props(&[
        ("DrbdOptions/Net/max-buffers", "9000"),
        ("DrbdOptions/Resource/quorum", "majority"),
        ("DrbdOptions/PeerDevice/c-max-rate", "2G"),
    ]);
    let rg = props(&[
        ("DrbdOptions/Resource/quorum", "off"),
        ("DrbdOptions/Resource/on-no-quorum", "suspend-io"),
        ("DrbdOptions/Disk/al-extents", "6007"),
        ("DrbdOptions/PeerDevice/resync-rate", "100M"),
    ]);
    let node = props(&[("DrbdOptions/Net/rcvbuf-size", "2097152")]);
    let ctrl = props(&[
        ("DrbdOptions/Net/max-buffers", "8000"),
        ("DrbdOptions/Net/protocol", "C"),
        ("DrbdOptions/Resource/on-no-quorum", "io-error"),
        (
            "DrbdOptions/Handlers/split-brain",
            "/usr/lib/drbd/notify-split-brain.sh root",
        ),
        ("DrbdOptions/auto-add-quorum-tiebreaker", "True"),
        ("Aux/site", "a"),
    ]);
    let options = resolve_options(&[
        PropLevel::new("resource", &rsc),
        PropLevel::new("resource-definition", &rd),
        PropLevel::new("resource-group rg-fast", &rg),
        PropLevel::new("node alpha", &node),
        PropLevel::new("controller", &ctrl),
    ]);
    let mut c = base(
        "pvc-opts",
        "alpha",
        vec![
            node_of("alpha", 0, "10.0.0.1"),
            node_of("beta", 1, "10.0.0.2"),
            node_of("gamma", 2, "10.0.0.3"),
        ],
    );
    c.options = options;
    // A resource connection to gamma overrides protocol and the resync rate.
    c.connections.push(ResConnection {
        peer: "gamma".into(),
        net: vec![OptionValue {
            name: "protocol".into(),
            value: "A".into(),
            source: Some("resource-connection alpha-gamma".into()),
            overrides: vec![("controller".into(), "C".into())],
        }],
        peer_device: vec![OptionValue::plain("resync-rate", "50M")],
        paths: Vec::new(),
    });
    c
}

fn node_of(uname: &str, id: u8, addr: &str) -> ResNode {
    node("pvc-opts", uname, id, NodeRole::Diskful, addr, 1)
}
