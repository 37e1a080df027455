//! The placement simulator: generated clusters or the model's own, a workload, and the figures.

use linstor_core::placement::Strategy;
use linstor_core::placement::sim::{ClusterSpec, Rng, SimReport, Sizes, Workload, generate, run};
use linstor_core::state::ClusterState;

use crate::cluster::linstor_cluster;
use crate::error::{Failure, linstor_error, linstor_result};
use crate::panic::ffi_call;
use crate::strings::{arg_ref, check_out, write_out};

/// How the simulated autoplacer scores candidates (passed as `uint32_t`).
#[repr(u32)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum linstor_strategy {
    /// Our default: lowest relative fill after placement.
    LINSTOR_STRATEGY_BALANCED = 0,
    /// LINSTOR's weighted strategies (MaxFreeSpace, MinReservedSpace, MinRscCount).
    LINSTOR_STRATEGY_LINSTOR = 1,
}

/// A generated cluster: nodes `node00000…`, online, labelled `Aux/zone` (`z0…`) and `Aux/rack`
/// round-robin, with empty pools `pool1…`. Plain data: fill it with
/// `linstor_sim_cluster_default` and change fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct linstor_sim_cluster {
    /// Nodes (1–10000).
    pub nodes: u32,
    /// Diskful pools per node (1–16).
    pub pools_per_node: u32,
    /// Pool size in GiB (at least 1).
    pub pool_gib: u64,
    /// 0 or 1: identical pools; n > 1: sizes uniform in `pool_gib × [1, n]`.
    pub pool_size_max_factor: u32,
    /// Zones (`Aux/zone`), 0 for none.
    pub zones: u32,
    /// Racks per zone (`Aux/rack`), 0 for none.
    pub racks_per_zone: u32,
    /// Thin pools (LVM_THIN) instead of thick (LVM).
    pub thin: bool,
}

/// A workload to replay. Plain data: fill it with `linstor_sim_workload_default` and change
/// fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct linstor_sim_workload {
    /// Operations to run, at most (1–1000000).
    pub ops: u32,
    /// Stop at the first refused spawn (capacity questions).
    pub stop_at_first_refusal: bool,
    /// Replicas per resource (1–32).
    pub replicas: u32,
    /// Smallest resource, GiB (at least 1).
    pub size_min_gib: u64,
    /// Largest resource, GiB (at least `size_min_gib`).
    pub size_max_gib: u64,
    /// Percent of operations that delete a random resource.
    pub delete_percent: u32,
    /// Percent of operations that grow a random resource (by up to 50 %).
    pub resize_percent: u32,
    /// Fail a random node every this many operations (its replicas are re-placed); 0: never.
    pub fail_every: u32,
    /// Spread replicas over `Aux/zone`.
    pub zone_spread: bool,
    /// Satellites report free space every this many operations (1: always fresh).
    pub report_every: u32,
    /// A `linstor_strategy` value.
    pub strategy: u32,
}

/// What a simulation produced. Plain data, written by `linstor_sim_run` and
/// `linstor_cluster_simulate`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct linstor_sim_report {
    /// Placement calls.
    pub placements: u64,
    /// Refused placements (spawns and re-placements).
    pub refusals: u64,
    /// Resources spawned.
    pub spawned: u64,
    /// Resources deleted.
    pub deleted: u64,
    /// Resizes applied.
    pub resized: u64,
    /// Resizes refused for lack of space.
    pub resize_refused: u64,
    /// Nodes failed.
    pub failed_nodes: u64,
    /// Replicas re-placed after failures.
    pub replaced: u64,
    /// Data (one copy) placed before the first refusal, KiB.
    pub placed_before_refusal_kib: u64,
    /// Upper bound of the data (one copy) the cluster can hold with this spread, KiB.
    pub bound_kib: u64,
    /// `placed_before_refusal_kib / bound_kib` (1.0 = perfect packing).
    pub placed_fraction_of_bound: f64,
    /// Fullest pool's fill divided by the mean fill (1.0 = perfectly balanced).
    pub max_over_mean: f64,
    /// Emptiest pool's fill divided by the mean fill.
    pub min_over_mean: f64,
}

