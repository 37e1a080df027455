//! DRBD state tracked from `drbdsetup events2`, and the per-resource status summary.
//!
//! [`Tracker`] consumes lines (or parsed [`Event`]s). Until the initial dump ends (`exists -`)
//! the state is not [`ready`](Tracker::is_ready): `exists` events build it, other events are
//! queued and applied once the dump is complete. [`restart`](Tracker::restart) is called when the
//! `events2` process is restarted: everything is forgotten and the next dump rebuilds it.
//!
//! Structural rules, checked by [`Tracker::check_consistency`] (and by a proptest over random
//! event interleavings):
//! * every object is keyed by its own identity (name, peer node id, volume);
//! * destroying a resource removes its connections and devices, destroying a connection removes
//!   its peer devices, destroying a device removes the peer devices of that volume;
//! * an event about an object whose parent is unknown creates the parent with unknown state
//!   (events2 never does this, but a lost line must not lose the child);
//! * sync progress (`done`) exists only while a peer device is syncing.

use std::collections::BTreeMap;
use std::fmt;

use crate::error::Result;
use crate::events2::{
    Action, ConnState, ConnectionEvent, DeviceEvent, DiskState, Event, Object, PeerDeviceEvent,
    Percent, ReplState, ResourceEvent, Role, Suspended, parse_line,
};

/// A peer device (one volume towards one peer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerDeviceState {
    /// Volume number.
    pub volume: u16,
    /// Replication state.
    pub replication: ReplState,
    /// The peer's disk state.
    pub peer_disk: DiskState,
    /// Whether the peer is an intentionally diskless client.
    pub peer_client: bool,
    /// Sync progress while syncing.
    pub done: Option<Percent>,
}

/// A connection to one peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionState {
    /// The peer's node id.
    pub peer_node_id: u8,
    /// The peer's node name (`conn-name`), if reported.
    pub peer_name: Option<String>,
    /// Connection state.
    pub state: ConnState,
    /// The peer's role.
    pub peer_role: Role,
    /// Peer devices by volume.
    pub peer_devices: BTreeMap<u16, PeerDeviceState>,
}

/// A local device (one volume).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceState {
    /// Volume number.
    pub volume: u16,
    /// DRBD minor.
    pub minor: Option<u32>,
    /// Local disk state.
    pub disk: DiskState,
    /// Intentionally diskless client.
    pub client: bool,
    /// Whether this device has quorum (`None` if not reported).
    pub quorum: Option<bool>,
}

/// One resource as DRBD reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceState {
    /// Resource name.
    pub name: String,
    /// Local role.
    pub role: Role,
    /// Suspended I/O.
    pub suspended: Suspended,
    /// Whether this node may become primary.
    pub may_promote: Option<bool>,
    /// Promotion score.
    pub promotion_score: Option<u64>,
    /// Local devices by volume.
    pub devices: BTreeMap<u16, DeviceState>,
    /// Connections by peer node id.
    pub connections: BTreeMap<u8, ConnectionState>,
}

impl ResourceState {
    fn new(name: &str) -> Self {
        ResourceState {
            name: name.to_owned(),
            role: Role::Unknown,
            suspended: Suspended::no(),
            may_promote: None,
            promotion_score: None,
            devices: BTreeMap::new(),
            connections: BTreeMap::new(),
        }
    }

    /// Quorum of the resource: `Some(false)` if any device lost quorum, `Some(true)` if all
    /// devices report quorum, `None` if none reports it.
    pub fn quorum(&self) -> Option<bool> {
        let mut seen = None;
        for d in self.devices.values() {
            match d.quorum {
                Some(false) => return Some(false),
                Some(true) => seen = Some(true),
                None => {}
            }
        }
        seen
    }
}

/// The events2 state machine.
#[derive(Debug, Clone, Default)]
pub struct Tracker {
    ready: bool,
    queued: Vec<Event>,
    resources: BTreeMap<String, ResourceState>,
    malformed: u64,
}

impl Tracker {
    /// An empty tracker waiting for the initial dump.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the initial dump has completed (state is meaningful).
    pub fn is_ready(&self) -> bool {
        self.ready
    }

    /// Number of malformed lines seen since the last restart.
    pub fn malformed_lines(&self) -> u64 {
        self.malformed
    }

    /// Every tracked resource.
    pub fn resources(&self) -> &BTreeMap<String, ResourceState> {
        &self.resources
    }

    /// One resource.
    pub fn resource(&self, name: &str) -> Option<&ResourceState> {
        self.resources.get(name)
    }

