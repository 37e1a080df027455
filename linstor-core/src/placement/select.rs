//! Selection: the best-scoring set of candidates that satisfies the set constraints.
//!
//! The input is abstract: candidates (already filtered, sorted best first) with an integer score,
//! a node id, a shared-space id, a tuple of "same" values (every pick must share them:
//! unfixed `replicas_on_same` keys and the provider mixing class) and, per spreading dimension,
//! a value with a remaining capacity (`replicas_on_different` / `x_replicas_on_different_map`,
//! seeded by existing replicas), optionally with LINSTOR's "at most one partially filled group"
//! rule.
//!
//! # Algorithm
//!
//! 1. Split the candidates by their "same" tuple; solve each group; keep the best (ties: the
//!    group met first in preference order).
//! 2. Within a group, pools of one node are interchangeable for every node-level constraint, so
//!    only the best pool per node is kept (unless custom shared spaces make pools differ; then
//!    node and shared space become two more dimensions with capacity 1).
//! 3. If the dimensions are **laminar** (for every two dimensions one partition refines the
//!    other, e.g. node ⊂ rack ⊂ zone) and no partial-group rule applies, the feasible sets are
//!    the independent sets of a laminar matroid truncated at the place count, so the greedy in
//!    score order is optimal, and if it stops short no feasible set exists. O(P log P) for the
//!    sort, O(P·D) for the rest.
//! 4. Otherwise: branch and bound over **classes** (candidates with equal dimension values are
//!    interchangeable, so only "how many of the class's best" matters), with an exact upper bound
//!    (the best remaining scores), a count bound and a look-ahead for the partial-group rule.
//!    The class count is the number of distinct value tuples (e.g. zones × racks), not the number
//!    of pools. A budget of [`SEARCH_BUDGET`] steps bounds pathological inputs; when it runs out
//!    the best set found so far is returned and the outcome says so.

use std::collections::BTreeMap;

use crate::placement::capacity::FnvMap as HashMap;

/// Search steps before the branch and bound gives up.
pub const SEARCH_BUDGET: u64 = 2_000_000;

/// One spreading dimension.
#[derive(Debug, Clone)]
pub struct Dim {
    /// Value id per candidate.
    pub values: Vec<u32>,
    /// Remaining capacity per value id.
    pub remaining: Vec<u32>,
    /// `Some(x)`: LINSTOR's x-replicas rule — at the end at most one value may hold a count
    /// strictly between 0 and `x`. `used` holds the seed counts per value id.
    pub partial: Option<(u32, Vec<u32>)>,
}

/// The selection problem.
#[derive(Debug, Clone)]
pub struct Problem {
    /// Scores, candidates sorted best first.
    pub scores: Vec<i64>,
    /// Node id per candidate.
    pub nodes: Vec<u32>,
    /// Shared-space id per candidate.
    pub shared: Vec<u32>,
    /// "Same" tuple per candidate.
    pub same: Vec<Vec<u32>>,
    /// Spreading dimensions.
    pub dims: Vec<Dim>,
    /// Picks wanted.
    pub need: usize,
}

/// What selection found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The optimal set (candidate indices, preference order) and its score.
    Found(Vec<usize>, i64),
    /// No feasible set exists.
    Infeasible,
    /// The search budget ran out; the best set found, if any.
    Exhausted(Option<(Vec<usize>, i64)>),
}

/// Solves `p`.
pub fn select(p: &Problem) -> Outcome {
    if p.need == 0 {
        return Outcome::Found(Vec::new(), 0);
    }
    let first = p.same.first().map_or(&[][..], Vec::as_slice);
    let uniform = if first.is_empty() {
        p.same.iter().all(Vec::is_empty)
    } else {
        p.same.iter().all(|s| s.as_slice() == first)
    };
    if uniform {
        let all: Vec<usize> = (0..p.scores.len()).collect();
        if all.len() < p.need {
            return Outcome::Infeasible;
        }
        return match solve_group(p, &all) {
            (b, true) => Outcome::Exhausted(b),
            (Some((picks, s)), false) => Outcome::Found(picks, s),
            (None, false) => Outcome::Infeasible,
        };
    }
    let mut groups: BTreeMap<&[u32], Vec<usize>> = BTreeMap::new();
    let mut order: Vec<&[u32]> = Vec::new();
    for (i, s) in p.same.iter().enumerate() {
        let e = groups.entry(s.as_slice()).or_default();
        if e.is_empty() {
            order.push(s.as_slice());
        }
        e.push(i);
    }
    let mut best: Option<(Vec<usize>, i64)> = None;
    let mut exhausted = false;
    for key in order {
        let members = &groups[key];
        if members.len() < p.need {
            continue;
        }
        let (res, ex) = solve_group(p, members);
        exhausted |= ex;
        if let Some((picks, score)) = res
            && best.as_ref().is_none_or(|(_, b)| score > *b)
        {
            best = Some((picks, score));
        }
    }
    match (best, exhausted) {
        (b, true) => Outcome::Exhausted(b),
        (Some((picks, s)), false) => Outcome::Found(picks, s),
        (None, false) => Outcome::Infeasible,
    }
}

