//! The command line, in LINSTOR's grammar: `linstor [options] <object> <verb> [arguments]`,
//! with LINSTOR's object and verb names and abbreviations (`node list` = `n l`).

use clap::{Args, Parser, Subcommand};

/// The `linstor` command.
#[derive(Debug, Parser)]
#[command(
    name = "linstor",
    version,
    about = "LINSTOR's command line client (native), over the controller's REST API v1",
    propagate_version = true
)]
pub struct Cli {
    /// Controllers to try, comma separated: host[:port] (default: LS_CONTROLLERS, then
    /// linstor-client.conf, then localhost:3370).
    #[arg(long, global = true, value_name = "HOSTS")]
    pub controllers: Option<String>,
    /// Print the controller's JSON as it answered (LINSTOR's -m).
    #[arg(short = 'm', long = "machine-readable", global = true)]
    pub machine: bool,
    /// No ANSI colours (also when stdout is not a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// ASCII table frames.
    #[arg(long, global = true)]
    pub no_utf8: bool,
    /// Seconds to wait for each answer.
    #[arg(long, global = true, default_value_t = 300, value_name = "SECONDS")]
    pub timeout: u64,
    /// What to do.
    #[command(subcommand)]
    pub object: Object,
}

/// The objects.
#[derive(Debug, Subcommand)]
pub enum Object {
    /// The controller itself.
    #[command(subcommand, visible_alias = "c")]
    Controller(ControllerCmd),
    /// Nodes.
    #[command(subcommand, visible_alias = "n")]
    Node(NodeCmd),
    /// Storage pools.
    #[command(subcommand, name = "storage-pool", visible_alias = "sp")]
    StoragePool(PoolCmd),
    /// Resource groups.
    #[command(subcommand, name = "resource-group", visible_alias = "rg")]
    ResourceGroup(RgCmd),
    /// Volume groups.
    #[command(subcommand, name = "volume-group", visible_alias = "vg")]
    VolumeGroup(VgCmd),
    /// Resource definitions.
    #[command(subcommand, name = "resource-definition", visible_alias = "rd")]
    ResourceDefinition(RdCmd),
    /// Volume definitions.
    #[command(subcommand, name = "volume-definition", visible_alias = "vd")]
    VolumeDefinition(VdCmd),
    /// Resources (replicas on nodes).
    #[command(subcommand, visible_alias = "r")]
    Resource(RscCmd),
    /// Volumes of resources.
    #[command(subcommand, visible_alias = "v")]
    Volume(VolumeCmd),
    /// Snapshots.
    #[command(subcommand, visible_alias = "s")]
    Snapshot(SnapCmd),
    /// Key-value stores.
    #[command(subcommand, name = "key-value-store", visible_alias = "kv")]
    KeyValueStore(KvCmd),
    /// The controller's error reports.
    #[command(subcommand, name = "error-reports", visible_alias = "err")]
    ErrorReports(ErrCmd),
    /// Block devices of the nodes, and pools made from them.
    #[command(subcommand, name = "physical-storage", visible_alias = "ps")]
    PhysicalStorage(PsCmd),
    /// What-if questions answered by the placer on the live state (changes nothing).
    #[command(subcommand, visible_alias = "adv")]
    Advise(AdviseCmd),
}

/// `snapshot …`.
#[derive(Debug, Subcommand)]
pub enum SnapCmd {
    /// Takes a snapshot of a resource (on all its diskful nodes, or the named ones).
    #[command(visible_alias = "c")]
    Create {
        /// Nodes (optional) then the resource and the snapshot name.
        #[arg(required = true, num_args = 2..)]
        words: Vec<String>,
    },
    /// Lists snapshots.
    #[command(visible_aliases = ["l", "ls"])]
    List {
        /// Only on these nodes.
        #[arg(short = 'n', long = "nodes", num_args = 1..)]
        nodes: Vec<String>,
        /// Only of these resources.
        #[arg(short = 'r', long = "resources", num_args = 1..)]
        resources: Vec<String>,
    },
    /// Deletes a snapshot.
    #[command(visible_alias = "d")]
    Delete {
        /// The resource.
        resource: String,
        /// The snapshot.
        name: String,
    },
    /// Rolls a resource back to a snapshot (its newest).
    #[command(visible_alias = "rb")]
    Rollback {
        /// The resource.
        resource: String,
        /// The snapshot.
        name: String,
    },
    /// Restores volume definitions from a snapshot into a new resource definition.
    #[command(subcommand, name = "volume-definition", visible_alias = "vd")]
    VolumeDefinition(SnapRestoreCmd),
    /// Restores resources from a snapshot into a new resource definition.
    #[command(subcommand, name = "resource", visible_alias = "r")]
    Resource(SnapRestoreCmd),
}

