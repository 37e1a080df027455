//! Validated object names with LINSTOR's rules.
//!
//! Every name keeps the case the user typed (its *display* form) but compares, hashes and sorts
//! case-insensitively, the way LINSTOR's `GenericName` does (identity is the upper-cased form).
//! All valid names are ASCII, so the case-insensitive comparison never allocates. A name of up
//! to 24 bytes is stored inline (`compact_str`), so most names cost no allocation of their own.
//!
//! Rules (see `shared/reference/linstor-reference.md` §1.4):
//!
//! | name                         | bytes   | first char     | later chars          | other                       |
//! |------------------------------|---------|----------------|----------------------|-----------------------------|
//! | node                         | 2–255   | letter, digit  | letter, digit, `.-`  | hostname: labels of 1–63 bytes, no label starts or ends with `-` |
//! | resource definition          | 2–48    | letter, `_`    | letter, digit, `_-`  | ≥ 1 letter; not `all`/`proxy` |
//! | resource group, snapshot, KV store | 2–48 | letter, `_` | letter, digit, `_-`  | ≥ 1 letter                  |
//! | storage pool                 | 3–48    | letter, `_`    | letter, digit, `_-`  | ≥ 1 letter                  |
//! | net interface                | 3–32    | letter, `_`    | letter, digit, `_-`  | ≥ 1 letter                  |

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};

use compact_str::CompactString;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which kind of object a name belongs to; decides the rule set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NameKind {
    /// A node (hostname rules).
    Node,
    /// A resource definition.
    ResourceDefinition,
    /// A resource group.
    ResourceGroup,
    /// A storage pool (and storage pool definition).
    StoragePool,
    /// A snapshot.
    Snapshot,
    /// A node's network interface.
    NetInterface,
    /// A key-value store instance.
    KeyValueStore,
}

impl NameKind {
    /// The human name used in messages ("node name", …).
    pub fn label(self) -> &'static str {
        match self {
            NameKind::Node => "node name",
            NameKind::ResourceDefinition => "resource name",
            NameKind::ResourceGroup => "resource group name",
            NameKind::StoragePool => "storage pool name",
            NameKind::Snapshot => "snapshot name",
            NameKind::NetInterface => "net interface name",
            NameKind::KeyValueStore => "key-value store name",
        }
    }

    fn limits(self) -> (usize, usize) {
        match self {
            NameKind::Node => (2, 255),
            NameKind::StoragePool => (3, 48),
            NameKind::NetInterface => (3, 32),
            NameKind::ResourceDefinition
            | NameKind::ResourceGroup
            | NameKind::Snapshot
            | NameKind::KeyValueStore => (2, 48),
        }
    }

    fn reserved(self) -> &'static [&'static str] {
        match self {
            // DRBD configuration keywords: a resource named like this breaks `drbdadm all`.
            NameKind::ResourceDefinition => &["all", "proxy"],
            _ => &[],
        }
    }
}

/// The rule a rejected name broke. Each variant renders as a sentence that tells how to fix it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum NameRule {
    /// Too short or too long (length in UTF-8 bytes).
    Length {
        /// Minimum bytes.
        min: usize,
        /// Maximum bytes.
        max: usize,
        /// Bytes given.
        got: usize,
    },
    /// Contains no ASCII letter at all.
    NoLetter,
    /// The first character is not allowed.
    InvalidFirst {
        /// The offending character.
        ch: char,
        /// What is allowed instead.
        allowed: &'static str,
    },
    /// A later character is not allowed.
    InvalidChar {
        /// The offending character.
        ch: char,
        /// Its byte offset.
        pos: usize,
        /// What is allowed instead.
        allowed: &'static str,
    },
    /// A reserved word.
    Reserved {
        /// The reserved word.
        word: &'static str,
    },
    /// A hostname label (between dots) is empty.
    EmptyLabel,
    /// A hostname label is longer than 63 bytes.
    LabelTooLong {
        /// Its length.
        len: usize,
    },
    /// A hostname label starts or ends with `-`.
    LabelHyphen,
}

