//! LINSTOR-style results: `ApiCallRc` entries with the 64-bit `ret_code` bit layout.
//!
//! Every command answers with a list of entries. An entry's `ret_code` packs the severity
//! (bits 63–62), the operation (bits 25–24), the object (bits 22–18) and a code (bits 14–0),
//! exactly as LINSTOR's `ApiConsts` do, so that python-linstor and golinstor classify our answers
//! the same way they classify LINSTOR's.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

/// Severity bits.
pub mod mask {
    /// Both type bits: an error.
    pub const ERROR: u64 = 0xC000_0000_0000_0000;
    /// A warning.
    pub const WARN: u64 = 0x8000_0000_0000_0000;
    /// Information.
    pub const INFO: u64 = 0x4000_0000_0000_0000;
    /// All type bits.
    pub const TYPE: u64 = 0xC000_0000_0000_0000;
    /// Operation bits.
    pub const OP: u64 = 0x0300_0000;
    /// Object bits.
    pub const OBJ: u64 = 0x007C_0000;
    /// Code bits.
    pub const CODE: u64 = 0x7FFF;
}

/// Severity of one entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Severity {
    /// It worked.
    Success,
    /// Something to know.
    Info,
    /// It worked, but look at this.
    Warning,
    /// It did not happen.
    Error,
}

impl Severity {
    fn bits(self) -> u64 {
        match self {
            Severity::Success => 0,
            Severity::Info => mask::INFO,
            Severity::Warning => mask::WARN,
            Severity::Error => mask::ERROR,
        }
    }
}

/// Operation bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// No operation bits (queries, policy decisions).
    None,
    /// Create.
    Create,
    /// Modify.
    Modify,
    /// Delete.
    Delete,
}

impl Op {
    fn bits(self) -> u64 {
        match self {
            Op::None => 0,
            Op::Create => 0x0100_0000,
            Op::Modify => 0x0200_0000,
            Op::Delete => 0x0300_0000,
        }
    }
}

/// Object bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Obj {
    /// No object bits.
    None,
    /// Controller configuration.
    CtrlConf,
    /// Node.
    Node,
    /// Net interface.
    NetIf,
    /// Storage pool definition.
    StorPoolDfn,
    /// Storage pool.
    StorPool,
    /// Resource group.
    RscGrp,
    /// Volume group.
    VlmGrp,
    /// Resource definition.
    RscDfn,
    /// Volume definition.
    VlmDfn,
    /// Resource.
    Rsc,
    /// Volume.
    Vlm,
    /// Snapshot (definition).
    Snapshot,
    /// Key-value store.
    Kvs,
    /// Node connection.
    NodeConn,
    /// Resource connection.
    RscConn,
    /// Physical device (the physical-storage API).
    PhysicalDevice,
}

impl Obj {
    fn bits(self) -> u64 {
        match self {
            Obj::None => 0,
            Obj::CtrlConf => 0x10_0000,
            Obj::Node => 0x3C_0000,
            Obj::NetIf => 0x1C_0000,
            Obj::StorPoolDfn => 0x18_0000,
            Obj::StorPool => 0x14_0000,
            Obj::RscGrp => 0x44_0000,
            Obj::VlmGrp => 0x48_0000,
            Obj::RscDfn => 0x38_0000,
            Obj::VlmDfn => 0x30_0000,
            Obj::Rsc => 0x34_0000,
            Obj::Vlm => 0x2C_0000,
            Obj::PhysicalDevice => 0x4C_0000,
            Obj::Snapshot => 0x0C_0000,
            Obj::Kvs => 0x40_0000,
            Obj::NodeConn => 0x28_0000,
            Obj::RscConn => 0x24_0000,
        }
    }
}

/// LINSTOR's numeric codes (bits 14–0) that we use. Names follow `ApiConsts`.
#[allow(
    missing_docs,
    reason = "the names are LINSTOR's own and self-describing"
)]
pub mod code {
    pub const CREATED: u16 = 1;
    pub const DELETED: u16 = 2;
    pub const MODIFIED: u16 = 3;

