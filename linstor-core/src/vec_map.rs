//! [`VecMap`]: an ordered map in one sorted vector, for the small maps inside the model objects.
//!
//! A `BTreeMap` allocates a whole leaf (eleven slots) for its first entry; a definition's one
//! volume, three resources and their one volume each cost several kilobytes that way. `VecMap`
//! keeps its entries sorted by key in a `Vec` whose capacity is kept at its length (inserts grow
//! it by one), so a map of n entries costs n entries. Lookups are binary searches; inserts and
//! removes shift the tail, which is cheap for the few to few hundred entries these maps hold
//! (the large maps of `ClusterState` stay `BTreeMap`s).
//!
//! It has the subset of `BTreeMap`'s API the workspace uses, with the same semantics: entries in
//! key order (the key's `Ord`, case-insensitive for names), `insert` keeps the stored key and
//! replaces the value, `Borrow`-based lookups. Serde sees it as a map, exactly like a
//! `BTreeMap`: the same JSON out, and in (the same "expected a map" errors; a repeated key keeps
//! its first spelling and its last value).
//!
//! Why not `litemap`: its serde form writes an empty map as `[]` (it serializes maps whose first
//! key is not a number or a string, and empty ones, as a sequence of pairs) and reads any
//! sequence of pairs as a map, which would change the state's JSON and what the decoders accept.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Bound, Index, RangeBounds};

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use smallvec::SmallVec;

/// An ordered map in a sorted vector (see the module documentation).
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct VecMap<K, V> {
    entries: Vec<(K, V)>,
}

impl<K, V> Default for VecMap<K, V> {
    fn default() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }
}

impl<K, V> VecMap<K, V> {
    /// An empty map (allocates nothing).
    pub const fn new() -> Self {
        VecMap {
            entries: Vec::new(),
        }
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Removes every entry (and frees the storage).
    pub fn clear(&mut self) {
        self.entries = Vec::new();
    }

    /// The entries in key order.
    pub fn iter(&self) -> Iter<'_, K, V> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// The entries in key order, values mutable.
    pub fn iter_mut(&mut self) -> IterMut<'_, K, V> {
        IterMut {
            inner: self.entries.iter_mut(),
        }
    }

    /// The keys in order.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(k, _)| k)
    }

    /// The values in key order.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator + Clone {
        self.entries.iter().map(|(_, v)| v)
    }

    /// The values in key order, mutable.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// The keys in order, by value.
    pub fn into_keys(self) -> impl DoubleEndedIterator<Item = K> + ExactSizeIterator {
        self.entries.into_iter().map(|(k, _)| k)
    }

    /// The values in key order, by value.
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }

    /// The entry with the least key.
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// The entry with the greatest key.
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// Keeps the entries for which `f` is true (in key order).
    pub fn retain(&mut self, mut f: impl FnMut(&K, &mut V) -> bool) {
        let before = self.entries.len();
        self.entries.retain_mut(|(k, v)| f(k, v));
        if self.entries.len() != before {
            self.entries.shrink_to_fit();
        }
    }
}

