//! The store suite: the same cases on every engine (SQLite, PostgreSQL, etcd), through
//! [`Fixture`], which gives each case a new empty database and raw access to its rows (to
//! corrupt them as a disk or an operator would).
//!
//! PostgreSQL and etcd are the real servers that `scripts/test-services` starts (the README's
//! test command does); their addresses come from `LINSTOR_TEST_POSTGRES_URL` and
//! `LINSTOR_TEST_ETCD_ENDPOINTS`. Without them the two engine tests print a SKIP line.

use linstor_core::cluster::{ChangeSet, Cluster};
use linstor_core::state::ClusterState;
use proptest::strategy::{Strategy, ValueTree};
use serde_json::json;

use super::auth::AuthStore;
use super::lease::Election;
use super::testutil::{arb_command, desired, must, scenario_with_changes};
use super::{Store, StoreError, load_cluster, rows, transfer};

/// One empty database of an engine, for one case.
pub(crate) trait Fixture {
    /// Opens (or opens again) the database.
    fn open(&self) -> Result<Box<dyn Store>, StoreError>;
    /// Its auth tables.
    fn auth(&self) -> Box<dyn AuthStore>;
    /// Every stored `(kind, key, body)`, in kind and lowercase-key order.
    fn raw(&self) -> Vec<(String, String, String)>;
    /// Stores `body` as the row `(kind, key)` (replacing a row of that key in any case);
    /// `false` when the engine cannot hold such bytes at all (PostgreSQL's TEXT and UTF-8).
    fn put_raw(&self, kind: &str, key: &str, body: &[u8]) -> bool;
    /// Deletes the row `(kind, key)`.
    fn delete_raw(&self, kind: &str, key: &str);
    /// Sets the stored schema version.
    fn set_version(&self, v: u32);
    /// An election over this database (`None`: the engine has none).
    fn election(&self, holder: &str, lease: std::time::Duration) -> Option<Box<dyn Election>>;
}

/// A candidate for the fixtures' elections: `http://HOLDER` as its URL.
pub(crate) fn candidate(holder: &str, lease: std::time::Duration) -> super::lease::Candidate {
    super::lease::Candidate {
        holder: holder.to_owned(),
        url: format!("http://{holder}"),
        lease,
    }
}

/// An engine under test.
pub(crate) trait Engine {
    /// A new, empty, isolated database.
    fn fresh(&self) -> Box<dyn Fixture>;
    /// Opening a database whose server does not answer.
    fn open_unreachable(&self) -> Result<Box<dyn Store>, StoreError>;
    /// How many random command sequences the property case runs.
    fn cases(&self) -> u32;
}

fn json_of(s: &ClusterState) -> String {
    serde_json::to_string(s).expect("serializes")
}

/// One case of the suite.
type Case = fn(&dyn Engine);

/// Every case, in order; panics name the engine and the case.
pub(crate) fn run_all(engine: &dyn Engine) {
    let cases: &[(&str, Case)] = &[
        ("scenario reloads as it is in memory", scenario_reloads),
        ("deletes remove rows whatever the case", deletes_ignore_case),
        (
            "a recreated object takes its new spelling",
            recreated_spelling,
        ),
        ("a commit writes only its rows", commit_writes_only_its_rows),
        ("a corrupted row is named", corrupted_rows_are_named),
        ("an inconsistent state fails the check", inconsistent_state),
        ("a newer schema is refused", newer_schema),
        (
            "reopening keeps the version and the state",
            reopen_idempotent,
        ),
        ("an unreachable server is named", unreachable),
        ("tokens survive a reopen", tokens_survive),
        ("an export imports as it was", export_import),
        (
            "random commands reload to the state",
            committed_outcomes_reload,
        ),
        ("a former leader is fenced", former_leader_is_fenced),
    ];
    for (name, case) in cases {
        let started = std::time::Instant::now();
        case(engine);
        tracing::debug!(case = name, elapsed = ?started.elapsed(), "store case passed");
    }
}