    pub const INVLD_NODE_NAME: u16 = 200;
    pub const INVLD_NODE_TYPE: u16 = 201;
    pub const INVLD_RSC_NAME: u16 = 202;
    pub const INVLD_VLM_NR: u16 = 205;
    pub const INVLD_VLM_SIZE: u16 = 206;
    pub const INVLD_MINOR_NR: u16 = 207;
    pub const INVLD_STOR_POOL_NAME: u16 = 208;
    pub const INVLD_NET_NAME: u16 = 209;
    pub const INVLD_NET_ADDR: u16 = 210;
    pub const INVLD_NET_PORT: u16 = 211;
    pub const INVLD_PROP: u16 = 213;
    pub const INVLD_STOR_DRIVER: u16 = 221;
    pub const INVLD_PROVIDER: u16 = 227;
    pub const INVLD_RSC_STATE: u16 = 243;
    pub const INVLD_SNAPSHOT_NAME: u16 = 218;
    pub const INVLD_PLACE_COUNT: u16 = 219;
    pub const INVLD_RSC_GRP_NAME: u16 = 237;
    pub const INVLD_LAYER_STACK: u16 = 225;
    pub const INVLD_VLM_SIZES: u16 = 228;
    pub const INVLD_KVS_NAME: u16 = 223;
    pub const INVLD_CONF: u16 = 230;
    pub const INVLD_REQUEST: u16 = 234;
    /// LINSTOR has no code of its own for a peer-slot count out of range: `INVLD_REQUEST`.
    pub const INVLD_PEER_SLOTS: u16 = 234;
    pub const INVLD_NODE_ID: u16 = 204;
    pub const INVLD_TCP_PORT: u16 = 215;

    pub const NOT_FOUND_NODE: u16 = 300;
    pub const NOT_FOUND_RSC_DFN: u16 = 301;
    pub const NOT_FOUND_RSC: u16 = 302;
    pub const NOT_FOUND_VLM_DFN: u16 = 303;
    pub const NOT_FOUND_VLM: u16 = 304;
    pub const NOT_FOUND_NET_IF: u16 = 305;
    pub const NOT_FOUND_STOR_POOL_DFN: u16 = 309;
    pub const NOT_FOUND_STOR_POOL: u16 = 310;
    pub const NOT_FOUND_SNAPSHOT_DFN: u16 = 313;
    pub const NOT_FOUND_SNAPSHOT_VLM_DFN: u16 = 314;
    pub const NOT_FOUND_SNAPSHOT: u16 = 315;
    pub const NOT_FOUND_KVS: u16 = 316;
    pub const NOT_FOUND_RSC_GRP: u16 = 317;
    pub const NOT_FOUND_VLM_GRP: u16 = 318;

    pub const EXISTS_NODE: u16 = 500;
    pub const EXISTS_RSC_DFN: u16 = 501;
    pub const EXISTS_RSC: u16 = 502;
    pub const EXISTS_VLM_DFN: u16 = 503;
    pub const EXISTS_NET_IF: u16 = 505;
    pub const EXISTS_STOR_POOL_DFN: u16 = 509;
    pub const EXISTS_STOR_POOL: u16 = 510;
    pub const EXISTS_SNAPSHOT_DFN: u16 = 514;
    pub const EXISTS_RSC_GRP: u16 = 522;
    pub const EXISTS_VLM_GRP: u16 = 523;
    pub const EXISTS_SNAPSHOT: u16 = 516;

    pub const MISSING_PROPS: u16 = 600;

    pub const POOL_EXHAUSTED_VLM_NR: u16 = 800;
    pub const POOL_EXHAUSTED_MINOR_NR: u16 = 801;
    pub const POOL_EXHAUSTED_TCP_PORT: u16 = 802;
    pub const POOL_EXHAUSTED_NODE_ID: u16 = 803;

