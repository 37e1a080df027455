//! A pure parser for `drbdsetup events2` lines.
//!
//! Grammar (drbd-utils): `[<timestamp> ]<action> <object> key:value key:value …`, tokens split on
//! blanks, each token split at its first `:` (values may contain more colons, e.g. path
//! addresses `local:ipv4:10.0.0.1:7000`). Actions: `exists`, `create`, `change`, `destroy`,
//! `rename`, `call`, `response`. Objects: `resource`, `connection`, `device`, `peer-device`,
//! `path`, `helper`, and `-` (`exists -` ends the initial state dump). `--timestamps` prefixes an
//! RFC 3339 time; `--statistics` adds counters, which are ignored.
//!
//! [`parse_line`] never panics: a malformed line is a [`DrbdError::Parse`] naming the line and
//! the reason. State words DRBD may add in future versions parse as `Other(word)`, not as
//! errors. [`Event`] implements `Display` back into the same line format (used by tests and by
//! [`crate::state::Tracker::dump`]).

use std::fmt;
use std::str::FromStr;

use crate::error::{DrbdError, Result};

macro_rules! state_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
            /// A word this version does not know (kept verbatim).
            Other(String),
        }

        impl $name {
            /// The word drbdsetup prints.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)+
                    $name::Other(s) => s,
                }
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
                Ok(match s {
                    $($text => $name::$variant,)+
                    other => $name::Other(other.to_owned()),
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

state_enum! {
    /// A resource's or peer's role.
    Role {
        /// Primary.
        Primary = "Primary",
        /// Secondary.
        Secondary = "Secondary",
        /// Not known (peer not connected).
        Unknown = "Unknown",
    }
}

state_enum! {
    /// A local or peer disk state.
    DiskState {
        /// No disk.
        Diskless = "Diskless",
        /// Being attached.
        Attaching = "Attaching",
        /// Being detached.
        Detaching = "Detaching",
        /// I/O error.
        Failed = "Failed",
        /// Attach in progress, negotiating with peers.
        Negotiating = "Negotiating",
        /// Data not usable (sync target or never synced).
        Inconsistent = "Inconsistent",
        /// Consistent but known to be old.
        Outdated = "Outdated",
        /// Peer disk state not known.
        DUnknown = "DUnknown",
        /// Consistent, freshness not known yet.
        Consistent = "Consistent",
        /// Current data.
        UpToDate = "UpToDate",
    }
}

state_enum! {
    /// A connection's state.
    ConnState {
        /// Not trying to connect.
        StandAlone = "StandAlone",
        /// Going down.
        Disconnecting = "Disconnecting",
        /// About to connect.
        Unconnected = "Unconnected",
        /// Timed out.
        Timeout = "Timeout",
        /// Broken pipe.
        BrokenPipe = "BrokenPipe",
        /// Network failure.
        NetworkFailure = "NetworkFailure",
        /// Protocol error.
        ProtocolError = "ProtocolError",
        /// Tearing down.
        TearDown = "TearDown",
        /// Waiting for the peer.
        Connecting = "Connecting",
        /// Connected.
        Connected = "Connected",
    }
}

state_enum! {
    /// A peer device's replication state.
    ReplState {
        /// No replication (not connected).
        Off = "Off",
        /// Connected and in sync mode.
        Established = "Established",
        /// Starting a sync as source.
        StartingSyncS = "StartingSyncS",
        /// Starting a sync as target.
        StartingSyncT = "StartingSyncT",
        /// Waiting for the bitmap (source).
        WFBitMapS = "WFBitMapS",
        /// Waiting for the bitmap (target).
        WFBitMapT = "WFBitMapT",
        /// Waiting for the sync UUID.
        WFSyncUUID = "WFSyncUUID",
        /// Syncing to the peer.
        SyncSource = "SyncSource",
        /// Syncing from the peer.
        SyncTarget = "SyncTarget",
        /// Online verify, source.
        VerifyS = "VerifyS",
        /// Online verify, target.
        VerifyT = "VerifyT",
        /// Paused sync, source.
        PausedSyncS = "PausedSyncS",
        /// Paused sync, target.
        PausedSyncT = "PausedSyncT",
        /// Ahead (congestion).
        Ahead = "Ahead",
        /// Behind (congestion).
        Behind = "Behind",
    }
}

impl ReplState {
    /// Whether a resync or verify is running (the state in which `done:` is reported).
    pub fn is_syncing(&self) -> bool {
        matches!(
            self,
            ReplState::SyncSource
                | ReplState::SyncTarget
                | ReplState::PausedSyncS
                | ReplState::PausedSyncT
                | ReplState::VerifyS
                | ReplState::VerifyT
        )
    }

    /// Whether this node receives the data (target side of a sync).
    pub fn is_target(&self) -> bool {
        matches!(
            self,
            ReplState::SyncTarget | ReplState::PausedSyncT | ReplState::VerifyT
        )
    }
}

/// Progress in hundredths of a percent (`done:42.17` is 4217), 0..=10000.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Percent(pub u16);

impl Percent {
    /// Parses `42.17`, `42.1`, `42`, `100.00`.
    pub fn parse(s: &str) -> Option<Percent> {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if int.is_empty() || int.len() > 3 || frac.len() > 2 {
            return None;
        }
        if !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let int: u16 = int.parse().ok()?;
        let frac: u16 = match frac.len() {
            0 => 0,
            1 => frac.parse::<u16>().ok()? * 10,
            _ => frac.parse().ok()?,
        };
        let v = int.checked_mul(100)?.checked_add(frac)?;
        (v <= 10_000).then_some(Percent(v))
    }
}

impl fmt::Display for Percent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:02}", self.0 / 100, self.0 % 100)
    }
}

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Part of the initial state dump.
    Exists,
    /// Created.
    Create,
    /// Changed (only the changed keys are present).
    Change,
    /// Destroyed.
    Destroy,
    /// Renamed (resource, `new_name:`).
    Rename,
    /// A helper was called.
    Call,
    /// A helper returned.
    Response,
}

