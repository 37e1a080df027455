//! The etcd engine of [`Store`]: the same rows as SQLite (see [`rows`]) as keys under a prefix,
//! one etcd transaction per commit.
//!
//! | key (under `[db.etcd] prefix`, default `/LINSTOR/`) | value                             |
//! |------------------------------------------------------|-----------------------------------|
//! | `schema_version`                                     | the schema version, decimal       |
//! | `objects/<kind>/<lowercase name>`                    | `<name as spelled>\n<JSON body>`  |
//! | `auth/token_auth_enabled`                            | `true`                            |
//! | `auth/tokens/<id, 20 digits>`                        | the token row (JSON, hash only)   |
//! | `auth/next_token_id`                                 | the next token id                 |
//! | `leader`                                             | the active controller (on a lease) |
//!
//! `[db] connection_url = "etcd://host1:2379,host2:2379"` names the members; the client spreads
//! requests over them and fails over. A commit is one `Txn`, answered once the members' quorum
//! has it in its log: durable. etcd refuses a transaction with more than `--max-txn-ops`
//! operations (128 by default); the error says to raise it (a commit writes one key per
//! touched object: only imports and very large batches come near it).

use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, GetOptions, LeaseKeepAliveStream, LeaseKeeper,
    PutOptions, Txn, TxnOp,
};
use linstor_core::cluster::ChangeSet;
use linstor_core::state::ClusterState;
use tokio::runtime::Runtime;

use super::auth::AuthStore;
use super::lease::{Candidate, Election, Fence, Leader, Record};
use super::rows::{self, Row, RowKey};
use super::worker::Worker;
use super::{EngineError, Store, StoreError};
use crate::auth::{AuthState, TokenRow};

/// The same schema versions as SQLite's; etcd needs no tables, so a step only records itself.
pub const SCHEMA_STEPS: &[u32] = &[1, 2];
/// The default key prefix (LINSTOR's).
pub const DEFAULT_PREFIX: &str = "/LINSTOR/";
const TIMEOUT: Duration = Duration::from_secs(5);
const PAGE: i64 = 512;
const OPEN_FIX: &str = "check that the etcd members run and are reachable from this host \
    (etcdctl --endpoints=... endpoint health) and that a quorum of them is up";

/// Where the state is: the members and the key prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EtcdTarget {
    /// `host:port` of each member.
    pub endpoints: Vec<String>,
    /// Every key starts with it.
    pub prefix: String,
}

impl EtcdTarget {
    /// Reads `etcd://host1:2379,host2:2379`; the error says what is wrong.
    pub fn parse(url: &str, prefix: Option<&str>) -> Result<EtcdTarget, String> {
        let Some(list) = url.strip_prefix("etcd://") else {
            return Err("write etcd://HOST:PORT[,HOST:PORT…]".to_owned());
        };
        let mut endpoints = Vec::new();
        for ep in list.trim_end_matches('/').split(',') {
            let Some((host, port)) = ep.rsplit_once(':') else {
                return Err(format!("member '{ep}' has no port: write HOST:2379"));
            };
            if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(format!("member '{ep}' is not HOST:PORT (port 1 to 65535)"));
            }
            endpoints.push(ep.to_owned());
        }
        let prefix = prefix.unwrap_or(DEFAULT_PREFIX);
        if prefix.is_empty() || prefix.contains('\n') {
            return Err(
                "[db.etcd] prefix must be a non-empty key prefix such as /LINSTOR/".to_owned(),
            );
        }
        Ok(EtcdTarget {
            endpoints,
            prefix: prefix.to_owned(),
        })
    }

    /// `etcd://h1:2379,h2:2379/LINSTOR/`.
    pub fn describe(&self) -> String {
        let sep = if self.prefix.starts_with('/') {
            ""
        } else {
            "/"
        };
        format!("etcd://{}{sep}{}", self.endpoints.join(","), self.prefix)
    }

    fn key(&self, rest: &str) -> String {
        format!("{}{rest}", self.prefix)
    }

    fn object_key(&self, kind: &str, key: &str) -> String {
        self.key(&format!("objects/{kind}/{}", key.to_ascii_lowercase()))
    }
}