/// `snapshot {volume-definition,resource} restore`.
#[derive(Debug, Subcommand)]
pub enum SnapRestoreCmd {
    /// Restores.
    Restore {
        /// Only on these nodes (resource restore).
        #[arg(num_args = 0..)]
        nodes: Vec<String>,
        /// The snapshot's resource.
        #[arg(long = "from-resource", visible_alias = "fr")]
        from_resource: String,
        /// The snapshot.
        #[arg(long = "from-snapshot", visible_alias = "fs")]
        from_snapshot: String,
        /// The new resource definition (it must exist, without volumes).
        #[arg(long = "to-resource", visible_alias = "tr")]
        to_resource: String,
    },
}

/// `key-value-store …`.
#[derive(Debug, Subcommand)]
pub enum KvCmd {
    /// Lists the stores.
    #[command(visible_aliases = ["l", "ls"])]
    List,
    /// The keys and values of a store.
    #[command(visible_alias = "s")]
    Show {
        /// The store.
        name: String,
    },
    /// Sets (or with no value deletes) a key.
    #[command(visible_alias = "m")]
    Modify {
        /// The store.
        name: String,
        #[command(flatten)]
        kv: KeyValue,
    },
}

/// `error-reports …`.
#[derive(Debug, Subcommand)]
pub enum ErrCmd {
    /// Lists error reports.
    #[command(visible_aliases = ["l", "ls"])]
    List,
    /// One report in full.
    #[command(visible_alias = "s")]
    Show {
        /// The report id.
        id: String,
    },
    /// Deletes reports.
    #[command(visible_alias = "d")]
    Delete {
        /// The report ids.
        #[arg(required = true, num_args = 1..)]
        ids: Vec<String>,
    },
}

/// `physical-storage …`.
#[derive(Debug, Subcommand)]
pub enum PsCmd {
    /// Unused block devices per node.
    #[command(visible_aliases = ["l", "ls"])]
    List,
    /// Makes an LVM volume group / thin pool or a zpool of unused devices on a node
    /// (optionally with a LINSTOR storage pool on it).
    #[command(name = "create-device-pool", visible_alias = "cdp")]
    CreateDevicePool {
        /// lvm, lvmthin, zfs or zfsthin.
        kind: String,
        /// The node.
        node: String,
        /// The devices (e.g. /dev/sdb /dev/sdc).
        #[arg(required = true, num_args = 1..)]
        devices: Vec<String>,
        /// The volume group / zpool name.
        #[arg(long = "pool-name", required = true)]
        pool_name: String,
        /// Also create this LINSTOR storage pool on it.
        #[arg(long = "storage-pool")]
        storage_pool: Option<String>,
    },
}

/// `advise …`.
#[derive(Debug, Subcommand)]
pub enum AdviseCmd {
    /// How many more volumes of a size a resource group can place, and what stops the next.
    Fit {
        /// The resource group.
        group: String,
        /// The volume size (a bare number is GiB).
        size: String,
        /// Count at most this many.
        #[arg(long, default_value_t = 1000)]
        limit: usize,
    },
    /// What a failure of nodes (or of a whole failure domain) does to every resource.
    Failure {
        /// Failed nodes.
        #[arg(long = "node", short = 'n', num_args = 1..)]
        nodes: Vec<String>,
        /// A failure domain: every node with this property value, KEY=VALUE
        /// (e.g. Aux/zone=b).
        #[arg(long = "domain")]
        domain: Option<String>,
    },
}

/// `controller …`.
#[derive(Debug, Subcommand)]
pub enum ControllerCmd {
    /// The controller's version.
    #[command(visible_alias = "v")]
    Version,
    /// The controller's properties.
    #[command(name = "list-properties", visible_alias = "lp")]
    ListProperties,
    /// Sets (or with no value deletes) a controller property.
    #[command(name = "set-property", visible_alias = "sp")]
    SetProperty(KeyValue),
}

/// A property key and an optional value (none: delete the key).
#[derive(Debug, Args)]
pub struct KeyValue {
    /// The key.
    pub key: String,
    /// The value (omit it to delete the key).
    pub value: Option<String>,
}

