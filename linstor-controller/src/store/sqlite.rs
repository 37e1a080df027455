//! The embedded SQLite engine of [`Store`]: one table of rows (see [`rows`]), a versioned
//! schema, and one durable transaction per commit.
//!
//! The database runs in WAL mode with `synchronous=FULL` (a commit is on disk when it returns)
//! and foreign keys on. The schema version is `PRAGMA user_version`; [`MIGRATIONS`] lists the
//! steps in order, each applied in its own transaction when a database is opened. A database
//! with a newer version than this binary knows is refused.
//!
//! Keys compare case-insensitively (`COLLATE NOCASE`; every valid name is ASCII), as names do
//! in the core: a change set that names `N1` replaces or deletes the row of `n1`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use linstor_core::cluster::ChangeSet;
use linstor_core::state::ClusterState;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, TransactionBehavior, params};

use super::rows::{self, Row, RowKey};
use super::{Store, StoreError};

/// The schema steps, in order: `(version, SQL)`; a database at version `v` gets every step
/// above `v`. Never edit a released step: add one.
pub const MIGRATIONS: &[(u32, &str)] = &[
    (
        1,
        "CREATE TABLE objects (
        kind TEXT NOT NULL,
        key  TEXT NOT NULL COLLATE NOCASE,
        body TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    ) WITHOUT ROWID;",
    ),
    (
        2,
        "CREATE TABLE auth_settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE auth_tokens (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        hash        TEXT NOT NULL UNIQUE,
        description TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        is_active   INTEGER NOT NULL,
        deleted_at  INTEGER,
        expires_at  INTEGER
    );",
    ),
];

/// The newest schema version this binary knows.
pub fn supported_version() -> u32 {
    MIGRATIONS.last().map_or(0, |(v, _)| *v)
}

const SELECT_ALL: &str = "SELECT kind, key, body FROM objects ORDER BY kind, key";
const UPSERT: &str = "INSERT INTO objects (kind, key, body) VALUES (?1, ?2, ?3)
    ON CONFLICT (kind, key) DO UPDATE SET key = excluded.key, body = excluded.body";
const DELETE: &str = "DELETE FROM objects WHERE kind = ?1 AND key = ?2";

/// How long a statement waits for another connection's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] in one SQLite file.
#[derive(Debug)]
pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
}

impl SqliteStore {
    /// Opens (or creates) the database at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_err = |source| open_error(path, source);
        let mut conn = Connection::open(path).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        migrate(&mut conn, path)?;
        Ok(SqliteStore {
            conn,
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every stored row, in kind and key order.
    /// Reads every row and assembles the state from them one at a time (no row text is kept
    /// once its object is built: loading needs the state's memory, not the database's too).
    fn read_state(&self) -> Result<ClusterState, StoreError> {
        let read = StoreError::read;
        let mut st = self.conn.prepare_cached(SELECT_ALL).map_err(read)?;
        let mut q = st.query([]).map_err(read)?;
        let mut failed = None;
        let rows = std::iter::from_fn(|| match next_row(&mut q) {
            Ok(row) => row,
            Err(e) => {
                failed = Some(e);
                None
            }
        });
        let state = rows::assemble(rows);
        match failed {
            Some(e) => Err(e),
            None => state,
        }
    }

    /// Writes `writes` (a row, or `None` to delete) in one transaction; returns how many rows
    /// changed.
    fn write(&mut self, writes: &[(RowKey, Option<Row>)]) -> rusqlite::Result<usize> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut changed = 0;
        {
            let mut upsert = tx.prepare_cached(UPSERT)?;
            let mut delete = tx.prepare_cached(DELETE)?;
            for (key, row) in writes {
                changed += match row {
                    Some(r) => upsert.execute(params![r.kind, r.key, r.body])?,
                    None => delete.execute(params![key.kind().as_str(), key.key()])?,
                };
            }
        }
        tx.commit()?;
        Ok(changed)
    }
}

impl Store for SqliteStore {
    fn load(&mut self) -> Result<ClusterState, StoreError> {
        self.read_state()
    }

