//! Pure parsers for the output of the storage tools.
//!
//! Every parser takes the tool's stdout as `&str` and returns typed rows or a
//! [`crate::BackendError::ParseError`] naming the tool, the line and the
//! reason. None of them panics, on any input (checked by proptest).
//!
//! * [`lvm`]: `lvs`, `vgs` (with `--separator ';' --units k --nosuffix --noheadings`), `pvdisplay`.
//! * [`lsblk`]: `lsblk -J -b` (block devices, for physical storage).
//! * [`zfs`]: `zfs list -H -p`, `zfs get -Hp`, `zpool get -Hp`.
//! * [`util`]: `losetup -l -O NAME,BACK-FILE`, `df -B 1 --output=…`, `blockdev --getsize64`.

pub mod lsblk;
pub mod lvm;
pub mod util;
pub mod zfs;

use linstor_core::SizeKib;

use crate::error::BackendError;

/// A percentage in hundredths (`12.34` % is `Percent(1234)`), 0 … 100.00 %.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Percent(pub u32);

impl Percent {
    /// `size × (1 − self)`, rounded down, in KiB.
    pub fn remaining_of(self, size: SizeKib) -> SizeKib {
        let used = u128::from(size.kib()) * u128::from(self.0.min(10_000)) / 10_000;
        SizeKib(
            size.kib()
                .saturating_sub(u64::try_from(used).unwrap_or(u64::MAX)),
        )
    }

    /// `size × self`, rounded up, in KiB.
    pub fn used_of(self, size: SizeKib) -> SizeKib {
        let used = (u128::from(size.kib()) * u128::from(self.0.min(10_000))).div_ceil(10_000);
        SizeKib(u64::try_from(used).unwrap_or(u64::MAX))
    }
}

/// Splits a decimal `123.45` into (integer, fraction digits); `None` if it is not one.
fn split_decimal(s: &str) -> Option<(u64, &str)> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((int.parse().ok()?, frac))
}

/// Parses a KiB value like `8192.00` (rounded up to whole KiB).
pub(crate) fn kib_decimal(s: &str) -> Option<SizeKib> {
    let (int, frac) = split_decimal(s)?;
    let round_up = u64::from(frac.bytes().any(|b| b != b'0'));
    int.checked_add(round_up).map(SizeKib)
}

/// Parses a percentage like `12.34` (at most 100).
pub(crate) fn percent(s: &str) -> Option<Percent> {
    let (int, frac) = split_decimal(s)?;
    if int > 100 {
        return None;
    }
    let mut hundredths = int * 100;
    let mut digits = frac.bytes();
    hundredths += digits.next().map_or(0, |b| u64::from(b - b'0') * 10);
    hundredths += digits.next().map_or(0, |b| u64::from(b - b'0'));
    if hundredths > 10_000 {
        return None;
    }
    u32::try_from(hundredths).ok().map(Percent)
}

/// Parses a plain unsigned integer.
pub(crate) fn uint(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Bytes to KiB, rounded down (for free space: never over-report).
pub fn bytes_to_kib_floor(bytes: u64) -> SizeKib {
    SizeKib(bytes / 1024)
}

/// Bytes to KiB, rounded up (for sizes).
pub fn bytes_to_kib_ceil(bytes: u64) -> SizeKib {
    SizeKib(bytes.div_ceil(1024))
}

/// The non-blank lines with their 1-based numbers, trimmed.
pub(crate) fn lines(out: &str) -> impl Iterator<Item = (usize, &str)> {
    out.lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

/// Error helper.
pub(crate) fn err(
    tool: &'static str,
    line_no: usize,
    line: &str,
    reason: impl Into<String>,
) -> BackendError {
    BackendError::parse(tool, line_no, line, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals() {
        assert_eq!(kib_decimal("8192.00"), Some(SizeKib(8192)));
        assert_eq!(kib_decimal("8192.01"), Some(SizeKib(8193)));
        assert_eq!(kib_decimal("0"), Some(SizeKib(0)));
        for bad in [
            "",
            ".5",
            "-1",
            "1.2.3",
            "1e3",
            "12k",
            "99999999999999999999999",
        ] {
            assert_eq!(kib_decimal(bad), None, "{bad}");
        }
        assert_eq!(percent("12.34"), Some(Percent(1234)));
        assert_eq!(percent("100.00"), Some(Percent(10_000)));
        assert_eq!(percent("0.5"), Some(Percent(50)));
        assert_eq!(percent("100.01"), None);
        assert_eq!(percent("101"), None);
        assert_eq!(Percent(2500).remaining_of(SizeKib(1000)), SizeKib(750));
        assert_eq!(Percent(2501).used_of(SizeKib(1000)), SizeKib(251));
    }
}
