//! Parsers for `zfs list -H -p`, `zfs get -Hp` and `zpool get -Hp` output.
//!
//! `-H` means no header and one tab between fields; `-p` means exact numbers (bytes). A value
//! that does not apply is printed as `-`.

use super::{err, lines, uint};
use crate::error::BackendError;

/// The `-o` columns of LINSTOR's `zfs list` call, in order.
pub const ZFS_LIST_COLUMNS: &str = "name,refer,volsize,type,volblocksize,origin,clones";

/// A dataset type as `zfs list -o type` prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ZfsType {
    /// A zvol.
    Volume,
    /// A snapshot.
    Snapshot,
    /// A file system.
    Filesystem,
}

/// One row of `zfs list -o` [`ZFS_LIST_COLUMNS`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZfsListRow {
    /// Full name (`pool/vol` or `pool/vol@snap`).
    pub name: String,
    /// Referenced bytes.
    pub refer: u64,
    /// Volume size in bytes (volumes and their snapshots).
    pub volsize: Option<u64>,
    /// Type.
    pub kind: ZfsType,
    /// Volume block size in bytes.
    pub volblocksize: Option<u64>,
    /// The snapshot this volume was cloned from.
    pub origin: Option<String>,
    /// Clones of this snapshot.
    pub clones: Vec<String>,
}

fn tab_fields<'a>(
    tool: &'static str,
    no: usize,
    line: &'a str,
    want: usize,
) -> Result<Vec<&'a str>, BackendError> {
    let f: Vec<&str> = line.split('\t').collect();
    if f.len() != want {
        return Err(err(
            tool,
            no,
            line,
            format!("expected {want} tab-separated fields, found {}", f.len()),
        ));
    }
    Ok(f)
}

fn opt_num(
    tool: &'static str,
    no: usize,
    line: &str,
    what: &str,
    v: &str,
) -> Result<Option<u64>, BackendError> {
    if v == "-" {
        return Ok(None);
    }
    uint(v).map(Some).ok_or_else(|| {
        err(
            tool,
            no,
            line,
            format!("{what} {v:?} is not a number of bytes"),
        )
    })
}

fn num(
    tool: &'static str,
    no: usize,
    line: &str,
    what: &str,
    v: &str,
) -> Result<u64, BackendError> {
    uint(v).ok_or_else(|| {
        err(
            tool,
            no,
            line,
            format!("{what} {v:?} is not a number of bytes"),
        )
    })
}

fn dataset_name(
    tool: &'static str,
    no: usize,
    line: &str,
    v: &str,
) -> Result<String, BackendError> {
    if v.is_empty() || v.contains(char::is_whitespace) {
        return Err(err(tool, no, line, format!("{v:?} is not a dataset name")));
    }
    Ok(v.to_owned())
}

/// `lines` trims blanks, which would eat the tab before an empty last field: ZFS prints `-` for
/// a property that does not apply, but an empty `clones` for a snapshot without clones (libzfs
/// joins an empty list). So only `\r` and newlines are trimmed here.
fn tab_lines(out: &str) -> impl Iterator<Item = (usize, &str)> {
    out.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty())
}

/// Parses `zfs list -r -H -p -o` [`ZFS_LIST_COLUMNS`] `-t volume,snapshot`.
pub fn parse_zfs_list(out: &str) -> Result<Vec<ZfsListRow>, BackendError> {
    const T: &str = "zfs list";
    tab_lines(out)
        .map(|(no, line)| {
            let f = tab_fields(T, no, line, 7)?;
            let kind = match f[3] {
                "volume" => ZfsType::Volume,
                "snapshot" => ZfsType::Snapshot,
                "filesystem" => ZfsType::Filesystem,
                other => return Err(err(T, no, line, format!("unknown type {other:?}"))),
            };
            let name = dataset_name(T, no, line, f[0])?;
            if (kind == ZfsType::Snapshot) != name.contains('@') {
                return Err(err(T, no, line, "only snapshot names contain '@'"));
            }
            Ok(ZfsListRow {
                name,
                refer: num(T, no, line, "refer", f[1])?,
                volsize: opt_num(T, no, line, "volsize", f[2])?,
                kind,
                volblocksize: opt_num(T, no, line, "volblocksize", f[4])?,
                origin: (f[5] != "-").then(|| f[5].to_owned()),
                clones: if f[6] == "-" || f[6].is_empty() {
                    Vec::new()
                } else {
                    f[6].split(',').map(str::to_owned).collect()
                },
            })
        })
        .collect()
}