impl fmt::Display for NameRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameRule::Length { min, max, got } => {
                write!(f, "must be {min} to {max} bytes long, but is {got}")
            }
            NameRule::NoLetter => write!(f, "must contain at least one letter (a-z, A-Z)"),
            NameRule::InvalidFirst { ch, allowed } => {
                write!(f, "must start with {allowed}, not {ch:?}")
            }
            NameRule::InvalidChar { ch, pos, allowed } => {
                write!(
                    f,
                    "may contain only {allowed}; {ch:?} at byte {pos} is not allowed"
                )
            }
            NameRule::Reserved { word } => write!(f, "'{word}' is a reserved word"),
            NameRule::EmptyLabel => {
                write!(
                    f,
                    "must not contain empty labels ('..', or a leading or trailing '.')"
                )
            }
            NameRule::LabelTooLong { len } => {
                write!(
                    f,
                    "has a label of {len} bytes; each label between dots may have at most 63"
                )
            }
            NameRule::LabelHyphen => write!(f, "has a label that starts or ends with '-'"),
        }
    }
}

/// A rejected name: which kind, the value, and the rule it broke.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
#[error("invalid {}: '{value}' {rule}", kind.label())]
pub struct NameError {
    /// Kind of name.
    pub kind: NameKind,
    /// The value as given.
    pub value: String,
    /// The rule it broke.
    pub rule: NameRule,
}

const GENERIC_FIRST: &str = "a letter or '_'";
const GENERIC_INNER: &str = "letters, digits, '_' and '-'";
const HOST_FIRST: &str = "a letter or a digit";
const HOST_INNER: &str = "letters, digits, '.' and '-'";

/// Checks `value` against the rules for `kind`.
pub fn check_name(kind: NameKind, value: &str) -> Result<(), NameError> {
    let err = |rule| NameError {
        kind,
        value: value.to_owned(),
        rule,
    };
    let (min, max) = kind.limits();
    let len = value.len();
    if len < min || len > max {
        return Err(err(NameRule::Length { min, max, got: len }));
    }
    if kind == NameKind::Node {
        return check_hostname(value).map_err(err);
    }
    let mut chars = value.char_indices();
    if let Some((_, first)) = chars.next() {
        if !(first.is_ascii_alphabetic() || first == '_') {
            return Err(err(NameRule::InvalidFirst {
                ch: first,
                allowed: GENERIC_FIRST,
            }));
        }
    }
    for (pos, ch) in chars {
        if !(ch.is_ascii_alphanumeric() || ch == '_' || ch == '-') {
            return Err(err(NameRule::InvalidChar {
                ch,
                pos,
                allowed: GENERIC_INNER,
            }));
        }
    }
    if !value.bytes().any(|b| b.is_ascii_alphabetic()) {
        return Err(err(NameRule::NoLetter));
    }
    if let Some(word) = kind
        .reserved()
        .iter()
        .find(|w| w.eq_ignore_ascii_case(value))
    {
        return Err(err(NameRule::Reserved { word }));
    }
    Ok(())
}

fn check_hostname(value: &str) -> Result<(), NameRule> {
    let mut chars = value.char_indices();
    if let Some((_, first)) = chars.next() {
        if !first.is_ascii_alphanumeric() {
            return Err(NameRule::InvalidFirst {
                ch: first,
                allowed: HOST_FIRST,
            });
        }
    }
    for (pos, ch) in chars {
        if !(ch.is_ascii_alphanumeric() || ch == '.' || ch == '-') {
            return Err(NameRule::InvalidChar {
                ch,
                pos,
                allowed: HOST_INNER,
            });
        }
    }
    for label in value.split('.') {
        if label.is_empty() {
            return Err(NameRule::EmptyLabel);
        }
        if label.len() > 63 {
            return Err(NameRule::LabelTooLong { len: label.len() });
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(NameRule::LabelHyphen);
        }
    }
    Ok(())
}

