//! Backing-volume names and argv guards.
//!
//! Volume names follow LINSTOR (`<rsc><suffix>_<vlmNr:05>`, plus `.img` for FILE; snapshots
//! `<lv>_<snap>` on LVM, `<zvol>@<snap>` on ZFS, `<name>_<snap>.img` on FILE). Resource and
//! snapshot names are validated `linstor_core` types, so they can never carry `;`, blanks, `$`,
//! `/` or a leading `-`.
//!
//! Listings read names back into identities with [`BackingName`] (`from_lv_name`,
//! `from_file_name`, `from_zfs_name`), so no caller parses names. A name that does not read
//! back (no `_NNNNN` volume number, a volume number above [`MAX_VOLUME_NUMBER`], an unknown
//! layer suffix, a resource or snapshot name LINSTOR would refuse, such as `a_00000` whose
//! resource name is one character) is not LINSTOR's and is skipped by every listing.
//!
//! Resource names may contain `_` and digits themselves (`data_00001_x`), so names are read
//! **from the right**: the rightmost `_` + five digits that gives a valid reading is the volume
//! number; at the end of the name it makes a volume, followed by `_<snap>` (LVM, FILE) a
//! snapshot. On LVM and FILE, where a snapshot is `<volume>_<snap>`, this is ambiguous for one
//! kind of snapshot name: one that itself contains `_` + five digits at its end or before
//! another `_` (`s_00001`, `b_00002_x`). `rsc_00000_s_00001` reads as volume 1 of resource
//! `rsc_00000_s`, not as snapshot `s_00001` of `rsc_00000` (unless that reading is invalid, e.g.
//! the resource name would be too long); every other name LINSTOR writes reads back as itself
//! (proptest below). ZFS names are unambiguous (`@`).
//!
//! Pool names (`vg`, `vg/thinpool`, `zpool/dataset`), directories and device paths come from
//! users as plain strings; every such string is checked here *before* any argv is built, and a
//! rejection says which field, which value, and how to fix it.

use std::fmt;
use std::path::{Component, Path, PathBuf};

use linstor_core::{ResourceName, SnapshotName};

use crate::error::BackendError;

/// The layer suffix in a backing-volume name (LINSTOR's `RscLayerSuffixes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum LayerSuffix {
    /// The data volume: no suffix.
    #[default]
    Data,
    /// External DRBD metadata: `.meta`.
    DrbdMeta,
    /// dm-writecache cache device: `.cache`.
    WritecacheCache,
    /// dm-cache cache device: `.dmcache_cache`.
    DmcacheCache,
    /// dm-cache metadata device: `.dmcache_meta`.
    DmcacheMeta,
    /// bcache cache device: `.bcache`.
    Bcache,
}

impl LayerSuffix {
    /// Every suffix.
    pub const ALL: [LayerSuffix; 6] = [
        LayerSuffix::Data,
        LayerSuffix::DrbdMeta,
        LayerSuffix::WritecacheCache,
        LayerSuffix::DmcacheCache,
        LayerSuffix::DmcacheMeta,
        LayerSuffix::Bcache,
    ];

    /// The suffix with this text (`""`, `".meta"`, …), if it is one.
    pub fn from_text(text: &str) -> Option<LayerSuffix> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// The suffix text.
    pub fn as_str(self) -> &'static str {
        match self {
            LayerSuffix::Data => "",
            LayerSuffix::DrbdMeta => ".meta",
            LayerSuffix::WritecacheCache => ".cache",
            LayerSuffix::DmcacheCache => ".dmcache_cache",
            LayerSuffix::DmcacheMeta => ".dmcache_meta",
            LayerSuffix::Bcache => ".bcache",
        }
    }
}

/// The highest volume number LINSTOR allows.
pub const MAX_VOLUME_NUMBER: u16 = 65534;

/// One backing volume: resource, layer suffix, volume number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VolumeId {
    /// The resource (definition) name.
    pub rsc: ResourceName,
    /// The layer suffix.
    pub suffix: LayerSuffix,
    /// The volume number (0 … 65534).
    pub vlm_nr: u16,
}

impl VolumeId {
    /// A data volume. Fails for volume numbers above [`MAX_VOLUME_NUMBER`].
    pub fn new(rsc: ResourceName, vlm_nr: u16) -> Result<Self, BackendError> {
        Self::with_suffix(rsc, LayerSuffix::Data, vlm_nr)
    }

