//! Leadership over a shared database: several controllers, one active.
//!
//! An [`Election`] runs on its own connection. A controller that wins gets a [`Fence`]: the
//! term of its leadership, which its [`Store`](super::Store) checks inside every commit's
//! transaction (etcd: the leader key's create revision; PostgreSQL: the lease row's term, holder
//! and expiry, read `FOR SHARE`). A controller whose lease ended can therefore never commit,
//! whatever its clock or its pauses; a new leader is elected only after the old lease expired.
//!
//! The lease is renewed every third of its length; the controller also stops by itself once a
//! whole lease passed without a successful renewal (`crate::ha`), so a paused or partitioned
//! former leader stops talking to satellites before a successor can start.

use std::time::Duration;

use super::StoreError;

/// The proof of leadership a store checks on every commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// This controller's identity in the election.
    pub holder: String,
    /// The term: grows with every new leadership.
    pub term: i64,
}

/// What a controller campaigns with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// Unique per controller process.
    pub holder: String,
    /// Where clients reach it (`http://host:3370`), shown by standbys.
    pub url: String,
    /// The lease length.
    pub lease: Duration,
}

/// The current leader, as a standby sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leader {
    /// Its identity.
    pub holder: String,
    /// Its REST URL.
    pub url: String,
    /// Its term.
    pub term: i64,
}

/// One controller's side of the election.
pub trait Election: Send {
    /// Tries once to become the leader: the fence when this controller now leads, `None` when
    /// another one does.
    fn try_acquire(&mut self) -> Result<Option<Fence>, StoreError>;
    /// Renews the lease of the leadership won; `false` when it is lost.
    fn renew(&mut self) -> Result<bool, StoreError>;
    /// The current leader, if any.
    fn leader(&mut self) -> Result<Option<Leader>, StoreError>;
    /// Gives the leadership up now (a clean shutdown), so that a standby need not wait for the
    /// lease to expire.
    fn resign(&mut self) -> Result<(), StoreError>;
}

/// The value of a leader record (etcd's leader key, PostgreSQL's `url` column).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) struct Record {
    pub holder: String,
    pub url: String,
}
