//! Sizes in KiB, parsed from what users type.
//!
//! LINSTOR stores and transmits every size in KiB. The CLI reads a number followed by an optional
//! unit, case-insensitively: `B`; `K`, `KiB` (1024); `kB` (1000); `M`, `MiB`; `MB`; `G`, `GiB`;
//! `GB`; `T`, `TiB`; `TB`; `P`, `PiB`; `PB`. A bare number takes a default unit that depends on
//! the context (GiB for volume sizes in the CLI). We also accept a decimal fraction (`1.5TiB`), which
//! the Python client does not. A byte count is rounded **up** to whole KiB, as the CLI does.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A size in KiB.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct SizeKib(pub u64);

/// Units the parser knows, as multiples of one byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Bytes.
    B,
    /// 1024 bytes.
    KiB,
    /// 1000 bytes.
    KB,
    /// 1024² bytes.
    MiB,
    /// 1000² bytes.
    MB,
    /// 1024³ bytes.
    GiB,
    /// 1000³ bytes.
    GB,
    /// 1024⁴ bytes.
    TiB,
    /// 1000⁴ bytes.
    TB,
    /// 1024⁵ bytes.
    PiB,
    /// 1000⁵ bytes.
    PB,
}

impl Unit {
    /// Bytes in one unit.
    pub fn bytes(self) -> u128 {
        match self {
            Unit::B => 1,
            Unit::KiB => 1 << 10,
            Unit::KB => 1_000,
            Unit::MiB => 1 << 20,
            Unit::MB => 1_000_000,
            Unit::GiB => 1 << 30,
            Unit::GB => 1_000_000_000,
            Unit::TiB => 1 << 40,
            Unit::TB => 1_000_000_000_000,
            Unit::PiB => 1 << 50,
            Unit::PB => 1_000_000_000_000_000,
        }
    }

    fn parse(s: &str) -> Option<Unit> {
        Some(match s.to_ascii_lowercase().as_str() {
            "b" => Unit::B,
            "k" | "kib" => Unit::KiB,
            "kb" => Unit::KB,
            "m" | "mib" => Unit::MiB,
            "mb" => Unit::MB,
            "g" | "gib" => Unit::GiB,
            "gb" => Unit::GB,
            "t" | "tib" => Unit::TiB,
            "tb" => Unit::TB,
            "p" | "pib" => Unit::PiB,
            "pb" => Unit::PB,
            _ => return None,
        })
    }
}

/// Why a size string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SizeError {
    /// Nothing (or only blanks) was given.
    #[error("size is empty; give a number with an optional unit, e.g. 10G or 512MiB")]
    Empty,
    /// A minus sign: sizes are never negative.
    #[error("size '{0}' is negative; sizes are 0 or more, e.g. 5G")]
    Negative(String),
    /// The text does not start with a number.
    #[error("size '{0}' is not a number; give a number with an optional unit, e.g. 10G or 512MiB")]
    NotANumber(String),
    /// The unit is unknown.
    #[error(
        "size '{input}' has an unknown unit '{unit}'; valid units are B, K, kB, KiB, M, MB, MiB, G, GB, GiB, T, TB, TiB, P, PB, PiB"
    )]
    UnknownUnit {
        /// The whole input.
        input: String,
        /// The unit part.
        unit: String,
    },
    /// The value does not fit in 64 bits of KiB.
    #[error("size '{0}' is too large; the largest size is {max} KiB", max = u64::MAX)]
    Overflow(String),
}

impl SizeError {
    /// What to do about it.
    pub fn correction(&self) -> &'static str {
        match self {
            SizeError::Negative(_) => "Give a size of 0 or more, e.g. 5G.",
            SizeError::Overflow(_) => "Give a size below 16 ZiB (2^64 KiB).",
            _ => "Give a number with an optional unit: K, M, G, T, P (or KiB, MB, …).",
        }
    }
}

impl SizeKib {
    /// Zero.
    pub const ZERO: SizeKib = SizeKib(0);

    /// Builds from a number of bytes, rounding up to whole KiB.
    pub fn from_bytes_round_up(bytes: u128) -> Option<SizeKib> {
        u64::try_from(bytes.div_ceil(1024)).ok().map(SizeKib)
    }

    /// Parses `10G`, `512MiB`, `1.5TiB`, `4096K`, or a bare number in `default_unit`.
    pub fn parse_with_default(input: &str, default_unit: Unit) -> Result<SizeKib, SizeError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(SizeError::Empty);
        }
        if s.starts_with('-') {
            return Err(SizeError::Negative(input.to_owned()));
        }
        let num_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(s.len());
        let (num, unit) = s.split_at(num_end);
        let unit = unit.trim_start();
        let (int_part, frac_part) = match num.split_once('.') {
            Some((i, f)) => (i, f),
            None => (num, ""),
        };
        if int_part.is_empty() || frac_part.contains('.') || num.ends_with('.') {
            return Err(SizeError::NotANumber(input.to_owned()));
        }
        let unit = if unit.is_empty() {
            default_unit
        } else {
            Unit::parse(unit).ok_or_else(|| SizeError::UnknownUnit {
                input: input.to_owned(),
                unit: unit.to_owned(),
            })?
        };
        let overflow = || SizeError::Overflow(input.to_owned());
        // Exact arithmetic: value = digits / 10^frac_len, bytes = value * unit. Zeros ending
        // the fraction change nothing (`1.50…0G` is `1.5G`, not too large).
        let frac_part = frac_part.trim_end_matches('0');
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 38 {
            return Err(overflow());
        }
        let mantissa: u128 = if digits.is_empty() {
            0
        } else {
            digits.parse().map_err(|_| overflow())?
        };
        let mut bytes = mantissa.checked_mul(unit.bytes()).ok_or_else(overflow)?;
        // ⌈x / 10^n⌉ one digit at a time (⌈⌈x/a⌉/b⌉ = ⌈x/(ab)⌉): 10^n overflows for a tiny value
        // with a long fraction (`0.000…1G` is 1 KiB, not too large). Once at 1 it stays 1.
        for _ in 0..frac_part.len() {
            if bytes <= 1 {
                break;
            }
            bytes = bytes.div_ceil(10);
        }
        SizeKib::from_bytes_round_up(bytes).ok_or_else(overflow)
    }

    /// Parses a volume size the way the LINSTOR CLI does: a bare number means GiB.
    pub fn parse(input: &str) -> Result<SizeKib, SizeError> {
        Self::parse_with_default(input, Unit::GiB)
    }

    /// Value in KiB.
    pub fn kib(self) -> u64 {
        self.0
    }

    /// Value in bytes (saturating).
    pub fn bytes(self) -> u64 {
        self.0.saturating_mul(1024)
    }

    /// Checked sum.
    pub fn checked_add(self, other: SizeKib) -> Option<SizeKib> {
        self.0.checked_add(other.0).map(SizeKib)
    }
}

