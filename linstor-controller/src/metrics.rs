//! `GET /metrics`: Prometheus text with LINSTOR's metric names — nodes by state, storage
//! pools' free and total bytes, resources and volumes by state, resource definitions, and the
//! REST request latency histogram. State gauges are computed from the cluster at each scrape.

use std::sync::Mutex;

use linstor_core::model::ConnectionStatus;
use linstor_core::state::ClusterState;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(String, String)>;

/// The controller's metrics.
#[derive(Debug)]
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<Labels, Histogram>,
    node_state: Family<Labels, Gauge>,
    pool_free: Family<Labels, Gauge>,
    pool_total: Family<Labels, Gauge>,
    resources: Family<Labels, Gauge>,
    volumes: Family<Labels, Gauge>,
    rsc_dfns: Gauge,
    simulated: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

fn latency() -> Histogram {
    Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
}

impl Metrics {
    /// A registry with every metric declared.
    pub fn new() -> Metrics {
        let m = Metrics {
            registry: Mutex::new(Registry::default()),
            requests: Family::new_with_constructor(latency as fn() -> Histogram),
            node_state: Family::default(),
            pool_free: Family::default(),
            pool_total: Family::default(),
            resources: Family::default(),
            volumes: Family::default(),
            rsc_dfns: Gauge::default(),
            simulated: Gauge::default(),
        };
        {
            let mut r = m
                .registry
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            r.register(
                "linstor_rest_request_duration_seconds",
                "REST request latency by method and route",
                m.requests.clone(),
            );
            r.register(
                "linstor_node_state",
                "Node connection state (0 OFFLINE, 1 CONNECTED, 2 ONLINE, 3 other)",
                m.node_state.clone(),
            );
            r.register(
                "linstor_storage_pool_capacity_free_bytes",
                "Free capacity reported for a storage pool",
                m.pool_free.clone(),
            );
            r.register(
                "linstor_storage_pool_capacity_total_bytes",
                "Total capacity reported for a storage pool",
                m.pool_total.clone(),
            );
            r.register(
                "linstor_resource_count",
                "Resources by state",
                m.resources.clone(),
            );
            r.register(
                "linstor_volume_count",
                "Volumes by state",
                m.volumes.clone(),
            );
            r.register(
                "linstor_resource_definition_count",
                "Resource definitions",
                m.rsc_dfns.clone(),
            );
            r.register(
                "linstor_simulated_satellites",
                "1 when satellites are SIMULATED (--simulate-satellites)",
                m.simulated.clone(),
            );
        }
        m
    }

    /// Records one answered request.
    pub fn observe(&self, method: &str, route: &str, seconds: f64) {
        let labels = vec![
            ("method".to_owned(), method.to_owned()),
            ("route".to_owned(), route.to_owned()),
        ];
        self.requests.get_or_create(&labels).observe(seconds);
    }

    /// The Prometheus text for `state`.
    pub fn render(&self, state: &ClusterState, simulated: bool) -> String {
        self.refresh(state);
        self.simulated.set(i64::from(simulated));
        let mut out = String::new();
        let r = self
            .registry
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if encode(&mut out, &r).is_err() {
            tracing::error!("metrics could not be encoded");
        }
        out
    }

    fn refresh(&self, state: &ClusterState) {
        self.node_state.clear();
        self.pool_free.clear();
        self.pool_total.clear();
        self.resources.clear();
        self.volumes.clear();
        for n in state.nodes.values() {
            let obs = state.observed.nodes.get(&n.name);
            let code = obs.map_or(0, |o| match o.connection {
                ConnectionStatus::OFFLINE => 0,
                ConnectionStatus::CONNECTED => 1,
                ConnectionStatus::ONLINE => 2,
                _ => 3,
            });
            let l = vec![
                ("node".into(), n.name.to_string()),
                (
                    "nodetype".into(),
                    format!("{:?}", n.node_type).to_uppercase(),
                ),
            ];
            self.node_state.get_or_create(&l).set(code);
            for p in n.storage_pools.values() {
                let Some(cap) = obs.and_then(|o| o.pools.get(&p.name)) else {
                    continue;
                };
                let l = vec![
                    ("node".into(), n.name.to_string()),
                    ("storage_pool".into(), p.name.to_string()),
                    ("driver".into(), format!("{:?}", p.kind)),
                ];
                self.pool_free
                    .get_or_create(&l)
                    .set(kib_to_bytes(cap.free.0));
                self.pool_total
                    .get_or_create(&l)
                    .set(kib_to_bytes(cap.total.0));
            }
        }
        self.count_resources(state);
    }

    fn count_resources(&self, state: &ClusterState) {
        let mut dfns = 0i64;
        for d in state.resource_definitions.values() {
            dfns += 1;
            for r in d.resources.values() {
                let s = resource_state(state, &d.name, &r.node);
                self.resources
                    .get_or_create(&vec![("state".into(), s.into())])
                    .inc();
                let vols = i64::try_from(r.volumes.len()).unwrap_or(i64::MAX);
                self.volumes
                    .get_or_create(&vec![("state".into(), s.into())])
                    .inc_by(vols);
            }
        }
        self.rsc_dfns.set(dfns);
    }
}

fn kib_to_bytes(kib: u64) -> i64 {
    i64::try_from(kib.saturating_mul(1024)).unwrap_or(i64::MAX)
}

/// `UpToDate`, `Established` (connected, not yet up to date), `Unknown` (no report).
fn resource_state(
    state: &ClusterState,
    rsc: &linstor_core::ResourceName,
    node: &linstor_core::NodeName,
) -> &'static str {
    match state
        .observed
        .nodes
        .get(node)
        .and_then(|o| o.resources.get(rsc))
    {
        Some(o) if o.up_to_date => "UpToDate",
        Some(o) if o.established => "Established",
        Some(_) => "Reported",
        None => "Unknown",
    }
}