/// The client with the runtime that drives it, talking to one member at a time: a request
/// that finds its member unreachable is sent to the next one (etcd-client's balanced channel
/// keeps picking a dead member).
pub(crate) struct Conn {
    rt: Runtime,
    client: Client,
    /// The index of the member `client` talks to.
    member: usize,
    target: EtcdTarget,
    /// The election's lease, once granted: its id and keep-alive stream.
    lease: Option<(i64, LeaseKeeper, LeaseKeepAliveStream)>,
}

fn options() -> ConnectOptions {
    ConnectOptions::new()
        .with_connect_timeout(TIMEOUT)
        .with_timeout(TIMEOUT)
        .with_keep_alive(Duration::from_secs(2), Duration::from_secs(2))
}

/// The member could not be reached (the request was not served there).
fn unreachable(e: &etcd_client::Error) -> bool {
    match e {
        etcd_client::Error::TransportError(_) | etcd_client::Error::IoError(_) => true,
        etcd_client::Error::GRpcStatus(s) => matches!(
            s.code(),
            tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Unknown
        ),
        _ => false,
    }
}

impl Conn {
    fn connect(target: EtcdTarget) -> Result<Conn, StoreError> {
        let location = target.describe();
        let fail = |e: EngineError| StoreError::Open {
            location: location.clone(),
            source: e,
            fix: OPEN_FIX,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(e.into()))?;
        // Controllers start on different members, spreading the load.
        let n = target.endpoints.len().max(1);
        let first = usize::try_from(std::process::id()).unwrap_or(0) % n;
        let client = rt
            .block_on(Client::connect(
                [member_url(&target, first)],
                Some(options()),
            ))
            .map_err(|e| fail(e.into()))?;
        let mut c = Conn {
            rt,
            client,
            member: first,
            target,
            lease: None,
        };
        // The connection is lazy: one read proves a member answers.
        let key = c.target.key("schema_version");
        c.run(|mut cl| {
            let key = key.clone();
            async move { cl.get(key, None).await }
        })
        .map_err(|e| fail(e.into()))?;
        Ok(c)
    }

    /// Runs `op` on the current member; when it cannot be reached, on the next ones in turn.
    fn run<T, F: Future<Output = Result<T, etcd_client::Error>>>(
        &mut self,
        op: impl Fn(Client) -> F,
    ) -> Result<T, etcd_client::Error> {
        let mut tried = 1;
        loop {
            match self.rt.block_on(op(self.client.clone())) {
                Err(e) if unreachable(&e) && tried < self.target.endpoints.len() => {
                    tried += 1;
                    self.next_member(&e);
                }
                r => return r,
            }
        }
    }

    /// Talks to the next member from now on.
    fn next_member(&mut self, why: &etcd_client::Error) {
        let n = self.target.endpoints.len().max(1);
        self.member = (self.member + 1) % n;
        let url = member_url(&self.target, self.member);
        tracing::warn!(error = %why, next = %url, "an etcd member cannot be reached; using the next one");
        if let Ok(c) = self.rt.block_on(Client::connect([url], Some(options()))) {
            self.client = c;
        }
    }

    /// Every key-value under `prefix`, in key order, read at one revision (page by page).
    fn scan(&mut self, prefix: &str) -> Result<Vec<(String, Vec<u8>)>, etcd_client::Error> {
        let end = prefix_end(prefix);
        let mut out = Vec::new();
        let mut from = prefix.as_bytes().to_vec();
        let mut revision = 0;
        loop {
            let opts = GetOptions::new()
                .with_range(end.clone())
                .with_limit(PAGE)
                .with_revision(revision);
            let key = from.clone();
            let resp = self.run(|mut cl| {
                let (key, opts) = (key.clone(), opts.clone());
                async move { cl.get(key, Some(opts)).await }
            })?;
            if revision == 0 {
                revision = resp.header().map_or(0, |h| h.revision());
            }
            for kv in resp.kvs() {
                out.push((
                    String::from_utf8_lossy(kv.key()).into_owned(),
                    kv.value().to_vec(),
                ));
            }
            match resp.kvs().last() {
                Some(last) if resp.more() => {
                    from = last.key().to_vec();
                    from.push(0);
                }
                _ => return Ok(out),
            }
        }
    }

    fn txn(&mut self, txn: Txn) -> Result<bool, etcd_client::Error> {
        let resp = self.run(|mut cl| {
            let txn = txn.clone();
            async move { cl.txn(txn).await }
        })?;
        Ok(resp.succeeded())
    }