/// Largest number of candidates of one "same" group that a greedy pass can combine (a lower
/// bound of the true maximum; exact for laminar dimensions). Used by explanations.
pub fn max_combinable(p: &Problem) -> usize {
    let mut groups: BTreeMap<&[u32], Vec<usize>> = BTreeMap::new();
    for (i, s) in p.same.iter().enumerate() {
        groups.entry(s.as_slice()).or_default().push(i);
    }
    groups
        .values()
        .map(|m| {
            let (members, dims) = reduce(p, m);
            greedy(p, &members, &dims, usize::MAX).len()
        })
        .max()
        .unwrap_or(0)
}

/// Dimension values restricted to a group's members: (members, dims as (values per member,
/// remaining, partial)).
struct GDim {
    values: Vec<u32>,
    remaining: Vec<u32>,
    partial: Option<(u32, Vec<u32>)>,
}

fn reduce(p: &Problem, members: &[usize]) -> (Vec<usize>, Vec<GDim>) {
    // Shared spaces repeated across candidates of different nodes?
    let mut custom_shared = false;
    let max_shared = members.iter().map(|&m| p.shared[m]).max().unwrap_or(0) as usize;
    if max_shared <= 4 * members.len() + 64 {
        let mut owner = vec![u32::MAX; max_shared + 1];
        for &m in members {
            let slot = &mut owner[p.shared[m] as usize];
            if *slot == u32::MAX {
                *slot = p.nodes[m];
            } else if *slot != p.nodes[m] {
                custom_shared = true;
            }
        }
    } else {
        let mut shared_nodes: HashMap<u32, u32> = HashMap::default();
        for &m in members {
            match shared_nodes.get(&p.shared[m]) {
                Some(n) if *n != p.nodes[m] => custom_shared = true,
                Some(_) => {}
                None => {
                    shared_nodes.insert(p.shared[m], p.nodes[m]);
                }
            }
        }
    }
    let kept: Vec<usize> = if custom_shared {
        members.to_vec()
    } else {
        let max = members.iter().map(|&m| p.nodes[m]).max().unwrap_or(0) as usize;
        let mut seen = vec![false; max + 1];
        members
            .iter()
            .copied()
            .filter(|&m| !std::mem::replace(&mut seen[p.nodes[m] as usize], true))
            .collect()
    };
    let mut dims: Vec<GDim> = p
        .dims
        .iter()
        .map(|d| GDim {
            values: kept.iter().map(|&m| d.values[m]).collect(),
            remaining: d.remaining.clone(),
            partial: d.partial.clone(),
        })
        .collect();
    if custom_shared {
        for ids in [&p.nodes, &p.shared] {
            let values: Vec<u32> = kept.iter().map(|&m| ids[m]).collect();
            let max = values.iter().copied().max().unwrap_or(0) as usize;
            dims.push(GDim {
                values,
                remaining: vec![1; max + 1],
                partial: None,
            });
        }
    }
    (kept, dims)
}

fn greedy(p: &Problem, members: &[usize], dims: &[GDim], need: usize) -> Vec<usize> {
    let mut rem: Vec<Vec<u32>> = dims.iter().map(|d| d.remaining.clone()).collect();
    let mut picks = Vec::new();
    for (k, &m) in members.iter().enumerate() {
        if picks.len() == need {
            break;
        }
        if dims
            .iter()
            .zip(&rem)
            .all(|(d, r)| r[d.values[k] as usize] > 0)
        {
            for (d, r) in dims.iter().zip(rem.iter_mut()) {
                r[d.values[k] as usize] -= 1;
            }
            picks.push(m);
        }
    }
    let _ = p;
    picks
}

