//! Input strategies for parsers: arbitrary bytes, and recorded samples (real tool output,
//! encoded messages) mutated the ways broken or hostile input differs from good input.
//!
//! A mutated input is a sample and a list of [`Mutation`]s applied in order, so proptest shrinks
//! it towards the untouched sample by dropping mutations; the value a property sees (and a
//! failure reports) is the resulting bytes. Positions are raw numbers taken modulo the length
//! they index (shrinking moves them towards the start).

use std::fmt;

use proptest::prelude::*;

/// An input: bytes that print as an escaped byte string (the whole input up to 4 KiB, else its
/// start, its end and its length; the reported seed replays it whole).
#[derive(Clone, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 4096;
        if self.0.len() <= SHOWN {
            return write!(f, "b\"{}\"", self.0.escape_ascii());
        }
        let (head, tail) = (&self.0[..SHOWN / 2], &self.0[self.0.len() - SHOWN / 2..]);
        write!(
            f,
            "b\"{}\" … b\"{}\" ({} bytes)",
            head.escape_ascii(),
            tail.escape_ascii(),
            self.0.len()
        )
    }
}

/// Numbers at and beyond the edges of the integer types, and malformed ones.
pub const HUGE_NUMBERS: &[&str] = &[
    "0",
    "-1",
    "-0",
    "255",
    "256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "4294967295",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "340282366920938463463374607431768211456",
    "99999999999999999999999999999999999999999999999999",
    "1e308",
    "1e309",
    "NaN",
    "inf",
    "0x10",
    "1.5",
    "100.00",
    "100.01",
    "00000000000000000000000000000000000000000000000001",
    "0.00000000000000000000000000000000000000000000000001",
];

/// Bytes that are not UTF-8 (a lone continuation byte, a cut sequence, overlong, surrogate).
pub const INVALID_UTF8: &[&[u8]] = &[
    b"\xff",
    b"\x80",
    b"\xc3",
    b"\xe2\x82",
    b"\xc0\xaf",
    b"\xed\xa0\x80",
    b"\xf4\x90\x80\x80",
];

/// Separators and characters parsers split or trim on (and a multi-byte one, for slicing).
pub const SEPARATORS: &[&str] = &[
    "\n", "\r\n", "\r", "\t", " ", ";", ":", ",", ".", "=", "-", "/", "@", "{", "}", "[", "]",
    "\"", "\\", "\0", "é", "\u{feff}", "\u{2028}",
];

/// One change to an input.
#[derive(Debug, Clone)]
pub enum Mutation {
    /// Flip one bit of one byte.
    FlipBit(usize, u8),
    /// Overwrite one byte.
    SetByte(usize, u8),
    /// Cut the input at a position.
    Truncate(usize),
    /// Remove up to `n` bytes at a position.
    Delete(usize, u8),
    /// Insert a copy of one line after it.
    DuplicateLine(usize),
    /// Remove one line.
    DeleteLine(usize),
    /// Swap two lines.
    SwapLines(usize, usize),
    /// Insert bytes at a position.
    Insert(usize, Vec<u8>),
    /// Replace the `n`th run of digits with a number of [`HUGE_NUMBERS`].
    ReplaceNumber(usize, usize),
    /// Insert a line of `len` copies of one byte (very long lines).
    LongLine(usize, u8, usize),
}

/// `n` lines of `bytes` as ranges, newline excluded (the last may be empty).
fn line_spans(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'\n' {
            out.push((start, i + 1));
            start = i + 1;
        }
    }
    if start < bytes.len() {
        out.push((start, bytes.len()));
    }
    out
}

/// The runs of ASCII digits in `bytes`.
fn digit_runs(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_digit() {
                i += 1;
            }
            out.push((start, i));
        } else {
            i += 1;
        }
    }
    out
}

