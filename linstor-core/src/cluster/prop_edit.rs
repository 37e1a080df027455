//! Property edits of commands: validation of new properties and of modify requests
//! (all-or-nothing), and applying them with LINSTOR's quorum ownership marker.

use std::collections::BTreeMap;

use super::Cluster;
use super::ctx::{BoxedEntry, Res, fail};
use crate::keys;
use crate::props::{Level, Props, PropsModify, validate_user_prop};
use crate::rc::{Obj, Op, code};

impl Cluster {
    /// Validates a set of new properties for `level` (all-or-nothing).
    pub(crate) fn validate_props(
        &self,
        op: Op,
        obj: Obj,
        level: Level,
        props: &BTreeMap<String, String>,
    ) -> Res {
        for (k, v) in props {
            validate_user_prop(level, k, v, self.drbd_validator.as_deref()).map_err(|e| {
                fail(
                    op,
                    obj,
                    code::INVLD_PROP,
                    format!("Invalid property '{k}' = '{v}'"),
                )
                .cause(e.reason)
                .correction(e.correction)
            })?;
        }
        Ok(())
    }

    /// Validates a modify request; returns nothing, applies nothing.
    pub(crate) fn validate_modify(&self, obj: Obj, level: Level, m: &PropsModify) -> Res {
        self.validate_props(Op::Modify, obj, level, &m.override_props)?;
        for k in m.delete_props.iter().chain(&m.delete_namespaces) {
            if keys::RESERVED_NAMESPACES.iter().any(|ns| k.starts_with(ns)) {
                return Err(fail(
                    Op::Modify,
                    obj,
                    code::INVLD_PROP,
                    format!("Cannot delete '{k}'"),
                )
                .cause("The namespace is reserved for the system.")
                .correction("Delete only keys you set."));
            }
        }
        Ok(())
    }
}

/// Applies a validated modify request to `props`, including the quorum ownership marker for the
/// levels where LINSTOR keeps it (controller, resource group, resource definition).
pub(crate) fn apply_modify(props: &mut Props, m: &PropsModify, level: Level) {
    use crate::keys::{QUORUM, QUORUM_SET_BY as MARK};
    for k in &m.delete_props {
        props.remove(k);
    }
    for ns in &m.delete_namespaces {
        props.remove_namespace(ns);
    }
    for (k, v) in &m.override_props {
        props.set(k.clone(), v.clone());
    }
    if matches!(level, Level::Controller | Level::RscGrp | Level::RscDfn) {
        if m.override_props.contains_key(QUORUM) {
            props.set(MARK, "user");
        } else if props.get(QUORUM).is_none() {
            props.remove(MARK);
        }
    }
}

/// Applies new properties at creation (legacy rewrites done by the caller).
pub(crate) fn props_from(map: &BTreeMap<String, String>, level: Level) -> Props {
    let mut p = Props::new();
    apply_modify(
        &mut p,
        &PropsModify {
            override_props: map.clone(),
            ..Default::default()
        },
        level,
    );
    p
}
