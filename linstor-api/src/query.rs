//! List filters as LINSTOR's list endpoints read them: repeatable `?nodes=a&nodes=b`,
//! `?storage_pools=`, `?resources=`, `?resource_groups=` (names match case-insensitively),
//! `?props=Key=Value` or `?props=Key` (every one must hold), and `?offset=&limit=`.

use linstor_core::props::Props;

/// One list request's filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Names to keep (empty: all), as given.
    pub names: Vec<String>,
    /// `Key=Value` or `Key` conditions on the object's properties.
    pub props: Vec<String>,
    /// Entries to skip.
    pub offset: usize,
    /// At most this many entries (`None`: all).
    pub limit: Option<usize>,
}

impl ListQuery {
    /// True if `name` is asked for (case-insensitively) or no names are given.
    pub fn wants_name(&self, name: &str) -> bool {
        self.names.is_empty() || self.names.iter().any(|n| n.eq_ignore_ascii_case(name))
    }

    /// True if `props` meet every condition: `Key=Value` needs that value, `Key` the key.
    pub fn wants_props(&self, props: &Props) -> bool {
        self.props.iter().all(|cond| match cond.split_once('=') {
            Some((k, v)) => props.get(k) == Some(v),
            None => props.get(cond).is_some(),
        })
    }

    /// The page of `items` that `offset` and `limit` select.
    pub fn page<T>(&self, items: Vec<T>) -> Vec<T> {
        let rest = items.into_iter().skip(self.offset);
        match self.limit {
            Some(n) => rest.take(n).collect(),
            None => rest.collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_props_and_pages() {
        let q = ListQuery {
            names: vec!["Node-A".into()],
            props: vec!["Aux/zone=a".into(), "Aux/rack".into()],
            offset: 1,
            limit: Some(2),
        };
        assert!(q.wants_name("node-a") && !q.wants_name("node-b"));
        assert!(ListQuery::default().wants_name("anything"));
        let p: Props = [("Aux/zone", "a"), ("Aux/rack", "7")].into_iter().collect();
        assert!(q.wants_props(&p));
        let wrong: Props = [("Aux/zone", "b"), ("Aux/rack", "7")].into_iter().collect();
        assert!(!q.wants_props(&wrong));
        let missing: Props = [("Aux/zone", "a")].into_iter().collect();
        assert!(!q.wants_props(&missing));
        assert_eq!(q.page(vec![1, 2, 3, 4]), vec![2, 3]);
        assert_eq!(ListQuery::default().page(vec![1, 2]), vec![1, 2]);
    }
}