impl Mutation {
    /// Applies this mutation to `input`.
    pub fn apply(&self, input: &mut Vec<u8>) {
        let pos = |ix: &usize, len: usize| ix % (len + 1);
        match self {
            Mutation::FlipBit(ix, bit) if !input.is_empty() => {
                let i = ix % input.len();
                input[i] ^= 1 << (bit % 8);
            }
            Mutation::SetByte(ix, b) if !input.is_empty() => {
                let i = ix % input.len();
                input[i] = *b;
            }
            Mutation::Truncate(ix) => input.truncate(pos(ix, input.len())),
            Mutation::Delete(ix, n) => {
                let at = pos(ix, input.len());
                let end = (at + usize::from(*n)).min(input.len());
                input.drain(at..end);
            }
            Mutation::DuplicateLine(ix) | Mutation::DeleteLine(ix) => {
                let lines = line_spans(input);
                if lines.is_empty() {
                    return;
                }
                let (s, e) = lines[ix % lines.len()];
                if matches!(self, Mutation::DeleteLine(_)) {
                    input.drain(s..e);
                } else {
                    let mut line = input[s..e].to_vec();
                    if line.last() != Some(&b'\n') {
                        line.insert(0, b'\n');
                    }
                    input.splice(e..e, line);
                }
            }
            Mutation::SwapLines(a, b) => {
                let lines = line_spans(input);
                if lines.len() < 2 {
                    return;
                }
                let (a, b) = (a % lines.len(), b % lines.len());
                let (first, second) = (lines[a.min(b)], lines[a.max(b)]);
                if first == second {
                    return;
                }
                let mut out = input[..first.0].to_vec();
                out.extend_from_slice(&input[second.0..second.1]);
                out.extend_from_slice(&input[first.1..second.0]);
                out.extend_from_slice(&input[first.0..first.1]);
                out.extend_from_slice(&input[second.1..]);
                *input = out;
            }
            Mutation::Insert(ix, bytes) => {
                let at = pos(ix, input.len());
                input.splice(at..at, bytes.iter().copied());
            }
            Mutation::ReplaceNumber(which, number) => {
                let runs = digit_runs(input);
                let n = HUGE_NUMBERS[number % HUGE_NUMBERS.len()].as_bytes();
                match runs.get(which % runs.len().max(1)) {
                    Some(&(s, e)) => {
                        input.splice(s..e, n.iter().copied());
                    }
                    None => input.extend_from_slice(n),
                }
            }
            Mutation::LongLine(ix, b, len) => {
                let at = pos(ix, input.len());
                let mut line = vec![*b; *len];
                line.push(b'\n');
                input.splice(at..at, line);
            }
            Mutation::FlipBit(..) | Mutation::SetByte(..) => {}
        }
    }
}

/// Bytes worth inserting: a word of `dictionary`, a huge number, invalid UTF-8, a separator,
/// or a few arbitrary bytes.
fn insertion(dictionary: &'static [&'static str]) -> BoxedStrategy<Vec<u8>> {
    let words = if dictionary.is_empty() {
        SEPARATORS
    } else {
        dictionary
    };
    prop_oneof![
        3 => prop::sample::select(words).prop_map(|w| w.as_bytes().to_vec()),
        2 => prop::sample::select(HUGE_NUMBERS).prop_map(|w| w.as_bytes().to_vec()),
        1 => prop::sample::select(INVALID_UTF8).prop_map(<[u8]>::to_vec),
        2 => prop::sample::select(SEPARATORS).prop_map(|w| w.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 1..8),
    ]
    .boxed()
}

/// One mutation, with insertions drawn from `dictionary` (the target's own words).
pub fn mutation(dictionary: &'static [&'static str]) -> BoxedStrategy<Mutation> {
    prop_oneof![
        2 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::FlipBit(i, b)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::SetByte(i, b)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(i, n)| Mutation::Delete(i, n % 16)),
        2 => any::<usize>().prop_map(Mutation::DuplicateLine),
        1 => any::<usize>().prop_map(Mutation::DeleteLine),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
        4 => (any::<usize>(), insertion(dictionary)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        3 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::ReplaceNumber(a, b)),
        1 => (any::<usize>(), prop::sample::select(&b"a0 :;\t{\"/"[..]), 1usize..70_000)
            .prop_map(|(i, b, n)| Mutation::LongLine(i, b, n)),
    ]
    .boxed()
}

