//! Parsers for `lvs`, `vgs` and `pvdisplay` output in LINSTOR's format.
//!
//! LINSTOR runs them with `--separator ';' --noheadings --units k --nosuffix` (never `,` or `.`
//! as a separator, which clash with localised numbers). Lines are indented by two blanks; sizes
//! are KiB with two decimals; empty fields are empty strings between separators.

use linstor_core::SizeKib;

use super::{Percent, err, kib_decimal, lines, percent, uint};
use crate::error::BackendError;

/// The `-o` columns of LINSTOR's `lvs` call, in order.
pub const LVS_COLUMNS: &str = "lv_name,lv_path,lv_size,vg_name,pool_lv,data_percent,lv_attr,metadata_percent,chunk_size,stripes";
/// The `-o` columns of LINSTOR's thick `vgs` call.
pub const VGS_COLUMNS: &str = "vg_name,vg_extent_size,vg_size,vg_free";
/// The `-o` columns of LINSTOR's thin `vgs` call.
pub const VGS_THIN_COLUMNS: &str =
    "vg_name,vg_extent_size,vg_size,vg_free,lv_name,lv_size,data_percent";

/// One row of `lvs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvsRow {
    /// LV name.
    pub lv_name: String,
    /// `/dev/<vg>/<lv>` (empty for hidden LVs such as thin pool internals).
    pub lv_path: String,
    /// Size.
    pub size: SizeKib,
    /// VG name.
    pub vg_name: String,
    /// The thin pool it lives in (thin LVs only).
    pub pool_lv: Option<String>,
    /// Data usage (thin pools and thin LVs).
    pub data_percent: Option<Percent>,
    /// The 10-character attribute string (`-wi-a-----`, `twi-aotz--`, `Vwi-a-tz--`).
    pub lv_attr: String,
    /// Metadata usage (thin pools).
    pub metadata_percent: Option<Percent>,
    /// Chunk size (thin pools; 0 otherwise).
    pub chunk_size: SizeKib,
    /// Stripe count.
    pub stripes: u32,
}

impl LvsRow {
    /// Whether this LV is a thin pool (`lv_attr` starts with `t`).
    pub fn is_thin_pool(&self) -> bool {
        self.lv_attr.starts_with('t')
    }

    /// Whether new blocks of this thin pool are zeroed (`lv_attr` position 8 is `z`).
    pub fn zeroes_new_blocks(&self) -> bool {
        self.lv_attr.as_bytes().get(7) == Some(&b'z')
    }
}

fn fields<'a>(
    tool: &'static str,
    no: usize,
    line: &'a str,
    want: usize,
) -> Result<Vec<&'a str>, BackendError> {
    let f: Vec<&str> = line.split(';').map(str::trim).collect();
    if f.len() != want {
        return Err(err(
            tool,
            no,
            line,
            format!("expected {want} ';'-separated fields, found {}", f.len()),
        ));
    }
    Ok(f)
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_owned())
}

fn size_field(
    tool: &'static str,
    no: usize,
    line: &str,
    what: &str,
    v: &str,
) -> Result<SizeKib, BackendError> {
    kib_decimal(v).ok_or_else(|| err(tool, no, line, format!("{what} {v:?} is not a KiB number")))
}

fn pct_field(
    tool: &'static str,
    no: usize,
    line: &str,
    what: &str,
    v: &str,
) -> Result<Option<Percent>, BackendError> {
    if v.is_empty() {
        return Ok(None);
    }
    percent(v)
        .map(Some)
        .ok_or_else(|| err(tool, no, line, format!("{what} {v:?} is not a percentage")))
}

fn name_field(
    tool: &'static str,
    no: usize,
    line: &str,
    what: &str,
    v: &str,
) -> Result<String, BackendError> {
    if v.is_empty() {
        return Err(err(tool, no, line, format!("{what} is empty")));
    }
    Ok(v.to_owned())
}

