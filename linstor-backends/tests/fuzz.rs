//! Time-bounded fuzzing (`linstor-fuzz`; `FUZZ_SECONDS`, `FUZZ_SEED`) of the storage tools'
//! output parsers (`lvs`, `vgs`, `pvdisplay`, `zfs list`/`get`, `zpool get`/`list`, `losetup`,
//! `df`, `blockdev`, `lsblk`) and of the backing names read back from listings. Inputs are
//! the recorded fixtures mutated, and arbitrary bytes.

use linstor_backends::BackendError;
use linstor_backends::naming::BackingName;
use linstor_backends::parse::lsblk::parse_lsblk;
use linstor_backends::parse::lvm::{
    LvsRow, parse_lvs, parse_pv_names, parse_vgs, parse_vgs_with_lvs,
};
use linstor_backends::parse::util::{
    parse_blockdev_size, parse_df_bytes, parse_df_source, parse_losetup_list,
};
use linstor_backends::parse::zfs::{
    ZfsType, parse_zfs_available, parse_zfs_get_value, parse_zfs_list, parse_zpool_get,
    parse_zpool_names,
};
use linstor_fuzz::fuzz;
use linstor_fuzz::mutate::{inputs, lossy};
use proptest::prelude::*;

const FIXTURES: &[&str] = &[
    "df_avail.txt",
    "df_size.txt",
    "df_source.txt",
    "losetup_list.txt",
    "lvs_thick.txt",
    "lvs_thick_segments.txt",
    "lvs_thin.txt",
    "lvs_thin_snapshots.txt",
    "pvdisplay.txt",
    "vgs_lvs_thick.txt",
    "vgs_lvs_thin.txt",
    "vgs_thick.txt",
    "zfs_get_available.txt",
    "zfs_get_quota.txt",
    "zfs_list.txt",
    "zfs_list_available.txt",
    "zfs_list_snapshots.txt",
    "zpool_get_size.txt",
];

/// `lsblk -J -b` as util-linux ≥ 2.33 prints it (booleans, numbers) and as older versions do
/// (strings).
const LSBLK: &str = r#"{"blockdevices":[
  {"name":"sdb","size":1000204886016,"rota":true,"type":"disk","model":"ST1000 ","serial":"Z1","wwn":"0x5000","fstype":null,"mountpoint":null},
  {"name":"vda","size":"21474836480","rota":"0","type":"disk","model":null,"serial":null,"wwn":null,"fstype":null,"mountpoint":null,
   "children":[{"name":"vda1","size":21473787904,"rota":false,"type":"part","model":null,"serial":null,"wwn":null,"fstype":"ext4","mountpoint":"/"}]}]}"#;

const WORDS: &[&str] = &[
    ";",
    ";;",
    "\t",
    "\t-",
    "-",
    "@",
    "/dev/loop",
    "/dev/loop7 ",
    " (deleted)",
    "NAME BACK-FILE\n",
    "volume",
    "snapshot",
    "filesystem",
    "twi-aotz--",
    "_00000",
    "_65535",
    ".img",
    "100.00",
    "100.01",
    "12.345",
    "\"size\":",
    "\"rota\":\"1\"",
    "\"children\":[",
    "null",
    "true",
];

fn samples() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = FIXTURES
        .iter()
        .map(|f| {
            let p = format!("{}/tests/fixtures/{f}", env!("CARGO_MANIFEST_DIR"));
            std::fs::read(&p).unwrap_or_else(|e| panic!("{p}: {e}"))
        })
        .collect();
    out.push(LSBLK.as_bytes().to_vec());
    out
}

/// A parser's error is a `ParseError` naming the tool (never another kind, never a panic).
fn parse_error<T>(r: &Result<T, BackendError>) -> Result<(), TestCaseError> {
    if let Err(e) = r {
        prop_assert!(
            matches!(e, BackendError::ParseError { .. }),
            "not a parse error: {e:?}"
        );
    }
    Ok(())
}

fn kib(v: u64) -> String {
    format!("{v}.00")
}

fn pct(p: Option<linstor_backends::parse::Percent>) -> String {
    p.map(|p| format!("{}.{:02}", p.0 / 100, p.0 % 100))
        .unwrap_or_default()
}