/// ASCII case-insensitive order (the order of the upper-case forms).
fn cmp_ignore_case(a: &str, b: &str) -> Ordering {
    // Names mostly meet their own spelling (map keys, merge joins): equal bytes first.
    if a == b {
        return Ordering::Equal;
    }
    let (x, y) = (a.as_bytes(), b.as_bytes());
    for (p, q) in x.iter().zip(y) {
        let (p, q) = (p.to_ascii_uppercase(), q.to_ascii_uppercase());
        if p != q {
            return p.cmp(&q);
        }
    }
    x.len().cmp(&y.len())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $ty:ident, $kind:expr) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $ty(CompactString);

        impl $ty {
            /// The rule set this name type uses.
            pub const KIND: NameKind = $kind;

            /// Validates and builds the name.
            pub fn new(value: &str) -> Result<Self, NameError> {
                check_name(Self::KIND, value)?;
                Ok(Self(CompactString::new(value)))
            }

            /// The name as the user typed it.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The identity form (upper case), as LINSTOR stores it.
            pub fn key(&self) -> String {
                self.as_str().to_ascii_uppercase()
            }
        }

        impl PartialEq for $ty {
            fn eq(&self, other: &Self) -> bool {
                self.0.eq_ignore_ascii_case(&other.0)
            }
        }
        impl Eq for $ty {}
        impl PartialOrd for $ty {
            fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
                Some(self.cmp(other))
            }
        }
        impl Ord for $ty {
            fn cmp(&self, other: &Self) -> Ordering {
                cmp_ignore_case(&self.0, &other.0)
            }
        }
        impl Hash for $ty {
            fn hash<H: Hasher>(&self, state: &mut H) {
                for b in self.0.bytes() {
                    state.write_u8(b.to_ascii_uppercase());
                }
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{:?}", &*self.0)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = NameError;
            fn from_str(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }
        impl TryFrom<&str> for $ty {
            type Error = NameError;
            fn try_from(s: &str) -> Result<Self, NameError> {
                Self::new(s)
            }
        }
        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }
        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::new(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

name_type!(
    /// A node name (hostname rules).
    NodeName,
    NameKind::Node
);
name_type!(
    /// A resource definition name (also the resource's name on every node).
    ResourceName,
    NameKind::ResourceDefinition
);
name_type!(
    /// A resource group name.
    ResourceGroupName,
    NameKind::ResourceGroup
);
name_type!(
    /// A storage pool (definition) name.
    StorPoolName,
    NameKind::StoragePool
);
name_type!(
    /// A snapshot name.
    SnapshotName,
    NameKind::Snapshot
);
name_type!(
    /// A network interface name.
    NetIfName,
    NameKind::NetInterface
);
name_type!(
    /// A key-value store instance name.
    KvsName,
    NameKind::KeyValueStore
);

impl ResourceName {
    /// The name LINSTOR makes for a resource definition created with only an external name
    /// (`ExternalNameConverter.createResourceName`), taken or not; over the external name's first
    /// 48 bytes, the first rule that gives a valid name wins:
    /// 1. a UUID (canonical text) becomes `LS_<UUID in upper case>`;
    /// 2. a valid name is taken as it is;
    /// 3. every byte is translated: valid characters stay, punctuation
    ///    (`` !@#$%^&*()+=[]{}:;"'<>?,./~``) becomes `_`, any other byte (a digit first, every
    ///    byte of a non-ASCII character) a letter chosen by its value.
    ///
    /// `None` when none gives a valid name (too short, no letter, a reserved word) or the
    /// external name has more than 256 bytes.
    pub fn from_external(external: &str) -> Option<ResourceName> {
        const MAX_INPUT: usize = 256;
        const PUNCTUATION: &[u8] = b" !@#$%^&*()+=[]{}:;\"'<>?,./~";
        let bytes = external.as_bytes();
        if bytes.is_empty() || bytes.len() > MAX_INPUT {
            return None;
        }
        let max = NameKind::ResourceDefinition.limits().1;
        let head = &bytes[..bytes.len().min(max)];
        let truncated = String::from_utf8_lossy(head);
        if is_uuid(&truncated) {
            return ResourceName::new(&format!("LS_{}", truncated.to_ascii_uppercase())).ok();
        }
        if let Ok(n) = ResourceName::new(&truncated) {
            return Some(n);
        }
        let translated: String = head
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                let valid = b.is_ascii_alphabetic()
                    || b == b'_'
                    || (i > 0 && (b.is_ascii_digit() || b == b'-'));
                if valid {
                    char::from(b)
                } else if PUNCTUATION.contains(&b) {
                    '_'
                } else {
                    // Java's signed byte: its remainder keeps the sign, then the absolute value.
                    let g = (i8::from_ne_bytes([b]) % 52).unsigned_abs();
                    char::from(if g < 26 { b'A' + g } else { b'a' + (g - 26) })
                }
            })
            .collect();
        ResourceName::new(&translated).ok()
    }
}

