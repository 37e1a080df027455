//! Start-up and shutdown: open the store, load the state, start the engine, bind the REST
//! listeners, serve until SIGTERM/SIGINT, then finish the requests in flight.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::engine::Engine;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::reports::ErrorReports;
use crate::store::StoreError;

/// Why the controller could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ControllerError {
    /// The data directory cannot be created.
    #[error(
        "cannot create the data directory {path}: {source}; create it or choose another with --data-dir"
    )]
    DataDir {
        /// Directory.
        path: std::path::PathBuf,
        /// Reason.
        source: std::io::Error,
    },
    /// The database cannot be opened or loaded.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine did not start.
    #[error(transparent)]
    Engine(#[from] crate::engine::StartError),
    /// A listener cannot be bound.
    #[error(
        "cannot listen on {addr}: {source}; is another controller running? choose another address with --rest-bind"
    )]
    Bind {
        /// Address.
        addr: SocketAddr,
        /// Reason.
        source: std::io::Error,
    },
    /// HTTPS is configured but its certificate or key is unusable.
    #[error(transparent)]
    Tls(#[from] crate::tls::TlsError),
    /// The cluster key cannot be read or created.
    #[error("cluster key: {0}")]
    ClusterKey(#[from] linstor_link::LinkError),
    /// The server failed while running.
    #[error("the REST server failed: {0}")]
    Serve(std::io::Error),
}

/// Runs the controller until a termination signal. On SQLite it serves at once; on etcd or
/// PostgreSQL it serves as a standby until it wins the election (`crate::ha`), then loads the
/// state with its fence and serves the API.
pub async fn run(config: Config) -> Result<(), ControllerError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| ControllerError::DataDir {
        path: config.data_dir.clone(),
        source,
    })?;
    let bound = Bound::bind(&config).await?;
    let url = config.advertise_url.clone().unwrap_or_else(|| bound.url());
    let Some(ha) = crate::ha::Ha::open(&config, url)? else {
        let (app, links) = activate(&config, None)?;
        let served = bound.announce()?.serve(app).await;
        if let Some(l) = links {
            l.abort();
        }
        return served;
    };
    let ha = Arc::new(ha);
    let active = Arc::new(std::sync::OnceLock::new());
    let app = http::standby::gateway(active.clone(), ha.view());
    // One attempt before announcing: the first (or only) controller serves the API from its
    // first request on; a standby campaigns in the background.
    let activation = match ha.try_once(&mut None).await {
        Some(fence) => {
            let (router, links) = activate_blocking(&config, fence).await;
            let _ = active.set(router);
            tokio::spawn(async move { links })
        }
        None => {
            let (campaigner, cfg) = (ha.clone(), config.clone());
            tokio::spawn(async move {
                let fence = campaigner.campaign().await;
                let (router, links) = activate_blocking(&cfg, fence).await;
                let _ = active.set(router);
                links
            })
        }
    };
    let bound = bound.announce()?;
    let served = bound.serve(app).await;
    ha.resign().await;
    activation.abort();
    served
}

/// [`activate`] on a blocking thread (remote stores block); a failure ends the process, as
/// the leadership was won and must not be kept by a controller that cannot serve.
async fn activate_blocking(
    config: &Config,
    fence: crate::store::lease::Fence,
) -> (axum::Router, Option<tokio::task::JoinHandle<()>>) {
    let cfg = config.clone();
    match tokio::task::spawn_blocking(move || activate(&cfg, Some(fence))).await {
        Ok(Ok(started)) => started,
        Ok(Err(e)) => crate::ha::lost(&format!("the state could not be loaded: {e}")),
        Err(e) => crate::ha::lost(&format!("loading the state panicked: {e}")),
    }
}

/// Opens the store (checking `fence` on every commit), loads the state, starts the engine
/// and the satellite links; returns the API and the links' task.
fn activate(
    config: &Config,
    fence: Option<crate::store::lease::Fence>,
) -> Result<(axum::Router, Option<tokio::task::JoinHandle<()>>), ControllerError> {
    let state = app_state(config, fence)?;
    let links = match config.simulate {
        Some(_) => None,
        None => {
            let key = cluster_key(&config.cluster_key)?;
            let (engine, hub, reports) = (
                state.engine.clone(),
                state.hub.clone(),
                state.reports.clone(),
            );
            let tls = match &config.satellite_ca {
                Some(ca) => Some(Arc::new(linstor_link::tls_connector(ca)?)),
                None => None,
            };
            let links = crate::satellites::run(engine, hub, reports, Arc::new(key), tls);
            Some(tokio::spawn(links))
        }
    };
    Ok((http::router(state), links))
}

/// Reads the cluster key, or creates it on the first start (satellites need a copy).
fn cluster_key(path: &std::path::Path) -> Result<linstor_link::ClusterKey, ControllerError> {
    if path.exists() {
        return Ok(linstor_link::ClusterKey::load(path)?);
    }
    let key = linstor_link::ClusterKey::write_new(path)?;
    tracing::info!(path = %path.display(), "created a new cluster key; give satellites a copy");
    Ok(key)
}

