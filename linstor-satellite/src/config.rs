//! The satellite's configuration, as LINSTOR reads it: `linstor_satellite.toml` (`[netcom]`,
//! `[logging]`, plus this project's `[satellite]` section), then the command-line flags on top.
//!
//! A file that cannot be read stops start-up with the file, the line and the key named (the
//! TOML reader reports line and column; unknown keys are refused).

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// LINSTOR's satellite port without TLS.
pub const DEFAULT_PORT: u16 = 3366;
/// LINSTOR's satellite port with TLS.
pub const DEFAULT_TLS_PORT: u16 = 3367;
/// Where LINSTOR's satellites write `.res` files.
pub const DEFAULT_DRBD_DIR: &str = "/var/lib/linstor.d";
/// Where the satellite keeps what it may keep (the simulated DRBD kernel state).
pub const DEFAULT_STATE_DIR: &str = "/var/lib/linstor-satellite";
/// The cluster key, shared with the controller.
pub const DEFAULT_KEY_FILE: &str = "/etc/linstor/cluster.key";

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
    /// The file is not valid (the TOML reader names line, column and key).
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

/// `linstor_satellite.toml` as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// `[netcom]`: the controller link's listener.
    #[serde(default)]
    pub netcom: NetcomSection,
    /// `[logging]`.
    #[serde(default)]
    pub logging: LoggingSection,
    /// `[satellite]`: directories, key and modes.
    #[serde(default)]
    pub satellite: SatelliteSection,
}

/// `[netcom]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetcomSection {
    /// `plain` (default) or `ssl`.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// Address to bind.
    pub bind_address: Option<String>,
    /// Port (3366 plain, 3367 ssl).
    pub port: Option<u16>,
    /// Server certificate (PEM) for `ssl`.
    pub server_certificate: Option<PathBuf>,
    /// Its private key (PEM).
    pub private_key: Option<PathBuf>,
}

/// `[logging]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggingSection {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: Option<String>,
}

/// `[satellite]`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SatelliteSection {
    /// Where the simulated DRBD state lives.
    pub state_dir: Option<PathBuf>,
    /// Where `.res` files go.
    pub drbd_dir: Option<PathBuf>,
    /// The cluster key file.
    pub cluster_key: Option<PathBuf>,
    /// Simulate the DRBD kernel module (labelled SIMULATED in every report).
    pub simulate_drbd: Option<bool>,
}

