//! Rendering one node's view of a DRBD resource as a `.res` file.
//!
//! The input, [`ResConfig`], is plain and fully resolved: option values already picked from their
//! priority chains ([`crate::resolve`]), addresses already chosen (`PrefNic`, `Paths/*`), minors and
//! ports allocated. [`ResConfig::render`] validates it (names, node ids, every option against the
//! whitelist) and produces deterministic text: 4-space indentation, braces on their own lines,
//! nodes and options sorted, no clock read (the header time is an input).
//!
//! Layout (the order LINSTOR uses): header comment; `resource "<name>"` with `handlers`, `options`,
//! `net` (always: HMAC algorithm and shared secret first), `disk`; one `on "<uname>"` per node,
//! local node first, then peers sorted by name; one `connection` per peer of the local node,
//! except between two diskless nodes.
//!
//! Three deliberate differences from a naive rendering, all forced by drbd-utils:
//! * a local node without any connection (all nodes diskless) lists only itself: drbdadm
//!   refuses a multi-host resource that has no connection;
//! * peer-device options (`DrbdOptions/PeerDevice/*`, e.g. `resync-rate`) are written into each
//!   `connection`'s `disk` section, merged with that connection's own values, never into the
//!   resource-level `disk`: drbdadm rejects the same peer-device option at resource and connection
//!   level with different values ("ambiguous inheritance");
//! * `shared-secret` and `cram-hmac-alg` come from [`ResConfig::secret`] and
//!   [`ResConfig::cram_hmac_alg`]; such keys among the net options are refused by the whitelist
//!   ([`crate::options::MANAGED_OPTIONS`]).
//!
//! Not rendered (yet), compared with LINSTOR: DRBD proxy sections and `via proxy` / `via
//! outside-address` host lines; LINSTOR's automatic option rules (`verify-alg`,
//! `rs-discard-granularity`, `resync-after`, `block-size`), which need facts from the devices;
//! connection-level `net` only carries the caller's per-connection values (LINSTOR repeats the
//! RD/RG/controller net options in every connection, which changes nothing for drbdadm).

use std::fmt::Write as _;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use linstor_core::SizeKib;

use crate::error::{DrbdError, Result};
use crate::options::{OptionWhitelist, Section, is_plain_text};
use crate::resolve::{OptionValue, ResolvedOptions};
use crate::version::DrbdVersions;

/// The literal backing-disk path LINSTOR writes for a diskful peer (its real disk is not known
/// locally and never used by drbdadm on this node).
pub const PEER_DISK_PLACEHOLDER: &str = "/dev/drbd/this/is/not/used";

/// What a node's resource is, as far as DRBD is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeRole {
    /// Has a backing disk.
    Diskful,
    /// Diskless (`disk none`), counts for quorum like a tiebreaker would.
    Diskless,
    /// Diskless DRBD client (`tiebreaker no` on DRBD versions that support it).
    Client,
    /// Diskless quorum tiebreaker placed by the controller.
    TieBreaker,
}

impl NodeRole {
    /// Whether DRBD sees this node without a disk.
    pub fn is_diskless(self) -> bool {
        !matches!(self, NodeRole::Diskful)
    }
}

/// Where a volume's DRBD metadata lives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MetaDisk {
    /// At the end of the backing device.
    Internal,
    /// On a separate device (`StorPoolNameDrbdMeta`).
    External(PathBuf),
}

/// One volume of one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResVolume {
    /// Volume number (0, 1, …).
    pub nr: u16,
    /// DRBD minor (`/dev/drbd<minor>`).
    pub minor: u32,
    /// Local backing device; `None` means `disk none`. Ignored for peers (diskful peers get
    /// [`PEER_DISK_PLACEHOLDER`]).
    pub disk: Option<PathBuf>,
    /// Metadata location (only the local node's is written; peers get `internal`).
    pub meta_disk: MetaDisk,
    /// Per-volume `DrbdOptions/Disk/*`, written (sorted) only for a local volume with a backing
    /// disk.
    pub disk_options: Vec<OptionValue>,
    /// `DrbdOptions/ExactSize`: the exact size written as `size <n>k;` (local volume with a
    /// backing disk only).
    pub exact_size: Option<SizeKib>,
}