impl From<SimReport> for linstor_sim_report {
    fn from(r: SimReport) -> Self {
        let n = |v: usize| u64::try_from(v).unwrap_or(u64::MAX);
        linstor_sim_report {
            placements: n(r.placements),
            refusals: n(r.refusals),
            spawned: n(r.spawned),
            deleted: n(r.deleted),
            resized: n(r.resized),
            resize_refused: n(r.resize_refused),
            failed_nodes: n(r.failed_nodes),
            replaced: n(r.replaced),
            placed_before_refusal_kib: r.placed_before_refusal_kib,
            bound_kib: r.bound_kib,
            placed_fraction_of_bound: r.placed_fraction_of_bound,
            max_over_mean: r.max_over_mean,
            min_over_mean: r.min_over_mean,
        }
    }
}

const DEFAULT_CLUSTER: linstor_sim_cluster = linstor_sim_cluster {
    nodes: 12,
    pools_per_node: 1,
    pool_gib: 1024,
    pool_size_max_factor: 1,
    zones: 3,
    racks_per_zone: 0,
    thin: false,
};

const DEFAULT_WORKLOAD: linstor_sim_workload = linstor_sim_workload {
    ops: 10_000,
    stop_at_first_refusal: true,
    replicas: 3,
    size_min_gib: 50,
    size_max_gib: 50,
    delete_percent: 0,
    resize_percent: 0,
    fail_every: 0,
    zone_spread: true,
    report_every: 1,
    strategy: 0,
};

fn range<T: PartialOrd + std::fmt::Display + Copy>(
    what: &str,
    v: T,
    lo: T,
    hi: T,
) -> Result<T, Failure> {
    if v < lo || v > hi {
        return Err(Failure::invalid(format!("{what} = {v} is out of range"))
            .correction(format!("Use a value from {lo} to {hi}.")));
    }
    Ok(v)
}

fn to_usize(v: u32) -> usize {
    usize::try_from(v).unwrap_or(usize::MAX)
}

fn cluster_spec(c: &linstor_sim_cluster) -> Result<ClusterSpec, Failure> {
    let nodes = range("nodes", c.nodes, 1, 10_000)?;
    Ok(ClusterSpec {
        nodes: to_usize(nodes),
        pools_per_node: to_usize(range("pools_per_node", c.pools_per_node, 1, 16)?),
        base_gib: range("pool_gib", c.pool_gib, 1, 1 << 30)?,
        sizes: if c.pool_size_max_factor <= 1 {
            Sizes::Identical
        } else {
            Sizes::Spread {
                max_factor: u64::from(range(
                    "pool_size_max_factor",
                    c.pool_size_max_factor,
                    2,
                    1000,
                )?),
            }
        },
        zones: to_usize(range("zones", c.zones, 0, nodes)?),
        racks_per_zone: to_usize(range("racks_per_zone", c.racks_per_zone, 0, nodes)?),
        thin: c.thin,
    })
}

fn workload(w: &linstor_sim_workload) -> Result<(Workload, Strategy), Failure> {
    let lo = range("size_min_gib", w.size_min_gib, 1, 1 << 30)?;
    let hi = range("size_max_gib", w.size_max_gib, lo, 1 << 30)?;
    let del = range("delete_percent", w.delete_percent, 0, 100)?;
    let res = range("resize_percent", w.resize_percent, 0, 100 - del)?;
    let strategy = match w.strategy {
        0 => Strategy::Balanced,
        1 => Strategy::Linstor,
        v => {
            return Err(
                Failure::invalid(format!("{v} is not a valid linstor_strategy"))
                    .correction("Pass LINSTOR_STRATEGY_BALANCED or LINSTOR_STRATEGY_LINSTOR."),
            );
        }
    };
    Ok((
        Workload {
            ops: to_usize(range("ops", w.ops, 1, 1_000_000)?),
            stop_at_first_refusal: w.stop_at_first_refusal,
            replicas: range("replicas", w.replicas, 1, 32)?,
            size_gib: (lo, hi),
            delete_pct: u64::from(del),
            resize_pct: u64::from(res),
            fail_every: (w.fail_every > 0).then(|| to_usize(w.fail_every)),
            zone_spread: w.zone_spread,
            report_every: to_usize(range("report_every", w.report_every, 1, u32::MAX)?),
        },
        strategy,
    ))
}