impl Action {
    fn parse(s: &str) -> Option<Action> {
        Some(match s {
            "exists" => Action::Exists,
            "create" => Action::Create,
            "change" => Action::Change,
            "destroy" => Action::Destroy,
            "rename" => Action::Rename,
            "call" => Action::Call,
            "response" => Action::Response,
            _ => return None,
        })
    }

    /// The word drbdsetup prints.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Exists => "exists",
            Action::Create => "create",
            Action::Change => "change",
            Action::Destroy => "destroy",
            Action::Rename => "rename",
            Action::Call => "call",
            Action::Response => "response",
        }
    }
}

/// Which suspensions are active (`suspended:no`, `suspended:user`, `suspended:user,quorum`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Suspended(pub Vec<String>);

impl Suspended {
    /// Not suspended.
    pub fn no() -> Self {
        Suspended(Vec::new())
    }

    /// Whether I/O is suspended for any reason.
    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }

    /// `no` is not a reason: `no,` (or `no,user`) must not read as suspended because of "no".
    fn parse(s: &str) -> Suspended {
        Suspended(
            s.split(',')
                .filter(|w| !w.is_empty() && *w != "no")
                .map(str::to_owned)
                .collect(),
        )
    }
}

impl fmt::Display for Suspended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("no")
        } else {
            f.write_str(&self.0.join(","))
        }
    }
}

/// A `resource` event. Fields are `None` when the line does not carry them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ResourceEvent {
    /// Resource name.
    pub name: String,
    /// `role:`.
    pub role: Option<Role>,
    /// `suspended:`.
    pub suspended: Option<Suspended>,
    /// `may_promote:`.
    pub may_promote: Option<bool>,
    /// `promotion_score:`.
    pub promotion_score: Option<u64>,
    /// `new_name:` (rename).
    pub new_name: Option<String>,
}

/// A `connection` event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConnectionEvent {
    /// Resource name.
    pub name: String,
    /// `peer-node-id:`.
    pub peer_node_id: u8,
    /// `conn-name:` (the peer's node name).
    pub conn_name: Option<String>,
    /// `connection:`.
    pub connection: Option<ConnState>,
    /// `role:` (the peer's role).
    pub role: Option<Role>,
}

/// A `device` event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceEvent {
    /// Resource name.
    pub name: String,
    /// `volume:`.
    pub volume: u16,
    /// `minor:`.
    pub minor: Option<u32>,
    /// `disk:`.
    pub disk: Option<DiskState>,
    /// `client:` (intentionally diskless).
    pub client: Option<bool>,
    /// `quorum:`.
    pub quorum: Option<bool>,
}