fn laminar(dims: &[GDim]) -> bool {
    let refines = |a: &GDim, b: &GDim| {
        let mut map: HashMap<u32, u32> = HashMap::default();
        a.values
            .iter()
            .zip(&b.values)
            .all(|(va, vb)| *map.entry(*va).or_insert(*vb) == *vb)
    };
    for i in 0..dims.len() {
        for j in i + 1..dims.len() {
            if !refines(&dims[i], &dims[j]) && !refines(&dims[j], &dims[i]) {
                return false;
            }
        }
    }
    true
}

fn solve_group(p: &Problem, members: &[usize]) -> (Option<(Vec<usize>, i64)>, bool) {
    let (kept, dims) = reduce(p, members);
    if kept.len() < p.need {
        return (None, false);
    }
    if dims.iter().all(|d| d.partial.is_none()) && laminar(&dims) {
        let picks = greedy(p, &kept, &dims, p.need);
        if picks.len() == p.need {
            let score = picks.iter().map(|&m| p.scores[m]).sum();
            return (Some((picks, score)), false);
        }
        return (None, false);
    }
    branch_and_bound(p, &kept, &dims)
}

struct Class {
    vals: Vec<u32>,
    members: Vec<usize>,
    prefix: Vec<i64>,
}

struct Search<'a> {
    classes: Vec<Class>,
    dims: &'a [GDim],
    need: usize,
    rem: Vec<Vec<u32>>,
    counts: Vec<Vec<u32>>,
    suffix_count: Vec<usize>,
    suffix_best: Vec<Vec<i64>>,
    take: Vec<usize>,
    best: Option<(Vec<usize>, i64)>,
    budget: u64,
}

fn branch_and_bound(
    p: &Problem,
    kept: &[usize],
    dims: &[GDim],
) -> (Option<(Vec<usize>, i64)>, bool) {
    let need = p.need;
    let mut index: HashMap<Vec<u32>, usize> = HashMap::default();
    let mut classes: Vec<Class> = Vec::new();
    for (k, &m) in kept.iter().enumerate() {
        let vals: Vec<u32> = dims.iter().map(|d| d.values[k]).collect();
        let ci = *index.entry(vals.clone()).or_insert_with(|| {
            classes.push(Class {
                vals,
                members: Vec::new(),
                prefix: vec![0],
            });
            classes.len() - 1
        });
        let c = &mut classes[ci];
        let last = *c.prefix.last().unwrap_or(&0);
        c.members.push(m);
        c.prefix.push(last + p.scores[m]);
    }
    let n = classes.len();
    let mut suffix_count = vec![0usize; n + 1];
    let mut suffix_best: Vec<Vec<i64>> = vec![vec![0]; n + 1];
    for i in (0..n).rev() {
        suffix_count[i] = suffix_count[i + 1] + classes[i].members.len();
        // Merge the top `need` scores of class i with the suffix's (both descending).
        let a: Vec<i64> = classes[i]
            .members
            .iter()
            .take(need)
            .map(|&m| p.scores[m])
            .collect();
        let b: Vec<i64> = suffix_best[i + 1].windows(2).map(|w| w[1] - w[0]).collect();
        let (mut x, mut y) = (0, 0);
        let mut pre = vec![0i64];
        while pre.len() <= need && (x < a.len() || y < b.len()) {
            let v = if y >= b.len() || (x < a.len() && a[x] >= b[y]) {
                x += 1;
                a[x - 1]
            } else {
                y += 1;
                b[y - 1]
            };
            let last = *pre.last().unwrap_or(&0);
            pre.push(last + v);
        }
        suffix_best[i] = pre;
    }
    let mut s = Search {
        rem: dims.iter().map(|d| d.remaining.clone()).collect(),
        counts: dims
            .iter()
            .map(|d| match &d.partial {
                Some((_, used)) => {
                    let mut c = used.clone();
                    c.resize(d.remaining.len().max(used.len()), 0);
                    c
                }
                None => Vec::new(),
            })
            .collect(),
        classes,
        dims,
        need,
        suffix_count,
        suffix_best,
        take: Vec::new(),
        best: None,
        budget: SEARCH_BUDGET,
    };
    s.take = vec![0; s.classes.len()];
    s.dfs(0, 0, 0);
    let exhausted = s.budget == 0;
    (s.best, exhausted)
}