    pub const EXISTS_SNAPSHOT_DFN_DEPENDENCY: u16 = 970;
    pub const SNAPSHOT_ROLLBACK_IN_PROGRESS: u16 = 971;
    pub const NOT_ALL_UPTODATE: u16 = 974;
    pub const EVACUATING: u16 = 975;
    pub const NOT_ENOUGH_FREE_SPACE: u16 = 980;
    pub const UNDECIDABLE_AUTOPLACMENT: u16 = 985;
    pub const STLT_DOES_NOT_SUPPORT_LAYER: u16 = 988;
    pub const STLT_DOES_NOT_SUPPORT_PROVIDER: u16 = 989;
    pub const INSUFFICIENT_REPLICA_COUNT: u16 = 991;
    pub const RSC_BUSY: u16 = 992;
    pub const INSUFFICIENT_PEER_SLOTS: u16 = 993;
    pub const SNAPSHOTS_NOT_SUPPORTED: u16 = 994;
    pub const NOT_CONNECTED: u16 = 995;
    pub const NOT_ENOUGH_NODES: u16 = 996;
    pub const IN_USE: u16 = 997;
    pub const UNKNOWN_ERROR: u16 = 998;
    pub const IMPL_ERROR: u16 = 999;

    pub const WARN_NOT_CONNECTED: u16 = 1002;
    pub const WARN_RSC_ALREADY_DEPLOYED: u16 = 1006;
    pub const WARN_ALL_DISKLESS: u16 = 1009;
    pub const WARN_NOT_ENOUGH_NODES_FOR_TIE_BREAKER: u16 = 1013;
    pub const WARN_NODE_EVICTED: u16 = 1017;
    pub const WARN_NOT_FOUND: u16 = 3000;
    pub const WARN_NO_EFFECT: u16 = 3001;
    pub const WARN_DEPRECATED: u16 = 4000;

    pub const INFO_NO_RSC_SPAWNED: u16 = 10000;
    pub const INFO_PROP_SET: u16 = 10002;
    pub const INFO_TIE_BREAKER_CREATED: u16 = 10003;
    pub const INFO_TIE_BREAKER_DELETING: u16 = 10004;
    pub const INFO_PROP_REMOVED: u16 = 10005;
    pub const INFO_TIE_BREAKER_TAKEOVER: u16 = 10006;
    pub const INFO_NOOP: u16 = 10007;
}

/// Builds a `ret_code` from its parts (as the signed value LINSTOR sends).
pub fn ret_code(sev: Severity, op: Op, obj: Obj, code: u16) -> i64 {
    let bits = sev.bits() | op.bits() | obj.bits() | (u64::from(code) & mask::CODE);
    i64::from_ne_bytes(bits.to_ne_bytes())
}

/// Splits a `ret_code` into severity and code, the way clients classify it.
pub fn classify(rc: i64) -> (Severity, u16) {
    let bits = u64::from_ne_bytes(rc.to_ne_bytes());
    let sev = if bits & mask::ERROR == mask::ERROR {
        Severity::Error
    } else if bits & mask::WARN == mask::WARN {
        Severity::Warning
    } else if bits & mask::INFO == mask::INFO {
        Severity::Info
    } else {
        Severity::Success
    };
    (sev, u16::try_from(bits & mask::CODE).unwrap_or(u16::MAX))
}

/// One entry of an answer, with LINSTOR's fields.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RcEntry {
    /// Severity.
    pub severity: Severity,
    /// Operation.
    pub op: Op,
    /// Object kind.
    pub obj: Obj,
    /// Code (bits 14–0).
    pub code: u16,
    /// What happened.
    pub message: String,
    /// Why (for failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// What to do about it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<String>,
    /// More detail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// References to the objects involved (`Node`, `RscDfn`, `StorPoolName`, `VlmNr`, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub obj_refs: BTreeMap<String, String>,
}

impl RcEntry {
    /// A new entry.
    pub fn new(
        severity: Severity,
        op: Op,
        obj: Obj,
        code: u16,
        message: impl Into<String>,
    ) -> Self {
        RcEntry {
            severity,
            op,
            obj,
            code,
            message: message.into(),
            cause: None,
            correction: None,
            details: None,
            obj_refs: BTreeMap::new(),
        }
    }