/// The canonical text form of a UUID (`8-4-4-4-12` hex digits).
fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Names that always exist.
pub mod well_known {
    /// The resource group every resource definition falls back to.
    pub const DFLT_RSC_GRP: &str = "DfltRscGrp";
    /// The default diskful storage pool name (name only).
    pub const DFLT_STOR_POOL: &str = "DfltStorPool";
    /// The diskless storage pool present on every node.
    pub const DFLT_DISKLESS_STOR_POOL: &str = "DfltDisklessStorPool";
    /// The default net interface name.
    pub const DEFAULT_NETIF: &str = "default";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One table row: kind, input, `None` when valid or the expected rule.
    fn check(kind: NameKind, input: &str, expect: Option<NameRule>) {
        let got = check_name(kind, input).err().map(|e| e.rule);
        assert_eq!(got, expect, "{kind:?} {input:?}");
    }

    #[test]
    fn resource_names_from_external_names() {
        for (external, want) in [
            ("pvc-1", Some("pvc-1")),
            ("My Volume", Some("My_Volume")),
            ("My Volume ü", Some("My_Volume_JQ")),
            ("1st disk", Some("xst_disk")),
            (
                "0fa1c3b2-1d2e-4f5a-9b8c-7d6e5f4a3b2c",
                Some("LS_0FA1C3B2-1D2E-4F5A-9B8C-7D6E5F4A3B2C"),
            ),
            (
                "a name longer than forty-eight bytes is cut at byte 48",
                Some("a_name_longer_than_forty-eight_bytes_is_cut_at_b"),
            ),
            ("ALL", None),
            ("a", None),
            ("__", None),
        ] {
            let got = ResourceName::from_external(external);
            assert_eq!(got.as_ref().map(ResourceName::as_str), want, "{external:?}");
        }
        assert_eq!(ResourceName::from_external(&"x".repeat(257)), None);
    }

    #[test]
    fn node_names() {
        use NameRule::*;
        let k = NameKind::Node;
        check(k, "alpha", None);
        check(k, "node-1.example.com", None);
        check(k, "10", None);
        check(k, "A1", None);
        check(k, &"a".repeat(63), None);
        check(k, &format!("{}.{}", "a".repeat(63), "b".repeat(63)), None);
        check(
            k,
            "a",
            Some(Length {
                min: 2,
                max: 255,
                got: 1,
            }),
        );
        check(
            k,
            &"a.".repeat(128),
            Some(Length {
                min: 2,
                max: 255,
                got: 256,
            }),
        );
        check(
            k,
            "-ab",
            Some(InvalidFirst {
                ch: '-',
                allowed: HOST_FIRST,
            }),
        );
        check(
            k,
            ".ab",
            Some(InvalidFirst {
                ch: '.',
                allowed: HOST_FIRST,
            }),
        );
        check(k, "ab-", Some(LabelHyphen));
        check(k, "ab-.cd", Some(LabelHyphen));
        check(k, "ab.-cd", Some(LabelHyphen));
        check(k, "ab..cd", Some(EmptyLabel));
        check(k, "ab.", Some(EmptyLabel));
        check(k, &"a".repeat(64), Some(LabelTooLong { len: 64 }));
        check(
            k,
            "a_b",
            Some(InvalidChar {
                ch: '_',
                pos: 1,
                allowed: HOST_INNER,
            }),
        );
        check(
            k,
            "a b",
            Some(InvalidChar {
                ch: ' ',
                pos: 1,
                allowed: HOST_INNER,
            }),
        );
        check(
            k,
            "ab;rm",
            Some(InvalidChar {
                ch: ';',
                pos: 2,
                allowed: HOST_INNER,
            }),
        );
        check(
            k,
            "nödé",
            Some(InvalidChar {
                ch: 'ö',
                pos: 1,
                allowed: HOST_INNER,
            }),
        );
    }

