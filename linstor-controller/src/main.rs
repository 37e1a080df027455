//! `linstor-controller`: flags, configuration, logging, then the server.

use std::path::PathBuf;

use anyhow::Context;
use clap::Parser;
use linstor_controller::config::{Config, ConfigFile, Overrides};

/// LINSTOR's controller: REST API v1 on port 3370, state in SQLite (default), etcd or PostgreSQL.
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
    #[command(subcommand)]
    action: Option<Action>,
}

/// What to do instead of serving.
#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Writes the whole configured database (objects and token hashes) to FILE as JSON; run it
    /// while no controller writes (stop it first), then `import` into the new database.
    Export {
        /// Where to write the export (replaced atomically; `-` for standard output).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Reads an export into the configured database, which must be empty; checks the whole
    /// document first and writes nothing when a check fails.
    Import {
        /// The export to read (`-` for standard input).
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
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
    let action = args.action;
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
    if let Some(action) = action {
        return transfer(&config, action);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(linstor_controller::server::run(config))?;
    Ok(())
}

/// `export` / `import`: the configured database to or from a file.
fn transfer(config: &Config, action: Action) -> anyhow::Result<()> {
    use linstor_controller::store::{self, transfer};
    if let linstor_controller::config::Database::Sqlite(path) = &config.db {
        if matches!(action, Action::Export { .. }) && !path.exists() {
            anyhow::bail!(
                "there is no database at {}: name the controller's data directory with \
                 --data-dir or its configuration with --config",
                path.display()
            );
        }
    }
    let mut db = store::open(&config.db)?;
    let auth = store::open_auth(&config.db)?;
    match action {
        Action::Export { file } => {
            let export = transfer::export(db.as_mut(), auth.as_ref())?;
            let mut text = serde_json::to_string_pretty(&export)?;
            text.push('\n');
            write_atomic(&file, &text)?;
            tracing::info!(objects = export.objects.len(), tokens = export.auth.tokens.len(),
                from = %export.source, file = %file.display(), "exported");
        }
        Action::Import { file } => {
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read standard input")?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            let export = transfer::parse(&text)?;
            let n = transfer::import(&export, db.as_mut(), auth.as_ref())?;
            tracing::info!(objects = n, tokens = export.auth.tokens.len(), from = %export.source,
                into = %db.describe(), "imported");
        }
    }
    Ok(())
}

/// Writes `text` to `file` through a temporary file beside it (or to standard output for `-`).
fn write_atomic(file: &std::path::Path, text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    if file.as_os_str() == "-" {
        std::io::stdout().write_all(text.as_bytes())?;
        return Ok(());
    }
    let tmp = file.with_extension("partial");
    let write = || -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        std::fs::rename(&tmp, file)
    };
    write().with_context(|| format!("cannot write {}", file.display()))
}