    /// A volume with a layer suffix.
    pub fn with_suffix(
        rsc: ResourceName,
        suffix: LayerSuffix,
        vlm_nr: u16,
    ) -> Result<Self, BackendError> {
        if vlm_nr > MAX_VOLUME_NUMBER {
            return Err(BackendError::invalid(
                "volume number",
                vlm_nr.to_string(),
                format!("use a volume number from 0 to {MAX_VOLUME_NUMBER}"),
            ));
        }
        Ok(VolumeId {
            rsc,
            suffix,
            vlm_nr,
        })
    }

    /// Parses a data volume from a resource name string and a number (convenience for tests).
    pub fn parse(rsc: &str, vlm_nr: u16) -> Result<Self, BackendError> {
        let rsc = ResourceName::new(rsc)
            .map_err(|e| BackendError::invalid("resource name", rsc, e.rule.to_string()))?;
        Self::new(rsc, vlm_nr)
    }

    /// The LVM/ZFS name: `<rsc><suffix>_<vlmNr:05>`.
    pub fn lv_name(&self) -> String {
        format!("{}{}_{:05}", self.rsc, self.suffix.as_str(), self.vlm_nr)
    }

    /// The FILE name: `<rsc><suffix>_<vlmNr:05>.img`.
    pub fn file_name(&self) -> String {
        format!("{}.img", self.lv_name())
    }

    /// The LVM snapshot LV name: `<lv>_<snap>`.
    pub fn lvm_snapshot_name(&self, snap: &SnapshotName) -> String {
        format!("{}_{}", self.lv_name(), snap)
    }

    /// The ZFS snapshot name (without pool): `<zvol>@<snap>`.
    pub fn zfs_snapshot_name(&self, snap: &SnapshotName) -> String {
        format!("{}@{}", self.lv_name(), snap)
    }

    /// The FILE snapshot file name: `<name>_<snap>.img`.
    pub fn file_snapshot_name(&self, snap: &SnapshotName) -> String {
        format!("{}_{}.img", self.lv_name(), snap)
    }
}

impl VolumeId {
    /// Reads a volume name `<rsc><suffix>_<NNNNN>` (an LV, or a zvol without its dataset);
    /// `None` if it is not a LINSTOR volume name (snapshot names included).
    pub fn from_lv_name(name: &str) -> Option<VolumeId> {
        match BackingName::from_lv_name(name)? {
            BackingName::Volume(v) => Some(v),
            BackingName::Snapshot(..) => None,
        }
    }

    /// Reads a FILE volume name `<rsc><suffix>_<NNNNN>.img`; `None` if it is not one.
    pub fn from_file_name(name: &str) -> Option<VolumeId> {
        Self::from_lv_name(name.strip_suffix(".img")?)
    }
}

impl fmt::Display for VolumeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lv_name())
    }
}

/// What a backing name stands for, read back the way LINSTOR writes names (see the module docs).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum BackingName {
    /// A volume: `<rsc><suffix>_<NNNNN>`.
    Volume(VolumeId),
    /// A snapshot of a volume: `<volume>_<snap>` (LVM, FILE) or `<volume>@<snap>` (ZFS).
    Snapshot(VolumeId, SnapshotName),
}

impl BackingName {
    /// Reads an LVM LV name: `<rsc><suffix>_<NNNNN>` or `<rsc><suffix>_<NNNNN>_<snap>`, from the
    /// right. `None` if it is not LINSTOR's.
    pub fn from_lv_name(name: &str) -> Option<BackingName> {
        // Candidate volume-number groups `_NNNNN`, rightmost first.
        let b = name.as_bytes();
        (0..b.len().saturating_sub(5)).rev().find_map(|i| {
            if b[i] != b'_' || !b[i + 1..i + 6].iter().all(u8::is_ascii_digit) {
                return None;
            }
            let vol = volume_at(&name[..i], &name[i + 1..i + 6])?;
            match &b[i + 6..] {
                [] => Some(BackingName::Volume(vol)),
                [b'_', ..] => {
                    let snap = SnapshotName::new(&name[i + 7..]).ok()?;
                    Some(BackingName::Snapshot(vol, snap))
                }
                _ => None,
            }
        })
    }

