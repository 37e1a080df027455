//! The controller's configuration, as LINSTOR reads it: `linstor.toml` (`[http]`, `[https]`,
//! `[db]`, `[logging]`), then the command-line flags on top.
//!
//! A file that cannot be read stops start-up with the file, the line and the key named (the
//! TOML reader reports line and column; unknown keys are refused with the closest valid one).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Where LINSTOR keeps the controller's data.
pub const DEFAULT_DATA_DIR: &str = "/var/lib/linstor";
/// LINSTOR's REST port over HTTP.
pub const DEFAULT_HTTP_PORT: u16 = 3370;
/// LINSTOR's REST port over HTTPS.
pub const DEFAULT_HTTPS_PORT: u16 = 3371;
/// The cluster key file inside the data directory (the default of `--cluster-key`).
pub const CLUSTER_KEY_FILE: &str = "cluster.key";
/// The database file inside the data directory.
pub const DB_FILE: &str = "linstor.db";

/// Errors reading the configuration.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// File.
        path: PathBuf,
        /// Reason.
        source: std::io::Error,
    },
    /// The file is not valid for this controller (the TOML reader names line, column and key).
    #[error("configuration file {path}: {message}")]
    Invalid {
        /// File.
        path: PathBuf,
        /// What is wrong, where.
        message: String,
    },
    /// A value (from the file or a flag) is not usable.
    #[error("{field} = {value:?}: {message}")]
    Value {
        /// Key or flag.
        field: String,
        /// Value given.
        value: String,
        /// What to do.
        message: String,
    },
}

/// `linstor.toml` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[http]`.
    #[serde(default)]
    pub http: HttpSection,
    /// `[https]`.
    #[serde(default)]
    pub https: HttpsSection,
    /// `[db]`.
    #[serde(default)]
    pub db: DbSection,
    /// `[logging]`.
    #[serde(default)]
    pub logging: LoggingSection,
    /// `[ha]`.
    #[serde(default)]
    pub ha: HaSection,
}

/// `[ha]`: several controllers on one etcd or PostgreSQL database.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HaSection {
    /// The leadership lease in seconds (default 2; 0.5 to 60): a standby takes over this long
    /// after the active controller stopped renewing.
    #[serde(default)]
    pub lease_seconds: Option<f64>,
    /// The URL clients reach this controller at, shown by standbys (default: from the bound
    /// plain listener).
    #[serde(default)]
    pub advertise_url: Option<String>,
}

/// The default leadership lease.
pub const DEFAULT_LEASE: Duration = Duration::from_secs(2);

/// `[http]`: the plain REST listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSection {
    /// Serve plain HTTP.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Address to bind (`::` means every address).
    #[serde(default = "any_addr")]
    pub listen_addr: String,
    /// Port.
    #[serde(default = "http_port")]
    pub port: u16,
}

impl Default for HttpSection {
    fn default() -> Self {
        HttpSection {
            enabled: true,
            listen_addr: any_addr(),
            port: DEFAULT_HTTP_PORT,
        }
    }
}

/// `[https]`: the TLS REST listener (PEM files instead of LINSTOR's Java keystores).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpsSection {
    /// Serve HTTPS.
    #[serde(default)]
    pub enabled: bool,
    /// Address to bind.
    #[serde(default = "any_addr")]
    pub listen_addr: String,
    /// Port.
    #[serde(default = "https_port")]
    pub port: u16,
    /// PEM certificate chain.
    #[serde(default)]
    pub certificate: Option<PathBuf>,
    /// PEM private key.
    #[serde(default)]
    pub private_key: Option<PathBuf>,
}

impl Default for HttpsSection {
    fn default() -> Self {
        HttpsSection {
            enabled: false,
            listen_addr: any_addr(),
            port: DEFAULT_HTTPS_PORT,
            certificate: None,
            private_key: None,
        }
    }
}

/// `[db]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DbSection {
    /// `sqlite:PATH` (default: `linstor.db` in the data directory), `postgresql://HOST/DB`
    /// (or LINSTOR's `jdbc:postgresql://HOST/DB`), or `etcd://HOST:PORT[,HOST:PORT…]`.
    #[serde(default)]
    pub connection_url: Option<String>,
    /// PostgreSQL: the user (over the URL's).
    #[serde(default)]
    pub user: Option<String>,
    /// PostgreSQL: the password (over the URL's).
    #[serde(default)]
    pub password: Option<String>,
    /// `[db.etcd]`.
    #[serde(default)]
    pub etcd: Option<EtcdSection>,
}

