//! Parsers for util-linux and coreutils output: `losetup -l -O NAME,BACK-FILE`,
//! `df -B 1 --output=<field>`, `blockdev --getsize64`.

use std::path::PathBuf;

use super::{err, lines, uint};
use crate::error::BackendError;

/// One attached loop device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoopDevice {
    /// `/dev/loopN`.
    pub device: PathBuf,
    /// The backing file.
    pub back_file: PathBuf,
    /// The backing file was deleted while attached (`losetup` appends ` (deleted)`).
    pub deleted: bool,
}

/// Parses `losetup -l -O NAME,BACK-FILE` (with its header line). Devices without a backing file
/// (none are listed by `-l`, but be lenient) are skipped.
pub fn parse_losetup_list(out: &str) -> Result<Vec<LoopDevice>, BackendError> {
    const T: &str = "losetup";
    let mut it = lines(out);
    match it.next() {
        None => return Ok(Vec::new()),
        Some((no, header)) => {
            let cols: Vec<&str> = header.split_whitespace().collect();
            if cols != ["NAME", "BACK-FILE"] {
                return Err(err(T, no, header, "expected the header 'NAME BACK-FILE'"));
            }
        }
    }
    let mut devs = Vec::new();
    for (no, line) in it {
        let (name, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        if !name.starts_with("/dev/loop") || name.len() == "/dev/loop".len() {
            return Err(err(T, no, line, format!("{name:?} is not a loop device")));
        }
        let rest = rest.trim();
        if rest.is_empty() {
            continue;
        }
        let (file, deleted) = match rest.strip_suffix(" (deleted)") {
            Some(f) => (f, true),
            None => (rest, false),
        };
        if !file.starts_with('/') {
            return Err(err(
                T,
                no,
                line,
                format!("backing file {file:?} is not an absolute path"),
            ));
        }
        devs.push(LoopDevice {
            device: PathBuf::from(name),
            back_file: PathBuf::from(file),
            deleted,
        });
    }
    Ok(devs)
}

/// Parses `df -B 1 --output=<field> <dir>`: a header, then one number of bytes.
pub fn parse_df_bytes(out: &str) -> Result<u64, BackendError> {
    const T: &str = "df";
    let mut it = lines(out);
    let Some((hno, header)) = it.next() else {
        return Err(err(T, 0, out, "empty output"));
    };
    if uint(header).is_some() {
        return Err(err(T, hno, header, "expected a header line"));
    }
    let Some((no, value)) = it.next() else {
        return Err(err(T, hno, header, "no value after the header"));
    };
    if let Some((extra_no, extra)) = it.next() {
        return Err(err(T, extra_no, extra, "expected exactly one value"));
    }
    uint(value).ok_or_else(|| err(T, no, value, "not a number of bytes"))
}

/// Parses `df --output=source <dir>`: a header, then the source device.
pub fn parse_df_source(out: &str) -> Result<String, BackendError> {
    const T: &str = "df";
    let mut it = lines(out);
    match (it.next(), it.next(), it.next()) {
        (Some(_), Some((_, src)), None) => Ok(src.to_owned()),
        _ => Err(err(T, 0, out, "expected a header and one source line")),
    }
}

/// Parses `blockdev --getsize64 <dev>`: the device size in bytes on one line.
pub fn parse_blockdev_size(out: &str) -> Result<u64, BackendError> {
    const T: &str = "blockdev";
    let mut it = lines(out);
    let Some((no, line)) = it.next() else {
        return Err(err(T, 0, out, "empty output"));
    };
    if let Some((extra_no, extra)) = it.next() {
        return Err(err(T, extra_no, extra, "expected exactly one number"));
    }
    uint(line).ok_or_else(|| err(T, no, line, "not a number of bytes"))
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
    fn fixture_losetup() {
        let devs = parse_losetup_list(&fixture("losetup_list.txt")).expect("parses");
        assert_eq!(devs.len(), 3);
        assert_eq!(devs[0].device, PathBuf::from("/dev/loop1"));
        assert_eq!(
            devs[0].back_file,
            PathBuf::from("/var/lib/linstor-pools/fp/rsc_00000.img")
        );
        assert!(!devs[0].deleted);
        assert!(devs[2].deleted);
        assert_eq!(devs[2].back_file, PathBuf::from("/tmp/gone.img"));
    }

    #[test]
    fn fixture_df() {
        assert_eq!(
            parse_df_bytes(&fixture("df_size.txt")).expect("ok"),
            270_553_174_016
        );
        assert_eq!(
            parse_df_bytes(&fixture("df_avail.txt")).expect("ok"),
            84_511_711_232
        );
        assert_eq!(
            parse_df_source(&fixture("df_source.txt")).expect("ok"),
            "/dev/vda"
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
        let lo = |s: &str| parse_losetup_list(s).map(|v| v.len() as u64);
        check(lo, "", Ok(0));
        check(lo, "NAME       BACK-FILE\n", Ok(0));
        check(lo, "NAME BACK-FILE\n/dev/loop0 /a b.img\n", Ok(1));
        check(lo, "NAME SIZELIMIT\n/dev/loop0 0\n", Err("header"));
        check(
            lo,
            "NAME BACK-FILE\n/dev/sda /x.img",
            Err("not a loop device"),
        );
        check(lo, "NAME BACK-FILE\n/dev/loop0 x.img", Err("absolute"));
        check(lo, "NAME BACK-FILE\n/dev/loop", Err("not a loop device"));
        check(parse_df_bytes, "1B-blocks\n100\n", Ok(100));
        check(parse_df_bytes, "", Err("empty"));
        check(parse_df_bytes, "1B-blocks\n", Err("no value"));
        check(parse_df_bytes, "100\n", Err("header"));
        check(parse_df_bytes, "Avail\n10G\n", Err("not a number"));
        check(parse_df_bytes, "Avail\n1\n2\n", Err("exactly one"));
        check(parse_blockdev_size, "8388608\n", Ok(8_388_608));
        check(parse_blockdev_size, "", Err("empty"));
        check(parse_blockdev_size, "8388608\n1\n", Err("exactly one"));
        check(parse_blockdev_size, "8M\n", Err("not a number"));
        check(parse_blockdev_size, "-1\n", Err("not a number"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]
        #[test]
        fn never_panics_on_arbitrary_input(s in "\\PC*") {
            let _ = parse_losetup_list(&s);
            let _ = parse_df_bytes(&s);
            let _ = parse_df_source(&s);
            let _ = parse_blockdev_size(&s);
        }

        #[test]
        fn never_panics_on_like_input(s in "(NAME|BACK-FILE|/dev/loop[0-9]?|/x|[0-9 ]{0,4}|\\n| ){0,12}") {
            let _ = parse_losetup_list(&s);
            let _ = parse_df_bytes(&s);
            let _ = parse_blockdev_size(&s);
        }
    }
}