impl ResVolume {
    /// A volume with internal metadata, no backing disk and no options.
    pub fn new(nr: u16, minor: u32) -> Self {
        ResVolume {
            nr,
            minor,
            disk: None,
            meta_disk: MetaDisk::Internal,
            disk_options: Vec::new(),
            exact_size: None,
        }
    }

    /// Sets the backing disk.
    pub fn with_disk(mut self, disk: impl Into<PathBuf>) -> Self {
        self.disk = Some(disk.into());
        self
    }
}

/// One node holding the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResNode {
    /// The node's uname (`NodeUname` prop; falls back to the node name). drbdadm matches it with
    /// `uname -n`.
    pub uname: String,
    /// DRBD node id (0..=31).
    pub node_id: u8,
    /// Diskful, diskless, client or tiebreaker.
    pub role: NodeRole,
    /// The address DRBD uses (the `PrefNic` result).
    pub address: IpAddr,
    /// The node's TCP port for this resource.
    pub port: u16,
    /// Its volumes.
    pub volumes: Vec<ResVolume>,
}

/// One network path between the local node and a peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResPath {
    /// Path name (from `Paths/<name>/…`), written as a comment.
    pub name: String,
    /// Local end.
    pub local: SocketAddr,
    /// Peer end.
    pub peer: SocketAddr,
}

/// Per-peer settings of the connection from the local node.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResConnection {
    /// The peer's uname.
    pub peer: String,
    /// Connection-level `DrbdOptions/Net/*` (resource connection > … chain).
    pub net: Vec<OptionValue>,
    /// Connection-level `DrbdOptions/PeerDevice/*`; overrides the resource-level ones.
    pub peer_device: Vec<OptionValue>,
    /// Explicit paths (`Paths/*`); empty means one path between the nodes' addresses.
    pub paths: Vec<ResPath>,
}

/// The header comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// Who generated the file (`linstor-rs 0.1.0`).
    pub generator: String,
    /// The local node's LINSTOR name.
    pub node_name: String,
    /// When, pre-formatted by the caller; `None` leaves the line out (tests).
    pub generated_at: Option<String>,
}

/// Everything needed to render one node's `.res` for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResConfig {
    /// The DRBD resource name (resource name plus layer suffix).
    pub name: String,
    /// The local node's uname (must be one of [`nodes`](Self::nodes)).
    pub local_node: String,
    /// Header comment data.
    pub header: Header,
    /// The resource definition's shared secret.
    pub secret: String,
    /// HMAC algorithm for the secret (`sha1`).
    pub cram_hmac_alg: String,
    /// Resource-level options (resource > RD > RG > node > controller).
    pub options: ResolvedOptions,
    /// Every node that has the resource and is not being deleted.
    pub nodes: Vec<ResNode>,
    /// Per-peer connection settings; peers without an entry get defaults.
    pub connections: Vec<ResConnection>,
    /// DRBD kernel and utils versions of the local node (for the tiebreaker lines).
    pub versions: DrbdVersions,
}

/// Small indentation-aware writer.
struct Out {
    text: String,
    depth: usize,
}

impl Out {
    fn line(&mut self, s: &str) {
        if s.is_empty() {
            self.text.push('\n');
            return;
        }
        for _ in 0..self.depth {
            self.text.push_str("    ");
        }
        self.text.push_str(s);
        self.text.push('\n');
    }

    fn open(&mut self, s: &str) {
        self.line(s);
        self.line("{");
        self.depth += 1;
    }

    fn close(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.line("}");
    }
}

/// The first option name that appears twice in `list`.
fn duplicate(list: &[OptionValue]) -> Option<&str> {
    let mut seen = std::collections::BTreeSet::new();
    list.iter()
        .map(|o| o.name.as_str())
        .find(|n| !seen.insert(*n))
}

fn host_addr(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => format!("ipv4 {}:{}", a.ip(), a.port()),
        SocketAddr::V6(a) => format!("ipv6 [{}]:{}", a.ip(), a.port()),
    }
}

