//! Token authentication's persistent part (schema step 2, in the same database as the
//! objects): whether token auth is on and the tokens' hashes. [`AuthStore`] is what the HTTP
//! layer reads and changes (never the engine), with its own connection; [`SqliteAuth`] is
//! SQLite's (`auth_settings`, `auth_tokens`), the other engines' are beside their stores.

use std::path::Path;
use std::sync::Mutex;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::StoreError;
use crate::auth::{AuthState, TokenRow};

/// The auth tables of one database, in any engine.
pub trait AuthStore: Send + Sync + std::fmt::Debug {
    /// Everything, as the request check needs it.
    fn load(&self) -> Result<AuthState, StoreError>;
    /// Adds a token (its hash) and, with `enable`, turns token auth on, in one transaction;
    /// `None` (and nothing written) when `enable` is asked but auth is already on.
    fn add_token(
        &self,
        hash: &str,
        description: &str,
        now: i64,
        expires_at: Option<i64>,
        enable: bool,
    ) -> Result<Option<i64>, StoreError>;
    /// Changes a token that is not revoked; `false` when there is none with `id`.
    fn modify(
        &self,
        id: i64,
        description: Option<&str>,
        is_active: Option<bool>,
    ) -> Result<bool, StoreError>;
    /// Revokes a token; `false` when there is none with `id` or it was revoked before.
    fn revoke(&self, id: i64, now: i64) -> Result<bool, StoreError>;
    /// Writes an exported state (ids kept) into empty tables, in one transaction; refused
    /// when the tables hold anything.
    fn import(&self, state: &AuthState) -> Result<(), StoreError>;
}

/// The auth tables of one SQLite database.
#[derive(Debug)]
pub struct SqliteAuth {
    conn: Mutex<Connection>,
    location: String,
}

fn read_err(source: rusqlite::Error) -> StoreError {
    StoreError::read(source)
}

impl SqliteAuth {
    /// Opens the tables of the database at `path` (already migrated by `SqliteStore::open`).
    pub fn open(path: &Path) -> Result<SqliteAuth, StoreError> {
        let conn =
            Connection::open(path).map_err(|source| super::sqlite::open_error(path, source))?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(read_err)?;
        Ok(SqliteAuth {
            conn: Mutex::new(conn),
            location: format!("sqlite:{}", path.display()),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl AuthStore for SqliteAuth {
    fn load(&self) -> Result<AuthState, StoreError> {
        let conn = self.conn();
        let enabled = conn
            .query_row(
                "SELECT value FROM auth_settings WHERE key = 'token_auth_enabled'",
                [],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map_err(read_err)?
            .is_some_and(|v| v == "true");
        let mut q = conn
            .prepare(
                "SELECT id, hash, description, created_at, is_active, deleted_at, expires_at \
                 FROM auth_tokens ORDER BY id",
            )
            .map_err(read_err)?;
        let tokens = q
            .query_map([], |r| {
                Ok(TokenRow {
                    id: r.get(0)?,
                    hash: r.get(1)?,
                    description: r.get(2)?,
                    created_at: r.get(3)?,
                    is_active: r.get(4)?,
                    deleted_at: r.get(5)?,
                    expires_at: r.get(6)?,
                })
            })
            .map_err(read_err)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(read_err)?;
        Ok(AuthState { enabled, tokens })
    }

    fn add_token(
        &self,
        hash: &str,
        description: &str,
        now: i64,
        expires_at: Option<i64>,
        enable: bool,
    ) -> Result<Option<i64>, StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(read_err)?;
        if enable {
            let on: Option<String> = tx
                .query_row(
                    "SELECT value FROM auth_settings WHERE key = 'token_auth_enabled'",
                    [],
                    |r| r.get(0),
                )
                .optional()
                .map_err(read_err)?;
            if on.as_deref() == Some("true") {
                return Ok(None);
            }
            tx.execute(
                "INSERT INTO auth_settings (key, value) VALUES ('token_auth_enabled', 'true') \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [],
            )
            .map_err(read_err)?;
        }
        tx.execute(
            "INSERT INTO auth_tokens (hash, description, created_at, is_active, expires_at) \
             VALUES (?1, ?2, ?3, 1, ?4)",
            params![hash, description, now, expires_at],
        )
        .map_err(read_err)?;
        let id = tx.last_insert_rowid();
        tx.commit().map_err(read_err)?;
        Ok(Some(id))
    }

    fn modify(
        &self,
        id: i64,
        description: Option<&str>,
        is_active: Option<bool>,
    ) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "UPDATE auth_tokens SET description = COALESCE(?2, description), \
                 is_active = COALESCE(?3, is_active) WHERE id = ?1 AND deleted_at IS NULL",
                params![id, description, is_active],
            )
            .map_err(read_err)?;
        Ok(n > 0)
    }

    fn revoke(&self, id: i64, now: i64) -> Result<bool, StoreError> {
        let n = self
            .conn()
            .execute(
                "UPDATE auth_tokens SET deleted_at = ?2, is_active = 0 \
                 WHERE id = ?1 AND deleted_at IS NULL",
                params![id, now],
            )
            .map_err(read_err)?;
        Ok(n > 0)
    }

    fn import(&self, state: &AuthState) -> Result<(), StoreError> {
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(read_err)?;
        let held: i64 = tx
            .query_row(
                "SELECT (SELECT count(*) FROM auth_tokens) + (SELECT count(*) FROM auth_settings)",
                [],
                |r| r.get(0),
            )
            .map_err(read_err)?;
        if held > 0 {
            return Err(not_empty(
                &self.location,
                held,
                "DELETE FROM auth_tokens; DELETE FROM auth_settings",
            ));
        }
        if state.enabled {
            tx.execute(
                "INSERT INTO auth_settings (key, value) VALUES ('token_auth_enabled', 'true')",
                [],
            )
            .map_err(StoreError::commit)?;
        }
        for t in &state.tokens {
            tx.execute(
                "INSERT INTO auth_tokens (id, hash, description, created_at, is_active, \
                 deleted_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    t.id,
                    t.hash,
                    t.description,
                    t.created_at,
                    t.is_active,
                    t.deleted_at,
                    t.expires_at
                ],
            )
            .map_err(StoreError::commit)?;
        }
        tx.commit().map_err(StoreError::commit)
    }
}

/// The auth tables of an import target hold something.
pub(crate) fn not_empty(location: &str, held: i64, fix: &str) -> StoreError {
    StoreError::NotEmpty {
        location: location.to_owned(),
        rows: usize::try_from(held).unwrap_or(usize::MAX),
        fix: format!("its token tables are not empty; {fix}"),
    }
}
