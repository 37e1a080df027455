//! `linstor-fuzz`: time-bounded, seeded fuzzing of the workspace's parsers inside `cargo test`
//! (stable toolchain, no `cargo fuzz`).
//!
//! [`fuzz`] runs a proptest [`Strategy`] and a property for a wall-clock budget (3 s by
//! default, `FUZZ_SECONDS` to run longer) in batches of [`BATCH`] cases. Every batch runs under
//! its own seed, derived from the target's name (or from `FUZZ_SEED`), so a run is a
//! deterministic sequence of cases that a longer budget only extends. On a failure proptest
//! shrinks the input, and the panic names the minimal input, the reason and the
//! `FUZZ_SEED` that replays the failing batch first. On success it prints one line:
//! `fuzz <target>: N cases in S s, 0 failures`.
//!
//! [`mutate`] builds the inputs: arbitrary bytes, and recorded tool output or messages mutated
//! (bytes flipped, cut, lines duplicated or dropped, huge numbers, invalid UTF-8, very long
//! lines, the target's own words).
//!
//! A crate of its own (a dev-dependency of the crates it tests) because the driver needs a
//! clock and the environment, which `linstor-core` may not touch, and it depends on no
//! workspace crate, so any crate can use it without a cycle.

pub mod mutate;

use std::fmt::Debug;
use std::time::{Duration, Instant};

use proptest::strategy::Strategy;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseResult, TestError, TestRng, TestRunner};

/// The budget per target when `FUZZ_SECONDS` is not set.
pub const DEFAULT_SECONDS: f64 = 3.0;

/// Cases per batch (the clock is read between batches; one seed per batch).
pub const BATCH: u32 = 64;

/// What one target did.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    /// The target's name.
    pub target: String,
    /// Cases run (all passed).
    pub cases: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// The seed of the first batch.
    pub seed: u64,
}

/// The budget: `FUZZ_SECONDS` (a positive number of seconds) or [`DEFAULT_SECONDS`].
pub fn budget() -> Duration {
    let secs = std::env::var("FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(DEFAULT_SECONDS);
    Duration::from_secs_f64(secs)
}

/// The seed of the first batch: `FUZZ_SEED` if set, else a hash of the target's name (fixed,
/// but different per target).
pub fn first_seed(target: &str) -> u64 {
    if let Some(s) = std::env::var("FUZZ_SEED")
        .ok()
        .and_then(|s| s.trim().parse().ok())
    {
        return s;
    }
    // FNV-1a.
    target.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The seed of batch `i` (batch 0 runs under `first` itself, so a reported seed replays its
/// batch first).
pub fn batch_seed(first: u64, i: u64) -> u64 {
    if i == 0 {
        return first;
    }
    // splitmix64.
    let mut z = first.wrapping_add(i.wrapping_mul(0x9e37_79b9_7f4a_7c15));
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn runner(seed: u64, cases: u32) -> TestRunner {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&batch_seed(seed, i as u64 + 1).to_le_bytes());
    }
    let config = Config {
        cases,
        failure_persistence: None,
        // Shrinking stops after 60 s; the input found by then is reported.
        max_shrink_time: 60_000,
        rng_algorithm: RngAlgorithm::ChaCha,
        ..Config::default()
    };
    TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes))
}

/// Runs `property` on values of `strategy` for [`budget`], and panics with the minimal failing
/// input, the reason and the seed to replay it on the first failure.
pub fn fuzz<S>(target: &str, strategy: S, property: impl Fn(S::Value) -> TestCaseResult) -> Stats
where
    S: Strategy,
    S::Value: Debug,
{
    fuzz_for(target, budget(), strategy, property)
}

/// [`fuzz`] with an explicit budget (at least one batch runs).
pub fn fuzz_for<S>(
    target: &str,
    budget: Duration,
    strategy: S,
    property: impl Fn(S::Value) -> TestCaseResult,
) -> Stats
where
    S: Strategy,
    S::Value: Debug,
{
    let first = first_seed(target);
    let start = Instant::now();
    let mut cases = 0u64;
    let mut batch = 0u64;
    loop {
        let seed = batch_seed(first, batch);
        match runner(seed, BATCH).run(&strategy, &property) {
            Ok(()) => cases += u64::from(BATCH),
            Err(TestError::Fail(reason, input)) => {
                report(target, cases, start.elapsed(), 1);
                panic!(
                    "fuzz {target}: failed after {cases} passing cases: {reason}\n\
                     minimal input: {input:?}\n\
                     replay: FUZZ_SEED={seed} (the failing batch runs first)"
                );
            }
            Err(TestError::Abort(reason)) => {
                panic!("fuzz {target}: aborted after {cases} cases: {reason} (FUZZ_SEED={seed})")
            }
        }
        batch += 1;
        if start.elapsed() >= budget {
            break;
        }
    }
    let stats = Stats {
        target: target.to_owned(),
        cases,
        elapsed: start.elapsed(),
        seed: first,
    };
    report(target, cases, stats.elapsed, 0);
    stats
}

/// The one line a target prints (test output shows it with `--nocapture`).
#[allow(clippy::print_stderr)]
fn report(target: &str, cases: u64, elapsed: Duration, failures: u32) {
    eprintln!(
        "fuzz {target}: {cases} cases in {:.1} s, {failures} failures",
        elapsed.as_secs_f64()
    );
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;

    use super::*;

    #[test]
    fn batches_are_seeded_deterministically_and_distinctly() {
        assert_eq!(batch_seed(7, 0), 7);
        assert_eq!(batch_seed(7, 3), batch_seed(7, 3));
        assert_ne!(batch_seed(7, 1), batch_seed(7, 2));
        assert_ne!(first_seed("a"), first_seed("b"));
        let gen_values = |seed| {
            let mut r = runner(seed, 1);
            (0..8)
                .map(|_| {
                    any::<u64>()
                        .new_tree(&mut r)
                        .map(|t| t.current())
                        .unwrap_or(0)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(gen_values(42), gen_values(42));
        assert_ne!(gen_values(42), gen_values(43));
    }

    #[test]
    fn a_passing_property_runs_whole_batches_for_the_budget() {
        let s = fuzz_for("test", Duration::ZERO, any::<u8>(), |_| Ok(()));
        assert_eq!(s.cases, u64::from(BATCH));
        assert_eq!(s.target, "test");
    }

    #[test]
    fn a_failure_reports_the_minimal_input_and_the_seed() {
        let got = std::panic::catch_unwind(|| {
            fuzz_for("fails", Duration::from_secs(5), any::<u32>(), |x| {
                prop_assert!(x < 1000);
                Ok(())
            })
        });
        let msg = got
            .err()
            .and_then(|e| e.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        assert!(msg.contains("minimal input: 1000\n"), "{msg}");
        assert!(msg.contains("FUZZ_SEED="), "{msg}");
    }
}