impl<K: Ord, V> VecMap<K, V> {
    fn find<Q>(&self, key: &Q) -> Result<usize, usize>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.entries.binary_search_by(|(k, _)| k.borrow().cmp(key))
    }

    /// The value of `key`.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// The stored key and the value of `key`.
    pub fn get_key_value<Q>(&self, key: &Q) -> Option<(&K, &V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).ok().map(|i| {
            let (k, v) = &self.entries[i];
            (k, v)
        })
    }

    /// The value of `key`, mutable.
    pub fn get_mut<Q>(&mut self, key: &Q) -> Option<&mut V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    /// True if `key` is in the map.
    pub fn contains_key<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.find(key).is_ok()
    }

    /// Inserts `value` under `key`; an existing entry keeps its key and answers its old value.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.reserve_exact(1);
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// Removes `key`; answers its value.
    pub fn remove<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        self.remove_entry(key).map(|(_, v)| v)
    }

    /// Removes `key`; answers the stored key and the value.
    pub fn remove_entry<Q>(&mut self, key: &Q) -> Option<(K, V)>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
    {
        let i = self.find(key).ok()?;
        let out = self.entries.remove(i);
        self.entries.shrink_to_fit();
        Some(out)
    }

    /// The entry of `key`, for in-place manipulation.
    pub fn entry(&mut self, key: K) -> Entry<'_, K, V> {
        match self.find(&key) {
            Ok(index) => Entry::Occupied(OccupiedEntry { map: self, index }),
            Err(index) => Entry::Vacant(VacantEntry {
                map: self,
                index,
                key,
            }),
        }
    }

    /// The entries whose keys lie in `range`, in key order.
    pub fn range<Q, R>(&self, range: R) -> Iter<'_, K, V>
    where
        K: Borrow<Q>,
        Q: Ord + ?Sized,
        R: RangeBounds<Q>,
    {
        let below = |b: Bound<&Q>, k: &K| match b {
            Bound::Included(s) => k.borrow() < s,
            Bound::Excluded(s) => k.borrow() <= s,
            Bound::Unbounded => false,
        };
        let within = |b: Bound<&Q>, k: &K| match b {
            Bound::Included(e) => k.borrow() <= e,
            Bound::Excluded(e) => k.borrow() < e,
            Bound::Unbounded => true,
        };
        let start = self
            .entries
            .partition_point(|(k, _)| below(range.start_bound(), k));
        let end = self
            .entries
            .partition_point(|(k, _)| within(range.end_bound(), k))
            .max(start);
        Iter {
            inner: self.entries[start..end].iter(),
        }
    }

    /// Builds the map from entries in any order. For a repeated key the last value stays, with
    /// the first key if `first_key` (as repeated `insert`s leave it: `BTreeMap`'s
    /// deserialization), else the last one (`BTreeMap`'s `from_iter`).
    fn from_vec(mut entries: Vec<(K, V)>, first_key: bool) -> Self {
        if !entries.windows(2).all(|w| w[0].0 < w[1].0) {
            // Stable: equal keys stay in their order, so the last one is the last inserted.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            let mut out: Vec<(K, V)> = Vec::with_capacity(entries.len());
            for (k, v) in entries {
                match out.last_mut() {
                    Some(last) if last.0.cmp(&k) == Ordering::Equal => {
                        if !first_key {
                            last.0 = k;
                        }
                        last.1 = v;
                    }
                    _ => out.push((k, v)),
                }
            }
            entries = out;
        }
        entries.shrink_to_fit();
        VecMap { entries }
    }
}

/// One entry of a [`VecMap`], occupied or vacant.
#[derive(Debug)]
pub enum Entry<'a, K, V> {
    /// The key is in the map.
    Occupied(OccupiedEntry<'a, K, V>),
    /// The key is not in the map.
    Vacant(VacantEntry<'a, K, V>),
}

/// An occupied entry.
#[derive(Debug)]
pub struct OccupiedEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
}

/// A vacant entry.
#[derive(Debug)]
pub struct VacantEntry<'a, K, V> {
    map: &'a mut VecMap<K, V>,
    index: usize,
    key: K,
}

impl<'a, K, V> Entry<'a, K, V> {
    /// The value, inserted as `default` if vacant.
    pub fn or_insert(self, default: V) -> &'a mut V {
        self.or_insert_with(|| default)
    }

    /// The value, inserted as `f()` if vacant.
    pub fn or_insert_with(self, f: impl FnOnce() -> V) -> &'a mut V {
        match self {
            Entry::Occupied(o) => o.into_mut(),
            Entry::Vacant(v) => v.insert(f()),
        }
    }

    /// The value, inserted as `V::default()` if vacant.
    pub fn or_default(self) -> &'a mut V
    where
        V: Default,
    {
        self.or_insert_with(V::default)
    }

    /// Runs `f` on the value if occupied.
    #[must_use]
    pub fn and_modify(mut self, f: impl FnOnce(&mut V)) -> Self {
        if let Entry::Occupied(o) = &mut self {
            f(o.get_mut());
        }
        self
    }

    /// The key (the stored one if occupied).
    pub fn key(&self) -> &K {
        match self {
            Entry::Occupied(o) => o.key(),
            Entry::Vacant(v) => &v.key,
        }
    }
}

impl<'a, K, V> OccupiedEntry<'a, K, V> {
    /// The stored key.
    pub fn key(&self) -> &K {
        &self.map.entries[self.index].0
    }

    /// The value.
    pub fn get(&self) -> &V {
        &self.map.entries[self.index].1
    }

    /// The value, mutable.
    pub fn get_mut(&mut self) -> &mut V {
        &mut self.map.entries[self.index].1
    }