    fn commit(&mut self, state: &ClusterState, changes: &[&ChangeSet]) -> Result<(), StoreError> {
        let writes = rows::writes(state, changes);
        if writes.is_empty() {
            return Ok(());
        }
        self.write(&writes).map(drop).map_err(StoreError::commit)
    }

    fn describe(&self) -> String {
        location(&self.path)
    }

    fn count_rows(&mut self) -> Result<usize, StoreError> {
        let n: i64 = self
            .conn
            .query_row("SELECT count(*) FROM objects", [], |r| r.get(0))
            .map_err(StoreError::read)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn wipe_hint(&self) -> String {
        format!(
            "remove the file {} (the controller creates it again)",
            self.path.display()
        )
    }
}

/// `sqlite:PATH`, as logs and errors name the database.
fn location(path: &Path) -> String {
    format!("sqlite:{}", path.display())
}

/// The database at `path` cannot be opened.
pub(crate) fn open_error(path: &Path, source: rusqlite::Error) -> StoreError {
    StoreError::Open {
        location: location(path),
        source: source.into(),
        fix: "check that its directory exists and that the controller may read and write it, \
              and that the file is a LINSTOR controller database",
    }
}

/// The next row of `q`, or `None` at the end.
fn next_row(q: &mut rusqlite::Rows<'_>) -> Result<Option<Row>, StoreError> {
    let read = StoreError::read;
    let Some(r) = q.next().map_err(read)? else {
        return Ok(None);
    };
    let kind = text(r.get_ref(0).map_err(read)?);
    let key = text(r.get_ref(1).map_err(read)?);
    let body = match r.get_ref(2).map_err(read)? {
        ValueRef::Text(t) => std::str::from_utf8(t).map(str::to_owned).ok(),
        _ => None,
    };
    match body {
        Some(body) => Ok(Some(Row { kind, key, body })),
        None => Err(StoreError::Row {
            kind,
            key,
            reason: "the body is not UTF-8 text".to_owned(),
        }),
    }
}

/// A key or kind column as text (bytes that are not UTF-8 are shown replaced).
fn text(v: ValueRef<'_>) -> String {
    match v {
        ValueRef::Text(t) | ValueRef::Blob(t) => String::from_utf8_lossy(t).into_owned(),
        ValueRef::Integer(i) => i.to_string(),
        ValueRef::Real(f) => f.to_string(),
        ValueRef::Null => String::new(),
    }
}

/// The connection's settings: WAL, durable commits, foreign keys, a busy timeout.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(
            mode,
            "the database does not support WAL; using its journal mode"
        );
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    Ok(())
}

fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
}

/// Applies every step of [`MIGRATIONS`] above the database's version; refuses a newer one.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found = user_version(conn).map_err(|source| open_error(path, source))?;
    let supported = supported_version();
    if found > supported {
        return Err(StoreError::NewerSchema {
            location: location(path),
            found,
            supported,
        });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > found) {
        apply(conn, version, sql).map_err(|source| StoreError::Migration {
            version,
            source: source.into(),
        })?;
    }
    Ok(())
}

/// One migration step in its own transaction; skipped if another process applied it first.
fn apply(conn: &mut Connection, version: u32, sql: &str) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    if user_version(&tx)? < version {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version)?;
    }
    tx.commit()
}

#[cfg(test)]
pub(crate) mod fixture {
    //! SQLite under the store suite ([`super::super::conformance`]).

    use std::path::PathBuf;

    use rusqlite::types::Value;
    use rusqlite::{Connection, params};

    use super::SqliteStore;
    use crate::store::auth::{AuthStore, SqliteAuth};
    use crate::store::conformance::{Engine, Fixture};
    use crate::store::{Store, StoreError};

    /// The engine.
    pub(crate) struct Sqlite;

    struct Db {
        _dir: tempfile::TempDir,
        path: PathBuf,
    }

    impl Db {
        fn conn(&self) -> Connection {
            Connection::open(&self.path).expect("open")
        }
    }

    impl Engine for Sqlite {
        fn fresh(&self) -> Box<dyn Fixture> {
            let dir = tempfile::tempdir().expect("tmp");
            let path = dir.path().join("linstor.db");
            Box::new(Db { _dir: dir, path })
        }