impl ResConfig {
    fn invalid(&self, reason: impl Into<String>) -> DrbdError {
        DrbdError::InvalidConfig {
            resource: self.name.clone(),
            reason: reason.into(),
        }
    }

    fn node(&self, uname: &str) -> Option<&ResNode> {
        self.nodes.iter().find(|n| n.uname == uname)
    }

    /// The local node.
    pub fn local(&self) -> Result<&ResNode> {
        self.node(&self.local_node).ok_or_else(|| {
            self.invalid(format!(
                "the local node '{}' is not among the nodes",
                self.local_node
            ))
        })
    }

    /// The peers that get a `connection` section (sorted by uname).
    pub fn connected_peers(&self) -> Result<Vec<&ResNode>> {
        let local = self.local()?;
        let mut peers: Vec<&ResNode> = self
            .nodes
            .iter()
            .filter(|n| n.uname != local.uname)
            .filter(|n| !(n.role.is_diskless() && local.role.is_diskless()))
            .collect();
        peers.sort_by(|a, b| a.uname.cmp(&b.uname));
        Ok(peers)
    }

    fn check(&self, whitelist: &OptionWhitelist) -> Result<()> {
        let name_ok = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        };
        if !name_ok(&self.name) {
            return Err(
                self.invalid("the resource name may only contain letters, digits, '_', '-', '.'")
            );
        }
        if !name_ok(&self.cram_hmac_alg) || !is_plain_text(&self.secret) {
            return Err(self.invalid("the shared secret or HMAC algorithm contains quotes, backslashes or control characters"));
        }
        self.local()?;
        let mut ids = std::collections::BTreeSet::new();
        let mut unames = std::collections::BTreeSet::new();
        for n in &self.nodes {
            if !name_ok(&n.uname) {
                return Err(self.invalid(format!("node uname '{}' is not a host name", n.uname)));
            }
            if n.node_id > 31 {
                return Err(self.invalid(format!(
                    "node '{}' has node id {} (0..=31)",
                    n.uname, n.node_id
                )));
            }
            if !ids.insert(n.node_id) || !unames.insert(n.uname.as_str()) {
                return Err(self.invalid(format!(
                    "node '{}' or its node id {} appears twice",
                    n.uname, n.node_id
                )));
            }
            let mut vols = std::collections::BTreeSet::new();
            for v in &n.volumes {
                if !vols.insert(v.nr) {
                    return Err(
                        self.invalid(format!("volume {} appears twice on '{}'", v.nr, n.uname))
                    );
                }
                for o in &v.disk_options {
                    whitelist.validate(Section::Disk, &o.name, &o.value)?;
                }
                if let Some(dup) = duplicate(&v.disk_options) {
                    return Err(self.invalid(format!(
                        "disk option '{dup}' appears twice on volume {} of '{}'",
                        v.nr, n.uname
                    )));
                }
                let paths = v.disk.iter().chain(match &v.meta_disk {
                    MetaDisk::External(p) => Some(p),
                    MetaDisk::Internal => None,
                });
                for p in paths {
                    if !p.is_absolute()
                        || !p
                            .to_str()
                            .is_some_and(|s| is_plain_text(s) && !s.contains(char::is_whitespace))
                    {
                        return Err(self.invalid(format!(
                            "device path '{}' must be absolute, without blanks or quotes",
                            p.display()
                        )));
                    }
                }
            }
        }
        for section in Section::ALL {
            for o in self.options.section(section) {
                whitelist.validate(section, &o.name, &o.value)?;
            }
        }
        let mut peers_seen = std::collections::BTreeSet::new();
        for c in &self.connections {
            if self.node(&c.peer).is_none() || c.peer == self.local_node {
                return Err(self.invalid(format!(
                    "connection settings for '{}', which is not a peer",
                    c.peer
                )));
            }
            if !peers_seen.insert(c.peer.as_str()) {
                return Err(self.invalid(format!("two connection settings for '{}'", c.peer)));
            }
            let mut path_names = std::collections::BTreeSet::new();
            if !c.paths.iter().all(|p| path_names.insert(p.name.as_str())) {
                return Err(self.invalid(format!("two paths with the same name to '{}'", c.peer)));
            }
            for (what, list) in [("net", &c.net), ("peer-device", &c.peer_device)] {
                if let Some(dup) = duplicate(list) {
                    return Err(self.invalid(format!(
                        "{what} option '{dup}' appears twice for '{}'",
                        c.peer
                    )));
                }
            }
            for o in &c.net {
                whitelist.validate(Section::Net, &o.name, &o.value)?;
            }
            for o in &c.peer_device {
                whitelist.validate(Section::PeerDevice, &o.name, &o.value)?;
            }
        }
        Ok(())
    }

    /// Renders the `.res` text after validating the input against `whitelist`.
    pub fn render(&self, whitelist: &OptionWhitelist) -> Result<String> {
        self.check(whitelist)?;
        let local = self.local()?;
        let mut out = Out {
            text: String::new(),
            depth: 0,
        };
        out.line(&format!(
            "# This file was generated by {}, do not edit manually.",
            self.header.generator
        ));
        out.line(&format!("# Resource: {}", self.name));
        out.line(&format!("#   LINSTOR node name: {}", self.header.node_name));
        out.line(&format!("#   Local hostname   : {}", self.local_node));
        if let Some(at) = &self.header.generated_at {
            out.line(&format!("# Generated at: {at}"));
        }
        out.line("");
        out.open(&format!("resource \"{}\"", self.name));

        let opt_line = |section: Section, o: &OptionValue| {
            let value = if whitelist.quoted(section, &o.name) {
                format!("\"{}\"", o.value)
            } else {
                o.value.clone()
            };
            let mut line = format!("{} {};", o.name, value);
            if let Some(src) = &o.source {
                let _ = write!(line, "    # from {src}");
                for (i, (lvl, v)) in o.overrides.iter().enumerate() {
                    let _ = write!(
                        line,
                        "{} '{v}' from {lvl}",
                        if i == 0 { "; overrides" } else { "," }
                    );
                }
            }
            line
        };
        let section_block = |out: &mut Out, title: &str, items: &[(Section, &OptionValue)]| {
            if items.is_empty() {
                return;
            }
            out.open(title);
            for (s, o) in items {
                out.line(&opt_line(*s, o));
            }
            out.close();
            out.line("");
        };
        let of = |s: Section| -> Vec<(Section, &OptionValue)> {
            self.options.section(s).iter().map(|o| (s, o)).collect()
        };

        section_block(&mut out, "handlers", &of(Section::Handlers));
        section_block(&mut out, "options", &of(Section::Resource));
        out.open("net");
        out.line(&format!("cram-hmac-alg {};", self.cram_hmac_alg));
        out.line(&format!("shared-secret \"{}\";", self.secret));
        for o in self.options.section(Section::Net) {
            out.line(&opt_line(Section::Net, o));
        }
        out.close();
        out.line("");
        section_block(&mut out, "disk", &of(Section::Disk));

        // Peers are listed even when there is no connection to them (two diskless nodes), except
        // when the local node has no connection at all: drbd-utils refuses (asserts on) a
        // multi-host resource without any connection, so then only the local node is written.
        let mut nodes: Vec<&ResNode> = if self.connected_peers()?.is_empty() {
            Vec::new()
        } else {
            self.nodes
                .iter()
                .filter(|n| n.uname != local.uname)
                .collect()
        };
        nodes.sort_by(|a, b| a.uname.cmp(&b.uname));
        nodes.insert(0, local);
        for node in nodes {
            self.render_node(&mut out, node, node.uname == local.uname, &opt_line);
        }

        for peer in self.connected_peers()? {
            let conn = self.connections.iter().find(|c| c.peer == peer.uname);
            out.open("connection");
            let net: Vec<(Section, &OptionValue)> = conn
                .map(|c| c.net.iter().map(|o| (Section::Net, o)).collect())
                .unwrap_or_default();
            let mut net = net;
            net.sort_by(|a, b| a.1.name.cmp(&b.1.name));
            section_block(&mut out, "net", &net);
            // Resource-level peer-device options, overridden per connection.
            let mut pd: Vec<(Section, &OptionValue)> = Vec::new();
            for o in self.options.section(Section::PeerDevice) {
                if !conn.is_some_and(|c| c.peer_device.iter().any(|x| x.name == o.name)) {
                    pd.push((Section::PeerDevice, o));
                }
            }
            pd.extend(
                conn.into_iter()
                    .flat_map(|c| c.peer_device.iter().map(|o| (Section::PeerDevice, o))),
            );
            pd.sort_by(|a, b| a.1.name.cmp(&b.1.name));
            section_block(&mut out, "disk", &pd);
            let paths: Vec<&ResPath> = conn.map(|c| c.paths.iter().collect()).unwrap_or_default();
            if paths.is_empty() {
                out.line(&format!(
                    "host \"{}\" address {};",
                    local.uname,
                    host_addr(SocketAddr::new(local.address, local.port))
                ));
                out.line(&format!(
                    "host \"{}\" address {};",
                    peer.uname,
                    host_addr(SocketAddr::new(peer.address, peer.port))
                ));
            } else {
                let mut paths = paths;
                paths.sort_by(|a, b| a.name.cmp(&b.name));
                for p in paths {
                    out.open(&format!("path    # {}", p.name));
                    out.line(&format!(
                        "host \"{}\" address {};",
                        local.uname,
                        host_addr(p.local)
                    ));
                    out.line(&format!(
                        "host \"{}\" address {};",
                        peer.uname,
                        host_addr(p.peer)
                    ));
                    out.close();
                }
            }
            out.close();
            out.line("");
        }
        // Drop the blank line before the closing brace.
        if out.text.ends_with("\n\n") {
            out.text.pop();
        }
        out.close();
        Ok(out.text)
    }

    fn render_node(
        &self,
        out: &mut Out,
        node: &ResNode,
        is_local: bool,
        opt_line: &dyn Fn(Section, &OptionValue) -> String,
    ) {
        out.open(&format!("on \"{}\"", node.uname));
        let mut vols: Vec<&ResVolume> = node.volumes.iter().collect();
        vols.sort_by_key(|v| v.nr);
        for v in vols {
            out.open(&format!("volume {}", v.nr));
            let disk = match (is_local, node.role, &v.disk) {
                (_, role, _) if role.is_diskless() => "none".to_owned(),
                (true, _, Some(d)) => d.display().to_string(),
                (true, _, None) => "none".to_owned(),
                (false, _, _) => PEER_DISK_PLACEHOLDER.to_owned(),
            };
            out.line(&format!("disk        {disk};"));
            let tb = if node.role == NodeRole::Client {
                "no"
            } else {
                "yes"
            };
            if self.versions.supports_tiebreaker() {
                out.line(&format!("tiebreaker  {tb};"));
            } else {
                out.line(&format!(
                    "# tiebreaker  {tb};    # needs DRBD kernel >= {} and drbd-utils >= {}",
                    crate::version::TIEBREAKER_KERNEL,
                    crate::version::TIEBREAKER_UTILS
                ));
            }
            let has_disk = !node.role.is_diskless() && v.disk.is_some();
            if is_local && has_disk && (!v.disk_options.is_empty() || v.exact_size.is_some()) {
                out.open("disk");
                let mut opts: Vec<&OptionValue> = v.disk_options.iter().collect();
                opts.sort_by(|a, b| a.name.cmp(&b.name));
                for o in opts {
                    out.line(&opt_line(Section::Disk, o));
                }
                if let Some(size) = v.exact_size {
                    out.line(&format!("size {}k;", size.kib()));
                }
                out.close();
            }
            let meta = match (&v.meta_disk, is_local) {
                (MetaDisk::External(p), true) => p.display().to_string(),
                _ => "internal".to_owned(),
            };
            out.line(&format!("meta-disk   {meta};"));
            out.line(&format!("device      minor {};", v.minor));
            out.close();
        }
        out.line(&format!("node-id     {};", node.node_id));
        out.close();
        out.line("");
    }
}