    /// Reads a FILE pool's file name: `<volume>.img` or `<volume>_<snap>.img` (as
    /// [`Self::from_lv_name`] without `.img`). `None` if it is not LINSTOR's.
    pub fn from_file_name(name: &str) -> Option<BackingName> {
        Self::from_lv_name(name.strip_suffix(".img")?)
    }

    /// Reads a ZFS dataset name under the pool's dataset `dataset`: `<dataset>/<volume>` or
    /// `<dataset>/<volume>@<snap>`. `None` if it is not LINSTOR's, lies in a child dataset or
    /// outside `dataset`.
    pub fn from_zfs_name(dataset: &str, full: &str) -> Option<BackingName> {
        let name = full.strip_prefix(dataset)?.strip_prefix('/')?;
        let (vol, snap) = match name.split_once('@') {
            Some((vol, snap)) => (vol, Some(snap)),
            None => (name, None),
        };
        if vol.contains('/') {
            return None;
        }
        let vol = VolumeId::from_lv_name(vol)?;
        match snap {
            None => Some(BackingName::Volume(vol)),
            Some(s) => Some(BackingName::Snapshot(vol, SnapshotName::new(s).ok()?)),
        }
    }
}

/// The volume `<stem>_<digits>`, where `stem` is `<rsc><suffix>`; `None` if any part is not
/// LINSTOR's.
fn volume_at(stem: &str, digits: &str) -> Option<VolumeId> {
    let (rsc, suffix) = match stem.find('.') {
        None => (stem, LayerSuffix::Data),
        Some(dot) => (&stem[..dot], LayerSuffix::from_text(&stem[dot..])?),
    };
    let rsc = ResourceName::new(rsc).ok()?;
    let nr: u16 = digits.parse().ok()?;
    VolumeId::with_suffix(rsc, suffix, nr).ok()
}

/// Whether a backing name (without `.img`) has LINSTOR's volume shape `…_NNNNN` (the shape
/// only; [`BackingName::from_lv_name`] reads the whole name).
pub fn looks_like_volume(name: &str) -> bool {
    let b = name.as_bytes();
    b.len() > 6 && b[b.len() - 6] == b'_' && b[b.len() - 5..].iter().all(u8::is_ascii_digit)
}

fn lvm_component_ok(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".into());
    }
    if s.len() > 127 {
        return Some(format!(
            "it is {} bytes long; at most 127 are allowed",
            s.len()
        ));
    }
    if s.starts_with('-') {
        return Some("it starts with '-'".into());
    }
    if s == "." || s == ".." {
        return Some("'.' and '..' are not names".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+_.-".contains(*c)))
    {
        return Some(format!("{c:?} is not allowed"));
    }
    None
}

/// Checks an LVM volume group name (`[A-Za-z0-9+_.-]`, no leading `-`, at most 127 bytes).
pub fn check_vg_name(field: &'static str, vg: &str) -> Result<(), BackendError> {
    match lvm_component_ok(vg) {
        None => Ok(()),
        Some(why) => Err(BackendError::invalid(
            field,
            vg,
            format!(
                "{why}; an LVM volume group name may contain only letters, digits and '+_.-' \
                 and must not start with '-'"
            ),
        )),
    }
}

/// Checks an LVM thin pool spec `<vg>/<thinpool>`; returns `(vg, thinpool)`.
pub fn check_thin_pool_spec<'a>(
    field: &'static str,
    spec: &'a str,
) -> Result<(&'a str, &'a str), BackendError> {
    let fix = "give the thin pool as <volume group>/<thin pool LV>, e.g. 'linstor_vg/thinpool', \
               using only letters, digits and '+_.-'";
    let Some((vg, pool)) = spec.split_once('/') else {
        return Err(BackendError::invalid(
            field,
            spec,
            format!("there is no '/'; {fix}"),
        ));
    };
    for part in [vg, pool] {
        if let Some(why) = lvm_component_ok(part) {
            return Err(BackendError::invalid(field, spec, format!("{why}; {fix}")));
        }
    }
    Ok((vg, pool))
}

