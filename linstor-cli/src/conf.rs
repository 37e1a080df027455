//! Which controllers to talk to, as LINSTOR's client decides: `--controllers`, else the
//! `LS_CONTROLLERS` environment variable, else `controllers=` in the `[global]` section of
//! `linstor-client.conf` (`$XDG_CONFIG_HOME/linstor/`, `~/.config/linstor/`, then
//! `/etc/linstor/`), else `localhost`. Each entry is `host`, `host:port`, `[v6]:port` or a URL
//! (`http://`, `linstor://`); the REST port defaults to 3370.

use std::path::{Path, PathBuf};

use crate::error::CliError;

/// LINSTOR's plain REST port.
pub const DEFAULT_PORT: u16 = 3370;

/// Where the controller list came from (said in connection errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--controllers`.
    Flag,
    /// `LS_CONTROLLERS`.
    Env,
    /// A `linstor-client.conf`.
    File(PathBuf),
    /// Nothing given: localhost.
    Default,
}

/// The controllers to try, in order, as base URLs (`http://host:port`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controllers {
    /// Base URLs.
    pub urls: Vec<String>,
    /// Where they came from.
    pub source: Source,
}

/// The default `linstor-client.conf` locations, most specific first.
pub fn config_paths() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(x) = std::env::var_os("XDG_CONFIG_HOME") {
        v.push(Path::new(&x).join("linstor/linstor-client.conf"));
    }
    if let Some(h) = std::env::var_os("HOME") {
        v.push(Path::new(&h).join(".config/linstor/linstor-client.conf"));
    }
    v.push(PathBuf::from("/etc/linstor/linstor-client.conf"));
    v
}

/// Resolves the controller list from a flag value, the environment value and config files.
pub fn resolve(
    flag: Option<&str>,
    env: Option<&str>,
    files: &[PathBuf],
) -> Result<Controllers, CliError> {
    let (list, source) = if let Some(f) = flag.filter(|s| !s.trim().is_empty()) {
        (f.to_owned(), Source::Flag)
    } else if let Some(e) = env.filter(|s| !s.trim().is_empty()) {
        (e.to_owned(), Source::Env)
    } else if let Some((path, list)) = files.iter().find_map(|p| from_file(p)) {
        (list, Source::File(path))
    } else {
        ("localhost".to_owned(), Source::Default)
    };
    let urls = list
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(url_of)
        .collect::<Result<Vec<_>, _>>()?;
    if urls.is_empty() {
        return Err(CliError::Usage {
            message: format!("no controller in '{list}'"),
            correction: "give one or more as --controllers host[:port][,host…]".into(),
        });
    }
    Ok(Controllers { urls, source })
}

/// `controllers=` from the `[global]` section of an INI file, if the file has one.
fn from_file(path: &Path) -> Option<(PathBuf, String)> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut global = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            global = line == "[global]";
        } else if global {
            if let Some((k, v)) = line.split_once('=') {
                if k.trim() == "controllers" {
                    return Some((path.to_owned(), v.trim().to_owned()));
                }
            }
        }
    }
    None
}

/// One controller entry as a base URL.
fn url_of(entry: &str) -> Result<String, CliError> {
    let bad = |why: &str| CliError::Usage {
        message: format!("controller '{entry}': {why}"),
        correction: "write it as host, host:port, [ipv6]:port or http://host:port".into(),
    };
    let rest = if let Some(r) = entry.strip_prefix("http://") {
        r
    } else if let Some(r) = entry.strip_prefix("linstor://") {
        r
    } else if entry.starts_with("https://") || entry.starts_with("linstor+ssl://") {
        return Err(CliError::Usage {
            message: format!("controller '{entry}': HTTPS is not supported by this client yet"),
            correction: "use the controller's plain REST port (3370) on a trusted network".into(),
        });
    } else if entry.contains("://") {
        return Err(bad("unknown scheme"));
    } else {
        entry
    };
    let rest = rest.trim_end_matches('/');
    let (host, port) = if let Some(v6) = rest.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or_else(|| bad("unclosed '['"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(bad("text after ']'")),
        };
        (format!("[{h}]"), port)
    } else if rest.matches(':').count() > 1 {
        // A bare IPv6 address.
        (format!("[{rest}]"), None)
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (rest.to_owned(), None),
        }
    };
    if host.is_empty() || host == "[]" {
        return Err(bad("no host"));
    }
    let port = match port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?,
        None => DEFAULT_PORT,
    };
    Ok(format!("http://{host}:{port}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_urls() {
        let cases = [
            ("localhost", Ok("http://localhost:3370")),
            ("10.0.0.1:3371", Ok("http://10.0.0.1:3371")),
            ("http://c1:8080/", Ok("http://c1:8080")),
            ("linstor://c1", Ok("http://c1:3370")),
            ("[fe80::1]:3370", Ok("http://[fe80::1]:3370")),
            ("fe80::1", Ok("http://[fe80::1]:3370")),
            ("c1:0", Err("port")),
            ("c1:http", Err("port")),
            ("https://c1", Err("HTTPS")),
            ("ftp://c1", Err("scheme")),
            (":3370", Err("no host")),
        ];
        for (input, want) in cases {
            match (url_of(input), want) {
                (Ok(u), Ok(w)) => assert_eq!(u, w, "{input}"),
                (Err(e), Err(w)) => assert!(e.to_string().contains(w), "{input}: {e}"),
                (got, want) => panic!("{input}: {got:?} vs {want:?}"),
            }
        }
    }

    #[test]
    fn flag_then_env_then_file_then_localhost() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = dir.path().join("linstor-client.conf");
        std::fs::write(
            &conf,
            "[other]\ncontrollers=x\n[global]\ncontrollers = f1, f2:1\n",
        )
        .expect("write");
        let files = [dir.path().join("missing.conf"), conf.clone()];
        let r = resolve(Some("a"), Some("b"), &files).expect("ok");
        assert_eq!(
            (r.urls, r.source),
            (vec!["http://a:3370".into()], Source::Flag)
        );
        let r = resolve(None, Some("b,c:1"), &files).expect("ok");
        assert_eq!(r.urls, ["http://b:3370", "http://c:1"]);
        assert_eq!(r.source, Source::Env);
        let r = resolve(None, Some(" "), &files).expect("ok");
        assert_eq!(r.urls, ["http://f1:3370", "http://f2:1"]);
        assert_eq!(r.source, Source::File(conf));
        let r = resolve(None, None, &[]).expect("ok");
        assert_eq!(
            (r.urls, r.source),
            (vec!["http://localhost:3370".into()], Source::Default)
        );
        assert!(resolve(Some(",,"), None, &[]).is_err());
    }
}