        fn open_unreachable(&self) -> Result<Box<dyn Store>, StoreError> {
            let s = SqliteStore::open(std::path::Path::new("/nonexistent/dir/linstor.db"))?;
            Ok(Box::new(s))
        }

        fn cases(&self) -> u32 {
            32
        }
    }

    impl Fixture for Db {
        fn open(&self) -> Result<Box<dyn Store>, StoreError> {
            Ok(Box::new(SqliteStore::open(&self.path)?))
        }

        fn auth(&self) -> Box<dyn AuthStore> {
            Box::new(SqliteAuth::open(&self.path).expect("auth"))
        }

        fn raw(&self) -> Vec<(String, String, String)> {
            let c = self.conn();
            let mut st = c.prepare(super::SELECT_ALL).expect("select");
            let mut q = st.query([]).expect("query");
            let mut out = Vec::new();
            while let Some(r) = super::next_row(&mut q).expect("rows") {
                out.push((r.kind, r.key, r.body));
            }
            out
        }

        fn put_raw(&self, kind: &str, key: &str, body: &[u8]) -> bool {
            let v = match std::str::from_utf8(body) {
                Ok(t) => Value::Text(t.to_owned()),
                Err(_) => Value::Blob(body.to_vec()),
            };
            let c = self.conn();
            c.execute(
                "DELETE FROM objects WHERE kind = ?1 AND key = ?2",
                params![kind, key],
            )
            .expect("delete");
            c.execute(
                "INSERT INTO objects (kind, key, body) VALUES (?1, ?2, ?3)",
                params![kind, key, v],
            )
            .expect("insert");
            true
        }

        fn delete_raw(&self, kind: &str, key: &str) {
            let n = self
                .conn()
                .execute(
                    "DELETE FROM objects WHERE kind = ?1 AND key = ?2",
                    params![kind, key],
                )
                .expect("delete");
            assert_eq!(n, 1, "{kind}/{key}");
        }

        fn set_version(&self, v: u32) {
            self.conn()
                .pragma_update(None, "user_version", v)
                .expect("set");
        }

        fn election(
            &self,
            _holder: &str,
            _lease: std::time::Duration,
        ) -> Option<Box<dyn crate::store::lease::Election>> {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use linstor_core::cluster::{Cluster, Command, SeededEnv};
    use proptest::prelude::*;
    use proptest::strategy::ValueTree;
    use serde_json::json;

    use super::*;
    use crate::store::load_cluster;
    use crate::store::testutil::{arb_command, desired, must, scenario_with_changes};

    fn temp_db() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("linstor.db");
        (dir, path)
    }

    fn open(path: &Path) -> SqliteStore {
        SqliteStore::open(path).unwrap_or_else(|e| panic!("open {}: {e}", path.display()))
    }

    /// The stored `(kind, key, body)` rows, in order.
    fn raw_rows(s: &SqliteStore) -> Vec<(String, String, String)> {
        let mut st = s.conn.prepare(SELECT_ALL).expect("select");
        let mut q = st.query([]).expect("query");
        let mut out = Vec::new();
        while let Some(r) = next_row(&mut q).expect("rows read") {
            out.push((r.kind, r.key, r.body));
        }
        out
    }

    /// The exact serialized form (`==` on states ignores the case of names).
    fn json_of(s: &ClusterState) -> String {
        serde_json::to_string(s).expect("serializes")
    }

    /// The scenario committed change set by change set into a new database.
    fn scenario_db() -> (tempfile::TempDir, PathBuf, Cluster, SeededEnv) {
        let (dir, path) = temp_db();
        let (c, e, changes) = scenario_with_changes();
        let mut s = open(&path);
        for cs in &changes {
            s.commit(c.state(), &[cs]).expect("commit");
        }
        (dir, path, c, e)
    }