/// Flags given on the command line (they win over the file).
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--bind`.
    pub bind: Option<String>,
    /// `--port`.
    pub port: Option<u16>,
    /// `--state-dir`.
    pub state_dir: Option<PathBuf>,
    /// `--drbd-dir`.
    pub drbd_dir: Option<PathBuf>,
    /// `--cluster-key`.
    pub cluster_key: Option<PathBuf>,
    /// `--simulate-drbd`.
    pub simulate_drbd: bool,
    /// `--log-level`.
    pub log_level: Option<String>,
}

/// TLS settings of the listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate chain (PEM).
    pub cert: PathBuf,
    /// Private key (PEM).
    pub key: PathBuf,
}

/// The resolved configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Listener address.
    pub listen: SocketAddr,
    /// TLS, when `[netcom] type = "ssl"`.
    pub tls: Option<TlsFiles>,
    /// State directory.
    pub state_dir: PathBuf,
    /// `.res` directory.
    pub drbd_dir: PathBuf,
    /// Cluster key file.
    pub cluster_key: PathBuf,
    /// Simulated DRBD.
    pub simulate_drbd: bool,
    /// Log level.
    pub log_level: String,
}

impl ConfigFile {
    /// Reads and parses `path`.
    pub fn read(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::parse(path, &text)
    }

    /// Parses `text` (read from `path`, named in errors).
    pub fn parse(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
        toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().replace('\n', " "),
        })
    }
}

impl Config {
    /// The file's settings with the flags on top, checked.
    pub fn resolve(file: ConfigFile, o: Overrides) -> Result<Config, ConfigError> {
        let tls = tls(&file.netcom)?;
        let port = o.port.or(file.netcom.port).unwrap_or(if tls.is_some() {
            DEFAULT_TLS_PORT
        } else {
            DEFAULT_PORT
        });
        let field = if o.bind.is_some() {
            "--bind"
        } else {
            "[netcom] bind_address"
        };
        let bind = o
            .bind
            .or(file.netcom.bind_address)
            .unwrap_or_else(|| "::".to_owned());
        let ip: IpAddr = bind.trim_matches(['[', ']']).parse().map_err(|_| {
            value(
                field,
                &bind,
                "give an IP address such as 127.0.0.1 or :: (every address)",
            )
        })?;
        let sat = file.satellite;
        let log_level = o
            .log_level
            .or(file.logging.level)
            .unwrap_or_else(|| "info".to_owned())
            .to_ascii_lowercase();
        if !["error", "warn", "info", "debug", "trace"].contains(&log_level.as_str()) {
            return Err(value(
                "log level",
                &log_level,
                "use one of error, warn, info, debug, trace",
            ));
        }
        Ok(Config {
            listen: SocketAddr::new(ip, port),
            tls,
            state_dir: o
                .state_dir
                .or(sat.state_dir)
                .unwrap_or_else(|| DEFAULT_STATE_DIR.into()),
            drbd_dir: o
                .drbd_dir
                .or(sat.drbd_dir)
                .unwrap_or_else(|| DEFAULT_DRBD_DIR.into()),
            cluster_key: o
                .cluster_key
                .or(sat.cluster_key)
                .unwrap_or_else(|| DEFAULT_KEY_FILE.into()),
            simulate_drbd: o.simulate_drbd || sat.simulate_drbd.unwrap_or(false),
            log_level,
        })
    }
}

fn value(field: &str, v: &str, message: &str) -> ConfigError {
    ConfigError::Value {
        field: field.to_owned(),
        value: v.to_owned(),
        message: message.to_owned(),
    }
}

fn tls(n: &NetcomSection) -> Result<Option<TlsFiles>, ConfigError> {
    match n.kind.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("plain") => Ok(None),
        Some("ssl") => {
            let need = |f: &Option<PathBuf>, key: &str| {
                f.clone().ok_or_else(|| {
                    value(
                        &format!("[netcom] {key}"),
                        "",
                        "type = \"ssl\" needs server_certificate and private_key (PEM files)",
                    )
                })
            };
            Ok(Some(TlsFiles {
                cert: need(&n.server_certificate, "server_certificate")?,
                key: need(&n.private_key, "private_key")?,
            }))
        }
        Some(other) => Err(value("[netcom] type", other, "use \"plain\" or \"ssl\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ConfigFile, ConfigError> {
        ConfigFile::parse(Path::new("linstor_satellite.toml"), text)
    }

    #[test]
    fn defaults_are_linstors() {
        let c = Config::resolve(ConfigFile::default(), Overrides::default()).unwrap();
        assert_eq!(c.listen, "[::]:3366".parse().unwrap());
        assert_eq!(c.drbd_dir, PathBuf::from("/var/lib/linstor.d"));
        assert!(!c.simulate_drbd);
        assert_eq!(c.tls, None);
    }

    #[test]
    fn file_then_flags() {
        let f = parse(
            "[netcom]\nbind_address = \"127.0.0.1\"\nport = 4000\n[satellite]\ndrbd_dir = \"/x\"\n",
        )
        .unwrap();
        let o = Overrides {
            port: Some(5000),
            simulate_drbd: true,
            ..Overrides::default()
        };
        let c = Config::resolve(f, o).unwrap();
        assert_eq!(c.listen, "127.0.0.1:5000".parse().unwrap());
        assert_eq!(c.drbd_dir, PathBuf::from("/x"));
        assert!(c.simulate_drbd);
    }

    #[test]
    fn bad_input_names_the_key_and_the_fix() {
        let cases: &[(&str, &str)] = &[
            ("[netcom]\nprot = 1\n", "prot"),
            ("[netcom]\nport = \"x\"\n", "port"),
            ("[netcom]\nbind_address = \"nowhere\"\n", "bind_address"),
            ("[netcom]\ntype = \"tls\"\n", "plain"),
            ("[netcom]\ntype = \"ssl\"\n", "server_certificate"),
            ("[logging]\nlevel = \"loud\"\n", "error, warn"),
        ];
        for (text, needle) in cases {
            let err = parse(text)
                .and_then(|f| Config::resolve(f, Overrides::default()))
                .expect_err(text)
                .to_string();
            assert!(err.contains(needle), "{text:?}: {err}");
        }
    }
}
