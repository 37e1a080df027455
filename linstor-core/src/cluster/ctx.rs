//! The execution context of one command: [`Ctx`] collects the answer's entries and the change
//! set; [`Res`] is a handler's result (`Err` refuses the whole command), [`fail`] and
//! [`BoxedEntry`] build the refusal.

use super::api::{ChangeSet, ObjKey};
use super::env::Env;
use crate::model::Uuid;
use crate::rc::{ApiCallRc, Obj, Op, RcEntry, Severity, code};

/// Per-command scratch: the entries and changes being collected.
pub(crate) struct Ctx<'e> {
    pub env: &'e mut dyn Env,
    pub rc: ApiCallRc,
    pub changes: ChangeSet,
}

impl Ctx<'_> {
    pub fn uuid(&mut self) -> Uuid {
        let mut b = [0u8; 16];
        self.env.fill_random(&mut b);
        Uuid::from_random_bytes(b)
    }

    pub fn ok(&mut self, op: Op, obj: Obj, message: impl Into<String>) -> &mut RcEntry {
        let c = match op {
            Op::Create => code::CREATED,
            Op::Delete => code::DELETED,
            _ => code::MODIFIED,
        };
        self.rc
            .push(RcEntry::new(Severity::Success, op, obj, c, message));
        self.rc.0.last_mut().expect("just pushed")
    }

    pub fn info(&mut self, obj: Obj, c: u16, message: impl Into<String>) {
        self.rc
            .push(RcEntry::new(Severity::Info, Op::None, obj, c, message));
    }

    /// Where the answer and the change set are now (see [`Ctx::rewind`]).
    pub fn checkpoint(&self) -> (usize, usize, usize, usize) {
        (
            self.rc.0.len(),
            self.changes.created.len(),
            self.changes.modified.len(),
            self.changes.deleted.len(),
        )
    }

    /// Drops the entries and changes recorded since `at`: for a step that failed and was rolled
    /// back while the command goes on.
    pub fn rewind(&mut self, at: (usize, usize, usize, usize)) {
        self.rc.0.truncate(at.0);
        self.changes.created.truncate(at.1);
        self.changes.modified.truncate(at.2);
        self.changes.deleted.truncate(at.3);
    }

    /// Answers a refused step of a command that goes on as a warning (same code, cause and
    /// correction).
    pub fn warn_from(&mut self, mut e: RcEntry) {
        e.severity = Severity::Warning;
        self.rc.push(e);
    }

    pub fn warn(&mut self, obj: Obj, c: u16, message: impl Into<String>) {
        self.rc
            .push(RcEntry::new(Severity::Warning, Op::None, obj, c, message));
    }

    pub fn created(&mut self, k: ObjKey) {
        self.changes.created.push(k);
    }
    pub fn modified(&mut self, k: ObjKey) {
        if !self.changes.modified.contains(&k) && !self.changes.created.contains(&k) {
            self.changes.modified.push(k);
        }
    }
    pub fn deleted(&mut self, k: ObjKey) {
        self.changes.deleted.push(k);
    }
}

/// Result of a command handler: `Err` refuses the whole command.
pub(crate) type Res<T = ()> = Result<T, Box<RcEntry>>;

/// Builds an error entry.
pub(crate) fn fail(op: Op, obj: Obj, c: u16, message: impl Into<String>) -> Box<RcEntry> {
    Box::new(RcEntry::error(op, obj, c, message))
}

/// Extension to add cause/correction to boxed entries.
pub(crate) trait BoxedEntry {
    fn cause(self, c: impl Into<String>) -> Self;
    fn correction(self, c: impl Into<String>) -> Self;
    fn obj_ref(self, k: &str, v: impl std::fmt::Display) -> Self;
}

impl BoxedEntry for Box<RcEntry> {
    fn cause(mut self, c: impl Into<String>) -> Self {
        self.cause = Some(c.into());
        self
    }
    fn correction(mut self, c: impl Into<String>) -> Self {
        self.correction = Some(c.into());
        self
    }
    fn obj_ref(mut self, k: &str, v: impl std::fmt::Display) -> Self {
        self.obj_refs.insert(k.to_owned(), v.to_string());
        self
    }
}