/// Opens the store, loads the state and starts the engine.
fn app_state(
    config: &Config,
    fence: Option<crate::store::lease::Fence>,
) -> Result<AppState, ControllerError> {
    let started = Instant::now();
    let mut store = crate::store::open(&config.db)?;
    if let Some(f) = fence {
        store.set_fence(f);
    }
    let described = store.describe();
    let boot = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let reports = Arc::new(ErrorReports::new(&config.data_dir, boot, "controller"));
    let engine = Engine::start(store, config.simulate, reports.clone())?;
    if config.simulate.is_some() {
        tracing::warn!(
            "SIMULATED satellites: nodes report ONLINE, pools report capacity, no storage is created"
        );
    }
    let state = AppState {
        engine,
        reports,
        metrics: Arc::new(Metrics::new()),
        started,
        store: described.clone(),
        simulated: config.simulate.is_some(),
        hub: Arc::default(),
        auth: Arc::new(auth_gate(config)?),
    };
    let nodes = state.engine.read().state().nodes.len();
    tracing::info!(store = %described, nodes, elapsed = ?started.elapsed(), "state loaded");
    Ok(state)
}

/// Token authentication over the database's auth tables.
fn auth_gate(config: &Config) -> Result<http::auth::Gate, ControllerError> {
    Ok(http::auth::Gate::open(crate::store::open_auth(
        &config.db,
    )?)?)
}

/// The bound listeners.
struct Bound {
    https: Option<(TcpListener, tokio_rustls::TlsAcceptor)>,
    http: Option<TcpListener>,
    https_port: Option<u16>,
    http_addr: Option<SocketAddr>,
    signals: Signals,
}

impl Bound {
    /// Binds the listeners (announced by [`Bound::announce`]).
    async fn bind(config: &Config) -> Result<Bound, ControllerError> {
        let https = match &config.https {
            Some((addr, cert, key)) => {
                let acceptor = crate::tls::acceptor(cert, key)?;
                let listener = bind(*addr).await?;
                Some((listener, acceptor))
            }
            None => None,
        };
        let http = match config.http {
            Some(addr) => Some(bind(addr).await?),
            None => None,
        };
        // Signal handlers first: a SIGTERM right after the announcement must not kill the process.
        let signals = Signals::register();
        let local = |l: &TcpListener| l.local_addr().map_err(ControllerError::Serve);
        let https_port = match &https {
            Some((l, _)) => Some(local(l)?.port()),
            None => None,
        };
        let http_addr = match &http {
            Some(l) => Some(local(l)?),
            None => None,
        };
        Ok(Bound {
            https,
            http,
            https_port,
            http_addr,
            signals,
        })
    }

    /// This controller's URL as clients reach it: the plain listener's address (its host name
    /// when bound to every address), else the TLS one.
    fn url(&self) -> String {
        let host = crate::ha::hostname;
        match (self.http_addr, self.https_port) {
            (Some(a), _) if !a.ip().is_unspecified() => format!("http://{a}"),
            (Some(a), _) => format!("http://{}:{}", host(), a.port()),
            (None, Some(p)) => format!("https://{}:{p}", host()),
            (None, None) => String::new(),
        }
    }

    /// Prints the listening lines scripts and tests wait for.
    fn announce(self) -> Result<Bound, ControllerError> {
        if let Some((l, _)) = &self.https {
            announce("https", l)?;
        }
        if let Some(l) = &self.http {
            announce("http", l)?;
        }
        Ok(self)
    }

    /// Serves `app` until SIGTERM/SIGINT, then finishes the requests in flight.
    async fn serve(self, app: axum::Router) -> Result<(), ControllerError> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let limits = crate::listener::Limits::default();
        let tls_task = self.https.map(|(listener, acceptor)| {
            let app = app.clone();
            tokio::spawn(crate::listener::serve(
                listener,
                Some(acceptor),
                app,
                limits,
                stop_rx.clone(),
            ))
        });
        let plain = match (self.http, self.https_port) {
            (Some(l), Some(port)) => Some((l, crate::tls::redirect(port))),
            (Some(l), None) => Some((l, app)),
            (None, _) => None,
        };
        let signals = self.signals;
        let signal = tokio::spawn(async move {
            signals.wait().await;
            let _ = stop_tx.send(true);
        });
        match plain {
            Some((listener, router)) => {
                crate::listener::serve(listener, None, router, limits, stop_rx.clone()).await;
            }
            None => {
                let mut stop = stop_rx.clone();
                let _ = stop.wait_for(|s| *s).await;
            }
        }
        if let Some(t) = tls_task {
            let _ = t.await;
        }
        signal.abort();
        tracing::info!("stopped");
        Ok(())
    }
}

async fn bind(addr: SocketAddr) -> Result<TcpListener, ControllerError> {
    TcpListener::bind(addr)
        .await
        .map_err(|source| ControllerError::Bind { addr, source })
}

fn announce(scheme: &str, l: &TcpListener) -> Result<SocketAddr, ControllerError> {
    let local = l.local_addr().map_err(ControllerError::Serve)?;
    #[allow(clippy::print_stdout)]
    {
        println!("linstor-controller: REST API listening on {scheme}://{local}");
    }
    Ok(local)
}

/// SIGTERM and SIGINT, registered when created.
struct Signals {
    term: Option<tokio::signal::unix::Signal>,
    int: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn register() -> Signals {
        use tokio::signal::unix::{SignalKind, signal};
        let watch = |kind, name: &str| match signal(kind) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::error!("cannot watch {name}: {e}");
                None
            }
        };
        Signals {
            term: watch(SignalKind::terminate(), "SIGTERM"),
            int: watch(SignalKind::interrupt(), "SIGINT"),
        }
    }

    async fn wait(mut self) {
        async fn recv(s: Option<&mut tokio::signal::unix::Signal>) {
            match s {
                Some(s) => {
                    s.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        }
        tokio::select! {
            _ = recv(self.term.as_mut()) => tracing::info!("SIGTERM: finishing requests in flight"),
            _ = recv(self.int.as_mut()) => tracing::info!("SIGINT: finishing requests in flight"),
        }
    }
}
