//! Inputs the core never takes from the world by itself: the time and randomness.
//!
//! Frontends pass an [`Env`] to every command. Tests and benchmarks use [`SeededEnv`], so the same
//! command sequence always yields the same state (UUIDs, DRBD secrets, generation ids, timestamps).

/// The time and entropy a command may use.
pub trait Env {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&mut self) -> i64;
    /// Fills `buf` with random bytes.
    fn fill_random(&mut self, buf: &mut [u8]);
}

/// A deterministic [`Env`]: a SplitMix64 stream and a clock that advances by `tick_ms` per read.
#[derive(Debug, Clone)]
pub struct SeededEnv {
    state: u64,
    now: i64,
    tick_ms: i64,
}

impl SeededEnv {
    /// Starts at `seed`, with the clock at 2026-01-01T00:00:00Z advancing 1 ms per read.
    pub fn new(seed: u64) -> Self {
        SeededEnv {
            state: seed,
            now: 1_767_225_600_000,
            tick_ms: 1,
        }
    }

    /// Moves the clock forward by `ms` (tests of time-dependent rules).
    pub fn advance(&mut self, ms: i64) {
        self.now = self.now.saturating_add(ms);
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

impl Env for SeededEnv {
    fn now_ms(&mut self) -> i64 {
        self.now += self.tick_ms;
        self.now
    }

    fn fill_random(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            let r = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
}

/// Standard base64 (with padding), for DRBD secrets.
pub fn base64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let b = [c[0], *c.get(1).unwrap_or(&0), *c.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(T[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_vectors() {
        for (i, o) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(i.as_bytes()), o);
        }
        assert_eq!(base64(&[0u8; 15]).len(), 20);
    }

    #[test]
    fn seeded_env_is_deterministic() {
        let (mut a, mut b) = (SeededEnv::new(7), SeededEnv::new(7));
        let (mut x, mut y) = ([0u8; 13], [0u8; 13]);
        a.fill_random(&mut x);
        b.fill_random(&mut y);
        assert_eq!(x, y);
        assert_eq!(a.now_ms(), b.now_ms());
        assert_ne!(SeededEnv::new(8).next_u64(), SeededEnv::new(7).next_u64());
    }
}