    /// The events2 stream was restarted: forget everything and wait for a new dump.
    pub fn restart(&mut self) {
        *self = Tracker::default();
    }

    /// Parses and applies one line. Malformed lines are counted and returned as errors; the
    /// state is unchanged by them.
    pub fn feed_line(&mut self, line: &str) -> Result<()> {
        match parse_line(line) {
            Ok(Some(event)) => {
                self.apply(event);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(e) => {
                self.malformed += 1;
                Err(e)
            }
        }
    }

    /// Applies a parsed event (queued until the initial dump is complete, except `exists`).
    pub fn apply(&mut self, event: Event) {
        match (&event.object, event.action) {
            (Object::EndOfDump, _) => {
                self.ready = true;
                for e in std::mem::take(&mut self.queued) {
                    self.apply_now(e);
                }
            }
            (_, Action::Exists) => self.apply_now(event),
            _ if !self.ready => self.queued.push(event),
            _ => self.apply_now(event),
        }
    }

    fn apply_now(&mut self, event: Event) {
        let action = event.action;
        match event.object {
            Object::Resource(r) => self.on_resource(action, r),
            Object::Connection(c) => self.on_connection(action, c),
            Object::Device(d) => self.on_device(action, d),
            Object::PeerDevice(p) => self.on_peer_device(action, p),
            Object::Path { .. } | Object::Helper { .. } | Object::EndOfDump => {}
        }
    }

    fn rsc(&mut self, name: &str) -> &mut ResourceState {
        self.resources
            .entry(name.to_owned())
            .or_insert_with(|| ResourceState::new(name))
    }

    fn on_resource(&mut self, action: Action, e: ResourceEvent) {
        match action {
            Action::Destroy => {
                self.resources.remove(&e.name);
            }
            Action::Rename => {
                if let (Some(new), Some(mut r)) = (e.new_name, self.resources.remove(&e.name)) {
                    r.name.clone_from(&new);
                    self.resources.insert(new, r);
                }
            }
            Action::Call | Action::Response => {}
            Action::Exists | Action::Create | Action::Change => {
                let r = self.rsc(&e.name);
                if let Some(v) = e.role {
                    r.role = v;
                }
                if let Some(v) = e.suspended {
                    r.suspended = v;
                }
                if let Some(v) = e.may_promote {
                    r.may_promote = Some(v);
                }
                if let Some(v) = e.promotion_score {
                    r.promotion_score = Some(v);
                }
            }
        }
    }

    fn on_connection(&mut self, action: Action, e: ConnectionEvent) {
        match action {
            Action::Destroy => {
                if let Some(r) = self.resources.get_mut(&e.name) {
                    r.connections.remove(&e.peer_node_id);
                }
            }
            Action::Call | Action::Response | Action::Rename => {}
            Action::Exists | Action::Create | Action::Change => {
                let c = conn(self.rsc(&e.name), e.peer_node_id);
                if e.conn_name.is_some() {
                    c.peer_name = e.conn_name;
                }
                if let Some(v) = e.connection {
                    c.state = v;
                }
                if let Some(v) = e.role {
                    c.peer_role = v;
                }
            }
        }
    }

    fn on_device(&mut self, action: Action, e: DeviceEvent) {
        match action {
            Action::Destroy => {
                if let Some(r) = self.resources.get_mut(&e.name) {
                    r.devices.remove(&e.volume);
                    for c in r.connections.values_mut() {
                        c.peer_devices.remove(&e.volume);
                    }
                }
            }
            Action::Call | Action::Response | Action::Rename => {}
            Action::Exists | Action::Create | Action::Change => {
                let d = self
                    .rsc(&e.name)
                    .devices
                    .entry(e.volume)
                    .or_insert_with(|| DeviceState {
                        volume: e.volume,
                        minor: None,
                        disk: DiskState::DUnknown,
                        client: false,
                        quorum: None,
                    });
                if e.minor.is_some() {
                    d.minor = e.minor;
                }
                if let Some(v) = e.disk {
                    d.disk = v;
                }
                if let Some(v) = e.client {
                    d.client = v;
                }
                if e.quorum.is_some() {
                    d.quorum = e.quorum;
                }
            }
        }
    }

    fn on_peer_device(&mut self, action: Action, e: PeerDeviceEvent) {
        match action {
            Action::Destroy => {
                if let Some(c) = self
                    .resources
                    .get_mut(&e.name)
                    .and_then(|r| r.connections.get_mut(&e.peer_node_id))
                {
                    c.peer_devices.remove(&e.volume);
                }
            }
            Action::Call | Action::Response | Action::Rename => {}
            Action::Exists | Action::Create | Action::Change => {
                let c = conn(self.rsc(&e.name), e.peer_node_id);
                if c.peer_name.is_none() {
                    c.peer_name = e.conn_name;
                }
                let p = c
                    .peer_devices
                    .entry(e.volume)
                    .or_insert_with(|| PeerDeviceState {
                        volume: e.volume,
                        replication: ReplState::Off,
                        peer_disk: DiskState::DUnknown,
                        peer_client: false,
                        done: None,
                    });
                if let Some(v) = e.replication {
                    p.replication = v;
                }
                if let Some(v) = e.peer_disk {
                    p.peer_disk = v;
                }
                if let Some(v) = e.peer_client {
                    p.peer_client = v;
                }
                if p.replication.is_syncing() {
                    if e.done.is_some() {
                        p.done = e.done;
                    }
                } else {
                    p.done = None;
                }
            }
        }
    }

    /// Checks the structural rules (see the module docs); `Err` describes the first violation.
    pub fn check_consistency(&self) -> std::result::Result<(), String> {
        for (name, r) in &self.resources {
            if &r.name != name {
                return Err(format!("resource keyed '{name}' is named '{}'", r.name));
            }
            for (vol, d) in &r.devices {
                if d.volume != *vol {
                    return Err(format!(
                        "{name}: device keyed {vol} has volume {}",
                        d.volume
                    ));
                }
            }
            for (id, c) in &r.connections {
                if c.peer_node_id != *id || *id > 31 {
                    return Err(format!(
                        "{name}: connection keyed {id} has peer id {}",
                        c.peer_node_id
                    ));
                }
                for (vol, p) in &c.peer_devices {
                    if p.volume != *vol {
                        return Err(format!(
                            "{name}/{id}: peer device keyed {vol} has volume {}",
                            p.volume
                        ));
                    }
                    if p.done.is_some() && !p.replication.is_syncing() {
                        return Err(format!(
                            "{name}/{id}/{vol}: progress while {}",
                            p.replication
                        ));
                    }
                    if p.done.is_some_and(|d| d.0 > 10_000) {
                        return Err(format!("{name}/{id}/{vol}: progress above 100%"));
                    }
                }
            }
        }
        if self.ready && !self.queued.is_empty() {
            return Err("events still queued after the initial dump".to_owned());
        }
        Ok(())
    }

    /// The current state as an `exists` dump (ending with `exists -`): feeding it to a fresh
    /// tracker reproduces this state.
    pub fn dump(&self) -> Vec<Event> {
        let ev = |object| Event {
            timestamp: None,
            action: Action::Exists,
            object,
        };
        let mut out = Vec::new();
        for r in self.resources.values() {
            out.push(ev(Object::Resource(ResourceEvent {
                name: r.name.clone(),
                role: Some(r.role.clone()),
                suspended: Some(r.suspended.clone()),
                may_promote: r.may_promote,
                promotion_score: r.promotion_score,
                new_name: None,
            })));
            for c in r.connections.values() {
                out.push(ev(Object::Connection(ConnectionEvent {
                    name: r.name.clone(),
                    peer_node_id: c.peer_node_id,
                    conn_name: c.peer_name.clone(),
                    connection: Some(c.state.clone()),
                    role: Some(c.peer_role.clone()),
                })));
            }
            for d in r.devices.values() {
                out.push(ev(Object::Device(DeviceEvent {
                    name: r.name.clone(),
                    volume: d.volume,
                    minor: d.minor,
                    disk: Some(d.disk.clone()),
                    client: Some(d.client),
                    quorum: d.quorum,
                })));
            }
            for c in r.connections.values() {
                for p in c.peer_devices.values() {
                    out.push(ev(Object::PeerDevice(PeerDeviceEvent {
                        name: r.name.clone(),
                        peer_node_id: c.peer_node_id,
                        conn_name: c.peer_name.clone(),
                        volume: p.volume,
                        replication: Some(p.replication.clone()),
                        peer_disk: Some(p.peer_disk.clone()),
                        peer_client: Some(p.peer_client),
                        done: p.done,
                    })));
                }
            }
        }
        out.push(ev(Object::EndOfDump));
        out
    }

    /// Whether DRBD no longer knows the resource (what `down` waits for); `None` until the
    /// initial dump is complete.
    pub fn is_down(&self, name: &str) -> Option<bool> {
        self.ready.then(|| !self.resources.contains_key(name))
    }

    /// Whether every local volume of the resource is `UpToDate` (what mkfs on a new resource
    /// waits for); `None` until the initial dump is complete, `Some(false)` for an unknown
    /// resource or one without volumes.
    pub fn is_up_to_date(&self, name: &str) -> Option<bool> {
        self.ready.then(|| {
            self.resources.get(name).is_some_and(|r| {
                !r.devices.is_empty() && r.devices.values().all(|d| d.disk == DiskState::UpToDate)
            })
        })
    }

    /// The status summary of one resource; `None` before the initial dump or when DRBD does
    /// not know the resource (it is down).
    pub fn status(&self, name: &str) -> Option<ResourceStatus> {
        if !self.ready {
            return None;
        }
        self.resources.get(name).map(ResourceStatus::of)
    }
}

fn conn(r: &mut ResourceState, id: u8) -> &mut ConnectionState {
    r.connections.entry(id).or_insert_with(|| ConnectionState {
        peer_node_id: id,
        peer_name: None,
        state: ConnState::Unconnected,
        peer_role: Role::Unknown,
        peer_devices: BTreeMap::new(),
    })
}

/// One local volume in a status report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeStatus {
    /// Volume number.
    pub volume: u16,
    /// Minor.
    pub minor: Option<u32>,
    /// Disk state.
    pub disk: DiskState,
    /// Diskless client.
    pub client: bool,
    /// A running sync of this volume: (peer name, replication state, progress).
    pub sync: Vec<(String, ReplState, Option<Percent>)>,
}