    #[test]
    fn scenario_reloads_from_the_file_as_it_is_in_memory() {
        let (_dir, path, c, _) = scenario_db();
        let mut s = open(&path);
        let got = s.load().expect("load");
        assert_eq!(json_of(&got), json_of(&desired(c.state())));
        let reloaded = load_cluster(&mut s).expect("consistent");
        let want = Cluster::from_state(desired(c.state())).expect("consistent");
        assert_eq!(reloaded.to_json(), want.to_json());
        assert_eq!(s.describe(), format!("sqlite:{}", path.display()));
    }

    #[test]
    fn pragmas_are_set() {
        let (_dir, path) = temp_db();
        let s = open(&path);
        let get = |name: &str| -> String {
            s.conn
                .pragma_query_value(None, name, |r| r.get::<_, rusqlite::types::Value>(0))
                .map(|v| format!("{v:?}"))
                .expect("pragma")
        };
        assert_eq!(get("journal_mode"), r#"Text("wal")"#);
        assert_eq!(get("synchronous"), "Integer(2)");
        assert_eq!(get("foreign_keys"), "Integer(1)");
        assert_eq!(
            get("user_version"),
            format!("Integer({})", supported_version())
        );
    }

    #[test]
    fn deletes_remove_rows_whatever_the_case_of_the_name() {
        let (_dir, path, mut c, mut e) = scenario_db();
        let mut s = open(&path);
        let steps = [
            json!({"cmd": "kvs_delete", "name": "KV"}),
            json!({"cmd": "rsc_dfn_create", "name": "Tmp"}),
            json!({"cmd": "rsc_dfn_delete", "name": "TMP"}),
            json!({"cmd": "stor_pool_dfn_create", "name": "Spare"}),
            json!({"cmd": "stor_pool_dfn_delete", "name": "SPARE"}),
            json!({"cmd": "rsc_grp_delete", "name": "DFLTRSCGRP"}),
        ];
        let mut outcomes = Vec::new();
        for step in &steps {
            let o = c.execute_json(&step.to_string(), &mut e);
            outcomes.push(o.changes);
        }
        let refs: Vec<&ChangeSet> = outcomes.iter().collect();
        s.commit(c.state(), &refs).expect("commit");
        let keys: Vec<(String, String)> =
            raw_rows(&s).into_iter().map(|(k, n, _)| (k, n)).collect();
        for gone in [("kvs", "kv"), ("rd", "Tmp"), ("spd", "Spare")] {
            let gone = (gone.0.to_owned(), gone.1.to_owned());
            assert!(!keys.contains(&gone), "{gone:?} still stored: {keys:?}");
        }
        assert!(
            keys.contains(&("rg".to_owned(), "DfltRscGrp".to_owned())),
            "refused delete"
        );
        assert_eq!(s.load().expect("load"), desired(c.state()));
    }

    #[test]
    fn a_recreated_object_is_stored_in_its_new_spelling() {
        let (_dir, path, mut c, mut e) = scenario_db();
        let mut s = open(&path);
        let a = must(&mut c, &mut e, &json!({"cmd": "kvs_delete", "name": "kv"}));
        let b = must(
            &mut c,
            &mut e,
            &json!({"cmd": "kvs_modify", "name": "KV",
            "props": {"override_props": {"z": "1"}}}),
        );
        s.commit(c.state(), &[&a.changes, &b.changes])
            .expect("commit");
        let kvs: Vec<_> = raw_rows(&s).into_iter().filter(|r| r.0 == "kvs").collect();
        assert_eq!(kvs.len(), 1);
        assert_eq!(kvs[0].1, "KV");
        assert_eq!(
            json_of(&s.load().expect("load")),
            json_of(&desired(c.state()))
        );
    }

    #[test]
    fn a_commit_writes_only_the_rows_of_its_change_set() {
        let (_dir, path, mut c, mut e) = scenario_db();
        let mut s = open(&path);
        let before = raw_rows(&s);
        // One resource definition changes; the other rows are not even rewritten.
        let o = must(
            &mut c,
            &mut e,
            &json!({"cmd": "rsc_dfn_modify", "name": "db",
            "props": {"override_props": {"Aux/owner": "dev"}}}),
        );
        let total = s.conn.total_changes();
        s.commit(c.state(), &[&o.changes]).expect("commit");
        assert_eq!(s.conn.total_changes() - total, 1);
        let after = raw_rows(&s);
        let differ: Vec<_> = before
            .iter()
            .zip(&after)
            .filter(|(a, b)| a != b)
            .map(|(a, _)| (a.0.as_str(), a.1.as_str()))
            .collect();
        assert_eq!(differ, [("rd", "db")]);
        assert_eq!(before.len(), after.len());
        // An observed-only change and an empty change set write nothing.
        let o = must(
            &mut c,
            &mut e,
            &json!({"cmd": "report_node", "node": "n2", "connection": "ONLINE"}),
        );
        let total = s.conn.total_changes();
        s.commit(c.state(), &[&o.changes, &ChangeSet::default()])
            .expect("commit");
        assert_eq!(s.conn.total_changes(), total);
    }

    #[test]
    fn the_rows_of_several_change_sets_are_written_once() {
        let (_dir, path, mut c, mut e) = scenario_db();
        let mut s = open(&path);
        let a = must(
            &mut c,
            &mut e,
            &json!({"cmd": "kvs_modify", "name": "kv", "props": {"override_props": {"x": "1"}}}),
        );
        let b = must(
            &mut c,
            &mut e,
            &json!({"cmd": "kvs_modify", "name": "KV", "props": {"override_props": {"y": "2"}}}),
        );
        let writes = rows::touched(&[&a.changes, &b.changes]);
        assert_eq!(writes.len(), 1);
        let total = s.conn.total_changes();
        s.commit(c.state(), &[&a.changes, &b.changes])
            .expect("commit");
        assert_eq!(s.conn.total_changes() - total, 1);
        assert_eq!(s.load().expect("load"), desired(c.state()));
    }

    /// Overwrites one stored column with raw SQL (the value bound as given).
    fn tamper(path: &Path, sql: &str, value: rusqlite::types::Value) {
        let conn = Connection::open(path).expect("open");
        let n = conn.execute(sql, params![value]).expect("tamper");
        assert_eq!(n, 1, "{sql}");
    }

    #[test]
    fn a_corrupted_row_is_named_by_kind_and_key() {
        use rusqlite::types::Value as V;
        let cases: &[(&str, V, &str, &str, &str)] = &[
            (
                "UPDATE objects SET body = ?1 WHERE kind = 'node' AND key = 'n2'",
                V::Text(r#"{"name":"n2"}"#.into()),
                "node",
                "n2",
                "missing field",
            ),
            (
                "UPDATE objects SET body = ?1 WHERE kind = 'rd' AND key = 'web'",
                V::Text("{".into()),
                "rd",
                "web",
                "EOF",
            ),
            (
                "UPDATE objects SET body = ?1 WHERE kind = 'kvs' AND key = 'kv'",
                V::Blob(vec![0xff, 0xfe]),
                "kvs",
                "kv",
                "not UTF-8 text",
            ),
            (
                "UPDATE objects SET kind = ?1 WHERE kind = 'spd' AND key = 'files'",
                V::Text("gadget".into()),
                "gadget",
                "files",
                "unknown kind",
            ),
        ];
        for (sql, value, kind, key, reason) in cases {
            let (_dir, path, _, _) = scenario_db();
            tamper(&path, sql, value.clone());
            let mut s = open(&path);
            match s.load() {
                Err(StoreError::Row {
                    kind: k,
                    key: n,
                    reason: why,
                }) => {
                    assert_eq!((k.as_str(), n.as_str()), (*kind, *key));
                    assert!(why.contains(reason), "{why:?} lacks {reason:?}");
                }
                other => panic!("{sql}: expected a row error, got {other:?}"),
            }
        }
    }

    #[test]
    fn an_inconsistent_state_fails_the_cluster_check() {
        let (_dir, path, _, _) = scenario_db();
        // The resource definition names a group that no longer exists.
        tamper(
            &path,
            "DELETE FROM objects WHERE kind = 'rg' AND key = ?1",
            "grp".to_owned().into(),
        );
        let mut s = open(&path);
        assert!(s.load().is_ok(), "every row is readable");
        match load_cluster(&mut s) {
            Err(e @ StoreError::Inconsistent(_)) => {
                assert!(e.to_string().contains("inconsistent"), "{e}");
            }
            other => panic!("expected an inconsistent state, got {other:?}"),
        }
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let (_dir, path) = temp_db();
        drop(open(&path));
        let newer = supported_version() + 1;
        let conn = Connection::open(&path).expect("open");
        conn.pragma_update(None, "user_version", newer)
            .expect("set");
        drop(conn);
        match SqliteStore::open(&path) {
            Err(
                e @ StoreError::NewerSchema {
                    found, supported, ..
                },
            ) => {
                assert_eq!((found, supported), (newer, supported_version()));
                let msg = e.to_string();
                assert!(msg.contains(&format!("schema version {newer}")), "{msg}");
                assert!(msg.contains("a newer controller wrote it"), "{msg}");
            }
            other => panic!("expected a newer-schema error, got {other:?}"),
        }
    }

    #[test]
    fn migrations_are_ordered_and_idempotent_on_reopen() {
        let versions: Vec<u32> = MIGRATIONS.iter().map(|(v, _)| *v).collect();
        let want: Vec<u32> = (1..=supported_version()).collect();
        assert_eq!(versions, want, "versions count up from 1 without gaps");
        let (_dir, path, c, _) = scenario_db();
        for _ in 0..3 {
            let mut s = open(&path);
            assert_eq!(user_version(&s.conn).expect("version"), supported_version());
            assert_eq!(s.load().expect("load"), desired(c.state()));
        }
    }

    #[test]
    fn an_unopenable_path_names_the_path() {
        let (dir, _) = temp_db();
        let cases = [
            dir.path().join("missing/dir/linstor.db"),
            dir.path().to_owned(),
        ];
        for path in cases {
            match SqliteStore::open(&path) {
                Err(e @ StoreError::Open { .. }) => {
                    let msg = e.to_string();
                    assert!(msg.contains(&path.display().to_string()), "{msg}");
                }
                other => panic!("{}: expected an open error, got {other:?}", path.display()),
            }
        }
        let not_db = dir.path().join("not-a-db");
        std::fs::write(&not_db, b"this is not a SQLite database, not at all....").expect("write");
        assert!(matches!(
            SqliteStore::open(&not_db),
            Err(StoreError::Open { .. })
        ));
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 64,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]

        /// From the committed scenario, whatever commands run, committing each outcome's change
        /// set leaves a database that reloads to exactly the in-memory desired state.
        #[test]
        fn committed_outcomes_reload_to_the_state(cmds in proptest::collection::vec(arb_command(), 1..40)) {
            let (_dir, path, mut c, mut e) = scenario_db();
            let mut s = open(&path);
            for cmd in &cmds {
                let o = c.execute_json(&cmd.to_string(), &mut e);
                s.commit(c.state(), &[&o.changes]).expect("commit");
                prop_assert_eq!(json_of(&s.load().expect("load")), json_of(&desired(c.state())), "after {}", cmd);
            }
            drop(s);
            let mut s = open(&path);
            let reloaded = load_cluster(&mut s).expect("consistent");
            let want = Cluster::from_state(desired(c.state())).expect("consistent");
            prop_assert_eq!(reloaded.to_json(), want.to_json());
        }
    }

    /// The property above is only as strong as its commands: they decode, and from the
    /// scenario a good share of them succeed.
    #[test]
    fn the_proptest_commands_decode_and_mostly_run() {
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let (_, _, mut c, mut e) = scenario_db();
        let mut ok = 0;
        for _ in 0..300 {
            let v = arb_command()
                .new_tree(&mut runner)
                .expect("a value")
                .current();
            let cmd: Result<Command, _> = linstor_core::decode::decode_command(&v.to_string());
            let cmd = cmd.unwrap_or_else(|err| panic!("{v}: {err:?}"));
            ok += usize::from(!c.execute(cmd, &mut e).is_error());
        }
        assert!(ok >= 100, "only {ok} of 300 commands succeeded");
    }
}