/// Parses `zfs get <prop> -o name,value -Hp <ds>`: the value for `ds`, in bytes.
pub fn parse_zfs_get_value(out: &str, ds: &str) -> Result<u64, BackendError> {
    const T: &str = "zfs get";
    for (no, line) in tab_lines(out) {
        let f = tab_fields(T, no, line, 2)?;
        if f[0] == ds {
            return num(T, no, line, "value", f[1]);
        }
    }
    Err(err(T, 0, out, format!("no line for dataset '{ds}'")))
}

/// Parses `zpool get <prop> -Hp <pool>` (`name  property  value  source`): the value, in bytes.
pub fn parse_zpool_get(out: &str, pool: &str) -> Result<u64, BackendError> {
    const T: &str = "zpool get";
    for (no, line) in tab_lines(out) {
        let f = tab_fields(T, no, line, 4)?;
        if f[0] == pool {
            return num(T, no, line, "value", f[2]);
        }
    }
    Err(err(T, 0, out, format!("no line for pool '{pool}'")))
}

/// Parses `zfs list -r -H -p -o name,available,type -t filesystem <ds>`: `available` of `ds`.
pub fn parse_zfs_available(out: &str, ds: &str) -> Result<u64, BackendError> {
    const T: &str = "zfs list";
    for (no, line) in tab_lines(out) {
        let f = tab_fields(T, no, line, 3)?;
        if f[0] == ds {
            return num(T, no, line, "available", f[1]);
        }
    }
    Err(err(T, 0, out, format!("no line for dataset '{ds}'")))
}