impl Search<'_> {
    fn partial_ok(&self, remaining_picks: usize, final_check: bool) -> bool {
        for (d, dim) in self.dims.iter().enumerate() {
            let Some((x, _)) = &dim.partial else { continue };
            let mut sum = 0u64;
            let mut max = 0u64;
            let mut partials = 0;
            for &c in &self.counts[d] {
                if c > 0 && c < *x {
                    partials += 1;
                    let def = u64::from(*x - c);
                    sum += def;
                    max = max.max(def);
                }
            }
            if final_check && partials > 1 {
                return false;
            }
            if (remaining_picks as u64) < sum - max {
                return false;
            }
        }
        true
    }

    fn dfs(&mut self, i: usize, picked: usize, score: i64) {
        if self.budget == 0 {
            return;
        }
        self.budget -= 1;
        if picked == self.need {
            if self.partial_ok(0, true) && self.best.as_ref().is_none_or(|(_, b)| score > *b) {
                let picks: Vec<usize> = self
                    .classes
                    .iter()
                    .zip(&self.take)
                    .flat_map(|(c, &t)| c.members[..t].iter().copied())
                    .collect();
                self.best = Some((picks, score));
            }
            return;
        }
        let left = self.need - picked;
        if i == self.classes.len() || self.suffix_count[i] < left {
            return;
        }
        let bound = self.suffix_best[i][left.min(self.suffix_best[i].len() - 1)];
        if let Some((_, b)) = &self.best
            && score + bound <= *b
        {
            return;
        }
        let mut max_n = left.min(self.classes[i].members.len());
        for (d, dim) in self.dims.iter().enumerate() {
            let v = self.classes[i].vals[d] as usize;
            max_n = max_n.min(self.rem[d][v] as usize);
            let _ = dim;
        }
        for n in (0..=max_n).rev() {
            let n32 = u32::try_from(n).unwrap_or(u32::MAX);
            for d in 0..self.dims.len() {
                let v = self.classes[i].vals[d] as usize;
                self.rem[d][v] -= n32;
                if !self.counts[d].is_empty() {
                    self.counts[d][v] += n32;
                }
            }
            self.take[i] = n;
            if self.partial_ok(left - n, false) {
                let add = self.classes[i].prefix[n];
                self.dfs(i + 1, picked + n, score + add);
            }
            self.take[i] = 0;
            for d in 0..self.dims.len() {
                let v = self.classes[i].vals[d] as usize;
                self.rem[d][v] += n32;
                if !self.counts[d].is_empty() {
                    self.counts[d][v] -= n32;
                }
            }
            if self.budget == 0 {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn brute(p: &Problem) -> Option<i64> {
        let n = p.scores.len();
        let mut best: Option<i64> = None;
        for mask in 0u32..(1 << n) {
            if mask.count_ones() as usize != p.need {
                continue;
            }
            let picks: Vec<usize> = (0..n).filter(|i| mask & (1 << i) != 0).collect();
            let distinct = |ids: &Vec<u32>| {
                let mut v: Vec<u32> = picks.iter().map(|&i| ids[i]).collect();
                v.sort_unstable();
                v.dedup();
                v.len() == picks.len()
            };
            if !distinct(&p.nodes) || !distinct(&p.shared) {
                continue;
            }
            if picks.iter().any(|&i| p.same[i] != p.same[picks[0]]) {
                continue;
            }
            let mut ok = true;
            for d in &p.dims {
                let mut cnt = vec![0u32; d.remaining.len()];
                for &i in &picks {
                    cnt[d.values[i] as usize] += 1;
                }
                if cnt.iter().zip(&d.remaining).any(|(c, r)| c > r) {
                    ok = false;
                }
                if let Some((x, used)) = &d.partial {
                    let partial = cnt
                        .iter()
                        .zip(used)
                        .filter(|(c, u)| {
                            let t = **c + **u;
                            t > 0 && t < *x
                        })
                        .count();
                    if partial > 1 {
                        ok = false;
                    }
                }
            }
            if ok {
                let s: i64 = picks.iter().map(|&i| p.scores[i]).sum();
                if best.is_none_or(|b| s > b) {
                    best = Some(s);
                }
            }
        }
        best
    }

    fn problem() -> impl Strategy<Value = Problem> {
        (
            1usize..=10,
            1usize..=4,
            0usize..=2,
            any::<bool>(),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(|(n, need, ndims, custom_shared, same, seed)| {
                let mut rng = crate::placement::sim::Rng::new(seed);
                let mut scores: Vec<i64> = (0..n)
                    .map(|_| i64::try_from(rng.range(0, 20)).unwrap())
                    .collect();
                scores.sort_unstable_by(|a, b| b.cmp(a));
                let nodes: Vec<u32> = (0..n)
                    .map(|_| u32::try_from(rng.range(0, 7)).unwrap())
                    .collect();
                let shared: Vec<u32> = (0..n)
                    .map(|i| {
                        if custom_shared && rng.chance(0.3) {
                            100
                        } else {
                            nodes[i] * 10 + u32::try_from(i).unwrap()
                        }
                    })
                    .collect();
                let same_v: Vec<Vec<u32>> = (0..n)
                    .map(|_| {
                        if same {
                            vec![u32::try_from(rng.range(0, 1)).unwrap()]
                        } else {
                            vec![]
                        }
                    })
                    .collect();
                let dims = (0..ndims)
                    .map(|_| {
                        let nv = 3usize;
                        // Dimension values are node properties: equal for pools of one node.
                        let per_node: Vec<u32> = (0..8)
                            .map(|_| u32::try_from(rng.range(0, 2)).unwrap())
                            .collect();
                        let values: Vec<u32> =
                            nodes.iter().map(|&nd| per_node[nd as usize]).collect();
                        let x = u32::try_from(rng.range(1, 3)).unwrap();
                        let used: Vec<u32> = (0..nv)
                            .map(|_| u32::try_from(rng.range(0, 1)).unwrap())
                            .collect();
                        let partial = rng.chance(0.5) && x >= 2;
                        Dim {
                            values,
                            remaining: used.iter().map(|u| x.saturating_sub(*u)).collect(),
                            partial: partial.then_some((x, used)),
                        }
                    })
                    .collect();
                Problem {
                    scores,
                    nodes,
                    shared,
                    same: same_v,
                    dims,
                    need,
                }
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// Selection is exact: feasible iff brute force finds a set, with the optimal score.
        #[test]
        fn selection_matches_brute_force(p in problem()) {
            let want = brute(&p);
            match select(&p) {
                Outcome::Found(picks, score) => {
                    prop_assert_eq!(Some(score), want);
                    prop_assert_eq!(picks.len(), p.need);
                }
                Outcome::Infeasible => prop_assert_eq!(want, None),
                Outcome::Exhausted(_) => prop_assert!(false, "budget exhausted on a tiny input"),
            }
        }
    }

    #[test]
    fn zones_pattern_is_fast_and_greedy() {
        // 10,000 candidates over 10 zones × 10 racks: laminar → greedy.
        let n = 10_000;
        let p = Problem {
            scores: (0..n).map(|i| -i64::try_from(i).unwrap()).collect(),
            nodes: (0..n).map(|i| u32::try_from(i).unwrap()).collect(),
            shared: (0..n).map(|i| u32::try_from(i).unwrap()).collect(),
            same: vec![vec![]; n],
            dims: vec![
                Dim {
                    values: (0..n).map(|i| u32::try_from(i % 10).unwrap()).collect(),
                    remaining: vec![1; 10],
                    partial: None,
                },
                Dim {
                    values: (0..n).map(|i| u32::try_from(i % 100).unwrap()).collect(),
                    remaining: vec![1; 100],
                    partial: None,
                },
            ],
            need: 3,
        };
        assert_eq!(select(&p), Outcome::Found(vec![0, 1, 2], -3));
        // x-per-zone with the partial rule: branch and bound over 10 classes.
        let mut q = p.clone();
        q.dims = vec![Dim {
            values: (0..n).map(|i| u32::try_from(i % 10).unwrap()).collect(),
            remaining: vec![2; 10],
            partial: Some((2, vec![0; 10])),
        }];
        assert_eq!(select(&q), Outcome::Found(vec![0, 10, 1], -11));
    }
}