fn simulate(
    state: ClusterState,
    w: &Workload,
    strategy: Strategy,
    seed: u64,
) -> linstor_sim_report {
    run(state, w, strategy, seed, &mut |s, c, r| c.autoplace(s, r)).into()
}

/// Writes the default generated cluster (12 nodes in 3 zones, one 1 TiB thick pool each).
///
/// # Safety
/// `cluster_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_sim_cluster_default(
    cluster_out: *mut linstor_sim_cluster,
) -> linstor_result {
    // SAFETY: `cluster_out` is NULL or writable (contract); no error out-parameter.
    unsafe {
        ffi_call(std::ptr::null_mut(), || {
            check_out(cluster_out, "cluster_out")?;
            write_out(cluster_out, DEFAULT_CLUSTER);
            Ok(())
        })
    }
}

/// Writes the default workload: 50 GiB resources with 3 replicas spread over zones, spawned
/// until the first refusal (at most 10000), balanced strategy, fresh free-space reports.
///
/// # Safety
/// `workload_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_sim_workload_default(
    workload_out: *mut linstor_sim_workload,
) -> linstor_result {
    // SAFETY: `workload_out` is NULL or writable (contract); no error out-parameter.
    unsafe {
        ffi_call(std::ptr::null_mut(), || {
            check_out(workload_out, "workload_out")?;
            write_out(workload_out, DEFAULT_WORKLOAD);
            Ok(())
        })
    }
}

/// Generates a cluster from `cluster` (with `seed`), replays `workload` on it and writes the
/// figures to `*report_out`. Deterministic: the same inputs give the same report.
/// `LINSTOR_INVALID_ARGUMENT` names a parameter out of range. Thread-safe (touches no handle).
///
/// # Safety
/// `cluster` and `workload` are NULL or valid; `report_out` and `err_out` are NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_sim_run(
    cluster: *const linstor_sim_cluster,
    workload: *const linstor_sim_workload,
    seed: u64,
    report_out: *mut linstor_sim_report,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`) need.
    unsafe {
        ffi_call(err_out, || {
            let spec = cluster_spec(arg_ref(cluster, "cluster")?)?;
            let (w, strategy) = self::workload(arg_ref(workload, "workload")?)?;
            check_out(report_out, "report_out")?;
            let state = generate(&spec, &mut Rng::new(seed));
            write_out(report_out, simulate(state, &w, strategy, seed));
            Ok(())
        })
    }
}

/// Replays `workload` on a copy of the model's current state (the model is not changed) and
/// writes the figures to `*report_out`. Nodes need `Aux/zone` labels for `zone_spread`.
///
/// # Safety
/// `cluster` is NULL or live; `workload` is NULL or valid; `report_out` and `err_out` are NULL
/// or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn linstor_cluster_simulate(
    cluster: *const linstor_cluster,
    workload: *const linstor_sim_workload,
    seed: u64,
    report_out: *mut linstor_sim_report,
    err_out: *mut *mut linstor_error,
) -> linstor_result {
    // SAFETY: each pointer argument is NULL or valid as the `# Safety` section above requires;
    // that is all the pointer helpers used in the body (`arg_*`, `write_out`) need.
    unsafe {
        ffi_call(err_out, || {
            let c = arg_ref(cluster, "cluster")?;
            let (w, strategy) = self::workload(arg_ref(workload, "workload")?)?;
            check_out(report_out, "report_out")?;
            let state = c.with_state(ClusterState::clone)?;
            write_out(report_out, simulate(state, &w, strategy, seed));
            Ok(())
        })
    }
}
