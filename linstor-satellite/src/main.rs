//! `linstor-satellite`: the node agent's binary (see the library docs).

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context as _;
use clap::Parser;
use linstor_satellite::config::{Config, ConfigFile, Overrides};

/// LINSTOR's satellite: makes this node's share of the desired state real.
#[derive(Debug, Parser)]
#[command(name = "linstor-satellite", version)]
struct Args {
    /// `linstor_satellite.toml` to read.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on for the controller.
    #[arg(long)]
    bind: Option<String>,
    /// Port (3366; 3367 with TLS).
    #[arg(long)]
    port: Option<u16>,
    /// Directory for state the satellite may keep (the SIMULATED DRBD kernel state).
    #[arg(long)]
    state_dir: Option<PathBuf>,
    /// Directory for `.res` files (/var/lib/linstor.d).
    #[arg(long)]
    drbd_dir: Option<PathBuf>,
    /// The cluster key file, shared with the controller.
    #[arg(long)]
    cluster_key: Option<PathBuf>,
    /// Simulate the DRBD kernel module (labelled SIMULATED in every report).
    #[arg(long)]
    simulate_drbd: bool,
    /// error, warn, info, debug or trace.
    #[arg(long)]
    log_level: Option<String>,
}

fn main() -> anyhow::Result<()> {
    let a = Args::parse();
    let file = match &a.config {
        Some(p) => ConfigFile::read(p)?,
        None => ConfigFile::default(),
    };
    let config = Config::resolve(
        file,
        Overrides {
            bind: a.bind,
            port: a.port,
            state_dir: a.state_dir,
            drbd_dir: a.drbd_dir,
            cluster_key: a.cluster_key,
            simulate_drbd: a.simulate_drbd,
            log_level: a.log_level,
        },
    )?;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(&config.log_level))
        .with_writer(std::io::stderr)
        // Colours only on a terminal: a log file must not carry escape codes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?
        .block_on(run(config))
}

async fn run(config: Config) -> anyhow::Result<()> {
    let key = linstor_link::ClusterKey::load(&config.cluster_key)?;
    let tls = match &config.tls {
        Some(t) => Some(linstor_link::tls_acceptor(&t.cert, &t.key)?),
        None => None,
    };
    let rec = linstor_satellite::startup::reconciler(&config).await?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    if config.simulate_drbd {
        tracing::warn!("DRBD is SIMULATED: no DRBD device exists; every report says so");
    }
    let scheme = if tls.is_some() { "tls" } else { "tcp" };
    let sim = if config.simulate_drbd {
        " (DRBD SIMULATED)"
    } else {
        ""
    };
    // The line scripts and tests wait for (the bound address, even for port 0).
    #[allow(clippy::print_stdout)]
    {
        println!("linstor-satellite: listening on {scheme}://{addr}{sim}");
    }
    let serve = linstor_satellite::session::serve(listener, Arc::new(key), tls, rec);
    tokio::select! {
        () = serve => {}
        () = shutdown() => tracing::info!("stopping"),
    }
    Ok(())
}

async fn shutdown() {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}
