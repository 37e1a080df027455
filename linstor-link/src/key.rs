//! The cluster key: the secret the controller and every satellite share, from which each side
//! proves itself in the handshake. Loaded from a file (hex, or at least 32 raw bytes) or
//! generated; never printed.

use std::fmt;
use std::io::Write;
use std::path::Path;

use crate::error::LinkError;

/// The shortest key accepted, in bytes.
pub const MIN_KEY_LEN: usize = 32;

/// The length of a generated key, in bytes.
const GENERATED_LEN: usize = 32;

/// The shared secret of a cluster. `Debug` shows only its length.
#[derive(Clone, PartialEq, Eq)]
pub struct ClusterKey(Vec<u8>);

impl fmt::Debug for ClusterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ClusterKey({} bytes, redacted)", self.0.len())
    }
}

impl ClusterKey {
    /// A key from its bytes; at least `MIN_KEY_LEN` of them.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, LinkError> {
        if bytes.len() < MIN_KEY_LEN {
            return Err(LinkError::Key {
                path: "(given in memory)".into(),
                reason: too_short(bytes.len(), "bytes"),
            });
        }
        Ok(Self(bytes.to_vec()))
    }

    /// A new random key of 32 bytes from the operating system's generator.
    pub fn generate() -> Result<Self, LinkError> {
        let mut bytes = vec![0u8; GENERATED_LEN];
        fill_random(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// Reads the key file at `path`. Its content, whitespace trimmed, is taken as hex when it
    /// is nothing but an even number of hex digits, and as raw bytes otherwise; either way the
    /// key must have at least 32 bytes. The error names the file and the fix.
    pub fn load(path: &Path) -> Result<Self, LinkError> {
        let err = |reason: String| LinkError::Key {
            path: path.to_path_buf(),
            reason,
        };
        let content = std::fs::read(path).map_err(|e| err(format!("cannot read it: {e}")))?;
        warn_if_readable_by_others(path);
        let key = parse(&content).map_err(err)?;
        Ok(Self(key))
    }

    /// Writes a new random key to `path` as 64 hex digits and a newline, readable by its owner
    /// only; refuses to overwrite an existing file.
    pub fn write_new(path: &Path) -> Result<Self, LinkError> {
        let key = Self::generate()?;
        let err = |e: std::io::Error| LinkError::Key {
            path: path.to_path_buf(),
            reason: format!("cannot create it: {e}"),
        };
        let mut file = create_private(path).map_err(err)?;
        writeln!(file, "{}", key.to_hex()).map_err(err)?;
        file.sync_all().map_err(err)?;
        Ok(key)
    }

    /// The key as lowercase hex (the key file's format).
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The key in a file's content: hex if it is only hex digits (trimmed), raw bytes otherwise.
fn parse(content: &[u8]) -> Result<Vec<u8>, String> {
    let trimmed = content.trim_ascii();
    let is_hex =
        !trimmed.is_empty() && trimmed.len() % 2 == 0 && trimmed.iter().all(u8::is_ascii_hexdigit);
    if is_hex {
        let key = hex::decode(trimmed).map_err(|e| e.to_string())?;
        if key.len() < MIN_KEY_LEN {
            return Err(too_short(trimmed.len(), "hex digits"));
        }
        return Ok(key);
    }
    if content.len() < MIN_KEY_LEN {
        return Err(too_short(content.len(), "bytes"));
    }
    Ok(content.to_vec())
}

fn too_short(len: usize, unit: &str) -> String {
    let need = if unit == "bytes" {
        MIN_KEY_LEN
    } else {
        2 * MIN_KEY_LEN
    };
    format!("the key is too short: {len} {unit}, at least {need} needed")
}

pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), LinkError> {
    getrandom::fill(buf).map_err(|e| LinkError::Random(e.to_string()))
}

#[cfg(unix)]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let shared = std::fs::metadata(path).is_ok_and(|m| m.permissions().mode() & 0o077 != 0);
    if shared {
        tracing::warn!(
            path = %path.display(),
            "the cluster key file is readable by other users; fix: chmod 600 it"
        );
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_: &Path) {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Loads `content` from a file and compares the key's length, or a part of the error.
    fn check(content: &[u8], want: Result<usize, &str>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.key");
        std::fs::write(&path, content).unwrap();
        match (ClusterKey::load(&path), want) {
            (Ok(k), Ok(len)) => assert_eq!(k.as_bytes().len(), len),
            (Err(e), Err(part)) => {
                let msg = e.to_string();
                assert!(msg.contains(part), "{msg:?} lacks {part:?}");
                assert!(msg.contains("cluster.key"), "{msg:?} names no file");
                assert!(msg.contains("fix:"), "{msg:?} names no fix");
            }
            (got, want) => panic!("{content:?}: got {got:?}, want {want:?}"),
        }
    }

    #[test]
    fn key_files() {
        let hex64 = "ab".repeat(32);
        check(hex64.as_bytes(), Ok(32));
        check(format!("  {hex64}\n").as_bytes(), Ok(32));
        check("AB".repeat(48).as_bytes(), Ok(48));
        check(&[7u8; 32], Ok(32));
        check(&[0xffu8; 100], Ok(100));
        // 33 raw bytes that are not hex (odd length of hex digits count as raw).
        check("a".repeat(33).as_bytes(), Ok(33));
        check(&[7u8; 31], Err("too short: 31 bytes, at least 32"));
        check(
            "ab".repeat(20).as_bytes(),
            Err("too short: 40 hex digits, at least 64"),
        );
        check(b"", Err("too short: 0 bytes"));
        check(b"\n", Err("too short: 1 bytes"));
    }

    #[test]
    fn an_unreadable_file_is_named_with_the_fix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent.key");
        let msg = ClusterKey::load(&path).unwrap_err().to_string();
        assert!(
            msg.contains("absent.key") && msg.contains("cannot read"),
            "{msg}"
        );
        assert!(msg.contains("fix:"), "{msg}");
    }

    #[test]
    fn generated_keys_differ_and_round_trip_through_their_file() {
        let (a, b) = (
            ClusterKey::generate().unwrap(),
            ClusterKey::generate().unwrap(),
        );
        assert_ne!(a, b);
        assert_eq!(a.as_bytes().len(), 32);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.key");
        let written = ClusterKey::write_new(&path).unwrap();
        assert_eq!(ClusterKey::load(&path).unwrap(), written);
        let again = ClusterKey::write_new(&path).unwrap_err().to_string();
        assert!(again.contains("cannot create"), "{again}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn debug_hides_the_key() {
        let key = ClusterKey::from_bytes(&[0xab; 32]).unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
        assert!(ClusterKey::from_bytes(&[1; 31]).is_err());
    }
}
