//! Resolving `DrbdOptions/*` properties from ordered priority levels.
//!
//! LINSTOR looks a key up in a chain of containers, most specific first (for the resource-level
//! sections of a `.res`: resource > resource definition > resource group > node > controller),
//! and the first container that has the key wins. [`resolve_options`] does exactly that for every
//! `DrbdOptions/<Section>/<option>` key found at any level, and also remembers which lower levels
//! were overridden, so the `.res` can say where a value came from.

use std::collections::BTreeMap;

use crate::options::{Section, split_option_key};

/// One level of a priority chain: a label for comments (`resource-group rg1`) and its properties.
#[derive(Debug, Clone, Copy)]
pub struct PropLevel<'a> {
    /// Shown in `.res` comments, e.g. `resource-definition` or `resource-group rg1`.
    pub label: &'a str,
    /// The level's properties (flat keys like `DrbdOptions/Net/protocol`).
    pub props: &'a BTreeMap<String, String>,
}

impl<'a> PropLevel<'a> {
    /// A level.
    pub fn new(label: &'a str, props: &'a BTreeMap<String, String>) -> Self {
        PropLevel { label, props }
    }
}

/// The winning value of one option, where it came from, and what it overrode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionValue {
    /// The drbdsetup option name.
    pub name: String,
    /// The winning value.
    pub value: String,
    /// Label of the level it came from (`None` when set directly by the caller).
    pub source: Option<String>,
    /// Lower levels that also set it: (label, value), highest first.
    pub overrides: Vec<(String, String)>,
}

impl OptionValue {
    /// An option set directly (no level, nothing overridden).
    pub fn plain(name: impl Into<String>, value: impl Into<String>) -> Self {
        OptionValue {
            name: name.into(),
            value: value.into(),
            source: None,
            overrides: Vec::new(),
        }
    }
}

/// Resolved options per section, each list sorted by option name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvedOptions {
    /// Per section, the options sorted by name.
    pub sections: BTreeMap<Section, Vec<OptionValue>>,
}

impl ResolvedOptions {
    /// The options of one section (empty when none).
    pub fn section(&self, section: Section) -> &[OptionValue] {
        self.sections.get(&section).map_or(&[], Vec::as_slice)
    }

    /// Looks up one option's winning value.
    pub fn get(&self, section: Section, name: &str) -> Option<&OptionValue> {
        self.section(section).iter().find(|o| o.name == name)
    }

    /// Sets (or replaces) an option directly, keeping the list sorted.
    pub fn set(&mut self, section: Section, value: OptionValue) {
        let list = self.sections.entry(section).or_default();
        match list.binary_search_by(|o| o.name.cmp(&value.name)) {
            Ok(i) => list[i] = value,
            Err(i) => list.insert(i, value),
        }
    }

    /// Removes an option; returns it if it was there.
    pub fn remove(&mut self, section: Section, name: &str) -> Option<OptionValue> {
        let list = self.sections.get_mut(&section)?;
        let i = list.iter().position(|o| o.name == name)?;
        Some(list.remove(i))
    }
}