/// The row as `lvs` prints it (LINSTOR's columns and options).
fn lvs_line(r: &LvsRow) -> String {
    format!(
        "  {};{};{};{};{};{};{};{};{};{}\n",
        r.lv_name,
        r.lv_path,
        kib(r.size.kib()),
        r.vg_name,
        r.pool_lv.as_deref().unwrap_or(""),
        pct(r.data_percent),
        r.lv_attr,
        pct(r.metadata_percent),
        kib(r.chunk_size.kib()),
        r.stripes
    )
}

#[test]
fn fuzz_tool_output_parsers_for_a_fixed_time() {
    fuzz("tool output", inputs(samples(), WORDS), |bytes| {
        let out = lossy(&bytes);

        let lvs = parse_lvs(&out);
        parse_error(&lvs)?;
        if let Ok(rows) = &lvs {
            // Every row prints back to itself: nothing was read approximately.
            let text: String = rows.iter().map(lvs_line).collect();
            let again = parse_lvs(&text).ok();
            prop_assert_eq!(again.as_ref(), Some(rows), "{}", text);
            for r in rows {
                prop_assert!(r.data_percent.is_none_or(|p| p.0 <= 10_000));
                prop_assert!(r.metadata_percent.is_none_or(|p| p.0 <= 10_000));
            }
        }
        for r in [parse_vgs(&out)] {
            parse_error(&r)?;
            for row in r.iter().flatten() {
                prop_assert!(row.free <= row.size && row.extent_size.kib() > 0);
            }
        }
        let vl = parse_vgs_with_lvs(&out);
        parse_error(&vl)?;
        for row in vl.iter().flatten() {
            prop_assert!(row.vg.free <= row.vg.size);
            prop_assert!(row.data_percent.is_none_or(|p| p.0 <= 10_000));
        }
        let pvs = parse_pv_names(&out);
        parse_error(&pvs)?;
        for p in pvs.iter().flatten() {
            prop_assert!(p.starts_with('/') && !p.contains(char::is_whitespace));
        }

        let zl = parse_zfs_list(&out);
        parse_error(&zl)?;
        for row in zl.iter().flatten() {
            prop_assert_eq!(row.kind == ZfsType::Snapshot, row.name.contains('@'));
            prop_assert!(!row.name.is_empty() && !row.name.contains(char::is_whitespace));
        }
        for ds in ["tank/linstor", "tank", ""] {
            parse_error(&parse_zfs_get_value(&out, ds))?;
            parse_error(&parse_zpool_get(&out, ds))?;
            parse_error(&parse_zfs_available(&out, ds))?;
        }
        parse_error(&parse_zpool_names(&out))?;

        let lo = parse_losetup_list(&out);
        parse_error(&lo)?;
        for d in lo.iter().flatten() {
            prop_assert!(d.device.to_string_lossy().starts_with("/dev/loop"));
            prop_assert!(d.back_file.is_absolute());
        }
        parse_error(&parse_df_bytes(&out))?;
        parse_error(&parse_df_source(&out))?;
        parse_error(&parse_blockdev_size(&out))?;
        parse_error(&parse_lsblk(&out))?;

        // Backing names read back from listings print as the same name.
        for word in out.split(['\n', ';', '\t', ' ']) {
            match BackingName::from_lv_name(word) {
                Some(BackingName::Volume(v)) => prop_assert_eq!(v.lv_name(), word),
                Some(BackingName::Snapshot(v, s)) => {
                    prop_assert_eq!(v.lvm_snapshot_name(&s), word);
                }
                None => {}
            }
            let _ = BackingName::from_file_name(word);
            match BackingName::from_zfs_name("tank/linstor", word) {
                Some(BackingName::Volume(v)) => {
                    prop_assert_eq!(format!("tank/linstor/{}", v.lv_name()), word);
                }
                Some(BackingName::Snapshot(v, s)) => {
                    prop_assert_eq!(format!("tank/linstor/{}", v.zfs_snapshot_name(&s)), word);
                }
                None => {}
            }
        }
        Ok(())
    });
}
