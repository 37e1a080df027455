//! Atomic `.res` files: write, verify, rename, keep the last good copy, restore it on failure.
//!
//! [`ResFileStore`] owns one directory (`/var/lib/linstor.d` on a satellite, a temp dir in tests)
//! with one `<rsc>.res` per resource and a `.backup/` subdirectory:
//!
//! 1. [`install`](ResFileStore::install) writes `<rsc>.res_tmp`, asks a [`ConfigChecker`] (the
//!    real one runs `drbdadm --config-to-test <rsc>.res_tmp --config-to-exclude <rsc>.res sh-nop`)
//!    and only then renames it over `<rsc>.res`. A rejected file is removed and the old one stays.
//!    Content equal to the current file after its first `resource "` line (the header may carry a
//!    timestamp) is not rewritten.
//! 2. [`mark_good`](ResFileStore::mark_good) copies the applied file to `.backup/<rsc>.res`.
//! 3. [`restore`](ResFileStore::restore) puts the last good copy back (or removes the file of a
//!    resource that never applied).
//!
//! [`apply`](ResFileStore::apply) chains the three around the caller's `drbdadm adjust`.
//! [`remove_unknown`](ResFileStore::remove_unknown) deletes the files of resources this node no
//! longer has. Every replacement goes through a temp file and `rename`, so readers see either the
//! old or the new file, never a partial one.

use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use async_trait::async_trait;

use crate::error::{DrbdError, Result};

/// Checks a candidate `.res` file before it replaces the current one.
#[async_trait]
pub trait ConfigChecker: Send + Sync + std::fmt::Debug {
    /// `Ok` if `candidate` (standing in for `current`, which may not exist) is a valid
    /// configuration; `Err(DrbdError::ConfigRejected)` with the tool's complaint otherwise.
    async fn check(&self, resource: &str, candidate: &Path, current: &Path) -> Result<()>;
}

/// What [`ResFileStore::install`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installed {
    /// The file was written (new or changed).
    Written,
    /// The file already had this content (ignoring the header); nothing was touched.
    Unchanged,
}

/// What [`ResFileStore::restore`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Restored {
    /// The last good copy is back in place.
    Previous,
    /// There was no good copy (the resource never applied): the file was removed.
    Removed,
}

/// The directory of `.res` files of one node.
#[derive(Debug, Clone)]
pub struct ResFileStore {
    dir: PathBuf,
}

/// The part of a `.res` file that matters for "did it change": from the first `resource "`.
fn body(text: &str) -> &str {
    text.find("resource \"").map_or(text, |i| &text[i..])
}

fn write_atomically(path: &Path, content: &[u8]) -> Result<()> {
    let tmp = path.with_extension("res_partial");
    let mut f = fs::File::create(&tmp).map_err(|e| DrbdError::io("create", &tmp, e))?;
    f.write_all(content)
        .map_err(|e| DrbdError::io("write", &tmp, e))?;
    f.sync_all().map_err(|e| DrbdError::io("sync", &tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| DrbdError::io("rename", &tmp, e))?;
    sync_parent(path)
}

/// Makes a rename durable: fsync the directory that holds `path`.
fn sync_parent(path: &Path) -> Result<()> {
    match path.parent() {
        Some(dir) => fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| DrbdError::io("sync directory", dir, e)),
        None => Ok(()),
    }
}

fn remove_if_present(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(DrbdError::io("remove", path, e)),
    }
}