/// Checks a ZFS pool or dataset `<zpool>[/<dataset>…]`: components of `[A-Za-z0-9_.:-]`, the pool
/// starting with a letter, no component starting with `-`, no `.`/`..` components.
pub fn check_zfs_dataset(field: &'static str, ds: &str) -> Result<(), BackendError> {
    let fix = "give a zpool or dataset like 'tank' or 'tank/linstor' using letters, digits and \
               '_.:-', the pool name starting with a letter";
    let bad = |why: String| Err(BackendError::invalid(field, ds, format!("{why}; {fix}")));
    if ds.len() > 255 {
        return bad(format!(
            "it is {} bytes long; at most 255 are allowed",
            ds.len()
        ));
    }
    if !ds.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return bad("it does not start with a letter".into());
    }
    for part in ds.split('/') {
        if part.is_empty() {
            return bad("it has an empty component ('//' or a trailing '/')".into());
        }
        if part.starts_with('-') || part == "." || part == ".." {
            return bad(format!("component '{part}' is not allowed"));
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "_.:-".contains(*c)))
        {
            return bad(format!("{c:?} is not allowed"));
        }
    }
    Ok(())
}

/// Checks a path that will be put into an argv: absolute, no `.`/`..` components, and only
/// letters, digits and `/_.+:@-` (so no blanks, `;`, `$`, quotes or control characters).
pub fn check_path(field: &'static str, path: &Path) -> Result<PathBuf, BackendError> {
    let fix = "give an absolute path without '..' made of letters, digits and '/_.+:@-'";
    let shown = path.to_string_lossy().into_owned();
    let bad = |why: String| {
        Err(BackendError::invalid(
            field,
            shown.clone(),
            format!("{why}; {fix}"),
        ))
    };
    let Some(s) = path.to_str() else {
        return bad("it is not valid UTF-8".into());
    };
    if !s.starts_with('/') {
        return bad("it is not absolute".into());
    }
    if s.len() > 4000 {
        return bad("it is too long".into());
    }
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/_.+:@-".contains(*c)))
    {
        return bad(format!("{c:?} is not allowed"));
    }
    if s.split('/').any(|p| p == "." || p == "..")
        || path.components().any(|c| c == Component::ParentDir)
    {
        return bad("it contains '.' or '..' components".into());
    }
    if s.split('/').any(|p| p.starts_with('-')) {
        return bad("a component starts with '-'".into());
    }
    Ok(path.to_path_buf())
}

/// Checks a block device path for pool setup: like [`check_path`], and under `/dev/`.
pub fn check_device(field: &'static str, dev: &Path) -> Result<PathBuf, BackendError> {
    let p = check_path(field, dev)?;
    if !p.starts_with("/dev/") || p == Path::new("/dev/") {
        return Err(BackendError::invalid(
            field,
            dev.to_string_lossy(),
            "give a block device path under /dev/, e.g. /dev/sdb or /dev/loop3",
        ));
    }
    Ok(p)
}