/// One peer in a status report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerStatus {
    /// Node id.
    pub node_id: u8,
    /// Name (conn-name, or `node-<id>`).
    pub name: String,
    /// Connection state.
    pub connection: ConnState,
    /// The peer's role.
    pub role: Role,
    /// Per volume: replication and the peer's disk.
    pub volumes: Vec<(u16, ReplState, DiskState)>,
}

/// What the satellite reports for one resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceStatus {
    /// Resource name.
    pub name: String,
    /// Local role.
    pub role: Role,
    /// Quorum (see [`ResourceState::quorum`]).
    pub quorum: Option<bool>,
    /// Suspended I/O.
    pub suspended: Suspended,
    /// May become primary.
    pub may_promote: Option<bool>,
    /// Local volumes.
    pub volumes: Vec<VolumeStatus>,
    /// Peers.
    pub peers: Vec<PeerStatus>,
}

impl ResourceStatus {
    /// Builds the report from tracked state.
    pub fn of(r: &ResourceState) -> ResourceStatus {
        let peer_name = |c: &ConnectionState| {
            c.peer_name
                .clone()
                .unwrap_or_else(|| format!("node-{}", c.peer_node_id))
        };
        let volumes = r
            .devices
            .values()
            .map(|d| VolumeStatus {
                volume: d.volume,
                minor: d.minor,
                disk: d.disk.clone(),
                client: d.client,
                sync: r
                    .connections
                    .values()
                    .filter_map(|c| {
                        let p = c.peer_devices.get(&d.volume)?;
                        p.replication
                            .is_syncing()
                            .then(|| (peer_name(c), p.replication.clone(), p.done))
                    })
                    .collect(),
            })
            .collect();
        let peers = r
            .connections
            .values()
            .map(|c| PeerStatus {
                node_id: c.peer_node_id,
                name: peer_name(c),
                connection: c.state.clone(),
                role: c.peer_role.clone(),
                volumes: c
                    .peer_devices
                    .values()
                    .map(|p| (p.volume, p.replication.clone(), p.peer_disk.clone()))
                    .collect(),
            })
            .collect();
        ResourceStatus {
            name: r.name.clone(),
            role: r.role.clone(),
            quorum: r.quorum(),
            suspended: r.suspended.clone(),
            may_promote: r.may_promote,
            volumes,
            peers,
        }
    }