impl ResFileStore {
    /// A store over `dir` (created on first write).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        ResFileStore { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn check_name(resource: &str) -> Result<()> {
        let ok = !resource.is_empty()
            && !resource.starts_with('.')
            && resource
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
        if ok {
            Ok(())
        } else {
            Err(DrbdError::InvalidConfig {
                resource: resource.to_owned(),
                reason: "not usable as a file name".to_owned(),
            })
        }
    }

    /// `<dir>/<rsc>.res`.
    pub fn res_path(&self, resource: &str) -> PathBuf {
        self.dir.join(format!("{resource}.res"))
    }

    /// `<dir>/<rsc>.res_tmp`.
    pub fn tmp_path(&self, resource: &str) -> PathBuf {
        self.dir.join(format!("{resource}.res_tmp"))
    }

    /// `<dir>/.backup/<rsc>.res`.
    pub fn backup_path(&self, resource: &str) -> PathBuf {
        self.dir.join(".backup").join(format!("{resource}.res"))
    }

    /// The current file's content, if any.
    pub fn read(&self, resource: &str) -> Result<Option<String>> {
        let path = self.res_path(resource);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(DrbdError::io("read", path, e)),
        }
    }

    /// Whether `content` differs from the current file (ignoring the header comment).
    pub fn differs(&self, resource: &str, content: &str) -> Result<bool> {
        Ok(self
            .read(resource)?
            .is_none_or(|cur| body(&cur) != body(content)))
    }

    /// Writes `<rsc>.res_tmp`, has `checker` verify it, and renames it over `<rsc>.res`.
    /// On rejection the temp file is removed and the current file is untouched.
    pub async fn install(
        &self,
        resource: &str,
        content: &str,
        checker: &dyn ConfigChecker,
    ) -> Result<Installed> {
        Self::check_name(resource)?;
        if !self.differs(resource, content)? {
            return Ok(Installed::Unchanged);
        }
        fs::create_dir_all(&self.dir)
            .map_err(|e| DrbdError::io("create directory", &self.dir, e))?;
        let tmp = self.tmp_path(resource);
        let res = self.res_path(resource);
        {
            let mut f = fs::File::create(&tmp).map_err(|e| DrbdError::io("create", &tmp, e))?;
            f.write_all(content.as_bytes())
                .map_err(|e| DrbdError::io("write", &tmp, e))?;
            f.sync_all().map_err(|e| DrbdError::io("sync", &tmp, e))?;
        }
        if let Err(e) = checker.check(resource, &tmp, &res).await {
            remove_if_present(&tmp)?;
            return Err(e);
        }
        fs::rename(&tmp, &res).map_err(|e| DrbdError::io("rename", &tmp, e))?;
        sync_parent(&res)?;
        Ok(Installed::Written)
    }

    /// Records the current file as the last good copy (after a successful adjust).
    pub fn mark_good(&self, resource: &str) -> Result<()> {
        Self::check_name(resource)?;
        let res = self.res_path(resource);
        let content = fs::read(&res).map_err(|e| DrbdError::io("read", &res, e))?;
        let backup_dir = self.dir.join(".backup");
        fs::create_dir_all(&backup_dir)
            .map_err(|e| DrbdError::io("create directory", &backup_dir, e))?;
        write_atomically(&self.backup_path(resource), &content)
    }

    /// Puts the last good copy back, or removes the file when there is none.
    pub fn restore(&self, resource: &str) -> Result<Restored> {
        Self::check_name(resource)?;
        let backup = self.backup_path(resource);
        match fs::read(&backup) {
            Ok(content) => {
                write_atomically(&self.res_path(resource), &content)?;
                Ok(Restored::Previous)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                remove_if_present(&self.res_path(resource))?;
                Ok(Restored::Removed)
            }
            Err(e) => Err(DrbdError::io("read", backup, e)),
        }
    }

    /// Installs `content`, runs `apply` (typically `drbdadm adjust`), then records the file as
    /// good; if `apply` fails, restores the last good copy and returns `apply`'s error (or
    /// [`DrbdError::Rollback`] when the restore fails too). `apply` runs even when the file was
    /// unchanged, since the kernel state may still differ from it.
    pub async fn apply<F, Fut>(
        &self,
        resource: &str,
        content: &str,
        checker: &dyn ConfigChecker,
        apply: F,
    ) -> Result<Installed>
    where
        F: FnOnce() -> Fut + Send,
        Fut: std::future::Future<Output = Result<()>> + Send,
    {
        let installed = self.install(resource, content, checker).await?;
        match apply().await {
            Ok(()) => {
                self.mark_good(resource)?;
                Ok(installed)
            }
            Err(cause) => match self.restore(resource) {
                Ok(_) => Err(cause),
                Err(rollback) => Err(DrbdError::Rollback {
                    cause: Box::new(cause),
                    rollback: Box::new(rollback),
                }),
            },
        }
    }

    /// Removes a resource's file, temp file and backup. Returns whether `.res` existed.
    pub fn remove(&self, resource: &str) -> Result<bool> {
        Self::check_name(resource)?;
        remove_if_present(&self.tmp_path(resource))?;
        remove_if_present(&self.backup_path(resource))?;
        remove_if_present(&self.res_path(resource))
    }

    /// The resources that have a `.res` file here, sorted.
    pub fn list(&self) -> Result<Vec<String>> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(DrbdError::io("list", &self.dir, e)),
        };
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| DrbdError::io("list", &self.dir, e))?;
            let name = entry.file_name();
            let Some(name) = name.to_str() else { continue };
            if let Some(rsc) = name
                .strip_suffix(".res")
                .or_else(|| name.strip_suffix(".res_tmp"))
            {
                if Self::check_name(rsc).is_ok() && !out.iter().any(|r| r == rsc) {
                    out.push(rsc.to_owned());
                }
            }
        }
        out.sort();
        Ok(out)
    }

    /// Removes the files of every resource not in `keep`; returns the removed resource names.
    pub fn remove_unknown(&self, keep: &BTreeSet<String>) -> Result<Vec<String>> {
        let mut removed = Vec::new();
        for rsc in self.list()? {
            if !keep.contains(&rsc) {
                self.remove(&rsc)?;
                removed.push(rsc);
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    /// A checker that accepts or rejects and records what it saw.
    #[derive(Debug, Default)]
    struct FakeChecker {
        reject: bool,
        seen: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl ConfigChecker for FakeChecker {
        async fn check(&self, resource: &str, candidate: &Path, _current: &Path) -> Result<()> {
            let text = fs::read_to_string(candidate).unwrap_or_default();
            self.seen.lock().map(|mut s| s.push(text)).ok();
            if self.reject {
                Err(DrbdError::ConfigRejected {
                    resource: resource.into(),
                    stderr: "no".into(),
                })
            } else {
                Ok(())
            }
        }
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime")
    }

    const V1: &str = "# at 1\nresource \"r\"\n{\n    v1\n}\n";
    const V1_LATER: &str = "# at 2\nresource \"r\"\n{\n    v1\n}\n";
    const V2: &str = "# at 3\nresource \"r\"\n{\n    v2\n}\n";

    #[test]
    fn install_checks_then_renames_and_skips_unchanged() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResFileStore::new(dir.path().join("linstor.d"));
        let ok = FakeChecker::default();
        let rt = rt();
        assert_eq!(
            rt.block_on(store.install("r", V1, &ok)).ok(),
            Some(Installed::Written)
        );
        assert_eq!(store.read("r").ok().flatten().as_deref(), Some(V1));
        assert!(!store.tmp_path("r").exists());
        // Only the header differs: nothing written, checker not asked.
        assert_eq!(
            rt.block_on(store.install("r", V1_LATER, &ok)).ok(),
            Some(Installed::Unchanged)
        );
        assert_eq!(ok.seen.lock().map(|s| s.len()).unwrap_or(0), 1);
        // Rejected: the old file stays, the temp file is gone.
        let bad = FakeChecker {
            reject: true,
            ..FakeChecker::default()
        };
        let err = rt.block_on(store.install("r", V2, &bad));
        assert!(matches!(err, Err(DrbdError::ConfigRejected { .. })));
        assert_eq!(store.read("r").ok().flatten().as_deref(), Some(V1));
        assert!(!store.tmp_path("r").exists());
    }

    #[test]
    fn apply_keeps_last_good_copy_and_restores_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResFileStore::new(dir.path());
        let ok = FakeChecker::default();
        let rt = rt();
        // First apply fails: no good copy yet, so the file goes away.
        let r = rt.block_on(store.apply("r", V1, &ok, || async {
            Err(DrbdError::ConfigRejected {
                resource: "r".into(),
                stderr: "adjust failed".into(),
            })
        }));
        assert!(r.is_err());
        assert_eq!(store.read("r").ok().flatten(), None);
        // Applies: backup written.
        assert!(
            rt.block_on(store.apply("r", V1, &ok, || async { Ok(()) }))
                .is_ok()
        );
        assert_eq!(
            fs::read_to_string(store.backup_path("r")).ok().as_deref(),
            Some(V1)
        );
        // V2 fails to apply: V1 is back.
        let r = rt.block_on(store.apply("r", V2, &ok, || async {
            Err(DrbdError::ConfigRejected {
                resource: "r".into(),
                stderr: "adjust failed".into(),
            })
        }));
        assert!(r.is_err());
        assert_eq!(store.read("r").ok().flatten().as_deref(), Some(V1));
    }

    #[test]
    fn remove_unknown_keeps_only_listed_resources() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = ResFileStore::new(dir.path());
        let ok = FakeChecker::default();
        let rt = rt();
        for r in ["a", "b", "c"] {
            rt.block_on(store.install(r, &V1.replace("\"r\"", &format!("\"{r}\"")), &ok))
                .expect("install");
            store.mark_good(r).expect("mark good");
        }
        fs::write(store.tmp_path("d"), "stale").expect("write stale tmp");
        fs::write(dir.path().join("notes.txt"), "not ours").expect("write other file");
        let keep: BTreeSet<String> = ["b".to_owned()].into();
        let removed = store.remove_unknown(&keep).expect("remove");
        assert_eq!(removed, ["a", "c", "d"]);
        assert_eq!(store.list().expect("list"), ["b"]);
        assert!(!store.backup_path("a").exists());
        assert!(store.backup_path("b").exists());
        assert!(dir.path().join("notes.txt").exists());
    }

    #[test]
    fn refuses_names_that_are_not_file_names() {
        let store = ResFileStore::new("/nonexistent");
        for bad in ["", "../x", ".hidden", "a/b"] {
            assert!(store.remove(bad).is_err(), "{bad}");
        }
    }
}