/// `[db.etcd]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EtcdSection {
    /// Every key starts with it (default `/LINSTOR/`).
    #[serde(default)]
    pub prefix: Option<String>,
}

/// `[logging]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    #[serde(default = "info")]
    pub level: String,
}

impl Default for LoggingSection {
    fn default() -> Self {
        LoggingSection { level: info() }
    }
}

fn yes() -> bool {
    true
}
fn any_addr() -> String {
    "::".into()
}
fn http_port() -> u16 {
    DEFAULT_HTTP_PORT
}
fn https_port() -> u16 {
    DEFAULT_HTTPS_PORT
}
fn info() -> String {
    "info".into()
}

/// Flags that override the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--rest-bind ADDR:PORT`.
    pub rest_bind: Option<String>,
    /// `--log-level`.
    pub log_level: Option<String>,
    /// `--simulate-satellites`.
    pub simulate_satellites: bool,
    /// `--cluster-key FILE`.
    pub cluster_key: Option<PathBuf>,
    /// `--satellite-ca FILE`.
    pub satellite_ca: Option<PathBuf>,
}

/// Where the desired state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL database.
    Postgres(crate::store::postgres::PgTarget),
    /// A key prefix of an etcd cluster.
    Etcd(crate::store::etcd::EtcdTarget),
}

impl Database {
    /// The engine and location, as logs and stores name it (no credentials).
    pub fn describe(&self) -> String {
        match self {
            Database::Sqlite(p) => format!("sqlite:{}", p.display()),
            Database::Postgres(t) => t.describe(),
            Database::Etcd(t) => t.describe(),
        }
    }
}

/// The configuration the controller runs with.
#[derive(Debug, Clone)]
pub struct Config {
    /// Data directory (database, error reports).
    pub data_dir: PathBuf,
    /// Plain REST listener, if enabled.
    pub http: Option<SocketAddr>,
    /// TLS REST listener, if enabled, with its certificate and key.
    pub https: Option<(SocketAddr, PathBuf, PathBuf)>,
    /// Database.
    pub db: Database,
    /// Log level.
    pub log_level: String,
    /// Simulated satellites (labelled SIMULATED everywhere), or real ones.
    pub simulate: Option<crate::simulate::Simulation>,
    /// The cluster key satellites must prove (created there on first start if missing).
    pub cluster_key: PathBuf,
    /// The CA that signs the certificates of satellites whose net interface says `SSL`.
    pub satellite_ca: Option<PathBuf>,
    /// The leadership lease (etcd and PostgreSQL).
    pub lease: Duration,
    /// The URL standbys name for this controller when it is active.
    pub advertise_url: Option<String>,
}

impl ConfigFile {
    /// Reads `path`.
    pub fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        ConfigFile::parse(path, &text)
    }

    /// Parses `text` (named `path` in errors).
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.into(),
            message: e.to_string().trim_end().to_string(),
        })
    }
}

impl Config {
    /// The file's settings with the flags on top.
    pub fn resolve(file: ConfigFile, o: Overrides) -> Result<Config, ConfigError> {
        let data_dir = o.data_dir.unwrap_or_else(|| DEFAULT_DATA_DIR.into());
        let http = match (&o.rest_bind, file.http.enabled) {
            (Some(bind), _) => Some(parse_bind("--rest-bind", bind)?),
            (None, true) => Some(socket(
                "[http] listen_addr",
                &file.http.listen_addr,
                file.http.port,
            )?),
            (None, false) => None,
        };
        let https = https(&file.https)?;
        let db = database(&file.db, &data_dir)?;
        let log_level = o.log_level.unwrap_or(file.logging.level);
        if !["error", "warn", "info", "debug", "trace"]
            .contains(&log_level.to_ascii_lowercase().as_str())
        {
            return Err(value(
                "[logging] level",
                &log_level,
                "use error, warn, info, debug or trace",
            ));
        }
        if http.is_none() && https.is_none() {
            return Err(value(
                "[http] enabled",
                "false",
                "enable [http] or [https]: the controller needs a REST listener",
            ));
        }
        let simulate = o
            .simulate_satellites
            .then(crate::simulate::Simulation::default);
        let cluster_key = o
            .cluster_key
            .unwrap_or_else(|| data_dir.join(CLUSTER_KEY_FILE));
        let lease = lease(file.ha.lease_seconds)?;
        Ok(Config {
            lease,
            advertise_url: file.ha.advertise_url.clone(),
            cluster_key,
            satellite_ca: o.satellite_ca,
            data_dir,
            http,
            https,
            db,
            log_level,
            simulate,
        })
    }
}