    /// One line for humans: the local disk state(s), a running sync with its progress,
    /// peers that are not connected, lost quorum and suspended I/O, e.g.
    /// `SyncTarget 42.17% from beta`, `UpToDate, beta: StandAlone`, `UpToDate, no quorum`.
    pub fn summary(&self) -> String {
        let mut parts = Vec::new();
        let vol_text = |v: &VolumeStatus| -> String {
            if let Some((peer, state, done)) = v.sync.iter().find(|(_, s, _)| s.is_target()) {
                return match done {
                    Some(d) => format!("{state} {d}% from {peer}"),
                    None => format!("{state} from {peer}"),
                };
            }
            let syncing_to: Vec<String> = v
                .sync
                .iter()
                .map(|(peer, state, done)| match done {
                    Some(d) => format!("{state} {d}% to {peer}"),
                    None => format!("{state} to {peer}"),
                })
                .collect();
            let disk = if v.client && v.disk == DiskState::Diskless {
                "Diskless (client)".to_owned()
            } else {
                v.disk.to_string()
            };
            if syncing_to.is_empty() {
                disk
            } else {
                format!("{disk}, {}", syncing_to.join(", "))
            }
        };
        let texts: Vec<String> = self.volumes.iter().map(vol_text).collect();
        if texts.is_empty() {
            parts.push("no volumes".to_owned());
        } else if texts.iter().all(|t| *t == texts[0]) {
            parts.push(texts[0].clone());
        } else {
            parts.extend(
                self.volumes
                    .iter()
                    .zip(&texts)
                    .map(|(v, t)| format!("volume {}: {t}", v.volume)),
            );
        }
        for p in &self.peers {
            if p.connection != ConnState::Connected {
                parts.push(format!("{}: {}", p.name, p.connection));
            }
        }
        if self.quorum == Some(false) {
            parts.push("no quorum".to_owned());
        }
        if self.suspended.any() {
            parts.push(format!("suspended ({})", self.suspended));
        }
        parts.join(", ")
    }
}