    fn get(&mut self, key: &str) -> Result<Option<(Vec<u8>, i64)>, etcd_client::Error> {
        let resp = self.run(|mut cl| {
            let key = key.to_owned();
            async move { cl.get(key, None).await }
        })?;
        Ok(resp
            .kvs()
            .first()
            .map(|kv| (kv.value().to_vec(), kv.mod_revision())))
    }
}

fn member_url(t: &EtcdTarget, i: usize) -> String {
    format!("http://{}", t.endpoints[i % t.endpoints.len().max(1)])
}

/// The first key after every key that starts with `prefix`.
fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

/// Runs `f` on the worker's client; a gone worker is a read error.
fn on<R: Send + 'static>(
    w: &Worker<Conn>,
    f: impl FnOnce(&mut Conn) -> Result<R, StoreError> + Send + 'static,
) -> Result<R, StoreError> {
    w.call(f).map_err(StoreError::read)?
}

/// etcd's refusal of a transaction with too many operations, with the fix.
fn commit_error(e: etcd_client::Error) -> StoreError {
    let text = e.to_string();
    if text.contains("too many operations") {
        return StoreError::commit(format!(
            "{text}: start every etcd member with a larger --max-txn-ops (for example 4096)"
        ));
    }
    StoreError::commit(e)
}

/// A [`Store`] under one key prefix of an etcd cluster.
#[derive(Debug)]
pub struct EtcdStore {
    worker: Worker<Conn>,
    location: String,
    fence: Option<Fence>,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

impl EtcdStore {
    /// Connects and brings the schema version up to date.
    pub fn open(target: &EtcdTarget) -> Result<EtcdStore, StoreError> {
        let t = target.clone();
        let worker = Worker::spawn("etcd-store", move || Conn::connect(t))?;
        on(&worker, migrate)?;
        Ok(EtcdStore {
            worker,
            location: target.describe(),
            fence: None,
        })
    }
}

/// Records the schema steps above the stored version; refuses a newer version.
fn migrate(c: &mut Conn) -> Result<(), StoreError> {
    let key = c.target.key("schema_version");
    let location = c.target.describe();
    let supported = SCHEMA_STEPS.last().copied().unwrap_or(0);
    let open = |e: etcd_client::Error| StoreError::Open {
        location: location.clone(),
        source: e.into(),
        fix: OPEN_FIX,
    };
    let stored = c.get(&key).map_err(open)?;
    let found = match &stored {
        None => 0,
        Some((v, _)) => std::str::from_utf8(v)
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .ok_or_else(|| StoreError::Row {
                kind: "schema_version".to_owned(),
                key: key.clone(),
                reason: "not a decimal number".to_owned(),
            })?,
    };
    if found > supported {
        return Err(StoreError::NewerSchema {
            location,
            found,
            supported,
        });
    }
    if found == supported {
        return Ok(());
    }
    // Only the version changes; compare it so that two controllers do not both step.
    let unchanged = match &stored {
        None => Compare::create_revision(key.clone(), CompareOp::Equal, 0),
        Some((_, rev)) => Compare::mod_revision(key.clone(), CompareOp::Equal, *rev),
    };
    let txn = Txn::new()
        .when([unchanged])
        .and_then([TxnOp::put(key, supported.to_string(), None)]);
    c.txn(txn).map(drop).map_err(|e| StoreError::Migration {
        version: supported,
        source: e.into(),
    })
}

impl Store for EtcdStore {
    fn load(&mut self) -> Result<ClusterState, StoreError> {
        let rows = on(&self.worker, |c| {
            let prefix = c.target.key("objects/");
            let kvs = c.scan(&prefix).map_err(StoreError::read)?;
            kvs.into_iter()
                .map(|(k, v)| row_of(&prefix, &k, &v))
                .collect::<Result<Vec<_>, _>>()
        })?;
        rows::assemble(rows)
    }

    fn commit(&mut self, state: &ClusterState, changes: &[&ChangeSet]) -> Result<(), StoreError> {
        let writes = rows::writes(state, changes);
        if writes.is_empty() {
            return Ok(());
        }
        let (fence, location) = (self.fence.clone(), self.location.clone());
        on(&self.worker, move |c| {
            let ops = ops(&c.target, &writes);
            let when: Vec<Compare> = fence
                .iter()
                .map(|f| Compare::create_revision(c.target.key("leader"), CompareOp::Equal, f.term))
                .collect();
            match c
                .txn(Txn::new().when(when).and_then(ops))
                .map_err(commit_error)?
            {
                true => Ok(()),
                false => Err(StoreError::Fenced {
                    location,
                    term: fence.map_or(0, |f| f.term),
                }),
            }
        })
    }