/// `node …`.
#[derive(Debug, Subcommand)]
pub enum NodeCmd {
    /// Registers a node.
    #[command(visible_alias = "c")]
    Create(NodeCreate),
    /// Lists nodes.
    #[command(visible_aliases = ["l", "ls"])]
    List(NodeList),
    /// Deletes a node (its resources must be gone).
    #[command(visible_alias = "d")]
    Delete {
        /// The node.
        node: String,
    },
    /// Deletes a node that is gone for good, with its resources, without asking it.
    Lost {
        /// The node.
        node: String,
    },
    /// Moves every resource off a node (waits, with a progress line, until none is left).
    #[command(visible_alias = "evac")]
    Evacuate {
        /// The node.
        node: String,
        /// Return at once instead of waiting.
        #[arg(long = "async")]
        no_wait: bool,
    },
    /// Restores an evicted or evacuated node.
    Restore {
        /// The node.
        node: String,
    },
    /// Sets (or with no value deletes) a node property.
    #[command(name = "set-property", visible_alias = "sp")]
    SetProperty {
        /// The node.
        node: String,
        #[command(flatten)]
        kv: KeyValue,
    },
    /// A node's properties.
    #[command(name = "list-properties", visible_alias = "lp")]
    ListProperties {
        /// The node.
        node: String,
    },
    /// A node's network interfaces.
    #[command(subcommand, visible_alias = "i")]
    Interface(IfCmd),
}

/// `node interface …`.
#[derive(Debug, Subcommand)]
pub enum IfCmd {
    /// Lists a node's interfaces.
    #[command(visible_aliases = ["l", "ls"])]
    List {
        /// The node.
        node: String,
    },
    /// Adds an interface.
    #[command(visible_alias = "c")]
    Create {
        /// The node.
        node: String,
        /// The interface's name.
        name: String,
        /// Its address.
        ip: String,
        /// The satellite port on it (makes it a satellite connection candidate).
        #[arg(long)]
        port: Option<u16>,
        /// PLAIN or SSL.
        #[arg(long = "communication-type")]
        communication_type: Option<String>,
        /// The satellite connection uses it.
        #[arg(long)]
        active: bool,
    },
    /// Changes an interface's address or port.
    #[command(visible_alias = "m")]
    Modify {
        /// The node.
        node: String,
        /// The interface.
        name: String,
        /// The new address.
        #[arg(long)]
        ip: Option<String>,
        /// The new satellite port.
        #[arg(long)]
        port: Option<u16>,
        /// PLAIN or SSL.
        #[arg(long = "communication-type")]
        communication_type: Option<String>,
        /// The satellite connection uses it.
        #[arg(long)]
        active: bool,
    },
    /// Deletes an interface.
    #[command(visible_alias = "d")]
    Delete {
        /// The node.
        node: String,
        /// The interface.
        name: String,
    },
}

/// `node create`.
#[derive(Debug, Args)]
pub struct NodeCreate {
    /// The node's name (its uname, unless it differs).
    pub node: String,
    /// The address of its default interface.
    pub ip: String,
    /// Satellite, Combined, Controller, Auxiliary or Openflex_Target.
    #[arg(long = "node-type", default_value = "Satellite")]
    pub node_type: String,
    /// The satellite's port (default 3366, or 3367 with SSL).
    #[arg(long)]
    pub port: Option<u16>,
    /// PLAIN or SSL.
    #[arg(long = "communication-type", default_value = "PLAIN")]
    pub communication_type: String,
    /// The default interface's name.
    #[arg(long = "interface-name", default_value = "default")]
    pub interface_name: String,
}

/// `node list`.
#[derive(Debug, Args)]
pub struct NodeList {
    /// Only these nodes.
    #[arg(short = 'n', long = "nodes", num_args = 1..)]
    pub nodes: Vec<String>,
    /// Also the nodes' properties (Aux/ and others) in a column.
    #[arg(long = "show-aux-props")]
    pub show_aux_props: bool,
}

/// `storage-pool …`.
#[derive(Debug, Subcommand)]
pub enum PoolCmd {
    /// Creates a storage pool on a node.
    #[command(subcommand, visible_alias = "c")]
    Create(PoolCreate),
    /// Lists storage pools.
    #[command(visible_aliases = ["l", "ls"])]
    List(PoolList),
    /// Deletes a storage pool from a node.
    #[command(visible_alias = "d")]
    Delete {
        /// The node.
        node: String,
        /// The pool.
        pool: String,
    },
    /// Sets (or with no value deletes) a storage pool property.
    #[command(name = "set-property", visible_alias = "sp")]
    SetProperty {
        /// The node.
        node: String,
        /// The pool.
        pool: String,
        #[command(flatten)]
        kv: KeyValue,
    },
    /// A storage pool's properties.
    #[command(name = "list-properties", visible_alias = "lp")]
    ListProperties {
        /// The node.
        node: String,
        /// The pool.
        pool: String,
    },
}