impl fmt::Display for ResourceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: {}", self.name, self.role, self.summary())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(t: &mut Tracker, lines: &str) {
        for l in lines.lines() {
            t.feed_line(l).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn events_before_the_end_of_the_dump_are_queued() {
        let mut t = Tracker::new();
        feed(
            &mut t,
            "exists resource name:r role:Secondary suspended:no may_promote:yes promotion_score:1\n\
             change resource name:r role:Primary\n\
             exists device name:r volume:0 minor:1000 disk:UpToDate client:no quorum:yes",
        );
        assert!(!t.is_ready());
        assert_eq!(t.status("r"), None);
        assert_eq!(
            t.resource("r").map(|r| r.role.clone()),
            Some(Role::Secondary)
        );
        feed(&mut t, "exists -");
        assert!(t.is_ready());
        assert_eq!(t.resource("r").map(|r| r.role.clone()), Some(Role::Primary));
        assert_eq!(
            t.status("r").map(|s| s.to_string()).as_deref(),
            Some("r Primary: UpToDate")
        );
    }

    #[test]
    fn waiting_conditions() {
        let mut t = Tracker::new();
        assert_eq!(t.is_down("r"), None);
        assert_eq!(t.is_up_to_date("r"), None);
        feed(&mut t, "exists -\ncreate resource name:r role:Secondary");
        assert_eq!(t.is_down("r"), Some(false));
        assert_eq!(t.is_up_to_date("r"), Some(false), "no volumes yet");
        feed(
            &mut t,
            "create device name:r volume:0 minor:1 disk:UpToDate client:no\n\
             create device name:r volume:1 minor:2 disk:Inconsistent client:no",
        );
        assert_eq!(t.is_up_to_date("r"), Some(false));
        feed(&mut t, "change device name:r volume:1 disk:UpToDate");
        assert_eq!(t.is_up_to_date("r"), Some(true));
        feed(&mut t, "destroy resource name:r");
        assert_eq!(t.is_down("r"), Some(true));
    }

    #[test]
    fn malformed_lines_are_counted_and_change_nothing() {
        let mut t = Tracker::new();
        feed(&mut t, "exists -");
        let before = t.resources().clone();
        assert!(t.feed_line("change resource role:Primary").is_err());
        assert!(t.feed_line("garbage").is_err());
        assert_eq!(t.malformed_lines(), 2);
        assert_eq!(t.resources(), &before);
    }

    #[test]
    fn children_of_unknown_parents_create_them() {
        let mut t = Tracker::new();
        feed(
            &mut t,
            "exists -\nchange peer-device name:r peer-node-id:2 conn-name:c volume:0 replication:Established",
        );
        let r = t.resource("r").expect("created");
        assert_eq!(r.role, Role::Unknown);
        assert_eq!(
            r.connections.get(&2).and_then(|c| c.peer_name.as_deref()),
            Some("c")
        );
        assert!(t.check_consistency().is_ok());
    }
}