    fn set_fence(&mut self, fence: Fence) {
        self.fence = Some(fence);
    }

    fn describe(&self) -> String {
        self.location.clone()
    }

    fn count_rows(&mut self) -> Result<usize, StoreError> {
        on(&self.worker, |c| {
            let prefix = c.target.key("objects/");
            let opts = GetOptions::new().with_prefix().with_count_only();
            let resp = c
                .run(|mut cl| {
                    let (prefix, opts) = (prefix.clone(), opts.clone());
                    async move { cl.get(prefix, Some(opts)).await }
                })
                .map_err(StoreError::read)?;
            Ok(usize::try_from(resp.count()).unwrap_or(usize::MAX))
        })
    }

    fn wipe_hint(&self) -> String {
        "etcdctl del --prefix <prefix>objects/".to_owned()
    }
}

/// The transaction's operations for `writes`.
fn ops(t: &EtcdTarget, writes: &[(RowKey, Option<Row>)]) -> Vec<TxnOp> {
    writes
        .iter()
        .map(|(key, row)| {
            let k = t.object_key(key.kind().as_str(), &key.key());
            match row {
                Some(r) => TxnOp::put(k, format!("{}\n{}", r.key, r.body), None),
                None => TxnOp::delete(k, None),
            }
        })
        .collect()
}

/// The row stored at `key` (`<prefix>objects/<kind>/<name>`) with `value`.
fn row_of(prefix: &str, key: &str, value: &[u8]) -> Result<Row, StoreError> {
    let rest = key.strip_prefix(prefix).unwrap_or(key);
    let (kind, lc) = rest.split_once('/').unwrap_or((rest, ""));
    let bad = |reason: &str| StoreError::Row {
        kind: kind.to_owned(),
        key: lc.to_owned(),
        reason: reason.to_owned(),
    };
    let text = std::str::from_utf8(value).map_err(|_| bad("the value is not UTF-8 text"))?;
    let (name, body) = text
        .split_once('\n')
        .ok_or_else(|| bad("the value is not '<name>\\n<JSON body>'"))?;
    if !name.eq_ignore_ascii_case(lc) {
        return Err(bad(&format!(
            "the value names '{name}', not the key's name"
        )));
    }
    Ok(Row {
        kind: kind.to_owned(),
        key: name.to_owned(),
        body: body.to_owned(),
    })
}

/// The election under one prefix: the key `leader`, put on a lease by the winner only if it
/// does not exist; its create revision is the term.
#[derive(Debug)]
pub struct EtcdElection {
    worker: Worker<Conn>,
    candidate: Candidate,
}

impl EtcdElection {
    /// Connects (its own client).
    pub fn open(target: &EtcdTarget, candidate: Candidate) -> Result<EtcdElection, StoreError> {
        let t = target.clone();
        Ok(EtcdElection {
            worker: Worker::spawn("etcd-election", move || Conn::connect(t))?,
            candidate,
        })
    }
}

/// The lease length in etcd's whole seconds (at least 1).
fn ttl_secs(lease: Duration) -> i64 {
    let whole = lease.as_secs() + u64::from(lease.subsec_nanos() > 0);
    i64::try_from(whole).unwrap_or(i64::MAX).max(1)
}

fn read_leader(c: &mut Conn) -> Result<Option<Leader>, StoreError> {
    let key = c.target.key("leader");
    let resp = c
        .run(|mut cl| {
            let key = key.clone();
            async move { cl.get(key, None).await }
        })
        .map_err(StoreError::read)?;
    let Some(kv) = resp.kvs().first() else {
        return Ok(None);
    };
    let r: Record = serde_json::from_slice(kv.value()).map_err(StoreError::read)?;
    Ok(Some(Leader {
        holder: r.holder,
        url: r.url,
        term: kv.create_revision(),
    }))
}

fn acquire(c: &mut Conn, cand: &Candidate) -> Result<Option<Fence>, StoreError> {
    if read_leader(c)?.is_some() {
        return Ok(None);
    }
    let key = c.target.key("leader");
    let ttl = ttl_secs(cand.lease);
    let granted = c
        .run(|mut cl| async move { cl.lease_grant(ttl, None).await })
        .map_err(StoreError::read)?;
    let id = granted.id();
    let record = serde_json::to_string(&Record {
        holder: cand.holder.clone(),
        url: cand.url.clone(),
    })
    .map_err(StoreError::commit)?;
    let txn = Txn::new()
        .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
        .and_then([TxnOp::put(
            key,
            record,
            Some(PutOptions::new().with_lease(id)),
        )]);
    let resp = c
        .run(|mut cl| {
            let txn = txn.clone();
            async move { cl.txn(txn).await }
        })
        .map_err(StoreError::commit)?;
    if !resp.succeeded() {
        let _ = c.run(|mut cl| async move { cl.lease_revoke(id).await });
        return Ok(None);
    }
    let term = resp.header().map_or(0, |h| h.revision());
    let (keeper, stream) = c
        .run(|mut cl| async move { cl.lease_keep_alive(id).await })
        .map_err(StoreError::read)?;
    c.lease = Some((id, keeper, stream));
    Ok(Some(Fence {
        holder: cand.holder.clone(),
        term,
    }))
}

/// One keep-alive of the lease; a member that cannot be reached is left for the next one
/// (with a new keep-alive stream).
fn renew(c: &mut Conn, within: Duration) -> Result<bool, StoreError> {
    match keep_alive(c, within) {
        Err(StoreError::Read { source }) if c.target.endpoints.len() > 1 => {
            let Some((id, _, _)) = c.lease.take() else {
                return Ok(false);
            };
            let why = etcd_client::Error::LeaseKeepAliveError(source.to_string());
            c.next_member(&why);
            let (keeper, stream) = c
                .run(|mut cl| async move { cl.lease_keep_alive(id).await })
                .map_err(StoreError::read)?;
            c.lease = Some((id, keeper, stream));
            keep_alive(c, within)
        }
        other => other,
    }
}

fn keep_alive(c: &mut Conn, within: Duration) -> Result<bool, StoreError> {
    let Some((_, keeper, stream)) = c.lease.as_mut() else {
        return Ok(false);
    };
    let answer = c.rt.block_on(async {
        tokio::time::timeout(within, async {
            keeper.keep_alive().await?;
            stream.message().await
        })
        .await
    });
    match answer {
        Ok(Ok(Some(r))) => Ok(r.ttl() > 0),
        Ok(Ok(None)) => Ok(false),
        Ok(Err(e)) => Err(StoreError::read(e)),
        Err(_) => Err(StoreError::read(
            "no keep-alive answer within a third of the lease",
        )),
    }
}

impl Election for EtcdElection {
    fn try_acquire(&mut self) -> Result<Option<Fence>, StoreError> {
        let cand = self.candidate.clone();
        on(&self.worker, move |c| acquire(c, &cand))
    }