/// A `peer-device` event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PeerDeviceEvent {
    /// Resource name.
    pub name: String,
    /// `peer-node-id:`.
    pub peer_node_id: u8,
    /// `conn-name:`.
    pub conn_name: Option<String>,
    /// `volume:`.
    pub volume: u16,
    /// `replication:`.
    pub replication: Option<ReplState>,
    /// `peer-disk:`.
    pub peer_disk: Option<DiskState>,
    /// `peer-client:`.
    pub peer_client: Option<bool>,
    /// `done:` (sync progress).
    pub done: Option<Percent>,
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    /// `resource`.
    Resource(ResourceEvent),
    /// `connection`.
    Connection(ConnectionEvent),
    /// `device`.
    Device(DeviceEvent),
    /// `peer-device`.
    PeerDevice(PeerDeviceEvent),
    /// `path` (network paths; not tracked).
    Path {
        /// Resource name.
        name: String,
    },
    /// `helper` (handler calls; not tracked).
    Helper {
        /// Resource name.
        name: String,
    },
    /// `-`: the end of the initial `exists` dump.
    EndOfDump,
}

/// One parsed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The `--timestamps` prefix, verbatim.
    pub timestamp: Option<String>,
    /// What happened.
    pub action: Action,
    /// To what.
    pub object: Object,
}

fn looks_like_timestamp(tok: &str) -> bool {
    tok.len() >= 19 && tok.as_bytes()[0].is_ascii_digit() && tok.as_bytes().get(10) == Some(&b'T')
}

struct Fields<'a> {
    line: &'a str,
    pairs: Vec<(&'a str, &'a str)>,
}

impl<'a> Fields<'a> {
    fn err(&self, reason: String) -> DrbdError {
        DrbdError::Parse {
            line: self.line.to_owned(),
            reason,
        }
    }

    fn get(&self, key: &str) -> Option<&'a str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
    }

    fn name(&self) -> Result<String> {
        match self.get("name") {
            Some(n) if !n.is_empty() => Ok(n.to_owned()),
            _ => Err(self.err("missing name:".into())),
        }
    }

    fn num<T: FromStr>(&self, key: &str) -> Result<Option<T>> {
        self.get(key)
            .map(|v| {
                v.parse::<T>()
                    .map_err(|_| self.err(format!("{key}:{v} is not a number in range")))
            })
            .transpose()
    }

    fn required<T: FromStr>(&self, key: &str) -> Result<T> {
        self.num(key)?
            .ok_or_else(|| self.err(format!("missing {key}:")))
    }

    fn bool(&self, key: &str) -> Result<Option<bool>> {
        match self.get(key) {
            None => Ok(None),
            Some("yes") => Ok(Some(true)),
            Some("no") => Ok(Some(false)),
            Some(v) => Err(self.err(format!("{key}:{v} is not yes or no"))),
        }
    }

    fn state<T: FromStr<Err = std::convert::Infallible>>(&self, key: &str) -> Result<Option<T>> {
        match self.get(key) {
            None => Ok(None),
            Some("") => Err(self.err(format!("{key}: has no value"))),
            Some(v) => Ok(v.parse().ok()),
        }
    }

    fn text(&self, key: &str) -> Option<String> {
        self.get(key).map(str::to_owned)
    }
}

/// Parses one line; `Ok(None)` for a blank line.
pub fn parse_line(line: &str) -> Result<Option<Event>> {
    let trimmed = line.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    let perr = |reason: &str| DrbdError::Parse {
        line: trimmed.to_owned(),
        reason: reason.to_owned(),
    };
    let mut tokens = trimmed.split_ascii_whitespace().peekable();
    let timestamp = match tokens.peek() {
        Some(t) if looks_like_timestamp(t) => tokens.next().map(str::to_owned),
        _ => None,
    };
    let action_word = tokens.next().ok_or_else(|| perr("no action"))?;
    let action = Action::parse(action_word).ok_or_else(|| perr("unknown action"))?;
    let object_word = tokens.next().ok_or_else(|| perr("no object"))?;
    let mut pairs = Vec::new();
    for tok in tokens {
        let (k, v) = tok
            .split_once(':')
            .ok_or_else(|| perr("a field without ':'"))?;
        if k.is_empty() {
            return Err(perr("a field without a key"));
        }
        pairs.push((k, v));
    }
    let f = Fields {
        line: trimmed,
        pairs,
    };
    let object = match object_word {
        "-" => {
            if action != Action::Exists || !f.pairs.is_empty() {
                return Err(perr("'-' only ends the initial dump ('exists -')"));
            }
            Object::EndOfDump
        }
        "resource" => Object::Resource(ResourceEvent {
            name: f.name()?,
            role: f.state("role")?,
            suspended: f.get("suspended").map(Suspended::parse),
            may_promote: f.bool("may_promote")?,
            promotion_score: f.num("promotion_score")?,
            new_name: f.text("new_name"),
        }),
        "connection" => Object::Connection(ConnectionEvent {
            name: f.name()?,
            peer_node_id: f.required("peer-node-id")?,
            conn_name: f.text("conn-name"),
            connection: f.state("connection")?,
            role: f.state("role")?,
        }),
        "device" => Object::Device(DeviceEvent {
            name: f.name()?,
            volume: f.required("volume")?,
            minor: f.num("minor")?,
            disk: f.state("disk")?,
            client: f.bool("client")?,
            quorum: f.bool("quorum")?,
        }),
        "peer-device" => Object::PeerDevice(PeerDeviceEvent {
            name: f.name()?,
            peer_node_id: f.required("peer-node-id")?,
            conn_name: f.text("conn-name"),
            volume: f.required("volume")?,
            replication: f.state("replication")?,
            peer_disk: f.state("peer-disk")?,
            peer_client: f.bool("peer-client")?,
            done: match f.get("done") {
                None => None,
                Some(v) => {
                    Some(Percent::parse(v).ok_or_else(|| perr("done: is not a percentage"))?)
                }
            },
        }),
        "path" => Object::Path { name: f.name()? },
        "helper" => Object::Helper { name: f.name()? },
        _ => return Err(perr("unknown object type")),
    };
    if f.pairs.iter().any(|(k, _)| *k == "peer-node-id") {
        // Node ids are 0..=31 in DRBD 9.
        if let Some(id) = f.num::<u8>("peer-node-id")? {
            if id > 31 {
                return Err(perr("peer-node-id out of range 0..=31"));
            }
        }
    }
    Ok(Some(Event {
        timestamp,
        action,
        object,
    }))
}