/// `storage-pool create <kind>`.
#[derive(Debug, Subcommand)]
pub enum PoolCreate {
    /// On an LVM volume group.
    Lvm(PoolOn),
    /// On an LVM thin pool (`vg/thinpool`).
    Lvmthin(PoolOn),
    /// On a ZFS pool (or dataset).
    Zfs(PoolOn),
    /// On a ZFS pool (or dataset), thin.
    Zfsthin(PoolOn),
    /// Files in a directory (thick).
    File(PoolOn),
    /// Files in a directory (sparse).
    Filethin(PoolOn),
    /// Diskless (for DRBD clients).
    Diskless {
        /// The node.
        node: String,
        /// The pool's name.
        name: String,
    },
}

/// Where a pool lives.
#[derive(Debug, Args)]
pub struct PoolOn {
    /// The node.
    pub node: String,
    /// The pool's name.
    pub name: String,
    /// The volume group, thin pool, zpool or directory.
    pub driver_pool_name: String,
    /// Pools on shared storage share this name.
    #[arg(long = "shared-space")]
    pub shared_space: Option<String>,
}

/// `storage-pool list`.
#[derive(Debug, Args)]
pub struct PoolList {
    /// Only on these nodes.
    #[arg(short = 'n', long = "nodes", num_args = 1..)]
    pub nodes: Vec<String>,
    /// Only these pools.
    #[arg(short = 's', long = "storage-pools", num_args = 1..)]
    pub pools: Vec<String>,
}

/// Placement options of a resource group (and of `rg spawn` and `r create --auto-place`).
#[derive(Debug, Args, Default)]
pub struct Placement {
    /// How many diskful replicas.
    #[arg(long = "place-count")]
    pub place_count: Option<u32>,
    /// Pools to place in (`resource create` with node names: the pool on those nodes, the
    /// first one given).
    #[arg(long = "storage-pool", short = 's', num_args = 1..)]
    pub storage_pool: Vec<String>,
    /// Replicas on nodes whose values of these properties are the same (`Aux/` is added to
    /// keys without it, as LINBIT's client does).
    #[arg(long = "replicas-on-same", num_args = 1..)]
    pub replicas_on_same: Vec<String>,
    /// Replicas on nodes whose values of these properties all differ (`Aux/` added likewise).
    #[arg(long = "replicas-on-different", num_args = 1..)]
    pub replicas_on_different: Vec<String>,
    /// Not on nodes that already have these resources.
    #[arg(long = "do-not-place-with", num_args = 1..)]
    pub do_not_place_with: Vec<String>,
    /// Not on nodes with resources whose names match this regex.
    #[arg(long = "do-not-place-with-regex")]
    pub do_not_place_with_regex: Option<String>,
    /// Layers from top to bottom, e.g. drbd,storage.
    #[arg(long = "layer-list", short = 'l', value_delimiter = ',')]
    pub layer_list: Vec<String>,
    /// Allowed providers (LVM, LVM_THIN, ZFS, ZFS_THIN, FILE, FILE_THIN, DISKLESS).
    #[arg(long = "providers", value_delimiter = ',')]
    pub providers: Vec<String>,
    /// Diskless replicas on every remaining node.
    #[arg(long = "diskless-on-remaining")]
    pub diskless_on_remaining: bool,
}

