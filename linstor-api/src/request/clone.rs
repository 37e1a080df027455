//! Clones: `POST /v1/resource-definitions/{rd}/clone` (REST `ResourceDefinitionCloneRequest`).

use std::collections::BTreeMap;

use linstor_core::cluster::Command;
use linstor_core::model::LayerKind;
use serde::Deserialize;

use super::{layer_list, lenient_bool, non_empty, props_modify, refuse_if};

/// `POST /v1/resource-definitions/{rd}/clone` (python-linstor's `resource_dfn_clone`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceDefinitionCloneRequest {
    /// The clone's name (python-linstor leaves it out when it sends `external_name`).
    #[serde(default)]
    pub name: Option<String>,
    /// The clone's external name (the name is generated from it when `name` is absent).
    #[serde(default)]
    pub external_name: Option<String>,
    /// ZFS volumes are cloned with `zfs clone` (the source's group's `UseZFSClone` when
    /// absent).
    #[serde(default, deserialize_with = "lenient_bool")]
    pub use_zfs_clone: Option<bool>,
    /// The clone's layer stack (the source's when absent or empty).
    #[serde(default, deserialize_with = "layer_list")]
    pub layer_list: Option<Vec<LayerKind>>,
    /// Passphrases of encrypted volumes (refused when not empty: no LUKS layer here).
    #[serde(default)]
    pub volume_passphrases: Option<Vec<String>>,
    /// The clone's resource group (the source's when absent).
    #[serde(default)]
    pub resource_group: Option<String>,
    /// Properties to set on the clone (over the source's).
    #[serde(default)]
    pub override_props: Option<BTreeMap<String, String>>,
    /// Properties of the source not to copy.
    #[serde(default)]
    pub delete_props: Option<Vec<String>>,
    /// Namespaces of the source's properties not to copy.
    #[serde(default)]
    pub delete_namespaces: Option<Vec<String>>,
    /// Sizes to grow the cloned volumes to (REST 1.29.1, not advertised; refused when a size
    /// is not 0, which keeps the source's).
    #[serde(default)]
    pub volume_sizes: Option<Vec<u64>>,
}

impl ResourceDefinitionCloneRequest {
    /// The core command cloning `rd` (from the path).
    pub fn command(&self, rd: &str) -> Result<Command, String> {
        refuse_if(
            non_empty(&self.volume_passphrases),
            "volume_passphrases",
            "there is no LUKS layer here, so no volume is encrypted; leave it out",
        )?;
        refuse_if(
            self.volume_sizes.iter().flatten().any(|s| *s != 0),
            "volume_sizes",
            "a clone has the source's sizes; grow its volume definitions afterwards",
        )?;
        Ok(Command::RscDfnClone {
            rsc_dfn: rd.to_owned(),
            name: self.name.clone().unwrap_or_default(),
            external_name: self.external_name.clone().filter(|e| !e.is_empty()),
            rsc_grp: self.resource_group.clone().filter(|g| !g.is_empty()),
            layer_stack: self.layer_list.clone().filter(|l| !l.is_empty()),
            use_zfs_clone: self.use_zfs_clone,
            props: props_modify(
                &self.override_props,
                &self.delete_props,
                &self.delete_namespaces,
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use linstor_core::decode::DecodeErrorKind;
    use linstor_core::props::PropsModify;

    use super::*;
    use crate::request::parse;

    fn command(body: &str) -> Result<Command, String> {
        let r: ResourceDefinitionCloneRequest =
            parse("a clone request", body).unwrap_or_else(|e| panic!("{body}: {e:?}"));
        r.command("src")
    }

    fn clone_cmd(name: &str, f: impl FnOnce(&mut Command)) -> Command {
        let mut c = Command::RscDfnClone {
            rsc_dfn: "src".into(),
            name: name.into(),
            external_name: None,
            rsc_grp: None,
            layer_stack: None,
            use_zfs_clone: None,
            props: PropsModify::default(),
        };
        f(&mut c);
        c
    }

    #[test]
    fn bodies_as_python_linstor_sends_them() {
        let cases: Vec<(&str, Command)> = vec![
            (r#"{"name": "c1"}"#, clone_cmd("c1", |_| {})),
            (
                r#"{"external_name": "PVC 1", "use_zfs_clone": true}"#,
                clone_cmd("", |c| {
                    if let Command::RscDfnClone {
                        external_name,
                        use_zfs_clone,
                        ..
                    } = c
                    {
                        *external_name = Some("PVC 1".into());
                        *use_zfs_clone = Some(true);
                    }
                }),
            ),
            (
                r#"{"name": "c1", "layer_list": ["drbd", "storage"], "resource_group": "rg2",
                    "override_props": {"Aux/a": "1"}, "delete_props": ["Aux/b"],
                    "volume_passphrases": [], "volume_sizes": [0]}"#,
                clone_cmd("c1", |c| {
                    if let Command::RscDfnClone {
                        rsc_grp,
                        layer_stack,
                        props,
                        ..
                    } = c
                    {
                        *rsc_grp = Some("rg2".into());
                        *layer_stack = Some(vec![LayerKind::DRBD, LayerKind::STORAGE]);
                        *props = PropsModify {
                            delete_props: vec!["Aux/b".into()],
                            ..PropsModify::set([("Aux/a", "1")])
                        };
                    }
                }),
            ),
        ];
        for (body, want) in cases {
            assert_eq!(command(body), Ok(want), "{body}");
        }
    }

    #[test]
    fn what_cannot_be_honoured_or_read_is_refused_by_name() {
        let refused = [
            (
                r#"{"name": "c1", "volume_passphrases": ["x"]}"#,
                "'volume_passphrases'",
            ),
            (
                r#"{"name": "c1", "volume_sizes": [0, 2048]}"#,
                "'volume_sizes'",
            ),
        ];
        for (body, field) in refused {
            let err = command(body).expect_err(body);
            assert!(err.contains(field), "{err:?} lacks {field}");
        }
        let unreadable = [
            (r#"{"nmae": "c1"}"#, "nmae", DecodeErrorKind::UnknownField),
            (
                r#"{"layer_list": ["drdb"]}"#,
                "layer_list",
                DecodeErrorKind::UnknownVariant,
            ),
            (
                r#"{"use_zfs_clone": "yes"}"#,
                "use_zfs_clone",
                DecodeErrorKind::InvalidValue,
            ),
        ];
        for (body, field, kind) in unreadable {
            let e =
                parse::<ResourceDefinitionCloneRequest>("a clone request", body).expect_err(body);
            assert_eq!((e.field.as_deref(), e.kind), (Some(field), kind), "{body}");
        }
    }
}