/// The scenario, committed change set by change set into a new database.
fn scenario_in(
    engine: &dyn Engine,
) -> (Box<dyn Fixture>, Cluster, linstor_core::cluster::SeededEnv) {
    let f = engine.fresh();
    let (c, e, changes) = scenario_with_changes();
    let mut s = f.open().expect("open");
    for cs in &changes {
        s.commit(c.state(), &[cs]).expect("commit");
    }
    (f, c, e)
}

fn scenario_reloads(engine: &dyn Engine) {
    let (f, c, _) = scenario_in(engine);
    let mut s = f.open().expect("reopen");
    assert_eq!(
        json_of(&s.load().expect("load")),
        json_of(&desired(c.state()))
    );
    let reloaded = load_cluster(s.as_mut()).expect("consistent");
    let want = Cluster::from_state(desired(c.state())).expect("consistent");
    assert_eq!(reloaded.to_json(), want.to_json());
    assert_eq!(s.count_rows().expect("count"), f.raw().len());
}

fn deletes_ignore_case(engine: &dyn Engine) {
    let (f, mut c, mut e) = scenario_in(engine);
    let mut s = f.open().expect("open");
    let steps = [
        json!({"cmd": "kvs_delete", "name": "KV"}),
        json!({"cmd": "rsc_dfn_create", "name": "Tmp"}),
        json!({"cmd": "rsc_dfn_delete", "name": "TMP"}),
        json!({"cmd": "stor_pool_dfn_create", "name": "Spare"}),
        json!({"cmd": "stor_pool_dfn_delete", "name": "SPARE"}),
    ];
    let outcomes: Vec<ChangeSet> = steps
        .iter()
        .map(|st| c.execute_json(&st.to_string(), &mut e).changes)
        .collect();
    let refs: Vec<&ChangeSet> = outcomes.iter().collect();
    s.commit(c.state(), &refs).expect("commit");
    let keys: Vec<(String, String)> = f.raw().into_iter().map(|(k, n, _)| (k, n)).collect();
    for (kind, key) in [("kvs", "kv"), ("rd", "tmp"), ("spd", "spare")] {
        assert!(
            !keys
                .iter()
                .any(|(k, n)| k == kind && n.eq_ignore_ascii_case(key)),
            "{kind}/{key} still stored: {keys:?}"
        );
    }
    assert_eq!(s.load().expect("load"), desired(c.state()));
}

fn recreated_spelling(engine: &dyn Engine) {
    let (f, mut c, mut e) = scenario_in(engine);
    let mut s = f.open().expect("open");
    let a = must(&mut c, &mut e, &json!({"cmd": "kvs_delete", "name": "kv"}));
    let b = must(
        &mut c,
        &mut e,
        &json!({"cmd": "kvs_modify", "name": "KV", "props": {"override_props": {"z": "1"}}}),
    );
    s.commit(c.state(), &[&a.changes, &b.changes])
        .expect("commit");
    let kvs: Vec<_> = f.raw().into_iter().filter(|r| r.0 == "kvs").collect();
    assert_eq!(kvs.len(), 1);
    assert_eq!(kvs[0].1, "KV");
    assert_eq!(
        json_of(&s.load().expect("load")),
        json_of(&desired(c.state()))
    );
}