impl std::str::FromStr for SizeKib {
    type Err = SizeError;
    fn from_str(s: &str) -> Result<Self, SizeError> {
        SizeKib::parse(s)
    }
}

impl fmt::Display for SizeKib {
    /// The largest binary unit that shows the value exactly, else two decimals of the largest unit.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        let mut v = self.0;
        let mut i = 0;
        while v >= 1024 && v % 1024 == 0 && i + 1 < UNITS.len() {
            v /= 1024;
            i += 1;
        }
        if v < 1024 || i + 1 == UNITS.len() {
            return write!(f, "{v} {}", UNITS[i]);
        }
        let mut x = self.0 as f64;
        let mut j = 0;
        while x >= 1024.0 && j + 1 < UNITS.len() {
            x /= 1024.0;
            j += 1;
        }
        write!(f, "{x:.2} {}", UNITS[j])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expect: Result<u64, &str>) {
        let got = SizeKib::parse(input)
            .map(|s| s.0)
            .map_err(|e| e.to_string());
        match (&got, &expect) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{input:?}"),
            (Err(a), Err(b)) => assert!(a.contains(b), "{input:?}: {a:?} does not contain {b:?}"),
            _ => panic!("{input:?}: got {got:?}, expected {expect:?}"),
        }
    }

    #[test]
    fn parse_table() {
        check("10G", Ok(10 * 1024 * 1024));
        check("10g", Ok(10 * 1024 * 1024));
        check("10GiB", Ok(10 * 1024 * 1024));
        // Found by fuzzing: zeros ending a fraction, or a long fraction of a tiny value, were
        // refused as "too large".
        check(
            "1.50000000000000000000000000000000000000000TiB",
            Ok(1536 * 1024 * 1024),
        );
        check(
            "0.00000000000000000000000000000000000000000000000001G",
            Ok(1),
        );
        check(
            "0.000000000000000000000000000000000000000000000000000K",
            Ok(0),
        );
        check("10 GiB", Ok(10 * 1024 * 1024));
        check(" 10GiB ", Ok(10 * 1024 * 1024));
        check("10GB", Ok(9_765_625));
        check("512MiB", Ok(512 * 1024));
        check("512M", Ok(512 * 1024));
        check("512MB", Ok(500_000));
        check("1.5TiB", Ok(1_610_612_736));
        check("0.5K", Ok(1));
        check("4096K", Ok(4096));
        check("4096KiB", Ok(4096));
        check("4096kB", Ok(4000));
        check("1000B", Ok(1));
        check("1024B", Ok(1));
        check("1025B", Ok(2));
        check("1", Ok(1024 * 1024)); // bare number: GiB, as the CLI
        check("007", Ok(7 * 1024 * 1024));
        check("0", Ok(0));
        check("2P", Ok(2 << 40));
        check("3PB", Ok(2_929_687_500_000));
        check("16383P", Ok(16383 << 40));
        check("", Err("empty"));
        check("   ", Err("empty"));
        check("G", Err("not a number"));
        check("-1G", Err("is negative"));
        check("-5G", Err("is negative"));
        check(" -0", Err("is negative"));
        check(".5G", Err("not a number"));
        check("5.G", Err("not a number"));
        check("1.2.3G", Err("not a number"));
        check("10X", Err("unknown unit 'X'"));
        check("10GiBs", Err("unknown unit 'GiBs'"));
        check("10 G B", Err("unknown unit 'G B'"));
        check("16384P", Ok(1 << 54));
        check("16777216P", Err("too large"));
        check(
            "99999999999999999999999999999999999999999T",
            Err("too large"),
        );
        check("18446744073709551616", Err("too large"));
    }

    #[test]
    fn bare_number_default_unit() {
        assert_eq!(
            SizeKib::parse_with_default("4096", Unit::KiB).unwrap(),
            SizeKib(4096)
        );
        assert_eq!(
            SizeKib::parse_with_default("4096", Unit::B).unwrap(),
            SizeKib(4)
        );
    }

    #[test]
    fn display() {
        assert_eq!(SizeKib(10 * 1024 * 1024).to_string(), "10 GiB");
        assert_eq!(SizeKib(1536).to_string(), "1.50 MiB");
        assert_eq!(SizeKib(7).to_string(), "7 KiB");
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in ".{0,40}") {
            let _ = SizeKib::parse(&s);
        }

        #[test]
        fn kib_roundtrip(n in 0u64..(u64::MAX / 1024)) {
            proptest::prop_assert_eq!(SizeKib::parse(&format!("{n}K")).unwrap(), SizeKib(n));
        }
    }
}
