//! Export of a whole store (objects and token hashes) to one JSON document, and import of
//! such a document into an empty store of any engine: a cluster starts on SQLite and moves
//! to PostgreSQL or etcd.
//!
//! ```json
//! {"format": "linstor-controller-export", "version": 1, "schema_version": 2,
//!  "source": "sqlite:/var/lib/linstor/linstor.db",
//!  "objects": [{"kind": "node", "key": "n1", "body": {…}}, …],
//!  "auth": {"enabled": false, "tokens": []}}
//! ```
//!
//! An import checks everything before it writes: the document's format and schema version,
//! every object (the same checks as loading a store), the consistency of the whole state, and
//! that the target holds no objects and no tokens. Then it writes the objects in one commit and
//! the tokens in one transaction.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::auth::AuthStore;
use super::rows::{self, Row};
use super::{Store, StoreError};
use crate::auth::AuthState;

/// The document's `format`.
pub const FORMAT: &str = "linstor-controller-export";
/// The document layout's version.
pub const VERSION: u32 = 1;

/// One exported object.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Object {
    /// The row kind (`node`, `rd`, …).
    pub kind: String,
    /// The object's name.
    pub key: String,
    /// The object, as stored.
    pub body: Value,
}

/// A whole store.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Export {
    /// Always [`FORMAT`].
    pub format: String,
    /// [`VERSION`].
    pub version: u32,
    /// The schema version of the exporting controller.
    pub schema_version: u32,
    /// The store it came from (engine and location).
    pub source: String,
    /// Every object.
    pub objects: Vec<Object>,
    /// Token auth's switch and token hashes.
    pub auth: AuthState,
}

