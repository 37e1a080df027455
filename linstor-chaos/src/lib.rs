//! `linstor-chaos`: the chaos run of issue 14. Seeded clients spawn, resize, snapshot, restore
//! and delete through the REST API while the controller and satellites of a `local-cluster`
//! are killed with SIGKILL and started again; after each round the cluster must converge, keep
//! everything that was acknowledged, hold no orphan and no half-made object, and the
//! controller must agree with what the satellites have.
//!
//! * [`plan`]: seeded choices: the next operation of a client, the killer's schedule;
//! * [`ops`]: one operation over REST with a careful client's retries, and what its answers
//!   let the client believe;
//! * [`ledger`]: expectations as sets of allowed values, checked and narrowed after a round;
//! * [`observe`]: what the cluster holds, as one plain structure (pure parsing);
//! * [`check`]: the rules of a converged cluster (pending, orphans, missing, disagreement,
//!   commands run);
//! * [`cluster`]: `scripts/local-cluster` and the hosts' files, loop devices and SIMULATED DRBD
//!   state;
//! * [`round`]: one round: run the clients and the killer, wait, check.

pub mod check;
pub mod cluster;
pub mod ledger;
pub mod observe;
pub mod ops;
pub mod plan;
pub mod round;