/// Resolves every `DrbdOptions/<Section>/<option>` key over `levels` (highest priority first):
/// the first level that has a key wins. Keys outside the five DRBD sections are ignored.
pub fn resolve_options(levels: &[PropLevel<'_>]) -> ResolvedOptions {
    let mut found: BTreeMap<(Section, &str), OptionValue> = BTreeMap::new();
    for level in levels {
        for (key, value) in level.props {
            let Some((section, name)) = split_option_key(key) else {
                continue;
            };
            match found.get_mut(&(section, name)) {
                Some(winner) => winner
                    .overrides
                    .push((level.label.to_owned(), value.clone())),
                None => {
                    found.insert(
                        (section, name),
                        OptionValue {
                            name: name.to_owned(),
                            value: value.clone(),
                            source: Some(level.label.to_owned()),
                            overrides: Vec::new(),
                        },
                    );
                }
            }
        }
    }
    let mut out = ResolvedOptions::default();
    for ((section, _), value) in found {
        out.sections.entry(section).or_default().push(value);
    }
    out
}

/// Resolves every DRBD option over one of the core's priority chains (e.g.
/// `Chains::drbd_resource`): same rule as [`resolve_options`], with the core's level labels
/// (`resource`, `resource definition`, …) as sources. Nested keys (`DrbdOptions/Net/a/b`) are
/// not options and are skipped.
pub fn resolve_chain(chain: &linstor_core::props::PriorityProps<'_>) -> ResolvedOptions {
    let mut out = ResolvedOptions::default();
    for section in Section::ALL {
        let ns = format!("DrbdOptions/{}", section.namespace());
        for (name, (value, level)) in chain.namespace(&ns) {
            if name.is_empty() || name.contains('/') {
                continue;
            }
            let overrides = chain
                .overridden(&format!("{ns}/{name}"))
                .into_iter()
                .map(|(l, v)| (l.label().to_owned(), v.to_owned()))
                .collect();
            out.set(
                section,
                OptionValue {
                    name: name.to_owned(),
                    value: value.to_owned(),
                    source: Some(level.label().to_owned()),
                    overrides,
                },
            );
        }
    }
    out
}

/// Resolves `Paths/<path>/<node> = <netif>` properties (of a resource or node connection) into
/// the paths between `local` and `peer`: each path names an interface on both nodes, whose
/// addresses `addr_of(node, netif)` looks up, with each node's port. Paths are sorted by name.
/// A path that names only one of the two nodes, or an interface the node does not have, is an
/// error (`InvalidConfig`), as is a `Paths/` key of any other shape.
pub fn resolve_paths(
    resource: &str,
    props: &BTreeMap<String, String>,
    (local, local_port): (&str, u16),
    (peer, peer_port): (&str, u16),
    addr_of: &dyn Fn(&str, &str) -> Option<std::net::IpAddr>,
) -> crate::Result<Vec<crate::resfile::ResPath>> {
    let invalid = |reason: String| crate::DrbdError::InvalidConfig {
        resource: resource.to_owned(),
        reason,
    };
    let mut by_path: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for (key, netif) in props {
        let Some(rest) = key.strip_prefix("Paths/") else {
            continue;
        };
        let Some((path, node)) = rest
            .split_once('/')
            .filter(|(p, n)| !p.is_empty() && !n.is_empty() && !n.contains('/'))
        else {
            return Err(invalid(format!("'{key}' is not Paths/<path>/<node>")));
        };
        by_path
            .entry(path)
            .or_default()
            .insert(node, netif.as_str());
    }
    let mut out = Vec::new();
    for (path, nodes) in by_path {
        let (Some(l), Some(p)) = (nodes.get(local), nodes.get(peer)) else {
            return Err(invalid(format!(
                "path '{path}' must name an interface on both '{local}' and '{peer}'"
            )));
        };
        let addr = |node: &str, netif: &str| {
            addr_of(node, netif).ok_or_else(|| {
                invalid(format!(
                    "path '{path}': node '{node}' has no interface '{netif}'"
                ))
            })
        };
        out.push(crate::resfile::ResPath {
            name: path.to_owned(),
            local: std::net::SocketAddr::new(addr(local, l)?, local_port),
            peer: std::net::SocketAddr::new(addr(peer, p)?, peer_port),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn most_specific_level_wins_and_overrides_are_listed() {
        let rsc = props(&[("DrbdOptions/Net/max-buffers", "10000")]);
        let rd = props(&[
            ("DrbdOptions/Net/max-buffers", "9000"),
            ("DrbdOptions/Resource/quorum", "majority"),
        ]);
        let rg = props(&[
            ("DrbdOptions/Resource/quorum", "off"),
            ("DrbdOptions/Disk/al-extents", "6007"),
        ]);
        let ctrl = props(&[
            ("DrbdOptions/Net/max-buffers", "8000"),
            ("DrbdOptions/Net/protocol", "C"),
            ("DrbdOptions/auto-quorum", "io-error"),
            ("Aux/x", "y"),
        ]);
        let r = resolve_options(&[
            PropLevel::new("resource", &rsc),
            PropLevel::new("resource-definition", &rd),
            PropLevel::new("resource-group rg1", &rg),
            PropLevel::new("controller", &ctrl),
        ]);
        let mb = r.get(Section::Net, "max-buffers").cloned();
        assert_eq!(
            mb,
            Some(OptionValue {
                name: "max-buffers".into(),
                value: "10000".into(),
                source: Some("resource".into()),
                overrides: vec![
                    ("resource-definition".into(), "9000".into()),
                    ("controller".into(), "8000".into())
                ],
            })
        );
        assert_eq!(
            r.get(Section::Resource, "quorum").map(|o| o.value.as_str()),
            Some("majority")
        );
        assert_eq!(
            r.get(Section::Disk, "al-extents")
                .and_then(|o| o.source.as_deref()),
            Some("resource-group rg1")
        );
        assert_eq!(
            r.get(Section::Net, "protocol").map(|o| o.value.as_str()),
            Some("C")
        );
        assert_eq!(r.sections.values().map(Vec::len).sum::<usize>(), 4);
    }

    #[test]
    fn core_chains_resolve_the_same_way() {
        use linstor_core::props::{Level, PriorityProps, Props};
        let rsc = props(&[("DrbdOptions/Net/max-buffers", "10000")])
            .into_iter()
            .collect::<Props>();
        let rd = props(&[
            ("DrbdOptions/Net/max-buffers", "9000"),
            ("DrbdOptions/Resource/quorum", "majority"),
        ])
        .into_iter()
        .collect::<Props>();
        let ctrl = props(&[
            ("DrbdOptions/Net/max-buffers", "8000"),
            ("DrbdOptions/Net/x/y", "nested"),
        ])
        .into_iter()
        .collect::<Props>();
        let chain = PriorityProps::new()
            .with(Level::Rsc, &rsc)
            .with(Level::RscDfn, &rd)
            .with(Level::Controller, &ctrl);
        let r = resolve_chain(&chain);
        assert_eq!(
            r.get(Section::Net, "max-buffers"),
            Some(&OptionValue {
                name: "max-buffers".into(),
                value: "10000".into(),
                source: Some("resource".into()),
                overrides: vec![
                    ("resource definition".into(), "9000".into()),
                    ("controller".into(), "8000".into())
                ],
            })
        );
        assert_eq!(
            r.get(Section::Resource, "quorum")
                .and_then(|o| o.source.as_deref()),
            Some("resource definition")
        );
        assert_eq!(r.section(Section::Net).len(), 1);
    }

    #[test]
    fn paths_from_props() {
        let addr_of = |node: &str, netif: &str| -> Option<std::net::IpAddr> {
            match (node, netif) {
                ("alpha", "eth1") => "192.168.1.1".parse().ok(),
                ("alpha", "eth2") => "fd00::1".parse().ok(),
                ("beta", "eth1") => "192.168.1.2".parse().ok(),
                ("beta", "eth2") => "fd00::2".parse().ok(),
                _ => None,
            }
        };
        let p = props(&[
            ("Paths/b/alpha", "eth2"),
            ("Paths/b/beta", "eth2"),
            ("Paths/a/alpha", "eth1"),
            ("Paths/a/beta", "eth1"),
            ("Other/x", "y"),
        ]);
        let paths =
            resolve_paths("r", &p, ("alpha", 7000), ("beta", 7001), &addr_of).expect("paths");
        let shown: Vec<String> = paths
            .iter()
            .map(|p| format!("{} {} {}", p.name, p.local, p.peer))
            .collect();
        assert_eq!(
            shown,
            [
                "a 192.168.1.1:7000 192.168.1.2:7001",
                "b [fd00::1]:7000 [fd00::2]:7001"
            ]
        );
        for bad in [
            props(&[("Paths/a/alpha", "eth1")]),
            props(&[("Paths/a/alpha", "eth1"), ("Paths/a/beta", "eth9")]),
            props(&[("Paths/a", "eth1")]),
            props(&[("Paths/a/alpha/x", "eth1")]),
        ] {
            assert!(
                resolve_paths("r", &bad, ("alpha", 7000), ("beta", 7000), &addr_of).is_err(),
                "{bad:?}"
            );
        }
        assert!(
            resolve_paths(
                "r",
                &BTreeMap::new(),
                ("alpha", 7000),
                ("beta", 7000),
                &addr_of
            )
            .expect("none")
            .is_empty()
        );
    }

    #[test]
    fn set_and_remove_keep_order() {
        let mut r = ResolvedOptions::default();
        r.set(Section::Net, OptionValue::plain("b", "1"));
        r.set(Section::Net, OptionValue::plain("a", "1"));
        r.set(Section::Net, OptionValue::plain("b", "2"));
        let names: Vec<_> = r
            .section(Section::Net)
            .iter()
            .map(|o| (o.name.as_str(), o.value.as_str()))
            .collect();
        assert_eq!(names, [("a", "1"), ("b", "2")]);
        assert!(r.remove(Section::Net, "a").is_some());
        assert!(r.remove(Section::Net, "a").is_none());
    }
}
