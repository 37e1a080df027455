//! `LinkConfig` (frame limit, handshake timeout, protocol versions) and `VersionRange` with the
//! negotiation rule: the highest version both sides speak.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The default maximum frame payload: 64 MiB (a full sync of a large node fits).
pub const DEFAULT_MAX_FRAME: u32 = 64 * 1024 * 1024;

/// The default time the whole handshake may take.
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// An inclusive range of message protocol versions one side speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct VersionRange {
    /// The oldest version spoken.
    pub min: u32,
    /// The newest version spoken.
    pub max: u32,
}

impl VersionRange {
    /// The range `min..=max`.
    #[must_use]
    pub const fn new(min: u32, max: u32) -> Self {
        Self { min, max }
    }

    /// Whether the range holds at least one version (`min <= max`).
    #[must_use]
    pub const fn is_valid(self) -> bool {
        self.min <= self.max
    }

    /// The highest version both ranges hold, if any.
    #[must_use]
    pub fn highest_common(self, other: Self) -> Option<u32> {
        let (lo, hi) = (self.min.max(other.min), self.max.min(other.max));
        (self.is_valid() && other.is_valid() && lo <= hi).then_some(hi)
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "versions {}..={}", self.min, self.max)
    }
}

/// How a link is set up and which limits it keeps; the same for both roles.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkConfig {
    /// The largest frame payload sent or accepted after the handshake. Larger incoming frames
    /// are refused from their length prefix, before allocating.
    pub max_frame: u32,
    /// How long the whole handshake may take.
    pub handshake_timeout: Duration,
    /// The message protocol versions this side speaks (the message types are the caller's,
    /// so is their versioning); the link settles on the highest common one.
    pub versions: VersionRange,
}

impl Default for LinkConfig {
    fn default() -> Self {
        Self {
            max_frame: DEFAULT_MAX_FRAME,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            versions: VersionRange::new(1, 1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ours: (u32, u32), theirs: (u32, u32), want: Option<u32>) {
        let (a, b) = (
            VersionRange::new(ours.0, ours.1),
            VersionRange::new(theirs.0, theirs.1),
        );
        assert_eq!(a.highest_common(b), want, "{a} with {b}");
        assert_eq!(b.highest_common(a), want, "symmetric: {b} with {a}");
    }

    #[test]
    fn highest_common_version() {
        check((1, 1), (1, 1), Some(1));
        check((1, 3), (2, 5), Some(3));
        check((1, 5), (2, 3), Some(3));
        check((1, 2), (2, 2), Some(2));
        check((1, 2), (3, 4), None);
        check((3, 1), (1, 3), None);
        check((0, u32::MAX), (7, 7), Some(7));
    }
}