fn commit_writes_only_its_rows(engine: &dyn Engine) {
    let (f, mut c, mut e) = scenario_in(engine);
    let mut s = f.open().expect("open");
    let before = f.raw();
    let o = must(
        &mut c,
        &mut e,
        &json!({"cmd": "rsc_dfn_modify", "name": "db",
            "props": {"override_props": {"Aux/owner": "dev"}}}),
    );
    s.commit(c.state(), &[&o.changes]).expect("commit");
    let after = f.raw();
    let differ: Vec<_> = before
        .iter()
        .zip(&after)
        .filter(|(a, b)| a != b)
        .map(|(a, _)| (a.0.as_str(), a.1.as_str()))
        .collect();
    assert_eq!(differ, [("rd", "db")]);
    assert_eq!(before.len(), after.len());
    let o = must(
        &mut c,
        &mut e,
        &json!({"cmd": "report_node", "node": "n2", "connection": "ONLINE"}),
    );
    s.commit(c.state(), &[&o.changes, &ChangeSet::default()])
        .expect("commit");
    assert_eq!(f.raw(), after, "observed state is never stored");
}

fn corrupted_rows_are_named(engine: &dyn Engine) {
    let cases: &[(&str, &str, &[u8], &str)] = &[
        ("node", "n2", br#"{"name":"n2"}"#, "missing field"),
        ("rd", "web", b"{", "EOF"),
        ("kvs", "kv", &[0xff, 0xfe], "not UTF-8"),
    ];
    for (kind, key, body, reason) in cases {
        let (f, _, _) = scenario_in(engine);
        if !f.put_raw(kind, key, body) {
            continue;
        }
        match f.open().expect("open").load() {
            Err(StoreError::Row {
                kind: k,
                key: n,
                reason: why,
            }) => {
                assert_eq!((k.as_str(), n.to_ascii_lowercase().as_str()), (*kind, *key));
                assert!(why.contains(reason), "{why:?} lacks {reason:?}");
            }
            other => panic!("{kind}/{key}: expected a row error, got {other:?}"),
        }
    }
    let (f, _, _) = scenario_in(engine);
    let (_, _, body) = f
        .raw()
        .into_iter()
        .find(|r| r.0 == "spd")
        .expect("an spd row");
    assert!(f.put_raw("gadget", "files", body.as_bytes()));
    match f.open().expect("open").load() {
        Err(StoreError::Row { kind, reason, .. }) => {
            assert_eq!(kind, "gadget");
            assert!(reason.contains("unknown kind"), "{reason}");
        }
        other => panic!("expected an unknown kind, got {other:?}"),
    }
}

fn inconsistent_state(engine: &dyn Engine) {
    let (f, _, _) = scenario_in(engine);
    f.delete_raw("rg", "grp");
    let mut s = f.open().expect("open");
    assert!(s.load().is_ok(), "every row is readable");
    assert!(matches!(
        load_cluster(s.as_mut()),
        Err(StoreError::Inconsistent(_))
    ));
}

fn newer_schema(engine: &dyn Engine) {
    let f = engine.fresh();
    drop(f.open().expect("open"));
    let newer = super::sqlite::supported_version() + 1;
    f.set_version(newer);
    match f.open() {
        Err(
            e @ StoreError::NewerSchema {
                found, supported, ..
            },
        ) => {
            assert_eq!(
                (found, supported),
                (newer, super::sqlite::supported_version())
            );
            assert!(e.to_string().contains("a newer controller wrote it"), "{e}");
        }
        other => panic!(
            "expected a newer-schema error, got {:?}",
            other.map(|s| s.describe())
        ),
    }
}

fn reopen_idempotent(engine: &dyn Engine) {
    let (f, c, _) = scenario_in(engine);
    for _ in 0..3 {
        let mut s = f.open().expect("open");
        assert_eq!(s.load().expect("load"), desired(c.state()));
    }
}

fn unreachable(engine: &dyn Engine) {
    match engine.open_unreachable() {
        Err(e @ StoreError::Open { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("cannot open the database"), "{msg}");
            assert!(msg.contains("check"), "{msg}");
        }
        other => panic!(
            "expected an open error, got {:?}",
            other.map(|s| s.describe())
        ),
    }
}

fn tokens_survive(engine: &dyn Engine) {
    let f = engine.fresh();
    drop(f.open().expect("open"));
    let a = f.auth();
    assert_eq!(a.load().expect("load"), crate::auth::AuthState::default());
    assert_eq!(
        a.add_token("h1", "init", 10, None, true).expect("add"),
        Some(1)
    );
    assert_eq!(
        a.add_token("h2", "again", 11, None, true).expect("add"),
        None
    );
    assert_eq!(
        a.add_token("h3", "user", 12, Some(99), false).expect("add"),
        Some(2)
    );
    assert!(a.modify(2, Some("renamed"), Some(false)).expect("modify"));
    assert!(a.revoke(1, 20).expect("revoke"));
    assert!(!a.revoke(1, 21).expect("revoke twice"));
    assert!(!a.modify(1, None, Some(true)).expect("modify revoked"));
    assert!(!a.modify(7, None, Some(true)).expect("modify missing"));
    drop(a);
    let s = f.auth().load().expect("load");
    assert!(s.enabled);
    assert_eq!(s.tokens.len(), 2);
    assert_eq!(s.tokens[0].deleted_at, Some(20));
    let t = &s.tokens[1];
    assert_eq!(
        (t.description.as_str(), t.is_active, t.expires_at),
        ("renamed", false, Some(99))
    );
}

/// SQLite → this engine → SQLite: the state and the tokens arrive unchanged; a second import
/// is refused and changes nothing.
fn export_import(engine: &dyn Engine) {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("from.db");
    let (c, _, _) = scenario_with_changes();
    let mut lite = super::sqlite::SqliteStore::open(&path).expect("sqlite");
    lite.commit(c.state(), &[&rows::full_change_set(c.state())])
        .expect("commit");
    let lite_auth = super::auth::SqliteAuth::open(&path).expect("auth");
    lite_auth
        .add_token("h1", "init", 5, None, true)
        .expect("token");
    let doc = transfer::export(&mut lite, &lite_auth).expect("export");
    let f = engine.fresh();
    let mut s = f.open().expect("open");
    let a = f.auth();
    assert_eq!(
        transfer::import(&doc, s.as_mut(), a.as_ref()).expect("import"),
        doc.objects.len()
    );
    assert_eq!(
        json_of(&s.load().expect("load")),
        json_of(&desired(c.state()))
    );
    assert_eq!(a.load().expect("auth"), lite_auth.load().expect("auth"));
    let before = f.raw();
    assert!(matches!(
        transfer::import(&doc, s.as_mut(), a.as_ref()),
        Err(StoreError::NotEmpty { .. })
    ));
    assert_eq!(f.raw(), before);
    let back = transfer::export(s.as_mut(), a.as_ref()).expect("export again");
    assert_eq!(back.objects, doc.objects);
    assert_eq!(back.auth, doc.auth);
    // The next token id follows the imported ones.
    assert_eq!(
        a.add_token("h9", "next", 6, None, false).expect("add"),
        Some(2)
    );
}

/// From the committed scenario, whatever commands run, committing each outcome's change set
/// leaves a database that reloads to exactly the in-memory desired state.
fn committed_outcomes_reload(engine: &dyn Engine) {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let seqs = proptest::collection::vec(arb_command(), 1..40);
    for case in 0..engine.cases() {
        let cmds = seqs.new_tree(&mut runner).expect("a sequence").current();
        let (f, mut c, mut e) = scenario_in(engine);
        let mut s = f.open().expect("open");
        for cmd in &cmds {
            let o = c.execute_json(&cmd.to_string(), &mut e);
            s.commit(c.state(), &[&o.changes]).expect("commit");
        }
        assert_eq!(
            json_of(&s.load().expect("load")),
            json_of(&desired(c.state())),
            "case {case}: {cmds:?}"
        );
        drop(s);
        let mut s = f.open().expect("reopen");
        let reloaded = load_cluster(s.as_mut()).expect("consistent");
        let want = Cluster::from_state(desired(c.state())).expect("consistent");
        assert_eq!(reloaded.to_json(), want.to_json(), "case {case}");
    }
}

/// Two controllers: one leads and commits; once it stops renewing, the other takes over after
/// the lease, with a greater term, and every commit of the former leader is refused unwritten.
fn former_leader_is_fenced(engine: &dyn Engine) {
    let lease = std::time::Duration::from_millis(1000);
    let f = engine.fresh();
    let (Some(mut a), Some(mut b)) = (f.election("a", lease), f.election("b", lease)) else {
        return;
    };
    let (c, mut e, changes) = scenario_with_changes();
    let mut c = c;
    let fa = a
        .try_acquire()
        .expect("acquire")
        .expect("a leads an empty election");
    assert_eq!(
        b.try_acquire().expect("acquire"),
        None,
        "one leader at a time"
    );
    let seen = b.leader().expect("leader").expect("a leader");
    assert_eq!(
        (seen.holder.as_str(), seen.url.as_str(), seen.term),
        ("a", "http://a", fa.term)
    );
    let mut sa = f.open().expect("open");
    sa.set_fence(fa.clone());
    for cs in &changes {
        sa.commit(c.state(), &[cs]).expect("the leader commits");
    }
    let started = std::time::Instant::now();
    while started.elapsed() < lease * 2 {
        assert!(
            a.renew().expect("renew"),
            "a keeps its lease while it renews"
        );
        assert_eq!(b.try_acquire().expect("acquire"), None);
        std::thread::sleep(lease / 4);
    }
    // `a` stops renewing (paused); `b` takes over once the lease expired.
    let fb = loop {
        if let Some(fb) = b.try_acquire().expect("acquire") {
            break fb;
        }
        assert!(started.elapsed() < lease * 10, "b never took over");
        std::thread::sleep(lease / 10);
    };
    assert!(fb.term > fa.term, "terms grow: {fb:?} after {fa:?}");
    let before = f.raw();
    let o = must(
        &mut c,
        &mut e,
        &json!({"cmd": "kvs_modify", "name": "late", "props": {"override_props": {"x": "1"}}}),
    );
    match sa.commit(c.state(), &[&o.changes]) {
        Err(err @ StoreError::Fenced { .. }) => {
            assert!(
                err.to_string().contains("no longer the active one"),
                "{err}"
            );
        }
        other => panic!("the former leader committed: {other:?}"),
    }
    assert_eq!(f.raw(), before, "nothing of the fenced commit was written");
    assert!(
        !a.renew().unwrap_or(false),
        "the former leader cannot renew"
    );
    let mut sb = f.open().expect("open");
    sb.set_fence(fb);
    sb.commit(c.state(), &[&o.changes])
        .expect("the new leader commits");
    // A clean resignation hands over at once.
    b.resign().expect("resign");
    let quick = std::time::Instant::now();
    let mut c2 = f.election("c", lease).expect("election");
    assert!(
        c2.try_acquire().expect("acquire").is_some(),
        "free after a resignation"
    );
    assert!(quick.elapsed() < lease, "no lease wait after a resignation");
}

#[test]
fn sqlite_passes_the_store_suite() {
    run_all(&super::sqlite::fixture::Sqlite);
}

#[test]
#[allow(clippy::print_stdout)]
fn real_postgres_passes_the_store_suite() {
    match super::postgres::fixture::Postgres::from_env() {
        Some(e) => run_all(&e),
        None => println!(
            "SKIP real_postgres store suite: set LINSTOR_TEST_POSTGRES_URL (scripts/test-services up DIR)"
        ),
    }
}

#[test]
#[allow(clippy::print_stdout)]
fn real_etcd_passes_the_store_suite() {
    match super::etcd::fixture::Etcd::from_env() {
        Some(e) => run_all(&e),
        None => println!(
            "SKIP real_etcd store suite: set LINSTOR_TEST_ETCD_ENDPOINTS (scripts/test-services up DIR)"
        ),
    }
}