/// Parses `lvs -o` [`LVS_COLUMNS`].
pub fn parse_lvs(out: &str) -> Result<Vec<LvsRow>, BackendError> {
    const T: &str = "lvs";
    lines(out)
        .map(|(no, line)| {
            let f = fields(T, no, line, 10)?;
            let stripes = if f[9].is_empty() {
                1
            } else {
                uint(f[9])
                    .and_then(|s| u32::try_from(s).ok())
                    .ok_or_else(|| {
                        err(T, no, line, format!("stripes {:?} is not a number", f[9]))
                    })?
            };
            Ok(LvsRow {
                lv_name: name_field(T, no, line, "lv_name", f[0])?,
                lv_path: f[1].to_owned(),
                size: size_field(T, no, line, "lv_size", f[2])?,
                vg_name: name_field(T, no, line, "vg_name", f[3])?,
                pool_lv: opt(f[4]),
                data_percent: pct_field(T, no, line, "data_percent", f[5])?,
                lv_attr: f[6].to_owned(),
                metadata_percent: pct_field(T, no, line, "metadata_percent", f[7])?,
                chunk_size: if f[8].is_empty() {
                    SizeKib(0)
                } else {
                    size_field(T, no, line, "chunk_size", f[8])?
                },
                stripes,
            })
        })
        .collect()
}

/// One row of the thick `vgs` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VgsRow {
    /// VG name.
    pub vg_name: String,
    /// Extent size.
    pub extent_size: SizeKib,
    /// Total size.
    pub size: SizeKib,
    /// Free space.
    pub free: SizeKib,
}

fn vg_part(tool: &'static str, no: usize, line: &str, f: &[&str]) -> Result<VgsRow, BackendError> {
    let row = VgsRow {
        vg_name: name_field(tool, no, line, "vg_name", f[0])?,
        extent_size: size_field(tool, no, line, "vg_extent_size", f[1])?,
        size: size_field(tool, no, line, "vg_size", f[2])?,
        free: size_field(tool, no, line, "vg_free", f[3])?,
    };
    if row.free > row.size {
        return Err(err(tool, no, line, "vg_free is larger than vg_size"));
    }
    if row.extent_size.kib() == 0 {
        return Err(err(tool, no, line, "vg_extent_size is 0"));
    }
    Ok(row)
}

/// Parses `vgs -o` [`VGS_COLUMNS`].
pub fn parse_vgs(out: &str) -> Result<Vec<VgsRow>, BackendError> {
    const T: &str = "vgs";
    lines(out)
        .map(|(no, line)| {
            let f = fields(T, no, line, 4)?;
            vg_part(T, no, line, &f)
        })
        .collect()
}

/// One row of the thin `vgs` call (one row per LV, or one row without LV for an empty VG).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VgsLvRow {
    /// The VG columns.
    pub vg: VgsRow,
    /// LV name, if the row is about an LV.
    pub lv_name: Option<String>,
    /// LV size.
    pub lv_size: Option<SizeKib>,
    /// LV data usage (thin pools and thin LVs).
    pub data_percent: Option<Percent>,
}

/// Parses `vgs -o` [`VGS_THIN_COLUMNS`]. A VG without LVs prints only its four VG columns.
pub fn parse_vgs_with_lvs(out: &str) -> Result<Vec<VgsLvRow>, BackendError> {
    const T: &str = "vgs";
    lines(out)
        .map(|(no, line)| {
            let n = line.split(';').count();
            let f = fields(T, no, line, if n == 4 { 4 } else { 7 })?;
            let vg = vg_part(T, no, line, &f)?;
            if f.len() == 4 {
                return Ok(VgsLvRow {
                    vg,
                    lv_name: None,
                    lv_size: None,
                    data_percent: None,
                });
            }
            Ok(VgsLvRow {
                vg,
                lv_name: opt(f[4]),
                lv_size: if f[5].is_empty() {
                    None
                } else {
                    Some(size_field(T, no, line, "lv_size", f[5])?)
                },
                data_percent: pct_field(T, no, line, "data_percent", f[6])?,
            })
        })
        .collect()
}