    /// The value, mutable for the map's borrow.
    pub fn into_mut(self) -> &'a mut V {
        &mut self.map.entries[self.index].1
    }

    /// Replaces the value; answers the old one.
    pub fn insert(&mut self, value: V) -> V {
        std::mem::replace(self.get_mut(), value)
    }

    /// Removes the entry; answers its value.
    pub fn remove(self) -> V {
        let (_, v) = self.map.entries.remove(self.index);
        self.map.entries.shrink_to_fit();
        v
    }
}

impl<'a, K, V> VacantEntry<'a, K, V> {
    /// The key.
    pub fn key(&self) -> &K {
        &self.key
    }

    /// Inserts `value`; answers it, mutable.
    pub fn insert(self, value: V) -> &'a mut V {
        self.map.entries.reserve_exact(1);
        self.map.entries.insert(self.index, (self.key, value));
        &mut self.map.entries[self.index].1
    }
}

/// Iterator over `(&K, &V)` in key order.
#[derive(Debug, Clone)]
pub struct Iter<'a, K, V> {
    inner: std::slice::Iter<'a, (K, V)>,
}

impl<'a, K, V> Iterator for Iter<'a, K, V> {
    type Item = (&'a K, &'a V);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for Iter<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (k, v))
    }
}

impl<K, V> ExactSizeIterator for Iter<'_, K, V> {}

/// Iterator over `(&K, &mut V)` in key order.
#[derive(Debug)]
pub struct IterMut<'a, K, V> {
    inner: std::slice::IterMut<'a, (K, V)>,
}

impl<'a, K, V> Iterator for IterMut<'a, K, V> {
    type Item = (&'a K, &'a mut V);
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|(k, v)| (&*k, v))
    }
    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl<K, V> DoubleEndedIterator for IterMut<'_, K, V> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|(k, v)| (&*k, v))
    }
}

impl<K, V> ExactSizeIterator for IterMut<'_, K, V> {}

impl<'a, K, V> IntoIterator for &'a VecMap<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Iter<'a, K, V> {
        self.iter()
    }
}

impl<'a, K, V> IntoIterator for &'a mut VecMap<K, V> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    fn into_iter(self) -> IterMut<'a, K, V> {
        self.iter_mut()
    }
}

impl<K, V> IntoIterator for VecMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;
    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for VecMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        VecMap::from_vec(iter.into_iter().collect(), false)
    }
}

impl<K: Ord, V, const N: usize> From<[(K, V); N]> for VecMap<K, V> {
    fn from(a: [(K, V); N]) -> Self {
        VecMap::from_vec(Vec::from(a), false)
    }
}

impl<K: Ord, V> Extend<(K, V)> for VecMap<K, V> {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (k, v) in iter {
            self.insert(k, v);
        }
    }
}