fn lease(secs: Option<f64>) -> Result<Duration, ConfigError> {
    let Some(s) = secs else {
        return Ok(DEFAULT_LEASE);
    };
    if !(0.5..=60.0).contains(&s) {
        return Err(value(
            "[ha] lease_seconds",
            &s.to_string(),
            "give 0.5 to 60 seconds (2 by default): a standby takes over this long after the active controller stopped",
        ));
    }
    Ok(Duration::from_secs_f64(s))
}

fn value(field: &str, v: &str, message: &str) -> ConfigError {
    ConfigError::Value {
        field: field.into(),
        value: v.into(),
        message: message.into(),
    }
}

fn socket(field: &str, addr: &str, port: u16) -> Result<SocketAddr, ConfigError> {
    let ip: IpAddr = addr.trim_matches(['[', ']']).parse().map_err(|_| {
        value(
            field,
            addr,
            "give an IPv4 or IPv6 address, e.g. 0.0.0.0, :: or 127.0.0.1",
        )
    })?;
    Ok(SocketAddr::new(ip, port))
}

/// `ADDR:PORT`, `[V6]:PORT` or a bare `ADDR` (port 3370).
pub fn parse_bind(field: &str, s: &str) -> Result<SocketAddr, ConfigError> {
    if let Ok(a) = s.parse::<SocketAddr>() {
        return Ok(a);
    }
    if let Ok(ip) = s.trim_matches(['[', ']']).parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, DEFAULT_HTTP_PORT));
    }
    Err(value(
        field,
        s,
        "give ADDR:PORT, e.g. 127.0.0.1:3370 or [::]:3370",
    ))
}

fn https(s: &HttpsSection) -> Result<Option<(SocketAddr, PathBuf, PathBuf)>, ConfigError> {
    if !s.enabled {
        return Ok(None);
    }
    let addr = socket("[https] listen_addr", &s.listen_addr, s.port)?;
    let (Some(cert), Some(key)) = (&s.certificate, &s.private_key) else {
        return Err(value(
            "[https] certificate",
            "",
            "HTTPS needs `certificate` and `private_key` (PEM files)",
        ));
    };
    Ok(Some((addr, cert.clone(), key.clone())))
}

fn database(db: &DbSection, data_dir: &Path) -> Result<Database, ConfigError> {
    const FIELD: &str = "[db] connection_url";
    let Some(url) = db.connection_url.as_deref() else {
        return Ok(Database::Sqlite(data_dir.join(DB_FILE)));
    };
    if let Some(path) = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
    {
        if path.is_empty() {
            return Err(value(
                FIELD,
                url,
                "name the file: sqlite:/var/lib/linstor/linstor.db",
            ));
        }
        return Ok(Database::Sqlite(path.into()));
    }
    let shown = redact(url);
    if ["postgresql://", "postgres://", "jdbc:postgresql://"]
        .iter()
        .any(|p| url.starts_with(p))
    {
        return crate::store::postgres::PgTarget::parse(
            url,
            db.user.as_deref(),
            db.password.as_deref(),
        )
        .map(Database::Postgres)
        .map_err(|m| value(FIELD, &shown, &m));
    }
    if url.starts_with("etcd://") {
        let prefix = db.etcd.as_ref().and_then(|e| e.prefix.as_deref());
        return crate::store::etcd::EtcdTarget::parse(url, prefix)
            .map(Database::Etcd)
            .map_err(|m| value(FIELD, &shown, &m));
    }
    Err(value(
        FIELD,
        &shown,
        "use sqlite:PATH (or leave connection_url out for linstor.db in the data directory), \
         postgresql://HOST[:PORT]/DATABASE (LINSTOR's jdbc:postgresql://… works too), or \
         etcd://HOST:2379[,HOST:2379…] (H2 and MariaDB are not supported)",
    ))
}

