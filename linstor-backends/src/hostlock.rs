//! A host-wide advisory lock (`flock(2)` on a file) around allocations that tools make racily.
//!
//! `losetup -f --show <file>` finds a free loop device, then attaches the file to it; two
//! processes doing that at once can pick the same device, and util-linux's losetup then backs
//! off for 200 ms before it tries again. One satellite per host never races with itself (the
//! provider attaches one file at a time per pool), but several satellites on one host
//! (`scripts/local-cluster`) or several pools do. The FILE providers take this lock around
//! `losetup -f`, so attaches queue for milliseconds instead of sleeping for 200.
//!
//! The lock is advisory: other programs are not stopped by it, and if the lock file cannot be
//! opened or the lock is not had within the wait, the caller goes on without it (losetup
//! itself stays correct, only slower).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rustix::fs::{FlockOperation, flock};

/// The default lock file for loop-device allocation (`/run/lock` is the FHS place for
/// host-wide lock files; the system's temp dir where it does not exist).
pub fn default_loop_lock() -> PathBuf {
    let run_lock = Path::new("/run/lock");
    let dir = if run_lock.is_dir() {
        run_lock.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    dir.join("linstor-losetup.lock")
}

/// A held lock; released when dropped (the file is closed).
#[derive(Debug)]
pub struct HostLock {
    _file: File,
}

impl HostLock {
    /// Takes the exclusive lock on `path` (created if missing), polling every millisecond for
    /// at most `wait`. `None` if the file cannot be opened or the wait ran out: the reason is
    /// logged here, and the caller goes on unlocked.
    pub async fn acquire(path: &Path, wait: Duration) -> Option<HostLock> {
        let file = match OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(path)
        {
            Ok(f) => f,
            Err(e) => {
                tracing::warn!(lock = %path.display(), error = %e, "cannot open the host lock; going on without it");
                return None;
            }
        };
        let start = Instant::now();
        loop {
            match flock(&file, FlockOperation::NonBlockingLockExclusive) {
                Ok(()) => return Some(HostLock { _file: file }),
                Err(rustix::io::Errno::WOULDBLOCK | rustix::io::Errno::INTR) => {}
                Err(e) => {
                    tracing::warn!(lock = %path.display(), error = %e, "cannot take the host lock; going on without it");
                    return None;
                }
            }
            if start.elapsed() >= wait {
                tracing::warn!(lock = %path.display(), waited_ms = wait.as_millis(), "host lock still held; going on without it");
                return None;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    }

    #[test]
    fn a_second_holder_waits_until_the_first_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("l.lock");
        rt().block_on(async {
            let first = HostLock::acquire(&path, Duration::from_millis(50))
                .await
                .expect("free lock");
            // Held: a second open of the file does not get it within the wait.
            assert!(
                HostLock::acquire(&path, Duration::from_millis(20))
                    .await
                    .is_none()
            );
            drop(first);
            assert!(
                HostLock::acquire(&path, Duration::from_millis(20))
                    .await
                    .is_some()
            );
        });
    }

    #[test]
    fn an_unopenable_lock_file_is_not_an_error() {
        let missing = Path::new("/nonexistent-dir/for/sure/l.lock");
        assert!(
            rt().block_on(HostLock::acquire(missing, Duration::from_millis(5)))
                .is_none()
        );
    }
}