/// Reads the whole of `store` and `auth`.
pub fn export(store: &mut dyn Store, auth: &dyn AuthStore) -> Result<Export, StoreError> {
    let state = store.load()?;
    let objects = rows::all_rows(&state)
        .into_iter()
        .map(|r| {
            let body = serde_json::from_str(&r.body).map_err(|e| StoreError::Row {
                kind: r.kind.clone(),
                key: r.key.clone(),
                reason: e.to_string(),
            })?;
            Ok(Object {
                kind: r.kind,
                key: r.key,
                body,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    Ok(Export {
        format: FORMAT.to_owned(),
        version: VERSION,
        schema_version: super::sqlite::supported_version(),
        source: store.describe(),
        objects,
        auth: auth.load()?,
    })
}

/// Reads an export document; the error says what is wrong with it.
pub fn parse(text: &str) -> Result<Export, StoreError> {
    let bad = |reason: String| StoreError::BadExport { reason };
    let v: Value = serde_json::from_str(text).map_err(|e| bad(format!("not JSON: {e}")))?;
    if v.get("format").and_then(Value::as_str) != Some(FORMAT) {
        return Err(bad(format!("its \"format\" is not \"{FORMAT}\"")));
    }
    let e: Export = serde_json::from_value(v).map_err(|e| bad(e.to_string()))?;
    if e.version > VERSION {
        return Err(bad(format!(
            "layout version {} is newer than {VERSION}",
            e.version
        )));
    }
    let supported = super::sqlite::supported_version();
    if e.schema_version > supported {
        return Err(bad(format!(
            "schema version {} is newer than this controller's {supported}",
            e.schema_version
        )));
    }
    Ok(e)
}

/// Writes `export` into the empty `store` and `auth`; checks everything first and changes
/// nothing when a check fails. Returns how many objects were written.
pub fn import(
    export: &Export,
    store: &mut dyn Store,
    auth: &dyn AuthStore,
) -> Result<usize, StoreError> {
    let rows = export.objects.iter().map(|o| Row {
        kind: o.kind.clone(),
        key: o.key.clone(),
        body: o.body.to_string(),
    });
    let state = rows::assemble(rows)?;
    let cluster = super::cluster_of(state)?;
    let held = store.count_rows()?;
    if held > 0 {
        return Err(StoreError::NotEmpty {
            location: store.describe(),
            rows: held,
            fix: store.wipe_hint(),
        });
    }
    let tokens = auth.load()?;
    if tokens != AuthState::default() {
        return Err(super::auth::not_empty(
            &store.describe(),
            i64::try_from(tokens.tokens.len().max(1)).unwrap_or(i64::MAX),
            "empty them (SQLite: DELETE FROM auth_tokens; DELETE FROM auth_settings; etcd: etcdctl del --prefix <prefix>auth/)",
        ));
    }
    let full = rows::full_change_set(cluster.state());
    store.commit(cluster.state(), &[&full])?;
    auth.import(&export.auth)?;
    Ok(export.objects.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::auth::SqliteAuth;
    use crate::store::sqlite::SqliteStore;
    use crate::store::testutil::{desired, scenario};

    fn db(dir: &tempfile::TempDir, name: &str) -> (SqliteStore, SqliteAuth) {
        let path = dir.path().join(name);
        let s = SqliteStore::open(&path).expect("open");
        let a = SqliteAuth::open(&path).expect("auth");
        (s, a)
    }

    #[test]
    fn an_export_imports_into_an_empty_store_as_it_was() {
        let dir = tempfile::tempdir().expect("tmp");
        let (c, _) = scenario();
        let (mut a, a_auth) = db(&dir, "a.db");
        a.commit(c.state(), &[&rows::full_change_set(c.state())])
            .expect("commit");
        a_auth
            .add_token("h1", "init", 5, None, true)
            .expect("token");
        let e = export(&mut a, &a_auth).expect("export");
        let text = serde_json::to_string_pretty(&e).expect("json");
        let back = parse(&text).expect("parse");
        assert_eq!(back, e);
        let (mut b, b_auth) = db(&dir, "b.db");
        assert_eq!(
            import(&back, &mut b, &b_auth).expect("import"),
            e.objects.len()
        );
        assert_eq!(b.load().expect("load"), desired(c.state()));
        assert_eq!(b_auth.load().expect("auth"), a_auth.load().expect("auth"));
        // A second import into the now full store is refused and changes nothing.
        match import(&back, &mut b, &b_auth) {
            Err(err @ StoreError::NotEmpty { .. }) => {
                assert!(err.to_string().contains("remove the file"), "{err}");
            }
            other => panic!("expected not-empty, got {other:?}"),
        }
        assert_eq!(b.load().expect("load"), desired(c.state()));
    }

    #[test]
    fn bad_documents_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().expect("tmp");
        let (c, _) = scenario();
        let (mut a, a_auth) = db(&dir, "a.db");
        a.commit(c.state(), &[&rows::full_change_set(c.state())])
            .expect("commit");
        let good = export(&mut a, &a_auth).expect("export");
        let text = serde_json::to_string(&good).expect("json");
        let cases: Vec<(String, &str)> = vec![
            ("{".to_owned(), "not JSON"),
            (text.replace(FORMAT, "something-else"), "\"format\""),
            (
                text.replace("\"schema_version\":2", "\"schema_version\":99"),
                "schema version 99",
            ),
            (
                text.replace("\"version\":1", "\"version\":7"),
                "layout version 7",
            ),
        ];
        for (doc, want) in cases {
            let e = parse(&doc).unwrap_err().to_string();
            assert!(e.contains(want), "{want}: {e}");
        }
        // A dangling reference (a resource on a node that is not exported) fails the check.
        let mut broken = good.clone();
        broken
            .objects
            .retain(|o| !(o.kind == "node" && o.key == "n1"));
        let (mut b, b_auth) = db(&dir, "b.db");
        assert!(matches!(
            import(&broken, &mut b, &b_auth),
            Err(StoreError::Inconsistent(_))
        ));
        let mut unreadable = good;
        unreadable.objects[0].body = Value::from(17);
        assert!(matches!(
            import(&unreadable, &mut b, &b_auth),
            Err(StoreError::Row { .. })
        ));
        assert_eq!(b.count_rows().expect("count"), 0, "nothing was written");
    }
}