    /// An error entry.
    pub fn error(op: Op, obj: Obj, code: u16, message: impl Into<String>) -> Self {
        Self::new(Severity::Error, op, obj, code, message)
    }

    /// Sets the cause.
    #[must_use]
    pub fn cause(mut self, cause: impl Into<String>) -> Self {
        self.cause = Some(cause.into());
        self
    }

    /// Sets the correction.
    #[must_use]
    pub fn correction(mut self, correction: impl Into<String>) -> Self {
        self.correction = Some(correction.into());
        self
    }

    /// Sets the details.
    #[must_use]
    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    /// Adds an object reference.
    #[must_use]
    pub fn obj_ref(mut self, key: &str, value: impl fmt::Display) -> Self {
        self.obj_refs.insert(key.to_owned(), value.to_string());
        self
    }

    /// The 64-bit `ret_code`.
    pub fn ret_code(&self) -> i64 {
        ret_code(self.severity, self.op, self.obj, self.code)
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The REST JSON form (`ret_code`, `message`, `cause`, `correction`, `details`, `obj_refs`).
    pub fn to_rest_json(&self) -> serde_json::Value {
        let mut m = serde_json::Map::new();
        m.insert("ret_code".into(), self.ret_code().into());
        m.insert("message".into(), self.message.clone().into());
        for (k, v) in [
            ("cause", &self.cause),
            ("correction", &self.correction),
            ("details", &self.details),
        ] {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        }
        if !self.obj_refs.is_empty() {
            let refs = self
                .obj_refs
                .iter()
                .map(|(k, v)| (k.clone(), v.clone().into()))
                .collect();
            m.insert("obj_refs".into(), serde_json::Value::Object(refs));
        }
        serde_json::Value::Object(m)
    }
}

impl fmt::Display for RcEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Success => "SUCCESS",
            Severity::Info => "INFO",
            Severity::Warning => "WARNING",
            Severity::Error => "ERROR",
        };
        write!(f, "{sev}: {}", self.message)?;
        if let Some(c) = &self.cause {
            write!(f, "\n  Cause:      {c}")?;
        }
        if let Some(c) = &self.correction {
            write!(f, "\n  Correction: {c}")?;
        }
        if let Some(d) = &self.details {
            write!(f, "\n  Details:    {d}")?;
        }
        Ok(())
    }
}

/// An answer: the list of entries of one command.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCallRc(pub Vec<RcEntry>);

impl ApiCallRc {
    /// True if any entry is an error.
    pub fn has_error(&self) -> bool {
        self.0.iter().any(RcEntry::is_error)
    }

    /// The first error, if any.
    pub fn first_error(&self) -> Option<&RcEntry> {
        self.0.iter().find(|e| e.is_error())
    }

    /// Appends an entry.
    pub fn push(&mut self, e: RcEntry) {
        self.0.push(e);
    }

    /// The HTTP status of an answer (success status given): LINSTOR's mapping, except that
    /// invalid input (codes 200–299) is 400 where LINSTOR says 500.
    pub fn http_status(&self, success: u16) -> u16 {
        match self.first_error() {
            None => success,
            // Invalid input (INVLD_*) is the client's to fix: 400. LINSTOR answers 500 here;
            // every client treats a status >= 400 with an ApiCallRc body alike.
            Some(e) if (200..300).contains(&e.code) => 400,
            Some(e) if (300..400).contains(&e.code) => 404,
            Some(e) if (400..500).contains(&e.code) => 403,
            Some(_) => 500,
        }
    }
}