/// Parses `pvdisplay --columns -o pv_name --noheadings`: one device path per line.
pub fn parse_pv_names(out: &str) -> Result<Vec<String>, BackendError> {
    lines(out)
        .map(|(no, line)| {
            if !line.starts_with('/')
                || line.contains(|c: char| c.is_whitespace() || c == '|' || c == '\'')
            {
                return Err(err("pvdisplay", no, line, "not a device path"));
            }
            Ok(line.to_owned())
        })
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
    fn fixture_lvs_thick() {
        let rows = parse_lvs(&fixture("lvs_thick.txt")).expect("parses");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1].lv_name, "pvc-abc_00000");
        assert_eq!(rows[1].lv_path, "/dev/linstor_vg/pvc-abc_00000");
        assert_eq!(rows[1].size, SizeKib(8192));
        assert_eq!(rows[1].pool_lv, None);
        assert_eq!(rows[1].data_percent, None);
        assert_eq!(rows[1].stripes, 1);
        assert!(!rows[1].is_thin_pool());
    }

    #[test]
    fn fixture_lvs_thin() {
        let rows = parse_lvs(&fixture("lvs_thin.txt")).expect("parses");
        let pool = rows
            .iter()
            .find(|r| r.lv_name == "thinpool")
            .expect("pool row");
        assert!(pool.is_thin_pool());
        assert!(pool.zeroes_new_blocks());
        assert_eq!(pool.size, SizeKib(102_400));
        assert_eq!(pool.data_percent, Some(Percent(1250)));
        assert_eq!(pool.metadata_percent, Some(Percent(1045)));
        assert_eq!(pool.chunk_size, SizeKib(64));
        let thin = rows
            .iter()
            .find(|r| r.lv_name == "pvc-abc_00000")
            .expect("thin row");
        assert_eq!(thin.pool_lv.as_deref(), Some("thinpool"));
    }

    /// Recorded without device-mapper (see `tests/real_lvm.rs`): no data percentages, `X`
    /// (unknown) activation state, stripes 0 for thin LVs.
    #[test]
    fn fixture_lvs_thin_snapshots() {
        let rows = parse_lvs(&fixture("lvs_thin_snapshots.txt")).expect("parses");
        assert_eq!(rows.len(), 14);
        let snap = rows
            .iter()
            .find(|r| r.lv_name == "r_00001_x_00000_back_17")
            .expect("snapshot row");
        assert_eq!(snap.pool_lv.as_deref(), Some("thinpool"));
        assert_eq!(snap.lv_attr, "Vwi-XXtz-k");
        assert_eq!(snap.size, SizeKib(4096));
        assert_eq!(snap.data_percent, None);
        assert_eq!(snap.stripes, 0);
        let thick = rows
            .iter()
            .find(|r| r.lv_name == "thick_00000_s1")
            .expect("thick row");
        assert_eq!((thick.pool_lv.as_deref(), thick.stripes), (None, 1));
        assert!(
            rows.iter()
                .any(|r| r.lv_name == "thinpool" && r.is_thin_pool())
        );
    }

    #[test]
    fn fixture_vgs() {
        let rows = parse_vgs(&fixture("vgs_thick.txt")).expect("parses");
        assert_eq!(
            rows,
            [VgsRow {
                vg_name: "linstor_vg".into(),
                extent_size: SizeKib(4096),
                size: SizeKib(126_976),
                free: SizeKib(94_208)
            }]
        );
        let rows = parse_vgs_with_lvs(&fixture("vgs_lvs_thick.txt")).expect("parses");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[2].lv_name.as_deref(), Some("rsc_x_00001"));
        let rows = parse_vgs_with_lvs(&fixture("vgs_lvs_thin.txt")).expect("parses");
        let pool = rows
            .iter()
            .find(|r| r.lv_name.as_deref() == Some("thinpool"))
            .expect("pool");
        assert_eq!(pool.lv_size, Some(SizeKib(102_400)));
        assert_eq!(pool.data_percent, Some(Percent(1250)));
    }

    #[test]
    fn fixture_pvdisplay() {
        assert_eq!(
            parse_pv_names(&fixture("pvdisplay.txt")).expect("parses"),
            ["/dev/loop1"]
        );
    }

    fn check(
        parse: fn(&str) -> Result<usize, BackendError>,
        input: &str,
        want: Result<usize, &str>,
    ) {
        match (parse(input), want) {
            (Ok(n), Ok(w)) => assert_eq!(n, w, "{input:?}"),
            (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{input:?}: {e} lacks {w:?}"),
            (got, want) => panic!("{input:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn malformed_and_truncated() {
        let lvs = |s: &str| parse_lvs(s).map(|v| v.len());
        let vgs = |s: &str| parse_vgs(s).map(|v| v.len());
        let thin = |s: &str| parse_vgs_with_lvs(s).map(|v| v.len());
        check(lvs, "", Ok(0));
        check(lvs, "  a;/dev/vg/a;8192.00;vg;;;-wi-a-----;;0;1\n", Ok(1));
        check(
            lvs,
            "  a;/dev/vg/a;8192.00;vg;;;-wi-a-----;;0",
            Err("expected 10"),
        );
        check(lvs, "  a;/dev/vg/a;81", Err("line 1"));
        check(
            lvs,
            "  a;/dev/vg/a;8,192.00;vg;;;-wi-a-----;;0;1",
            Err("lv_size"),
        );
        check(
            lvs,
            "  a;/dev/vg/a;8192 MiB;vg;;;-wi-a-----;;0;1",
            Err("lv_size"),
        );
        check(
            lvs,
            "  a;/dev/vg/a;8192.00;vg;;1O.00;-wi-a-----;;0;1",
            Err("data_percent"),
        );
        check(
            lvs,
            "  ;/dev/vg/a;8192.00;vg;;;-wi-a-----;;0;1",
            Err("lv_name is empty"),
        );
        check(
            lvs,
            "  a;/dev/vg/a;8192.00;vg;;;-wi-a-----;;0;x",
            Err("stripes"),
        );
        check(
            vgs,
            "  vg;4096.00;126976.00;94208.00\n  vg2;4096.00;100",
            Err("line 2"),
        );
        check(
            vgs,
            "  vg;4096.00;126976.00;194208.00",
            Err("larger than vg_size"),
        );
        check(vgs, "  vg;0.00;126976.00;94208.00", Err("extent"));
        check(vgs, "Volume group \"x\" not found", Err("expected 4"));
        check(thin, "  vg;4096.00;126976.00;94208.00", Ok(1));
        check(
            thin,
            "  vg;4096.00;126976.00;94208.00;lv;1.00",
            Err("expected 7"),
        );
        check(
            |s| parse_pv_names(s).map(|v| v.len()),
            "  /dev/sda\n  unknown device",
            Err("line 2"),
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics_on_arbitrary_input(s in "\\PC*") {
            let _ = parse_lvs(&s);
            let _ = parse_vgs(&s);
            let _ = parse_vgs_with_lvs(&s);
            let _ = parse_pv_names(&s);
        }

        #[test]
        fn never_panics_on_lvm_like_input(s in "([ a-z0-9;./\\-]{0,12}\\n?){0,8}") {
            let _ = parse_lvs(&s);
            let _ = parse_vgs(&s);
            let _ = parse_vgs_with_lvs(&s);
        }

        #[test]
        fn truncating_a_valid_output_never_panics(cut in 0usize..400) {
            let full = "  pvc-abc_00000;/dev/linstor_vg/pvc-abc_00000;8192.00;linstor_vg;;;-wi-XX----;;0;1\n  thinpool;;102400.00;vg;;12.50;twi-aotz--;10.45;64.00;1\n";
            let cut = cut.min(full.len());
            let _ = parse_lvs(&full[..cut]);
        }
    }
}