    #[test]
    fn resource_names() {
        use NameRule::*;
        let k = NameKind::ResourceDefinition;
        check(k, "pvc-1", None);
        check(k, "_x", None);
        check(k, "r1", None);
        check(k, &format!("a{}", "b".repeat(47)), None);
        check(
            k,
            &format!("a{}", "b".repeat(48)),
            Some(Length {
                min: 2,
                max: 48,
                got: 49,
            }),
        );
        check(
            k,
            "r",
            Some(Length {
                min: 2,
                max: 48,
                got: 1,
            }),
        );
        check(
            k,
            "",
            Some(Length {
                min: 2,
                max: 48,
                got: 0,
            }),
        );
        check(
            k,
            "1abc",
            Some(InvalidFirst {
                ch: '1',
                allowed: GENERIC_FIRST,
            }),
        );
        check(
            k,
            "-abc",
            Some(InvalidFirst {
                ch: '-',
                allowed: GENERIC_FIRST,
            }),
        );
        check(
            k,
            "a.b",
            Some(InvalidChar {
                ch: '.',
                pos: 1,
                allowed: GENERIC_INNER,
            }),
        );
        check(
            k,
            "a$(x)",
            Some(InvalidChar {
                ch: '$',
                pos: 1,
                allowed: GENERIC_INNER,
            }),
        );
        check(
            k,
            "a/../b",
            Some(InvalidChar {
                ch: '/',
                pos: 1,
                allowed: GENERIC_INNER,
            }),
        );
        check(k, "__", Some(NoLetter));
        check(k, "_1-2", Some(NoLetter));
        check(k, "all", Some(Reserved { word: "all" }));
        check(k, "ALL", Some(Reserved { word: "all" }));
        check(k, "Proxy", Some(Reserved { word: "proxy" }));
        // Reserved words apply to resource definitions only.
        check(NameKind::ResourceGroup, "all", None);
    }

    #[test]
    fn other_generic_names() {
        use NameRule::*;
        check(
            NameKind::StoragePool,
            "ab",
            Some(Length {
                min: 3,
                max: 48,
                got: 2,
            }),
        );
        check(NameKind::StoragePool, "DfltDisklessStorPool", None);
        check(NameKind::StoragePool, "thin_1", None);
        check(NameKind::NetInterface, "default", None);
        check(
            NameKind::NetInterface,
            "ab",
            Some(Length {
                min: 3,
                max: 32,
                got: 2,
            }),
        );
        check(
            NameKind::NetInterface,
            &"a".repeat(33),
            Some(Length {
                min: 3,
                max: 32,
                got: 33,
            }),
        );
        check(NameKind::Snapshot, "snap-1", None);
        check(
            NameKind::Snapshot,
            "s;",
            Some(InvalidChar {
                ch: ';',
                pos: 1,
                allowed: GENERIC_INNER,
            }),
        );
        check(NameKind::KeyValueStore, "csi-backup-mapping", None);
        check(NameKind::ResourceGroup, "DfltRscGrp", None);
        check(
            NameKind::ResourceGroup,
            "sc 1",
            Some(InvalidChar {
                ch: ' ',
                pos: 2,
                allowed: GENERIC_INNER,
            }),
        );
    }

    #[test]
    fn identity_is_case_insensitive_and_display_keeps_case() {
        let a = NodeName::new("Alpha").unwrap();
        let b = NodeName::new("ALPHA").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.as_str(), "Alpha");
        assert_eq!(a.key(), "ALPHA");
        let mut set = std::collections::BTreeSet::new();
        set.insert(a);
        assert!(!set.insert(b));
        assert!(ResourceName::new("b1").unwrap() > ResourceName::new("A1").unwrap());
    }

    #[test]
    fn error_message_names_value_and_rule() {
        let e = ResourceName::new("a;b").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid resource name: 'a;b' may contain only letters, digits, '_' and '-'; ';' at byte 1 is not allowed"
        );
    }

    #[test]
    fn serde_validates() {
        let n: NodeName = serde_json::from_str("\"beta\"").unwrap();
        assert_eq!(n.as_str(), "beta");
        assert!(serde_json::from_str::<NodeName>("\"-x\"").is_err());
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"beta\"");
    }

    proptest::proptest! {
        /// The fast comparison is the order of the upper-case forms.
        #[test]
        fn case_insensitive_order_is_upper_case_order(a in "[a-dA-D_0-9-]{0,6}", b in "[a-dA-D_0-9-]{0,6}") {
            proptest::prop_assert_eq!(
                cmp_ignore_case(&a, &b),
                a.to_ascii_uppercase().cmp(&b.to_ascii_uppercase())
            );
        }
    }
}