/// One of `samples`, changed by 1 to 8 mutations.
pub fn mutated(samples: Vec<Vec<u8>>, dictionary: &'static [&'static str]) -> BoxedStrategy<Bytes> {
    assert!(!samples.is_empty(), "mutated() needs at least one sample");
    (
        prop::sample::select(samples),
        prop::collection::vec(mutation(dictionary), 1..8),
    )
        .prop_map(|(mut input, ms)| {
            for m in &ms {
                m.apply(&mut input);
            }
            Bytes(input)
        })
        .boxed()
}

/// Arbitrary bytes, up to `max` of them.
pub fn bytes(max: usize) -> BoxedStrategy<Bytes> {
    prop::collection::vec(any::<u8>(), 0..max)
        .prop_map(Bytes)
        .boxed()
}

/// The usual mix for a parser with recorded samples: mostly mutated samples, some untouched
/// ones, some arbitrary bytes, and the lines of two samples interleaved.
pub fn inputs(samples: Vec<Vec<u8>>, dictionary: &'static [&'static str]) -> BoxedStrategy<Bytes> {
    let spliced = (
        prop::sample::select(samples.clone()),
        prop::sample::select(samples.clone()),
        any::<usize>(),
    )
        .prop_map(|(a, b, at)| {
            let at = at % (a.len() + 1);
            let mut out = a[..at].to_vec();
            out.extend_from_slice(&b);
            Bytes(out)
        });
    prop_oneof![
        6 => mutated(samples.clone(), dictionary),
        1 => prop::sample::select(samples).prop_map(Bytes),
        2 => bytes(512),
        1 => spliced,
    ]
    .boxed()
}

/// `bytes` as text the way the runner hands tool output to parsers (invalid UTF-8 becomes
/// U+FFFD, a three-byte character).
pub fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each line of every sample, as a sample of its own (for line parsers).
pub fn lines_of(samples: &[Vec<u8>]) -> Vec<Vec<u8>> {
    samples
        .iter()
        .flat_map(|s| s.split(|b| *b == b'\n'))
        .filter(|l| !l.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ix(n: usize) -> usize {
        n
    }

    fn check(input: &str, m: Mutation, want: &str) {
        let mut b = input.as_bytes().to_vec();
        m.apply(&mut b);
        assert_eq!(String::from_utf8_lossy(&b), want, "{m:?} on {input:?}");
    }

    #[test]
    fn mutations_cases() {
        check("ab\ncd\n", Mutation::Truncate(ix(0)), "");
        check("ab\ncd\n", Mutation::DuplicateLine(ix(0)), "ab\nab\ncd\n");
        check("ab\ncd", Mutation::DuplicateLine(ix(0)), "ab\nab\ncd");
        check("ab\ncd\n", Mutation::DeleteLine(ix(0)), "cd\n");
        check(
            "ab\ncd\nef\n",
            Mutation::SwapLines(ix(0), ix(0)),
            "ab\ncd\nef\n",
        );
        check(
            "x 12 y 345",
            Mutation::ReplaceNumber(ix(0), ix(1)),
            "x -1 y 345",
        );
        check("", Mutation::FlipBit(ix(0), 0), "");
        check("ab", Mutation::Insert(ix(0), b"--".to_vec()), "--ab");
        check("ab", Mutation::LongLine(ix(0), b'z', 3), "zzz\nab");
        check("abcdef", Mutation::Delete(ix(0), 2), "cdef");
    }

    #[test]
    fn bytes_print_escaped_and_long_ones_cut() {
        assert_eq!(format!("{:?}", Bytes(b"a\n\xff".to_vec())), r#"b"a\n\xff""#);
        let long = format!("{:?}", Bytes(vec![b'x'; 10_000]));
        assert!(
            long.ends_with("(10000 bytes)") && long.len() < 4200,
            "{long}"
        );
    }

    #[test]
    fn lines_of_splits_samples() {
        let got = lines_of(&[b"a\nb\n".to_vec(), b"c".to_vec()]);
        assert_eq!(got, vec![b"a".to_vec(), b"b".to_vec(), b"c".to_vec()]);
    }
}