    fn renew(&mut self) -> Result<bool, StoreError> {
        let within = self.candidate.lease / 3;
        on(&self.worker, move |c| renew(c, within))
    }

    fn leader(&mut self) -> Result<Option<Leader>, StoreError> {
        on(&self.worker, read_leader)
    }

    fn resign(&mut self) -> Result<(), StoreError> {
        on(&self.worker, |c| {
            if let Some((id, _, _)) = c.lease.take() {
                c.run(|mut cl| async move { cl.lease_revoke(id).await })
                    .map_err(StoreError::commit)?;
            }
            Ok(())
        })
    }
}

/// The auth keys of one prefix, on their own client.
#[derive(Debug)]
pub struct EtcdAuth {
    worker: Worker<Conn>,
    location: String,
}

impl EtcdAuth {
    /// Connects.
    pub fn open(target: &EtcdTarget) -> Result<EtcdAuth, StoreError> {
        let t = target.clone();
        Ok(EtcdAuth {
            worker: Worker::spawn("etcd-auth", move || Conn::connect(t))?,
            location: target.describe(),
        })
    }
}

fn token_key(t: &EtcdTarget, id: i64) -> String {
    t.key(&format!("auth/tokens/{id:020}"))
}

fn read_tokens(c: &mut Conn) -> Result<AuthState, StoreError> {
    let enabled = c
        .get(&c.target.key("auth/token_auth_enabled"))
        .map_err(StoreError::read)?
        .is_some_and(|(v, _)| v == b"true");
    let prefix = c.target.key("auth/tokens/");
    let tokens = c
        .scan(&prefix)
        .map_err(StoreError::read)?
        .into_iter()
        .map(|(k, v)| {
            serde_json::from_slice::<TokenRow>(&v).map_err(|e| StoreError::Row {
                kind: "auth token".to_owned(),
                key: k,
                reason: e.to_string(),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AuthState { enabled, tokens })
}

/// Changes the token `id` with `f` (compare-and-swap on its revision); `false` when there is
/// none or `f` refuses it.
fn change_token(
    c: &mut Conn,
    id: i64,
    f: impl Fn(&mut TokenRow) -> bool,
) -> Result<bool, StoreError> {
    let key = token_key(&c.target, id);
    loop {
        let Some((v, rev)) = c.get(&key).map_err(StoreError::read)? else {
            return Ok(false);
        };
        let mut t: TokenRow = serde_json::from_slice(&v).map_err(StoreError::read)?;
        if !f(&mut t) {
            return Ok(false);
        }
        let body = serde_json::to_string(&t).map_err(StoreError::commit)?;
        let txn = Txn::new()
            .when([Compare::mod_revision(key.clone(), CompareOp::Equal, rev)])
            .and_then([TxnOp::put(key.clone(), body, None)]);
        if c.txn(txn).map_err(commit_error)? {
            return Ok(true);
        }
    }
}

impl AuthStore for EtcdAuth {
    fn load(&self) -> Result<AuthState, StoreError> {
        on(&self.worker, read_tokens)
    }

    fn add_token(
        &self,
        hash: &str,
        description: &str,
        now: i64,
        expires_at: Option<i64>,
        enable: bool,
    ) -> Result<Option<i64>, StoreError> {
        let (hash, description) = (hash.to_owned(), description.to_owned());
        on(&self.worker, move |c| {
            loop {
                let next_key = c.target.key("auth/next_token_id");
                let on_key = c.target.key("auth/token_auth_enabled");
                let next = c.get(&next_key).map_err(StoreError::read)?;
                let on = c.get(&on_key).map_err(StoreError::read)?;
                if enable && on.as_ref().is_some_and(|(v, _)| v == b"true") {
                    return Ok(None);
                }
                let id = next
                    .as_ref()
                    .and_then(|(v, _)| std::str::from_utf8(v).ok()?.parse::<i64>().ok())
                    .unwrap_or(1);
                let row = TokenRow {
                    id,
                    hash: hash.clone(),
                    description: description.clone(),
                    created_at: now,
                    is_active: true,
                    deleted_at: None,
                    expires_at,
                };
                let mut when = vec![match &next {
                    None => Compare::create_revision(next_key.clone(), CompareOp::Equal, 0),
                    Some((_, rev)) => {
                        Compare::mod_revision(next_key.clone(), CompareOp::Equal, *rev)
                    }
                }];
                let mut then = vec![
                    TxnOp::put(
                        token_key(&c.target, id),
                        serde_json::to_string(&row).map_err(StoreError::commit)?,
                        None,
                    ),
                    TxnOp::put(next_key, (id + 1).to_string(), None),
                ];
                if enable {
                    when.push(match &on {
                        None => Compare::create_revision(on_key.clone(), CompareOp::Equal, 0),
                        Some((_, rev)) => {
                            Compare::mod_revision(on_key.clone(), CompareOp::Equal, *rev)
                        }
                    });
                    then.push(TxnOp::put(on_key, "true", None));
                }
                if c.txn(Txn::new().when(when).and_then(then))
                    .map_err(commit_error)?
                {
                    return Ok(Some(id));
                }
            }
        })
    }

    fn modify(
        &self,
        id: i64,
        description: Option<&str>,
        is_active: Option<bool>,
    ) -> Result<bool, StoreError> {
        let description = description.map(str::to_owned);
        on(&self.worker, move |c| {
            change_token(c, id, |t| {
                if t.deleted_at.is_some() {
                    return false;
                }
                if let Some(d) = &description {
                    t.description.clone_from(d);
                }
                if let Some(a) = is_active {
                    t.is_active = a;
                }
                true
            })
        })
    }

    fn revoke(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        on(&self.worker, move |c| {
            change_token(c, id, |t| {
                if t.deleted_at.is_some() {
                    return false;
                }
                t.deleted_at = Some(now);
                t.is_active = false;
                true
            })
        })
    }

    fn import(&self, state: &AuthState) -> Result<(), StoreError> {
        let state = state.clone();
        let location = self.location.clone();
        on(&self.worker, move |c| {
            let prefix = c.target.key("auth/");
            let held = c.scan(&prefix).map_err(StoreError::read)?.len();
            if held > 0 {
                let fix = format!("etcdctl del --prefix {prefix}");
                return Err(super::auth::not_empty(
                    &location,
                    i64::try_from(held).unwrap_or(i64::MAX),
                    &fix,
                ));
            }
            let mut then = Vec::new();
            if state.enabled {
                then.push(TxnOp::put(
                    c.target.key("auth/token_auth_enabled"),
                    "true",
                    None,
                ));
            }
            let next = state.tokens.iter().map(|t| t.id + 1).max().unwrap_or(1);
            for t in &state.tokens {
                let body = serde_json::to_string(t).map_err(StoreError::commit)?;
                then.push(TxnOp::put(token_key(&c.target, t.id), body, None));
            }
            then.push(TxnOp::put(
                c.target.key("auth/next_token_id"),
                next.to_string(),
                None,
            ));
            let empty =
                Compare::create_revision(c.target.key("auth/next_token_id"), CompareOp::Equal, 0);
            if c.txn(Txn::new().when([empty]).and_then(then))
                .map_err(commit_error)?
            {
                Ok(())
            } else {
                Err(super::auth::not_empty(
                    &location,
                    1,
                    "another controller wrote tokens meanwhile",
                ))
            }
        })
    }
}

#[cfg(test)]
pub(crate) mod fixture {
    //! etcd under the store suite: every case under a key prefix of its own, deleted afterwards.

    use std::sync::atomic::{AtomicU32, Ordering};

    use etcd_client::DeleteOptions;

    use super::{Conn, EtcdAuth, EtcdStore, EtcdTarget};
    use crate::store::auth::AuthStore;
    use crate::store::conformance::{Engine, Fixture};
    use crate::store::{Store, StoreError};

    /// The engine, at `LINSTOR_TEST_ETCD_ENDPOINTS`.
    pub(crate) struct Etcd {
        endpoints: Vec<String>,
    }

    static NEXT: AtomicU32 = AtomicU32::new(0);

    impl Etcd {
        /// `None` when the variable is not set.
        pub(crate) fn from_env() -> Option<Etcd> {
            let eps = std::env::var("LINSTOR_TEST_ETCD_ENDPOINTS").ok()?;
            Some(Etcd {
                endpoints: eps.split(',').map(str::to_owned).collect(),
            })
        }
    }

    struct Db {
        target: EtcdTarget,
        conn: std::sync::Mutex<Conn>,
    }

    impl Engine for Etcd {
        fn fresh(&self) -> Box<dyn Fixture> {
            let n = NEXT.fetch_add(1, Ordering::Relaxed);
            let target = EtcdTarget {
                endpoints: self.endpoints.clone(),
                prefix: format!("/linstor-test/{}-{n}/", std::process::id()),
            };
            let conn = Conn::connect(target.clone()).expect("connect");
            let db = Db {
                target,
                conn: std::sync::Mutex::new(conn),
            };
            db.wipe();
            Box::new(db)
        }

        fn open_unreachable(&self) -> Result<Box<dyn Store>, StoreError> {
            let t = EtcdTarget::parse("etcd://127.0.0.1:9", None).expect("target");
            Ok(Box::new(EtcdStore::open(&t)?))
        }

        fn cases(&self) -> u32 {
            12
        }
    }

    impl Db {
        fn with<R>(&self, f: impl FnOnce(&mut Conn) -> R) -> R {
            f(&mut self.conn.lock().expect("lock"))
        }

        fn wipe(&self) {
            let prefix = self.target.prefix.clone();
            self.with(|c| {
                c.rt.block_on(
                    c.client
                        .delete(prefix, Some(DeleteOptions::new().with_prefix())),
                )
                .expect("wipe");
            });
        }
    }

    impl Drop for Db {
        fn drop(&mut self) {
            self.wipe();
        }
    }

    impl Fixture for Db {
        fn open(&self) -> Result<Box<dyn Store>, StoreError> {
            Ok(Box::new(EtcdStore::open(&self.target)?))
        }

        fn auth(&self) -> Box<dyn AuthStore> {
            Box::new(EtcdAuth::open(&self.target).expect("auth"))
        }

        fn raw(&self) -> Vec<(String, String, String)> {
            let prefix = self.target.key("objects/");
            self.with(|c| {
                c.scan(&prefix)
                    .expect("scan")
                    .into_iter()
                    .map(|(k, v)| {
                        let kind = k[prefix.len()..]
                            .split('/')
                            .next()
                            .unwrap_or_default()
                            .to_owned();
                        let text = String::from_utf8_lossy(&v).into_owned();
                        let (name, body) = text.split_once('\n').unwrap_or(("", &text));
                        (kind, name.to_owned(), body.to_owned())
                    })
                    .collect()
            })
        }

        fn put_raw(&self, kind: &str, key: &str, body: &[u8]) -> bool {
            let k = self.target.object_key(kind, key);
            let mut v = format!("{key}\n").into_bytes();
            v.extend_from_slice(body);
            self.with(|c| c.rt.block_on(c.client.put(k, v, None)).expect("put"));
            true
        }

        fn delete_raw(&self, kind: &str, key: &str) {
            let k = self.target.object_key(kind, key);
            let n = self.with(|c| {
                c.rt.block_on(c.client.delete(k, None))
                    .expect("delete")
                    .deleted()
            });
            assert_eq!(n, 1, "{kind}/{key}");
        }

        fn set_version(&self, v: u32) {
            let k = self.target.key("schema_version");
            self.with(|c| {
                c.rt.block_on(c.client.put(k, v.to_string(), None))
                    .expect("put")
            });
        }

        fn election(
            &self,
            holder: &str,
            lease: std::time::Duration,
        ) -> Option<Box<dyn crate::store::lease::Election>> {
            let cand = crate::store::conformance::candidate(holder, lease);
            Some(Box::new(
                super::EtcdElection::open(&self.target, cand).expect("election"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_steps_match_sqlite_s() {
        let lite: Vec<u32> = super::super::sqlite::MIGRATIONS
            .iter()
            .map(|(v, _)| *v)
            .collect();
        assert_eq!(SCHEMA_STEPS, lite.as_slice());
    }

    #[test]
    fn urls_and_prefixes_are_read_or_refused_with_the_fix() {
        let t = EtcdTarget::parse("etcd://h1:2379,10.0.0.2:2380", None).unwrap();
        assert_eq!(t.endpoints, ["h1:2379", "10.0.0.2:2380"]);
        assert_eq!(t.describe(), "etcd://h1:2379,10.0.0.2:2380/LINSTOR/");
        assert_eq!(t.object_key("rd", "Web"), "/LINSTOR/objects/rd/web");
        let t = EtcdTarget::parse("etcd://h1:2379/", Some("lin/")).unwrap();
        assert_eq!(t.describe(), "etcd://h1:2379/lin/");
        let bad = [
            ("etcd://h1", None, "has no port"),
            ("etcd://h1:0", None, "HOST:PORT"),
            ("etcd://:2379", None, "HOST:PORT"),
            ("etcd://h1:2379,", None, "has no port"),
            ("http://h1:2379", None, "etcd://"),
            ("etcd://h1:2379", Some(""), "prefix"),
        ];
        for (url, prefix, want) in bad {
            let e = EtcdTarget::parse(url, prefix).unwrap_err();
            assert!(e.contains(want), "{url}: {e}");
        }
    }

    #[test]
    fn values_hold_the_spelling_and_bad_values_name_the_row() {
        let p = "/L/objects/";
        let r = row_of(p, "/L/objects/rd/web", b"Web\n{\"x\":1}").unwrap();
        assert_eq!(
            (r.kind.as_str(), r.key.as_str(), r.body.as_str()),
            ("rd", "Web", "{\"x\":1}")
        );
        for (value, reason) in [
            (&b"\xff\n{}"[..], "not UTF-8"),
            (b"web", "not '<name>"),
            (b"other\n{}", "names 'other'"),
        ] {
            match row_of(p, "/L/objects/rd/web", value) {
                Err(StoreError::Row {
                    kind,
                    key,
                    reason: why,
                }) => {
                    assert_eq!((kind.as_str(), key.as_str()), ("rd", "web"));
                    assert!(why.contains(reason), "{why}");
                }
                other => panic!("expected a row error, got {other:?}"),
            }
        }
        assert_eq!(prefix_end("/a/"), b"/a0".to_vec());
    }
}