/// `resource-group …`.
#[derive(Debug, Subcommand)]
pub enum RgCmd {
    /// Creates a resource group.
    #[command(visible_alias = "c")]
    Create {
        /// The group.
        name: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        placement: Placement,
    },
    /// Lists resource groups.
    #[command(visible_aliases = ["l", "ls"])]
    List,
    /// Changes a resource group's placement or description.
    #[command(visible_alias = "m")]
    Modify {
        /// The group.
        name: String,
        /// A description.
        #[arg(long)]
        description: Option<String>,
        #[command(flatten)]
        placement: Placement,
    },
    /// Creates a resource definition from the group and places its replicas.
    #[command(name = "spawn-resources", visible_alias = "spawn")]
    Spawn {
        /// The group.
        group: String,
        /// The new resource definition.
        name: String,
        /// Volume sizes (a bare number is GiB; 10G, 512MiB …).
        #[arg(required = true)]
        sizes: Vec<String>,
        /// Only create the definitions, place nothing.
        #[arg(long = "definition-only")]
        definition_only: bool,
        /// Return at once instead of waiting (with a progress line) until every replica is
        /// UpToDate.
        #[arg(long = "async")]
        no_wait: bool,
    },
    /// Brings the group's resource definitions to its place count (adds or removes replicas).
    Adjust {
        /// The group (all groups if omitted).
        group: Option<String>,
    },
    /// How much a new volume of this group can hold.
    #[command(name = "query-size-info", visible_alias = "qsi")]
    QuerySizeInfo {
        /// The group.
        group: String,
    },
    /// Deletes a resource group (no definition may use it).
    #[command(visible_alias = "d")]
    Delete {
        /// The group.
        name: String,
    },
    /// Sets (or with no value deletes) a resource group property.
    #[command(name = "set-property", visible_alias = "sp")]
    SetProperty {
        /// The group.
        name: String,
        #[command(flatten)]
        kv: KeyValue,
    },
    /// A resource group's properties.
    #[command(name = "list-properties", visible_alias = "lp")]
    ListProperties {
        /// The group.
        name: String,
    },
}

/// `volume-group …`.
#[derive(Debug, Subcommand)]
pub enum VgCmd {
    /// Adds a volume group to a resource group.
    #[command(visible_alias = "c")]
    Create {
        /// The resource group.
        group: String,
        /// The volume number (default: the next free one).
        #[arg(long = "vlmnr")]
        vlmnr: Option<u16>,
    },
    /// Lists a resource group's volume groups.
    #[command(visible_aliases = ["l", "ls"])]
    List {
        /// The resource group.
        group: String,
    },
    /// Deletes a volume group.
    #[command(visible_alias = "d")]
    Delete {
        /// The resource group.
        group: String,
        /// The volume number.
        vlmnr: u16,
    },
}

/// `resource-definition …`.
#[derive(Debug, Subcommand)]
pub enum RdCmd {
    /// Creates a resource definition.
    #[command(visible_alias = "c")]
    Create {
        /// The name.
        name: String,
        /// Its resource group.
        #[arg(long = "resource-group")]
        resource_group: Option<String>,
        /// Layers from top to bottom, e.g. drbd,storage.
        #[arg(long = "layer-list", short = 'l', value_delimiter = ',')]
        layer_list: Vec<String>,
    },
    /// Lists resource definitions.
    #[command(visible_aliases = ["l", "ls"])]
    List {
        /// Only these.
        #[arg(short = 'r', long = "resource-definitions", num_args = 1..)]
        names: Vec<String>,
    },
    /// Deletes a resource definition with its resources.
    #[command(visible_alias = "d")]
    Delete {
        /// The name.
        name: String,
    },
    /// Sets (or with no value deletes) a resource definition property.
    #[command(name = "set-property", visible_alias = "sp")]
    SetProperty {
        /// The name.
        name: String,
        #[command(flatten)]
        kv: KeyValue,
    },
    /// A resource definition's properties.
    #[command(name = "list-properties", visible_alias = "lp")]
    ListProperties {
        /// The name.
        name: String,
    },
}

/// `volume-definition …`.
#[derive(Debug, Subcommand)]
pub enum VdCmd {
    /// Adds a volume to a resource definition.
    #[command(visible_alias = "c")]
    Create {
        /// The resource definition.
        name: String,
        /// The size (a bare number is GiB; 10G, 512MiB …).
        size: String,
        /// The volume number (default: the next free one).
        #[arg(long = "vlmnr")]
        vlmnr: Option<u16>,
    },
    /// Lists volume definitions.
    #[command(visible_aliases = ["l", "ls"])]
    List {
        /// Only these resource definitions.
        #[arg(short = 'r', long = "resource-definitions", num_args = 1..)]
        names: Vec<String>,
    },
    /// Grows a volume.
    #[command(name = "set-size")]
    SetSize {
        /// The resource definition.
        name: String,
        /// The volume number.
        vlmnr: u16,
        /// The new size.
        size: String,
    },
    /// Deletes a volume definition.
    #[command(visible_alias = "d")]
    Delete {
        /// The resource definition.
        name: String,
        /// The volume number.
        vlmnr: u16,
    },
}