/// `url` with the password of `user:password@` replaced, for error messages.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((cred, host)) if cred.contains(':') => {
            let user = cred.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***@{host}")
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(Path::new("/etc/linstor/linstor.toml"), text)
    }

    #[test]
    fn defaults_are_linstors() {
        let c = Config::resolve(ConfigFile::default(), Overrides::default()).unwrap();
        assert_eq!(c.http, Some("[::]:3370".parse().unwrap()));
        assert_eq!(c.db, Database::Sqlite("/var/lib/linstor/linstor.db".into()));
        assert_eq!(c.https, None);
    }

    #[test]
    fn file_then_flags() {
        let f = parse("[http]\nlisten_addr = \"127.0.0.1\"\nport = 4000\n[db]\nconnection_url = \"sqlite:/tmp/x.db\"\n").unwrap();
        let c = Config::resolve(f.clone(), Overrides::default()).unwrap();
        assert_eq!(c.http, Some("127.0.0.1:4000".parse().unwrap()));
        assert_eq!(c.db, Database::Sqlite("/tmp/x.db".into()));
        let o = Overrides {
            rest_bind: Some("127.0.0.1:5000".into()),
            ..Overrides::default()
        };
        assert_eq!(
            Config::resolve(f, o).unwrap().http,
            Some("127.0.0.1:5000".parse().unwrap())
        );
    }

    #[test]
    fn bad_files_name_the_file_line_and_key() {
        let cases = [
            (
                "[http]\nport = 3370\nlisten_adress = \"::\"\n",
                &["linstor.toml", "line 3", "listen_adress", "listen_addr"][..],
            ),
            ("[http]\nport = \"x\"\n", &["line 2", "port"]),
            ("[htp]\n", &["line 1", "htp", "http"]),
            ("[http\n", &["line 1"]),
        ];
        for (text, wants) in cases {
            let msg = parse(text).unwrap_err().to_string();
            for w in wants {
                assert!(msg.contains(w), "{text:?}: {msg:?} lacks {w:?}");
            }
        }
    }

    #[test]
    fn postgres_and_etcd_urls_select_their_engine() {
        let f = parse(
            "[db]\nconnection_url = \"jdbc:postgresql://db1:5433/linstor\"\nuser = \"linstor\"\npassword = \"pw\"\n",
        )
        .unwrap();
        match Config::resolve(f, Overrides::default()).unwrap().db {
            Database::Postgres(t) => assert_eq!(t.describe(), "postgresql://db1:5433/linstor"),
            other => panic!("{other:?}"),
        }
        let f = parse(
            "[db]\nconnection_url = \"etcd://e1:2379,e2:2379\"\n[db.etcd]\nprefix = \"/lin/\"\n",
        )
        .unwrap();
        match Config::resolve(f, Overrides::default()).unwrap().db {
            Database::Etcd(t) => {
                assert_eq!(t.endpoints, ["e1:2379", "e2:2379"]);
                assert_eq!(t.prefix, "/lin/");
            }
            other => panic!("{other:?}"),
        }
        let f = parse("[db]\nconnection_url = \"postgresql://u:topsecret@db1/\"\n").unwrap();
        let e = Config::resolve(f, Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("[db] connection_url"), "{e}");
        assert!(
            e.contains("name the database") && !e.contains("topsecret"),
            "{e}"
        );
        let f = parse("[db]\nconnection_url = \"etcd://e1\"\n").unwrap();
        let e = Config::resolve(f, Overrides::default())
            .unwrap_err()
            .to_string();
        assert!(e.contains("has no port"), "{e}");
    }

    #[test]
    fn bad_values_name_the_field_and_the_fix() {
        let cases = [
            (
                "[db]\nconnection_url = \"jdbc:h2:/var/lib/linstor/linstordb\"\n",
                "[db] connection_url",
            ),
            (
                "[http]\nlisten_addr = \"localhost\"\n",
                "[http] listen_addr",
            ),
            ("[logging]\nlevel = \"loud\"\n", "[logging] level"),
            ("[https]\nenabled = true\n", "[https] certificate"),
            ("[http]\nenabled = false\n", "[http] enabled"),
        ];
        for (text, field) in cases {
            let e = Config::resolve(parse(text).unwrap(), Overrides::default()).unwrap_err();
            assert!(e.to_string().starts_with(field), "{text:?}: {e}");
        }
        let o = Overrides {
            rest_bind: Some("nowhere".into()),
            ..Overrides::default()
        };
        assert!(
            Config::resolve(ConfigFile::default(), o)
                .unwrap_err()
                .to_string()
                .contains("--rest-bind")
        );
    }
}
