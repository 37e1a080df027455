//! Quorum.