/// `resource …`.
#[derive(Debug, Subcommand)]
pub enum RscCmd {
    /// Creates replicas: on named nodes, or placed (--auto-place N).
    #[command(visible_alias = "c")]
    Create(RscCreate),
    /// Lists resources.
    #[command(visible_aliases = ["l", "ls"])]
    List(RscList),
    /// Lists the volumes of resources.
    #[command(name = "list-volumes", visible_alias = "lv")]
    ListVolumes(RscList),
    /// Deletes replicas.
    #[command(visible_alias = "d")]
    Delete {
        /// The nodes.
        #[arg(required = true, num_args = 1..)]
        nodes_and_name: Vec<String>,
    },
    /// Turns a diskless replica into a diskful one, or back (--diskless).
    #[command(name = "toggle-disk", visible_alias = "td")]
    ToggleDisk {
        /// The node.
        node: String,
        /// The resource.
        name: String,
        /// The pool for the new disk.
        #[arg(long = "storage-pool", short = 's')]
        storage_pool: Option<String>,
        /// Make it diskless.
        #[arg(long)]
        diskless: bool,
    },
    /// Makes a resource usable on a node (creates a replica if needed).
    #[command(name = "make-available", visible_alias = "mkavail")]
    MakeAvailable {
        /// The node.
        node: String,
        /// The resource.
        name: String,
        /// A diskful replica, not a diskless one.
        #[arg(long)]
        diskful: bool,
    },
}

/// `resource create`.
#[derive(Debug, Args)]
pub struct RscCreate {
    /// Nodes then the resource name (just the name with --auto-place).
    #[arg(required = true, num_args = 1..)]
    pub nodes_and_name: Vec<String>,
    /// Place this many diskful replicas.
    #[arg(long = "auto-place")]
    pub auto_place: Option<u32>,
    /// Diskless on the named nodes (flag DISKLESS).
    #[arg(long, short = 'd')]
    pub diskless: bool,
    /// A DRBD diskless client on the named nodes (flag DRBD_DISKLESS).
    #[arg(long = "drbd-diskless")]
    pub drbd_diskless: bool,
    /// Placement; its --storage-pool is also the pool on the named nodes (LINSTOR's client has
    /// one --storage-pool for both forms).
    #[command(flatten)]
    pub placement: Placement,
}

/// `resource list`.
#[derive(Debug, Args)]
pub struct RscList {
    /// Only on these nodes.
    #[arg(short = 'n', long = "nodes", num_args = 1..)]
    pub nodes: Vec<String>,
    /// Only these resources.
    #[arg(short = 'r', long = "resources", num_args = 1..)]
    pub resources: Vec<String>,
}

/// `volume …`.
#[derive(Debug, Subcommand)]
pub enum VolumeCmd {
    /// Lists volumes.
    #[command(visible_aliases = ["l", "ls"])]
    List(RscList),
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    use super::*;

    /// clap's own consistency checks (unique names and shorts, …) over every subcommand; a
    /// clash panics only when that subcommand is parsed, so check them all here.
    #[test]
    fn grammar_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn abbreviations_parse_like_the_long_names() {
        for (short, long) in [
            ("linstor n l", "linstor node list"),
            ("linstor sp l", "linstor storage-pool list"),
            (
                "linstor rg spawn g r 1G",
                "linstor resource-group spawn-resources g r 1G",
            ),
            (
                "linstor r c n1 r -s p",
                "linstor resource create n1 r --storage-pool p",
            ),
            (
                "linstor vd set-size r 0 2G",
                "linstor volume-definition set-size r 0 2G",
            ),
            (
                "linstor c sp Aux/a b",
                "linstor controller set-property Aux/a b",
            ),
        ] {
            let a = Cli::try_parse_from(short.split(' ')).expect(short);
            let b = Cli::try_parse_from(long.split(' ')).expect(long);
            assert_eq!(
                format!("{:?}", a.object),
                format!("{:?}", b.object),
                "{short}"
            );
        }
    }

    #[test]
    fn resource_create_takes_one_storage_pool_option() {
        let cli = Cli::try_parse_from([
            "linstor",
            "r",
            "c",
            "n1",
            "n2",
            "rd2",
            "--storage-pool",
            "pool1",
        ])
        .expect("parses");
        let Object::Resource(RscCmd::Create(a)) = cli.object else {
            panic!("not resource create: {:?}", cli.object);
        };
        assert_eq!(a.nodes_and_name, ["n1", "n2", "rd2"]);
        assert_eq!(a.placement.storage_pool, ["pool1"]);
    }
}