impl fmt::Display for ApiCallRc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(sev: Severity, op: Op, obj: Obj, c: u16, expect: i64) {
        assert_eq!(
            ret_code(sev, op, obj, c),
            expect,
            "{sev:?} {op:?} {obj:?} {c}"
        );
        assert_eq!(classify(expect), (sev, c));
    }

    #[test]
    fn ret_code_layout_matches_linstor() {
        // Worked examples from the reference (§2.2).
        check(
            Severity::Success,
            Op::Create,
            Obj::RscDfn,
            code::CREATED,
            20_447_233,
        );
        check(
            Severity::Error,
            Op::None,
            Obj::None,
            0,
            -4_611_686_018_427_387_904,
        );
        check(
            Severity::Error,
            Op::Modify,
            Obj::RscDfn,
            code::NOT_FOUND_RSC_DFN,
            -4_611_686_018_390_163_155,
        );
        check(
            Severity::Warning,
            Op::None,
            Obj::None,
            3000,
            i64::MIN + 3000,
        );
        check(
            Severity::Info,
            Op::None,
            Obj::None,
            10000,
            0x4000_0000_0000_0000 + 10000,
        );
    }

    #[test]
    fn codes_are_linstors() {
        // LINSTOR's ApiConsts (python-linstor 1.29.1 sharedconsts.py), pinned.
        let table = [
            (code::INVLD_NODE_NAME, 200),
            (code::INVLD_RSC_NAME, 202),
            (code::INVLD_NODE_ID, 204),
            (code::INVLD_VLM_SIZE, 206),
            (code::INVLD_STOR_POOL_NAME, 208),
            (code::INVLD_PROP, 213),
            (code::INVLD_TCP_PORT, 215),
            (code::INVLD_SNAPSHOT_NAME, 218),
            (code::INVLD_PLACE_COUNT, 219),
            (code::INVLD_STOR_DRIVER, 221),
            (code::INVLD_KVS_NAME, 223),
            (code::INVLD_PROVIDER, 227),
            (code::INVLD_RSC_STATE, 243),
            (code::INVLD_REQUEST, 234),
            (code::INVLD_RSC_GRP_NAME, 237),
            (code::NOT_FOUND_VLM, 304),
            (code::NOT_FOUND_NET_IF, 305),
            (code::NOT_FOUND_STOR_POOL_DFN, 309),
            (code::NOT_FOUND_SNAPSHOT_DFN, 313),
            (code::NOT_FOUND_RSC_GRP, 317),
            (code::EXISTS_NET_IF, 505),
            (code::EXISTS_SNAPSHOT_DFN, 514),
            (code::EXISTS_SNAPSHOT, 516),
            (code::EXISTS_RSC_GRP, 522),
            (code::NOT_ALL_UPTODATE, 974),
            (code::NOT_CONNECTED, 995),
            (code::NOT_ENOUGH_NODES, 996),
            (code::WARN_NOT_CONNECTED, 1002),
        ];
        for (ours, linstor) in table {
            assert_eq!(ours, linstor);
        }
    }

    #[test]
    fn http_status_mapping() {
        let ok = ApiCallRc(vec![RcEntry::new(
            Severity::Success,
            Op::Create,
            Obj::Node,
            1,
            "x",
        )]);
        assert_eq!(ok.http_status(201), 201);
        let nf = ApiCallRc(vec![RcEntry::error(
            Op::Modify,
            Obj::Node,
            code::NOT_FOUND_NODE,
            "x",
        )]);
        assert_eq!(nf.http_status(200), 404);
        let other = ApiCallRc(vec![RcEntry::error(
            Op::Create,
            Obj::Node,
            code::EXISTS_NODE,
            "x",
        )]);
        assert_eq!(other.http_status(201), 500);
        let invalid = ApiCallRc(vec![RcEntry::error(
            Op::Create,
            Obj::Node,
            code::INVLD_NODE_NAME,
            "x",
        )]);
        assert_eq!(invalid.http_status(201), 400);
    }

    #[test]
    fn rest_json_shape() {
        let e = RcEntry::error(Op::Create, Obj::RscDfn, code::EXISTS_RSC_DFN, "exists")
            .cause("c")
            .correction("fix")
            .obj_ref("RscDfn", "r1");
        let j = e.to_rest_json();
        assert_eq!(
            j["ret_code"],
            ret_code(Severity::Error, Op::Create, Obj::RscDfn, 501)
        );
        assert_eq!(j["obj_refs"]["RscDfn"], "r1");
        assert!(j.get("details").is_none());
    }
}