/// Checks user-supplied extra options (`LvcreateOptions`, `ZfscreateOptions`): each word must
/// start with `-` or be a plain value of letters, digits and `=,:._/+-%`. No blanks or shell
/// characters inside a word.
pub fn check_option_words(field: &'static str, words: &[String]) -> Result<(), BackendError> {
    for w in words {
        if w.is_empty()
            || w.contains("..")
            || w.chars()
                .any(|c| !(c.is_ascii_alphanumeric() || "=,:._/+-%".contains(c)))
        {
            return Err(BackendError::invalid(
                field,
                w.clone(),
                "give options as separate words made of letters, digits and '=,:._/+-%' (no '..')",
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn vol(rsc: &str, suffix: LayerSuffix, nr: u16) -> VolumeId {
        VolumeId::with_suffix(ResourceName::new(rsc).expect("valid"), suffix, nr).expect("valid")
    }

    #[test]
    fn names_follow_linstor() {
        let snap = SnapshotName::new("snap1").expect("valid");
        let v = vol("pvc-abc", LayerSuffix::Data, 0);
        assert_eq!(v.lv_name(), "pvc-abc_00000");
        assert_eq!(v.file_name(), "pvc-abc_00000.img");
        assert_eq!(v.lvm_snapshot_name(&snap), "pvc-abc_00000_snap1");
        assert_eq!(v.zfs_snapshot_name(&snap), "pvc-abc_00000@snap1");
        assert_eq!(v.file_snapshot_name(&snap), "pvc-abc_00000_snap1.img");
        assert_eq!(
            vol("rr", LayerSuffix::DrbdMeta, 12).lv_name(),
            "rr.meta_00012"
        );
        assert_eq!(
            vol("rx", LayerSuffix::DmcacheMeta, 65534).lv_name(),
            "rx.dmcache_meta_65534"
        );
        assert!(VolumeId::parse("rx", 65535).is_err());
    }

    #[test]
    fn volume_shape() {
        for (name, want) in [
            ("a_00000", true),
            ("pvc-x.meta_00012", true),
            ("a_00000_snap", false),
            ("_00000", false),
            ("a_0000", false),
            ("a-00000", false),
        ] {
            assert_eq!(looks_like_volume(name), want, "{name}");
        }
    }

    /// What a name reads as, written compactly: `None`, `vol rsc suffix nr`, `snap rsc suffix nr snap`.
    fn read(b: Option<BackingName>) -> String {
        match b {
            None => "-".to_owned(),
            Some(BackingName::Volume(v)) => format!("vol {} {:?} {}", v.rsc, v.suffix, v.vlm_nr),
            Some(BackingName::Snapshot(v, s)) => {
                format!("snap {} {:?} {} {s}", v.rsc, v.suffix, v.vlm_nr)
            }
        }
    }

    #[test]
    fn lv_names_read_from_the_right() {
        for (name, want) in [
            ("pvc-abc_00000", "vol pvc-abc Data 0"),
            ("pvc-abc_00000_snap1", "snap pvc-abc Data 0 snap1"),
            ("rsc_x_00001", "vol rsc_x Data 1"),
            ("data_2024_x1_00003", "vol data_2024_x1 Data 3"),
            (
                "data_2024_x1_00003_snap_2",
                "snap data_2024_x1 Data 3 snap_2",
            ),
            ("r_00001_x_00000", "vol r_00001_x Data 0"),
            ("r_00001_x_00000_back_17", "snap r_00001_x Data 0 back_17"),
            ("r_00001_x_00012_s2024", "snap r_00001_x Data 12 s2024"),
            ("rr.meta_00012", "vol rr DrbdMeta 12"),
            ("rx.dmcache_meta_65534", "vol rx DmcacheMeta 65534"),
            ("rx.dmcache_cache_00001_s1", "snap rx DmcacheCache 1 s1"),
            ("rx.bcache_00002", "vol rx Bcache 2"),
            ("rx.cache_00002", "vol rx WritecacheCache 2"),
            ("_x_00000", "vol _x Data 0"),
            // A group that gives no valid reading is passed over for the next one to the left.
            ("rsc_00000_s_65535", "snap rsc Data 0 s_65535"),
            ("rsc_00000_s_00001_t", "snap rsc Data 0 s_00001_t"),
            // The documented ambiguity: a snapshot name with its own `_NNNNN` group reads as
            // the later volume number.
            ("rsc_00000_s_00001", "vol rsc_00000_s Data 1"),
            ("rsc_00000_b_00002_xy", "snap rsc_00000_b Data 2 xy"),
            // Not LINSTOR's.
            ("a_00000", "-"),
            ("a_00000_snap", "-"),
            ("1rsc_00000", "-"),
            ("all_00000", "-"),
            ("rsc_65535", "-"),
            ("rsc_99999", "-"),
            ("rsc_0000", "-"),
            ("rsc_000000", "-"),
            ("rsc-00000", "-"),
            ("rsc_00000_", "-"),
            ("rsc_00000_s", "-"),
            ("rsc_00000-s1", "-"),
            ("rsc.foo_00000", "-"),
            ("rsc.meta.meta_00000", "-"),
            ("rsc_00000.img", "-"),
            ("thinpool", "-"),
            ("_00000", "-"),
            ("", "-"),
            ("lvol0_pmspare", "-"),
            ("rsc_00000_\u{e9}t\u{e9}", "-"),
        ] {
            assert_eq!(read(BackingName::from_lv_name(name)), want, "{name}");
        }
    }

    #[test]
    fn file_and_zfs_names() {
        for (name, want) in [
            ("pvc-abc_00000.img", "vol pvc-abc Data 0"),
            ("pvc-abc_00000_snap1.img", "snap pvc-abc Data 0 snap1"),
            ("bb.meta_00001.img", "vol bb DrbdMeta 1"),
            ("b.meta_00001.img", "-"),
            (
                "r_00001_x_00000_back_17.img",
                "snap r_00001_x Data 0 back_17",
            ),
            ("pvc-abc_00000", "-"),
            ("pvc-abc_00000.img.img", "-"),
            ("LinstorSnapshotTestSource.img", "-"),
            ("notes.txt", "-"),
        ] {
            assert_eq!(read(BackingName::from_file_name(name)), want, "{name}");
        }
        for (full, want) in [
            ("tank/linstor/pvc-abc_00000", "vol pvc-abc Data 0"),
            (
                "tank/linstor/pvc-abc_00000@snap1",
                "snap pvc-abc Data 0 snap1",
            ),
            (
                "tank/linstor/rsc_00000_s_00001@x_00002",
                "snap rsc_00000_s Data 1 x_00002",
            ),
            ("tank/linstor/rsc_00000@s_00001", "snap rsc Data 0 s_00001"),
            ("tank/linstor/rsc.meta_00000", "vol rsc DrbdMeta 0"),
            (
                "tank/linstor/r_00001_x_00000@back_17",
                "snap r_00001_x Data 0 back_17",
            ),
            (
                "tank/linstor/pvc-abc_00000@autosnap_2026-12-04_12:00:00",
                "-",
            ),
            ("tank/linstor/pvc-abc_00000@s", "-"),
            ("tank/linstor/pvc-abc_00000_snap1", "-"),
            ("tank/linstor/sub/pvc-abc_00000", "-"),
            ("tank/linstor/sub/pvc-abc_00000@s1", "-"),
            ("tank/linstor2/pvc-abc_00000", "-"),
            ("tank/pvc-abc_00000", "-"),
            ("tank/linstor", "-"),
            ("tank/linstor@s1", "-"),
            ("tank/linstor/scratch@s1", "-"),
        ] {
            assert_eq!(
                read(BackingName::from_zfs_name("tank/linstor", full)),
                want,
                "{full}"
            );
        }
        assert_eq!(
            VolumeId::from_lv_name("pvc-abc_00000"),
            Some(vol("pvc-abc", LayerSuffix::Data, 0))
        );
        assert_eq!(VolumeId::from_lv_name("pvc-abc_00000_snap1"), None);
        assert_eq!(
            VolumeId::from_file_name("pvc-abc.meta_00007.img"),
            Some(vol("pvc-abc", LayerSuffix::DrbdMeta, 7))
        );
        assert_eq!(VolumeId::from_file_name("pvc-abc_00000_s1.img"), None);
        for s in LayerSuffix::ALL {
            assert_eq!(LayerSuffix::from_text(s.as_str()), Some(s));
        }
        assert_eq!(LayerSuffix::from_text(".other"), None);
    }

    fn arb_name(min_len: usize) -> impl Strategy<Value = String> {
        // Letters, digits, `_` and `-`, and often `_NNNNN` groups, to look for trouble.
        let part = prop_oneof![
            "[A-Za-z][A-Za-z0-9-]{0,5}",
            "_[0-9]{5}",
            "_[0-9]{1,6}",
            "_[a-z0-9]{1,4}",
        ];
        ("[A-Za-z_]", prop::collection::vec(part, 0..5))
            .prop_map(|(first, parts)| format!("{first}{}", parts.concat()))
            .prop_filter("length and a letter", move |n| {
                n.len() >= min_len && n.len() <= 48 && n.bytes().any(|b| b.is_ascii_alphabetic())
            })
    }

    /// A snapshot name with an `_NNNNN` group at its end or before another `_` (the documented
    /// ambiguity on LVM and FILE).
    fn ambiguous_snapshot(s: &str) -> bool {
        let b = s.as_bytes();
        (0..b.len().saturating_sub(5)).any(|i| {
            b[i] == b'_'
                && b[i + 1..i + 6].iter().all(u8::is_ascii_digit)
                && matches!(b.get(i + 6), None | Some(b'_'))
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// Every name LINSTOR writes reads back as itself, but for the documented ambiguity.
        #[test]
        fn written_names_read_back(
            rsc in arb_name(2),
            snap in arb_name(2),
            suffix in prop::sample::select(LayerSuffix::ALL.to_vec()),
            nr in 0u16..=MAX_VOLUME_NUMBER,
        ) {
            let (Ok(r), Ok(s)) = (ResourceName::new(&rsc), SnapshotName::new(&snap)) else {
                return Ok(());
            };
            let v = VolumeId::with_suffix(r, suffix, nr).expect("valid");
            let volume = Some(BackingName::Volume(v.clone()));
            let snapshot = Some(BackingName::Snapshot(v.clone(), s.clone()));
            prop_assert_eq!(&BackingName::from_lv_name(&v.lv_name()), &volume);
            prop_assert_eq!(&BackingName::from_file_name(&v.file_name()), &volume);
            prop_assert_eq!(&BackingName::from_zfs_name("tank/ds", &format!("tank/ds/{v}")), &volume);
            prop_assert_eq!(
                &BackingName::from_zfs_name("tank/ds", &format!("tank/ds/{}", v.zfs_snapshot_name(&s))),
                &snapshot
            );
            let written = v.lvm_snapshot_name(&s);
            let lvm = BackingName::from_lv_name(&written);
            let file = BackingName::from_file_name(&v.file_snapshot_name(&s));
            prop_assert_eq!(&lvm, &file);
            if !ambiguous_snapshot(&snap) {
                prop_assert_eq!(&lvm, &snapshot);
            }
            // Either way the reading writes the same name again.
            let again = match lvm.expect("a reading") {
                BackingName::Volume(v) => v.lv_name(),
                BackingName::Snapshot(v, s) => v.lvm_snapshot_name(&s),
            };
            prop_assert_eq!(again, written);
        }

        #[test]
        fn reading_never_panics(s in "\\PC{0,60}") {
            let _ = BackingName::from_lv_name(&s);
            let _ = BackingName::from_file_name(&s);
            let _ = BackingName::from_zfs_name("tank", &s);
        }
    }

    fn check(f: impl Fn(&str) -> Result<(), BackendError>, value: &str, ok: bool) {
        let r = f(value);
        assert_eq!(r.is_ok(), ok, "{value:?}: {r:?}");
        if let Err(e) = r {
            assert!(matches!(e, BackendError::InvalidInput { .. }), "{e:?}");
            assert!(
                e.to_string().contains("give") || e.to_string().contains("may contain"),
                "{e}"
            );
        }
    }

    const HOSTILE: &[&str] = &[
        "a;b",
        "a b",
        "$(reboot)",
        "../etc",
        "-rf",
        "a`id`",
        "a\nb",
        "a|b",
        "a'b",
        "a\"b",
        "",
    ];

    #[test]
    fn vg_names() {
        for ok in ["vg0", "linstor_vg", "a+b.c-d"] {
            check(|s| check_vg_name("pool", s), ok, true);
        }
        for bad in HOSTILE.iter().chain(&["..", ".", "a/b"]) {
            check(|s| check_vg_name("pool", s), bad, false);
        }
    }

    #[test]
    fn thin_specs() {
        assert_eq!(
            check_thin_pool_spec("pool", "vg/thin").expect("ok"),
            ("vg", "thin")
        );
        for bad in HOSTILE
            .iter()
            .chain(&["vg", "vg/", "/thin", "vg/thin/x", "vg/-x", "vg/$(x)"])
        {
            check(|s| check_thin_pool_spec("pool", s).map(|_| ()), bad, false);
        }
    }

    #[test]
    fn zfs_datasets() {
        for ok in ["tank", "tank/linstor", "tank/a.b:c-d_e"] {
            check(|s| check_zfs_dataset("pool", s), ok, true);
        }
        for bad in HOSTILE
            .iter()
            .chain(&["tank/", "tank//x", "tank/../x", "1tank", "tank/-x"])
        {
            check(|s| check_zfs_dataset("pool", s), bad, false);
        }
    }

    #[test]
    fn paths() {
        let p = |s: &str| check_path("directory", Path::new(s)).map(|_| ());
        for ok in ["/var/lib/linstor-pools/p1", "/tmp/x.y+z:1@2-3"] {
            check(p, ok, true);
        }
        for bad in HOSTILE
            .iter()
            .chain(&["relative/dir", "/a/../b", "/a/./b", "/a/-b", "/a b"])
        {
            check(p, bad, false);
        }
        let d = |s: &str| check_device("device", Path::new(s)).map(|_| ());
        check(d, "/dev/loop3", true);
        check(d, "/etc/passwd", false);
        check(d, "/dev/../etc/passwd", false);
    }

    #[test]
    fn option_words() {
        let o = |s: &str| check_option_words("options", &[s.to_owned()]);
        for ok in ["--type=linear", "-i", "2", "compression=lz4", "100%FREE"] {
            check(o, ok, true);
        }
        for bad in HOSTILE.iter().filter(|s| !s.starts_with('-')) {
            check(o, bad, false);
        }
    }
}
