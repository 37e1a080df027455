//! `linstor-controller`: flags, configuration, logging, then the server.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use linstor_controller::config::{Config, ConfigFile, Overrides};

/// LINSTOR's controller: REST API v1 on port 3370, state in an embedded SQLite database.
#[derive(Debug, Parser)]
#[command(name = "linstor-controller", version)]
struct Args {
    /// Data directory: the database (linstor.db) and error reports (logs/).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// REST listener, ADDR:PORT (default [::]:3370, or [http] in linstor.toml).
    #[arg(long, value_name = "ADDR:PORT")]
    rest_bind: Option<String>,
    /// Configuration file (default /etc/linstor/linstor.toml when it exists).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Log level: error, warn, info, debug, trace.
    #[arg(long, value_name = "LEVEL")]
    log_level: Option<String>,
    /// SIMULATED satellites: every node reports ONLINE and every pool 100 TiB; nothing is
    /// created on any disk (for tests and benchmarks until satellites run; labelled in /health,
    /// /metrics and the version answer).
    #[arg(long)]
    simulate_satellites: bool,
    /// The cluster key satellites share (default DATA_DIR/cluster.key, created if missing).
    #[arg(long, value_name = "FILE")]
    cluster_key: Option<PathBuf>,
    /// CA certificate (PEM) of satellites reached over TLS (net interfaces with encryption SSL).
    #[arg(long, value_name = "FILE")]
    satellite_ca: Option<PathBuf>,
}

const DEFAULT_CONFIG: &str = "/etc/linstor/linstor.toml";

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let file = match &args.config {
        Some(p) => ConfigFile::read(p)?,
        None if std::path::Path::new(DEFAULT_CONFIG).exists() => {
            ConfigFile::read(std::path::Path::new(DEFAULT_CONFIG))?
        }
        None => ConfigFile::default(),
    };
    let overrides = Overrides {
        data_dir: args.data_dir,
        rest_bind: args.rest_bind,
        log_level: args.log_level,
        simulate_satellites: args.simulate_satellites,
        cluster_key: args.cluster_key,
        satellite_ca: args.satellite_ca,
    };
    let config = Config::resolve(file, overrides)?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(format!(
            "linstor_controller={0},tower_http={0}",
            config.log_level
        )))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(linstor_controller::server::run(config))?;
    Ok(())
}
