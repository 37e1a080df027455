//! Backing-volume names and argv guards.
//!
//! Volume names follow LINSTOR (`<rsc><suffix>_<vlmNr:05>`, plus `.img` for FILE; snapshots
//! `<lv>_<snap>` on LVM, `<zvol>@<snap>` on ZFS, `<name>_<snap>.img` on FILE). Resource and
//! snapshot names are validated `linstor_core` types, so they can never carry `;`, blanks, `$`,
//! `/` or a leading `-`.
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

impl fmt::Display for VolumeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.lv_name())
    }
}

/// Whether a backing name (without `.img`) has LINSTOR's volume shape `…_NNNNN`.
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