impl<K, Q, V> Index<&Q> for VecMap<K, V>
where
    K: Ord + Borrow<Q>,
    Q: Ord + ?Sized,
{
    type Output = V;
    fn index(&self, key: &Q) -> &V {
        self.get(key).expect("no entry found for key")
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for VecMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K: Serialize, V: Serialize> Serialize for VecMap<K, V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de, K, V> Deserialize<'de> for VecMap<K, V>
where
    K: Deserialize<'de> + Ord,
    V: Deserialize<'de>,
{
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<fn() -> VecMap<K, V>>);

        impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
        where
            K: Deserialize<'de> + Ord,
            V: Deserialize<'de>,
        {
            type Value = VecMap<K, V>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a map")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                // Gathered on the stack first, so that a small map gets one exact allocation
                // (not one grown and shrunk again).
                let mut entries: SmallVec<[(K, V); 4]> = SmallVec::new();
                while let Some(e) = a.next_entry()? {
                    entries.push(e);
                }
                Ok(VecMap::from_vec(entries.into_vec(), true))
            }
        }

        d.deserialize_map(MapVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::name::NodeName;

    fn n(s: &str) -> NodeName {
        NodeName::new(s).unwrap()
    }

    #[derive(Debug, Clone)]
    enum Op {
        Insert(u8, u16),
        Remove(u8),
        Entry(u8, u16),
        Retain(u8),
        Clear,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u8..40, any::<u16>()).prop_map(|(k, v)| Op::Insert(k, v)),
            2 => (0u8..40).prop_map(Op::Remove),
            2 => (0u8..40, any::<u16>()).prop_map(|(k, v)| Op::Entry(k, v)),
            1 => (1u8..5).prop_map(Op::Retain),
            1 => Just(Op::Clear),
        ]
    }

    proptest! {
        /// Every operation answers what `BTreeMap`'s does and leaves the same entries.
        #[test]
        fn behaves_like_btreemap(ops in proptest::collection::vec(op(), 0..80), lo in 0u8..40, hi in 0u8..40) {
            let mut b: BTreeMap<u8, u16> = BTreeMap::new();
            let mut v: VecMap<u8, u16> = VecMap::new();
            for o in ops {
                match o {
                    Op::Insert(k, x) => prop_assert_eq!(b.insert(k, x), v.insert(k, x)),
                    Op::Remove(k) => prop_assert_eq!(b.remove(&k), v.remove(&k)),
                    Op::Entry(k, x) => {
                        *b.entry(k).and_modify(|e| *e = e.wrapping_add(1)).or_insert(x) += 1;
                        *v.entry(k).and_modify(|e| *e = e.wrapping_add(1)).or_insert(x) += 1;
                    }
                    Op::Retain(m) => {
                        b.retain(|k, _| k % m != 0);
                        v.retain(|k, _| k % m != 0);
                    }
                    Op::Clear => {
                        b.clear();
                        v.clear();
                    }
                }
                prop_assert!(b.iter().eq(v.iter()));
                prop_assert_eq!(v.entries.capacity(), v.len());
            }
            prop_assert_eq!(b.first_key_value(), v.first_key_value());
            prop_assert_eq!(b.last_key_value(), v.last_key_value());
            prop_assert!(b.range(lo..).eq(v.range(lo..)));
            prop_assert!(b.range(..=hi).eq(v.range(..=hi)));
            if lo <= hi {
                prop_assert!(b.range(lo..=hi).eq(v.range(lo..=hi)));
                prop_assert!(b.range(lo..hi).eq(v.range(lo..hi)));
            }
            let json = serde_json::to_string(&b).unwrap();
            prop_assert_eq!(&json, &serde_json::to_string(&v).unwrap());
            let back: VecMap<u8, u16> = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, v);
        }
    }

    #[test]
    fn names_keep_the_first_spelling_and_sort_case_insensitively() {
        let mut m = VecMap::new();
        assert_eq!(m.insert(n("beta"), 1), None);
        assert_eq!(m.insert(n("Alpha"), 2), None);
        assert_eq!(m.insert(n("ALPHA"), 3), Some(2));
        let keys: Vec<&str> = m.keys().map(NodeName::as_str).collect();
        assert_eq!(keys, ["Alpha", "beta"]);
        assert_eq!(m.get(&n("BETA")), Some(&1));
        // JSON: the same as a BTreeMap's, also when a key is repeated on input.
        let json = r#"{"b1":1,"a1":2,"B1":3}"#;
        let v: VecMap<NodeName, u8> = serde_json::from_str(json).unwrap();
        let b: BTreeMap<NodeName, u8> = serde_json::from_str(json).unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), r#"{"a1":2,"b1":3}"#);
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(
            serde_json::to_string(&VecMap::<u16, u8>::new()).unwrap(),
            "{}"
        );
        // Collected: the last spelling, as `BTreeMap::from_iter` keeps it.
        let pairs = [(n("b1"), 1), (n("a1"), 2), (n("B1"), 3)];
        let v: VecMap<NodeName, u8> = pairs.clone().into_iter().collect();
        let b: BTreeMap<NodeName, u8> = pairs.into_iter().collect();
        assert!(
            v.iter()
                .map(|(k, x)| (k.as_str(), x))
                .eq(b.iter().map(|(k, x)| (k.as_str(), x)))
        );
        let e = serde_json::from_str::<VecMap<u16, u8>>("[]").unwrap_err();
        let eb = serde_json::from_str::<BTreeMap<u16, u8>>("[]").unwrap_err();
        assert_eq!(e.to_string(), eb.to_string());
    }

    #[test]
    fn string_keys_look_up_by_str() {
        let mut m: VecMap<String, String> = VecMap::new();
        m.insert("b/x".into(), "1".into());
        m.insert("a".into(), "2".into());
        assert_eq!(m.get("a").map(String::as_str), Some("2"));
        let ns: Vec<&str> = m
            .range("b/".to_owned()..)
            .map(|(k, _)| k.as_str())
            .collect();
        assert_eq!(ns, ["b/x"]);
        assert_eq!(m["b/x"], "1");
    }
}