/// Parses `zpool list -o name -H`: pool names.
pub fn parse_zpool_names(out: &str) -> Result<Vec<String>, BackendError> {
    lines(out)
        .map(|(no, line)| dataset_name("zpool list", no, line, line))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn fixture(name: &str) -> String {
        let p = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
    }

    #[test]
    fn fixture_zfs_list() {
        let rows = parse_zfs_list(&fixture("zfs_list.txt")).expect("parses");
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[0],
            ZfsListRow {
                name: "tank/linstor/pvc-abc_00000".into(),
                refer: 57344,
                volsize: Some(1_073_741_824),
                kind: ZfsType::Volume,
                volblocksize: Some(16384),
                origin: None,
                clones: vec![],
            }
        );
        assert_eq!(rows[1].kind, ZfsType::Snapshot);
        assert_eq!(rows[1].clones, ["tank/linstor/pvc-new_00000"]);
        assert_eq!(
            rows[2].origin.as_deref(),
            Some("tank/linstor/pvc-abc_00000@snap1")
        );
    }

    /// Not recorded (no ZFS module on this host): shaped as `zfs list -H -p` prints, see
    /// `tests/fake_zfs.rs`.
    #[test]
    fn fixture_zfs_list_snapshots() {
        let rows = parse_zfs_list(&fixture("zfs_list_snapshots.txt")).expect("parses");
        assert_eq!(rows.len(), 15);
        let snaps: Vec<&ZfsListRow> = rows
            .iter()
            .filter(|r| r.kind == ZfsType::Snapshot)
            .collect();
        assert_eq!(snaps.len(), 8);
        assert!(
            snaps
                .iter()
                .all(|r| r.volblocksize.is_none() && r.origin.is_none())
        );
        let back = snaps
            .iter()
            .find(|r| r.name == "tank/linstor/r_00001_x_00000@back_17")
            .expect("row");
        assert_eq!((back.volsize, back.clones.len()), (Some(33_554_432), 0));
        let snap1 = snaps
            .iter()
            .find(|r| r.name.ends_with("@snap1"))
            .expect("row");
        assert_eq!(snap1.clones, ["tank/linstor/pvc-new_00000"]);
    }

    #[test]
    fn fixture_zfs_get_and_zpool_get() {
        assert_eq!(
            parse_zfs_get_value(&fixture("zfs_get_available.txt"), "tank/linstor").expect("ok"),
            10_375_731_200
        );
        assert_eq!(
            parse_zfs_get_value(&fixture("zfs_get_quota.txt"), "tank/linstor").expect("ok"),
            0
        );
        assert_eq!(
            parse_zpool_get(&fixture("zpool_get_size.txt"), "tank").expect("ok"),
            10_737_418_240
        );
        assert_eq!(
            parse_zfs_available(&fixture("zfs_list_available.txt"), "tank/linstor").expect("ok"),
            10_375_700_000
        );
        assert_eq!(
            parse_zpool_names("tank\nbackup\n").expect("ok"),
            ["tank", "backup"]
        );
    }

    fn check(parse: fn(&str) -> Result<u64, BackendError>, input: &str, want: Result<u64, &str>) {
        match (parse(input), want) {
            (Ok(n), Ok(w)) => assert_eq!(n, w, "{input:?}"),
            (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{input:?}: {e} lacks {w:?}"),
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn malformed_and_truncated() {
        let list = |s: &str| parse_zfs_list(s).map(|v| v.len() as u64);
        let get = |s: &str| parse_zfs_get_value(s, "tank");
        let zget = |s: &str| parse_zpool_get(s, "tank");
        check(list, "", Ok(0));
        check(list, "tank/a\t1\t2\tvolume\t8192\t-\t-\n", Ok(1));
        check(list, "tank/a\t1\t2\tvolume\t8192\t-", Err("expected 7"));
        check(list, "tank/a 1 2 volume 8192 - -", Err("expected 7"));
        check(list, "tank/a\t1\t2G\tvolume\t8192\t-\t-", Err("volsize"));
        check(
            list,
            "tank/a\t1\t2\tbookmark\t8192\t-\t-",
            Err("unknown type"),
        );
        check(list, "tank/a\t1\t2\tsnapshot\t-\t-\t-", Err("'@'"));
        check(list, "tank/a\t-\t2\tvolume\t8192\t-\t-", Err("refer"));
        check(get, "tank\t123\n", Ok(123));
        check(get, "other\t123\n", Err("no line for dataset 'tank'"));
        check(get, "tank\t12", Ok(12));
        check(get, "tank\t", Err("value"));
        check(get, "tank", Err("expected 2"));
        check(get, "tank\tnone", Err("value"));
        check(zget, "tank\tsize\t100\t-", Ok(100));
        check(zget, "tank\tsize\t100", Err("expected 4"));
        check(zget, "cannot open 'tank': no such pool", Err("expected 4"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics_on_arbitrary_input(s in "\\PC*") {
            let _ = parse_zfs_list(&s);
            let _ = parse_zfs_get_value(&s, "tank");
            let _ = parse_zpool_get(&s, "tank");
            let _ = parse_zfs_available(&s, "tank");
            let _ = parse_zpool_names(&s);
        }

        #[test]
        fn never_panics_on_zfs_like_input(s in "([a-z0-9@/\\-]{0,8}\\t?){0,10}\\n?") {
            let _ = parse_zfs_list(&s);
            let _ = parse_zpool_get(&s, "tank");
        }

        #[test]
        fn truncating_a_valid_output_never_panics(cut in 0usize..200) {
            let full = "tank/a_00000\t57344\t1073741824\tvolume\t16384\t-\t-\ntank/a_00000@s\t0\t1073741824\tsnapshot\t-\t-\ttank/b_00000\n";
            let cut = cut.min(full.len());
            let _ = parse_zfs_list(&full[..cut]);
        }
    }
}