fn opt<T: fmt::Display>(out: &mut String, key: &str, v: &Option<T>) {
    if let Some(v) = v {
        out.push_str(&format!(" {key}:{v}"));
    }
}

fn yes_no(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

impl fmt::Display for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        if let Some(t) = &self.timestamp {
            s.push_str(t);
            s.push(' ');
        }
        s.push_str(self.action.as_str());
        match &self.object {
            Object::EndOfDump => s.push_str(" -"),
            Object::Resource(r) => {
                s.push_str(&format!(" resource name:{}", r.name));
                opt(&mut s, "role", &r.role);
                opt(&mut s, "suspended", &r.suspended);
                opt(&mut s, "may_promote", &r.may_promote.map(yes_no));
                opt(&mut s, "promotion_score", &r.promotion_score);
                opt(&mut s, "new_name", &r.new_name);
            }
            Object::Connection(c) => {
                s.push_str(&format!(
                    " connection name:{} peer-node-id:{}",
                    c.name, c.peer_node_id
                ));
                opt(&mut s, "conn-name", &c.conn_name);
                opt(&mut s, "connection", &c.connection);
                opt(&mut s, "role", &c.role);
            }
            Object::Device(d) => {
                s.push_str(&format!(" device name:{} volume:{}", d.name, d.volume));
                opt(&mut s, "minor", &d.minor);
                opt(&mut s, "disk", &d.disk);
                opt(&mut s, "client", &d.client.map(yes_no));
                opt(&mut s, "quorum", &d.quorum.map(yes_no));
            }
            Object::PeerDevice(p) => {
                s.push_str(&format!(
                    " peer-device name:{} peer-node-id:{}",
                    p.name, p.peer_node_id
                ));
                opt(&mut s, "conn-name", &p.conn_name);
                s.push_str(&format!(" volume:{}", p.volume));
                opt(&mut s, "replication", &p.replication);
                opt(&mut s, "peer-disk", &p.peer_disk);
                opt(&mut s, "peer-client", &p.peer_client.map(yes_no));
                opt(&mut s, "done", &p.done);
            }
            Object::Path { name } => s.push_str(&format!(" path name:{name}")),
            Object::Helper { name } => s.push_str(&format!(" helper name:{name}")),
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One helper for every table row: the line, and the parsed event's `Display` (or the error).
    fn check(cases: &[(&str, &str)]) {
        let mut failures = Vec::new();
        for (line, want) in cases {
            let got = match parse_line(line) {
                Ok(Some(e)) => e.to_string(),
                Ok(None) => "(blank)".to_owned(),
                Err(DrbdError::Parse { reason, .. }) => format!("error: {reason}"),
                Err(e) => format!("other error: {e}"),
            };
            if got != *want {
                failures.push(format!("{line}\n  want: {want}\n  got:  {got}"));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    #[test]
    fn parse_table() {
        check(&[
            (
                "exists resource name:pvc-1 role:Secondary suspended:no force-io-failures:no may_promote:yes promotion_score:10101",
                "exists resource name:pvc-1 role:Secondary suspended:no may_promote:yes promotion_score:10101",
            ),
            (
                "2026-11-22T02:45:30.123456+00:00 change resource name:pvc-1 role:Primary",
                "2026-11-22T02:45:30.123456+00:00 change resource name:pvc-1 role:Primary",
            ),
            (
                "change resource name:pvc-1 suspended:user,quorum",
                "change resource name:pvc-1 suspended:user,quorum",
            ),
            // Found by fuzzing: `no,` read as suspended for the reason "no" (and did not print
            // back to the same event).
            (
                "change resource name:pvc-1 suspended:no,",
                "change resource name:pvc-1 suspended:no",
            ),
            (
                "change resource name:pvc-1 suspended:no,user",
                "change resource name:pvc-1 suspended:user",
            ),
            (
                "exists connection name:pvc-1 peer-node-id:1 conn-name:beta connection:Connected role:Secondary congested:no ap-in-flight:0 rs-in-flight:0",
                "exists connection name:pvc-1 peer-node-id:1 conn-name:beta connection:Connected role:Secondary",
            ),
            (
                "exists device name:pvc-1 volume:0 minor:1000 backing_dev:/dev/vg0/pvc-1_00000 disk:UpToDate client:no quorum:yes size:1048576 read:0 written:0 al-writes:0 bm-writes:0 upper-pending:0 lower-pending:0 al-suspended:no blocked:no",
                "exists device name:pvc-1 volume:0 minor:1000 disk:UpToDate client:no quorum:yes",
            ),
            (
                "change peer-device name:pvc-1 peer-node-id:1 conn-name:beta volume:0 replication:SyncTarget peer-disk:UpToDate done:42.17 eta:31",
                "change peer-device name:pvc-1 peer-node-id:1 conn-name:beta volume:0 replication:SyncTarget peer-disk:UpToDate done:42.17",
            ),
            (
                "exists path name:pvc-1 peer-node-id:1 conn-name:beta local:ipv4:10.0.0.1:7000 peer:ipv4:10.0.0.2:7000 established:yes",
                "exists path name:pvc-1",
            ),
            (
                "call helper name:pvc-1 peer-node-id:1 conn-name:beta volume:0 helper:before-resync-target",
                "call helper name:pvc-1",
            ),
            (
                "change device name:pvc-1 volume:0 disk:Frobnicated",
                "change device name:pvc-1 volume:0 disk:Frobnicated",
            ),
            ("exists -", "exists -"),
            ("   ", "(blank)"),
            // Malformed lines: reported, never a panic.
            (
                "exists - name:x",
                "error: '-' only ends the initial dump ('exists -')",
            ),
            (
                "change -",
                "error: '-' only ends the initial dump ('exists -')",
            ),
            ("explode resource name:x", "error: unknown action"),
            ("change", "error: no object"),
            ("change gizmo name:x", "error: unknown object type"),
            ("change resource role:Primary", "error: missing name:"),
            ("change resource name:x role", "error: a field without ':'"),
            ("change resource name:x :y", "error: a field without a key"),
            (
                "change device name:x volume:abc",
                "error: volume:abc is not a number in range",
            ),
            ("change device name:x", "error: missing volume:"),
            (
                "change device name:x volume:0 client:maybe",
                "error: client:maybe is not yes or no",
            ),
            (
                "change connection name:x peer-node-id:300",
                "error: peer-node-id:300 is not a number in range",
            ),
            (
                "change connection name:x peer-node-id:32",
                "error: peer-node-id out of range 0..=31",
            ),
            (
                "change peer-device name:x peer-node-id:1 volume:0 done:142.00",
                "error: done: is not a percentage",
            ),
            (
                "change peer-device name:x peer-node-id:1 volume:0 done:4.2.1",
                "error: done: is not a percentage",
            ),
            (
                "change device name:x volume:0 disk:",
                "error: disk: has no value",
            ),
        ]);
    }

    #[test]
    fn percent_parsing() {
        for (s, want) in [
            ("0", Some(0)),
            ("42.17", Some(4217)),
            ("42.1", Some(4210)),
            ("100.00", Some(10000)),
            ("100.01", None),
            ("", None),
            (".5", None),
            ("-1", None),
        ] {
            assert_eq!(Percent::parse(s).map(|p| p.0), want, "{s}");
        }
        assert_eq!(Percent(4217).to_string(), "42.17");
        assert_eq!(Percent(5).to_string(), "0.05");
    }
}
