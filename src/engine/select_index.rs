//! Ordered indexes over accounts for the load-aware and fallback layers, so that a
//! selection costs O(log accounts) instead of a scan of every account.
//!
//! - load-aware: accounts with new-session capacity and a load rate under 100%, in the
//!   order of the key (priority, load rate, last used (never used first));
//! - fallback: accounts with new-session capacity, in the order (priority, last used, or
//!   nothing when the fallback picks at random).
//!
//! Accounts with exactly the same key form a group (exact ties). A pick takes the least
//! key whose group has an account the caller allows (the one schedulability decision,
//! accounts a session limit refused) and draws one of the allowed accounts of that group
//! uniformly, with one draw from the session's stream when there is more than one. The
//! engine keeps the indexes in step by taking an account out before it changes its busy
//! count, waiter count or last use and putting it back after.
//!
//! How the order is kept cheaply: the leading part of a key (priority, and for the
//! load-aware layer the load rate, at most 100 values) names a *bucket*; buckets are
//! dense, in key order, with a bit each saying whether it has an account. Inside a bucket
//! the groups are ordered by last use in a binary min-heap. An account knows its group,
//! so taking it out costs no search. Putting it in needs the group of its exact key, if
//! there is one: never-used accounts have one group per bucket, and used ones find it
//! through a ring of the accounts last used at the same instant (nearly always the
//! account alone: nothing to search). A group that empties stays in its heap until it
//! reaches the top, where it is dropped at once, so the top of every heap is always a
//! group with accounts and a pick reads it directly; heaps holding more empty groups than
//! live ones are rebuilt (in linear time). The fallback index keeps each bucket as a list
//! in key order instead of a heap: its key changes only with the last use, which only
//! moves forward, so an account always goes at the end (see `Groups::fifo`). Before, each
//! index was one ordered tree of all the keys, and an acquire or a release searched it up
//! to three times per index.
//!
//! The members of a group are kept in the order of the old tree's lists (an account put
//! in goes last; one taken out is replaced by the last), so that the draw
//! `members[random_range(0..n)]` and therefore every result stays the same as with the
//! tree.
//!
//! Same law, other draws: small gateways (see `SCAN_MAX_ACCOUNTS`) are scanned as before
//! the indexes existed, by [`pick_min`], which also picks uniformly among the exactly tied
//! accounts but by reservoir sampling in account order, drawing on every tie met on the
//! way. Replaying those draws needs a visit to every account, so gateways large enough to
//! be indexed give other numbers for a given seed than before (with the same distribution);
//! smaller ones give the same numbers as before.

use super::Account;
use crate::units::Time;
use rand::Rng;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

type LoadAwareKey = (i64, u64, Option<Time>);
type FallbackKey = (i64, Option<Time>);

/// Load rates a load-aware bucket can have: 0 to 99 percent.
const LOADS: u32 = 100;

/// A bucket's heap is rebuilt when it holds more than this many empty groups beyond its
/// live ones (small in tests, so that they rebuild often).
const REBUILD_SLACK: usize = if cfg!(test) { 2 } else { 32 };

/// "In no group" for an account's group number; "no account" in the latest ring.
const NO_GROUP: u32 = u32::MAX;

/// The load rate in whole percent: (busy + waiting) * 100 / new-session capacity.
#[inline]
pub(super) fn load_rate(a: &Account) -> u64 {
    (a.busy as u64 + a.waiting as u64) * 100 / a.cap_new as u64
}

/// Whether the load-aware layer may pick an account by load: it has new-session capacity
/// and its load rate is under 100%, that is busy + waiting < capacity (the whole percent
/// (busy + waiting) * 100 / capacity is under 100 exactly then; no capacity, never).
#[inline]
pub(super) fn under_full_load(a: &Account) -> bool {
    (a.busy as u64 + a.waiting as u64) < a.cap_new as u64
}

/// The load-aware key of an account, or None when the layer cannot pick it by load.
#[inline]
pub(super) fn load_aware_key(a: &Account) -> Option<LoadAwareKey> {
    // (The capacity is not 0 in the division: under full load needs some.)
    under_full_load(a).then(|| (a.priority, load_rate(a), a.last_used))
}

/// The fallback key of an account, or None without new-session capacity.
#[inline]
pub(super) fn fallback_key(a: &Account, by_lru: bool) -> Option<FallbackKey> {
    let lru = if by_lru { a.last_used } else { None };
    (a.cap_new > 0).then_some((a.priority, lru))
}

/// Where a key sits: (bucket, last use). Buckets are numbered in key order.
type Slot = (u32, Option<Time>);

/// Accounts with exactly the same key (the key itself is in the bucket's order). Kept
/// small (24 bytes): a change of an account reads its group, at a random place among
/// thousands, so that a group shares its cache line with others.
struct Group {
    bucket: u32,
    members: Members,
}

/// The accounts of a group, in the order of a list where an account put in goes last and
/// one taken out is replaced by the last; the first is kept inline, because nearly every
/// group has one account, and taking it out then reads no other memory. The others are
/// boxed, the box kept (with its memory) when the group empties and is reused.
#[derive(Default)]
struct Members {
    len: u32,
    first: u32,
    // Boxed on purpose: 8 bytes in the group instead of a Vec's 24.
    #[allow(clippy::box_collection)]
    rest: Option<Box<Vec<u32>>>,
}

impl Members {
    #[inline]
    fn len(&self) -> usize {
        self.len as usize
    }

    #[inline]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn get(&self, p: usize) -> u32 {
        if p == 0 {
            self.first
        } else {
            self.rest.as_ref().expect("a group of two or more")[p - 1]
        }
    }

    #[inline]
    fn set(&mut self, p: usize, i: u32) {
        if p == 0 {
            self.first = i;
        } else {
            self.rest.as_mut().expect("a group of two or more")[p - 1] = i;
        }
    }

    #[inline]
    fn push(&mut self, i: u32) {
        if self.len == 0 {
            self.first = i;
        } else {
            self.rest.get_or_insert_with(Default::default).push(i);
        }
        self.len += 1;
    }

    /// Takes out the account at `p`, moving the last into its place (Vec::swap_remove);
    /// returns the account moved, if one was.
    #[inline]
    fn swap_remove(&mut self, p: usize) -> Option<u32> {
        debug_assert!(p < self.len());
        self.len -= 1;
        if self.len == 0 {
            return None;
        }
        let last = (self.rest.as_mut())
            .and_then(|rest| rest.pop())
            .expect("a second account");
        (p < self.len()).then(|| {
            self.set(p, last);
            last
        })
    }

    fn iter(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.len()).map(|p| self.get(p))
    }
}

/// Accounts grouped by exact key, groups in key order (see the module comment).
struct Groups {
    /// Per bucket: the bucket's groups as (last use, group), emptied ones included until
    /// they reach the top: a binary min-heap, or (`fifo`) a list in key order from
    /// `heads[bucket]` on.
    heaps: Vec<Vec<(Option<Time>, u32)>>,
    /// Keep each bucket as a list in key order rather than a heap. For the fallback index:
    /// its key changes only when the last use does, and a last use only moves forward to
    /// the latest instant, so every account put in goes at the end of the list (O(1), and
    /// a rebuild needs no sort). A key that is not the greatest would still be put in its
    /// place, by a search and a shift.
    fifo: bool,
    /// `fifo` only: per bucket, where its list starts (entries before are dropped).
    heads: Vec<usize>,
    /// Per bucket: how many of its heap's groups are empty.
    empty: Vec<u32>,
    /// Per bucket: how many accounts it holds.
    members: Vec<u32>,
    /// One bit per bucket, set when it holds an account.
    occupied: Vec<u64>,
    groups: Vec<Group>,
    /// One bit per group, set while it has accounts: what the heaps' upkeep (dropping
    /// emptied tops, rebuilding) asks of a group, read here instead of in the group
    /// itself. At 10,000 accounts the groups are hundreds of kilobytes, spread, while
    /// these bits are a few kilobytes that stay in the nearest cache; a rebuild reads one
    /// per entry of its heap.
    live: Vec<u64>,
    /// Numbers of groups dropped, for reuse (no allocation in the steady state).
    free: Vec<u32>,
    /// Per bucket: its group of never-used accounts, or NO_GROUP. (A group of used
    /// accounts is found through the other accounts released at the same instant.)
    never_used: Vec<u32>,
    /// Which of an account's two places (see [`Place`]) is in this index.
    layer: usize,
}

/// What the indexes keep of one account, side by side in one block of half a cache line:
/// a change of an account reads its places in both indexes and its ring, and at 10,000
/// accounts each table of these was a miss of its own (four arrays, up to four lines per
/// released slot, where this is one).
#[repr(C, align(32))]
struct Place {
    /// Per index (load-aware, then fallback): the account's group (or NO_GROUP) and where
    /// it sits in the group's list.
    at: [(u32, u32); 2],
    /// The next and previous account of its ring of accounts last used at the same instant
    /// (see [`AccountIndex`]).
    next: u32,
    prev: u32,
}

/// The load-aware index's place in a [`Place`], and the fallback's.
const LOAD_AWARE: usize = 0;
const FALLBACK: usize = 1;

impl Groups {
    fn new(buckets: usize, fifo: bool, layer: usize) -> Self {
        Groups {
            heaps: (0..buckets).map(|_| Vec::new()).collect(),
            fifo,
            heads: vec![0; buckets],
            empty: vec![0; buckets],
            members: vec![0; buckets],
            occupied: vec![0; buckets.div_ceil(64)],
            groups: Vec::new(),
            live: Vec::new(),
            free: Vec::new(),
            never_used: vec![NO_GROUP; buckets],
            layer,
        }
    }

    /// Whether group `g` has accounts.
    #[inline]
    fn is_live(&self, g: u32) -> bool {
        bit_is_set(&self.live, g)
    }

    /// The least (last use, group) of bucket `b`, if it has a group.
    #[inline]
    fn top(&self, b: usize) -> Option<(Option<Time>, u32)> {
        let heap = &self.heaps[b];
        if self.fifo {
            heap.get(self.heads[b]).copied()
        } else {
            heap.first().copied()
        }
    }

    /// Bucket `b`'s groups (heap or list, from the list's start), emptied ones included.
    #[inline]
    fn entries(&self, b: usize) -> &[(Option<Time>, u32)] {
        let heap = &self.heaps[b];
        if self.fifo {
            &heap[self.heads[b]..]
        } else {
            heap
        }
    }

    /// The group of `slot`, given the ring of the accounts with account `i`'s last use (the
    /// slot's) in `places`: the never-used group of the bucket, or the group of one of those
    /// accounts in the same bucket. An emptied group of a used slot is not found (it has
    /// no member left to lead to it): a new group is made, and the empty one is dropped
    /// when it reaches its heap's top, as if it had been removed at once.
    #[inline]
    fn find(&self, (bucket, last_used): Slot, i: u32, places: &[Place]) -> Option<u32> {
        if last_used.is_none() {
            let g = self.never_used[bucket as usize];
            return (g != NO_GROUP).then_some(g);
        }
        let mut j = places[i as usize].next;
        while j != i {
            let g = places[j as usize].at[self.layer].0;
            if g != NO_GROUP && self.groups[g as usize].bucket == bucket {
                return Some(g);
            }
            j = places[j as usize].next;
        }
        None
    }

    /// Puts account `i` (in no group) into the group of `slot`.
    #[inline]
    fn insert(&mut self, (bucket, last_used): Slot, i: u32, places: &mut [Place]) {
        debug_assert_eq!(places[i as usize].at[self.layer].0, NO_GROUP);
        let b = bucket as usize;
        let g = match self.find((bucket, last_used), i, places) {
            Some(g) => {
                if !self.is_live(g) {
                    self.empty[b] -= 1;
                }
                g
            }
            None => {
                let g = match self.free.pop() {
                    Some(g) => {
                        self.groups[g as usize].bucket = bucket;
                        g
                    }
                    None => {
                        self.groups.push(Group {
                            bucket,
                            members: Members::default(),
                        });
                        if self.groups.len() > 64 * self.live.len() {
                            self.live.push(0);
                        }
                        (self.groups.len() - 1) as u32
                    }
                };
                if last_used.is_none() {
                    self.never_used[b] = g;
                }
                if self.fifo {
                    list_push(&mut self.heaps[b], self.heads[b], (last_used, g));
                } else {
                    heap_push(&mut self.heaps[b], (last_used, g));
                }
                g
            }
        };
        let members = &mut self.groups[g as usize].members;
        places[i as usize].at[self.layer] = (g, members.len() as u32);
        members.push(i);
        self.members[b] += 1;
        self.occupied[b / 64] |= 1 << (b % 64);
        self.live[g as usize / 64] |= 1 << (g % 64);
    }

    /// Takes account `i` out of its group.
    #[inline]
    fn remove(&mut self, i: u32, places: &mut [Place]) {
        let (g, p) = std::mem::replace(&mut places[i as usize].at[self.layer], (NO_GROUP, 0));
        debug_assert_ne!(g, NO_GROUP, "an indexed account is in a group");
        let group = &mut self.groups[g as usize];
        let p = p as usize;
        debug_assert_eq!(group.members.get(p), i);
        if let Some(moved) = group.members.swap_remove(p) {
            places[moved as usize].at[self.layer].1 = p as u32;
        }
        let b = group.bucket as usize;
        self.members[b] -= 1;
        if self.members[b] == 0 {
            self.occupied[b / 64] &= !(1 << (b % 64));
        }
        if group.members.is_empty() {
            self.live[g as usize / 64] &= !(1 << (g % 64));
            self.empty[b] += 1;
            self.drop_empty_tops(b);
            let live = self.entries(b).len() - self.empty[b] as usize;
            if self.empty[b] as usize > live + REBUILD_SLACK {
                self.rebuild(b);
            }
        }
    }

    /// Drops the empty groups at the top of bucket `b`'s heap.
    #[inline]
    fn drop_empty_tops(&mut self, b: usize) {
        while let Some((_, g)) = self.top(b) {
            if self.is_live(g) {
                break;
            }
            if self.fifo {
                self.heads[b] += 1;
            } else {
                heap_pop(&mut self.heaps[b]);
            }
            drop_group(&mut self.never_used[b], &mut self.free, g);
            self.empty[b] -= 1;
        }
        // A list's dropped start is given back once it is as long as the rest.
        let head = self.heads[b];
        if self.fifo && head >= 64 && 2 * head >= self.heaps[b].len() {
            self.heaps[b].drain(..head);
            self.heads[b] = 0;
        }
    }

    /// Rebuilds bucket `b`'s heap or list from its live groups (a list stays in order).
    /// The live groups all have different keys, so how a heap is laid out changes no pick.
    fn rebuild(&mut self, b: usize) {
        let mut heap = std::mem::take(&mut self.heaps[b]);
        heap.drain(..self.heads[b]);
        self.heads[b] = 0;
        let (live, free, never_used) = (&self.live, &mut self.free, &mut self.never_used[b]);
        heap.retain(|&(_, g)| {
            let keep = bit_is_set(live, g);
            if !keep {
                drop_group(never_used, free, g);
            }
            keep
        });
        if !self.fifo {
            heapify(&mut heap);
        }
        self.heaps[b] = heap;
        self.empty[b] = 0;
    }

    /// The occupied buckets, in key order.
    fn occupied_buckets(&self) -> impl Iterator<Item = usize> + '_ {
        self.occupied.iter().enumerate().flat_map(|(w, &bits)| {
            let mut bits = bits;
            std::iter::from_fn(move || {
                (bits != 0).then(|| {
                    let b = bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    w * 64 + b
                })
            })
        })
    }

    /// One account of the least key, drawn uniformly among the accounts of that key.
    #[inline]
    fn pick_any(&self, rng: &mut impl Rng) -> Option<u32> {
        let b = self.occupied_buckets().next()?;
        let (_, g) = self.top(b).expect("an occupied bucket has a group");
        let g = &self.groups[g as usize].members;
        Some(match g.len() {
            1 => g.first,
            n => g.get(rng.random_range(0..n as u32) as usize),
        })
    }

    /// One account of the least key among those `allowed` admits, drawn uniformly among
    /// the allowed accounts of that key.
    fn pick_allowed(
        &self,
        mut allowed: impl FnMut(u32) -> bool,
        rng: &mut impl Rng,
    ) -> Option<u32> {
        for b in self.occupied_buckets() {
            let mut found = None;
            let visit = |g: u32| {
                let g = &self.groups[g as usize].members;
                let n = g.iter().filter(|&i| allowed(i)).count();
                if n == 0 {
                    return false;
                }
                let j = if n == 1 {
                    0
                } else {
                    rng.random_range(0..n as u32) as usize
                };
                found = g.iter().filter(|&i| allowed(i)).nth(j);
                true
            };
            if self.fifo {
                let mut visit = visit;
                for &(_, g) in self.entries(b) {
                    if visit(g) {
                        break;
                    }
                }
            } else {
                in_key_order(&self.heaps[b], visit);
            }
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// (bucket, last use, sorted members) of every group with members, in key order, for
    /// comparing indexes in tests; checks the structure's own bookkeeping on the way.
    #[cfg(test)]
    fn canonical(&self, places: &[Place]) -> Vec<(u32, Option<Time>, Vec<u32>)> {
        let mut out = Vec::new();
        for b in 0..self.heaps.len() {
            let heap = self.entries(b);
            for (at, &(key, g)) in heap.iter().enumerate() {
                if at > 0 {
                    let before = if self.fifo { at - 1 } else { (at - 1) / 2 };
                    assert!(heap[before].0 <= key, "heap or list order");
                }
                let group = &self.groups[g as usize];
                assert_eq!(group.bucket as usize, b);
                if key.is_none() {
                    assert_eq!(self.never_used[b], g);
                }
                for (p, i) in group.members.iter().enumerate() {
                    assert_eq!(places[i as usize].at[self.layer], (g, p as u32));
                }
            }
            let empty = heap
                .iter()
                .filter(|&&(_, g)| self.groups[g as usize].members.is_empty());
            assert_eq!(empty.count(), self.empty[b] as usize);
            assert!(heap
                .first()
                .map_or(true, |&(_, g)| !self.groups[g as usize].members.is_empty()));
            let members: usize = heap
                .iter()
                .map(|&(_, g)| self.groups[g as usize].members.len())
                .sum();
            assert_eq!(members, self.members[b] as usize);
            assert_eq!(self.occupied[b / 64] >> (b % 64) & 1 == 1, members > 0);
            let mut groups: Vec<_> = heap
                .iter()
                .filter(|&&(_, g)| !self.groups[g as usize].members.is_empty())
                .map(|&(key, g)| {
                    let mut m: Vec<u32> = self.groups[g as usize].members.iter().collect();
                    m.sort_unstable();
                    (b as u32, key, m)
                })
                .collect();
            groups.sort_unstable();
            out.extend(groups);
        }
        for (g, group) in self.groups.iter().enumerate() {
            assert_eq!(
                self.is_live(g as u32),
                !group.members.is_empty(),
                "live bits"
            );
        }
        let in_heaps: usize = (0..self.heaps.len()).map(|b| self.entries(b).len()).sum();
        assert_eq!(in_heaps + self.free.len(), self.groups.len());
        for w in out.windows(2) {
            assert!(
                (w[0].0, w[0].1) < (w[1].0, w[1].1),
                "one live group per key"
            );
        }
        out
    }
}

/// Whether bit `g` of `bits` is set (the live groups' bits, read by [`Groups::is_live`] and
/// by a rebuild, which holds other parts of the groups borrowed).
#[inline]
fn bit_is_set(bits: &[u64], g: u32) -> bool {
    bits[g as usize / 64] >> (g % 64) & 1 == 1
}

/// Gives group `g`, dropped from its bucket's heap or list, back for reuse; `never_used` is
/// that bucket's never-used group. (The bucket is known where a group is dropped: its
/// own record, somewhere among thousands, is not read.)
#[inline]
fn drop_group(never_used: &mut u32, free: &mut Vec<u32>, g: u32) {
    if *never_used == g {
        *never_used = NO_GROUP;
    }
    free.push(g);
}

/// Pushes `item` onto the binary min-heap `heap`.
#[inline]
fn heap_push(heap: &mut Vec<(Option<Time>, u32)>, item: (Option<Time>, u32)) {
    let mut i = heap.len();
    heap.push(item);
    while i > 0 {
        let parent = (i - 1) / 2;
        if heap[parent].0 <= item.0 {
            break;
        }
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = item;
}

/// Puts `item` into the list `list`, kept in key order from `head` on: at the end, unless
/// its key is less than the last one's (never, for the fallback index).
#[inline]
fn list_push(list: &mut Vec<(Option<Time>, u32)>, head: usize, item: (Option<Time>, u32)) {
    match list.last() {
        Some(&(last, _)) if item.0 < last => {
            let at = head + list[head..].partition_point(|&(k, _)| k <= item.0);
            list.insert(at, item);
        }
        _ => list.push(item),
    }
}

/// Makes `heap` a binary min-heap, in linear time (Floyd: sifts down every inner node,
/// the last first).
fn heapify(heap: &mut [(Option<Time>, u32)]) {
    for start in (0..heap.len() / 2).rev() {
        let item = heap[start];
        sift_down(heap, start, item);
    }
}

/// Puts `item` in the hole at `i` of the binary min-heap `heap`, moving it down past
/// smaller children.
#[inline]
fn sift_down(heap: &mut [(Option<Time>, u32)], mut i: usize, item: (Option<Time>, u32)) {
    let n = heap.len();
    loop {
        let mut c = 2 * i + 1;
        if c >= n {
            break;
        }
        if c + 1 < n && heap[c + 1].0 < heap[c].0 {
            c += 1;
        }
        if item.0 <= heap[c].0 {
            break;
        }
        heap[i] = heap[c];
        i = c;
    }
    heap[i] = item;
}

/// Removes the least item of the non-empty binary min-heap `heap`.
#[inline]
fn heap_pop(heap: &mut Vec<(Option<Time>, u32)>) {
    let last = heap.pop().expect("a non-empty heap");
    if !heap.is_empty() {
        sift_down(heap, 0, last);
    }
}

/// Visits the groups of a heap in key order until `visit` returns true, without changing
/// the heap: the top first, then (through a small frontier heap) always the least of the
/// children of the groups visited so far.
#[inline]
fn in_key_order(heap: &[(Option<Time>, u32)], mut visit: impl FnMut(u32) -> bool) {
    let Some(&(_, top)) = heap.first() else {
        return;
    };
    if visit(top) || heap.len() == 1 {
        return;
    }
    let mut frontier = BinaryHeap::new();
    let children = |at: usize, frontier: &mut BinaryHeap<Reverse<(Option<Time>, usize)>>| {
        for c in [2 * at + 1, 2 * at + 2] {
            if let Some(&(key, _)) = heap.get(c) {
                frontier.push(Reverse((key, c)));
            }
        }
    };
    children(0, &mut frontier);
    while let Some(Reverse((_, at))) = frontier.pop() {
        if visit(heap[at].1) {
            return;
        }
        children(at, &mut frontier);
    }
}

/// Both indexes.
pub(super) struct AccountIndex {
    load_aware: Groups,
    fallback: Groups,
    by_lru: bool,
    /// The gateway's distinct priorities, in order: an account's rank among them numbers
    /// its buckets. Searched for each change rather than kept per account: these few
    /// numbers stay in the nearest cache, where a table of 10,000 ranks did not, and the
    /// account's own priority is on the line its change reads anyway.
    priorities: Vec<i64>,
    /// Per account: its places in both indexes and its ring. The rings link the accounts
    /// last used at the same instant: an account put into a group finds the group of its
    /// exact key through them, with no search (nearly always it is alone). Never-used
    /// accounts are alone in their ring.
    places: Vec<Place>,
    /// The latest last use and an account of its ring. Last uses only move forward (a
    /// release sets the clock's now), so only this ring ever gains accounts.
    latest: Option<(Time, u32)>,
}

impl AccountIndex {
    pub(super) fn new(accounts: &[Account], by_lru: bool) -> AccountIndex {
        let mut priorities: Vec<i64> = accounts.iter().map(|a| a.priority).collect();
        priorities.sort_unstable();
        priorities.dedup();
        let ranks = priorities.len();
        let n = accounts.len() as u32;
        let mut index = AccountIndex {
            load_aware: Groups::new(ranks * LOADS as usize, false, LOAD_AWARE),
            fallback: Groups::new(ranks, true, FALLBACK),
            by_lru,
            priorities,
            places: (0..n)
                .map(|i| Place {
                    at: [(NO_GROUP, 0); 2],
                    next: i,
                    prev: i,
                })
                .collect(),
            latest: None,
        };
        let mut used: Vec<(Time, u32)> = (accounts.iter().zip(0..))
            .filter_map(|(a, i)| Some((a.last_used?, i)))
            .collect();
        used.sort_unstable();
        for &(t, i) in &used {
            index.join_ring(i, t);
        }
        for (i, a) in accounts.iter().enumerate() {
            index.insert(a, i as u32);
        }
        index
    }

    /// The rank of account `a`'s priority among the gateway's priorities.
    #[inline]
    fn rank(&self, a: &Account) -> u32 {
        (self.priorities.binary_search(&a.priority)).expect("a priority of the gateway") as u32
    }

    /// Account `a`'s slots in the load-aware and the fallback index, where it is in them;
    /// `rank` is its priority's.
    #[inline]
    fn slots(&self, a: &Account, rank: u32) -> (Option<Slot>, Option<Slot>) {
        let la =
            load_aware_key(a).map(|(_, load, last_used)| (rank * LOADS + load as u32, last_used));
        let fb = fallback_key(a, self.by_lru).map(|(_, lru)| (rank, lru));
        (la, fb)
    }

    /// Puts account `i` (in its current state `a`) into both indexes.
    fn insert(&mut self, a: &Account, i: u32) {
        let (la, fb) = self.slots(a, self.rank(a));
        if let Some(s) = la {
            self.load_aware.insert(s, i, &mut self.places);
        }
        if let Some(s) = fb {
            self.fallback.insert(s, i, &mut self.places);
        }
    }

    /// Moves account `i` (alone in its ring) into the ring of last use `t`, which must not
    /// be earlier than any last use yet.
    #[inline]
    fn join_ring(&mut self, i: u32, t: Time) {
        match self.latest {
            Some((latest, j)) if latest == t && j != NO_GROUP => {
                let places = &mut self.places;
                let k = places[j as usize].next;
                places[j as usize].next = i;
                places[i as usize].prev = j;
                places[i as usize].next = k;
                places[k as usize].prev = i;
            }
            _ => {
                debug_assert!(
                    self.latest.map_or(true, |(l, _)| l < t),
                    "last uses move forward"
                );
                self.latest = Some((t, i));
            }
        }
    }

    /// Takes account `i` out of its ring.
    #[inline]
    fn leave_ring(&mut self, i: u32) {
        let places = &mut self.places;
        let (p, n) = (places[i as usize].prev, places[i as usize].next);
        places[p as usize].next = n;
        places[n as usize].prev = p;
        places[i as usize].next = i;
        places[i as usize].prev = i;
        if self.latest.is_some_and(|(_, j)| j == i) {
            // Only when i moves on to a later last use, which then becomes the latest;
            // until then the ring is led by another of its accounts, if any.
            self.latest = self
                .latest
                .map(|(t, _)| (t, if n == i { NO_GROUP } else { n }));
        }
    }

    /// Hints the processor to load where account `i` sits in both indexes (see
    /// `engine::prefetch`), ahead of an [`AccountIndex::update`] of it.
    #[inline]
    pub(super) fn prefetch(&self, i: u32) {
        let Some(place) = self.places.get(i as usize) else {
            return;
        };
        for groups in [&self.load_aware, &self.fallback] {
            // The account's places are one line (32 bytes an account, 320 KB at 10,000
            // accounts, so this read may itself miss and delay the hint); the groups they
            // lead to are the wait (groups are many, and spread).
            if let Some(group) = groups.groups.get(place.at[groups.layer].0 as usize) {
                super::prefetch(group);
            }
            // And the group the account will most likely be put in: a used account's new
            // key is nearly always its own, so it takes the group at the top of the free
            // list, one dropped long ago and no longer in the caches.
            if let Some(group) = groups
                .free
                .last()
                .and_then(|&g| groups.groups.get(g as usize))
            {
                super::prefetch(group);
            }
        }
    }

    /// Changes account `i` through `f`, keeping both indexes in step; keys that do not
    /// change are left in place.
    #[inline]
    pub(super) fn update<R>(
        &mut self,
        a: &mut Account,
        i: u32,
        f: impl FnOnce(&mut Account) -> R,
    ) -> R {
        let (before, rank) = (a.last_used, self.rank(a));
        let (la, fb) = self.slots(a, rank);
        let r = f(a);
        debug_assert_eq!(rank, self.rank(a), "an account's priority stays");
        let (la2, fb2) = self.slots(a, rank);
        if a.last_used != before {
            self.leave_ring(i);
            if let Some(t) = a.last_used {
                self.join_ring(i, t);
            }
        }
        if la != la2 {
            if la.is_some() {
                self.load_aware.remove(i, &mut self.places);
            }
            if let Some(s) = la2 {
                self.load_aware.insert(s, i, &mut self.places);
            }
        }
        if fb != fb2 {
            if fb.is_some() {
                self.fallback.remove(i, &mut self.places);
            }
            if let Some(s) = fb2 {
                self.fallback.insert(s, i, &mut self.places);
            }
        }
        r
    }

    /// The load-aware pick; `allowed` None admits every account.
    pub(super) fn pick_load_aware(
        &self,
        allowed: Option<&mut dyn FnMut(u32) -> bool>,
        rng: &mut impl Rng,
    ) -> Option<u32> {
        match allowed {
            None => self.load_aware.pick_any(rng),
            Some(f) => self.load_aware.pick_allowed(f, rng),
        }
    }

    /// The fallback pick; `allowed` None admits every account.
    pub(super) fn pick_fallback(
        &self,
        allowed: Option<&mut dyn FnMut(u32) -> bool>,
        rng: &mut impl Rng,
    ) -> Option<u32> {
        match allowed {
            None => self.fallback.pick_any(rng),
            Some(f) => self.fallback.pick_allowed(f, rng),
        }
    }

    /// Per account, the accounts of its ring, sorted (tests).
    #[cfg(test)]
    fn rings(&self) -> Vec<Vec<u32>> {
        let places = &self.places;
        (0..places.len() as u32)
            .map(|i| {
                let mut ring = vec![i];
                let mut j = places[i as usize].next;
                while j != i {
                    assert_eq!(places[places[j as usize].prev as usize].next, j);
                    ring.push(j);
                    j = places[j as usize].next;
                }
                ring.sort_unstable();
                ring
            })
            .collect()
    }

    /// Whether two indexes hold the same accounts under the same keys (and each keeps
    /// its own bookkeeping right).
    #[cfg(test)]
    pub(super) fn same_as(&self, other: &AccountIndex) -> bool {
        self.priorities == other.priorities
            && self.rings() == other.rings()
            && self.load_aware.canonical(&self.places) == other.load_aware.canonical(&other.places)
            && self.fallback.canonical(&self.places) == other.fallback.canonical(&other.places)
    }
}

/// An account of `cap_new` new-session slots (and one more for bound sessions) at
/// `priority`, idle and never used, in no pool of note: for tests and the
/// micro-benchmarks.
fn idle_account(cap_new: u32, priority: i64) -> Account {
    Account::idle(cap_new + 1, cap_new, priority, 0)
}

/// A handle on the selection index for the micro-benchmarks in `bench/micro`, a crate of
/// its own outside slotsim's build. The index and the account state are private to the
/// engine; this is the smallest public surface that lets that crate drive them as the
/// engine does. Not part of slotsim's interface: hidden from the docs, free to change.
#[doc(hidden)]
pub struct IndexBench {
    accounts: Vec<Account>,
    index: AccountIndex,
    rng: rand_pcg::Pcg64,
    now: Time,
}

#[doc(hidden)]
impl IndexBench {
    /// `accounts` idle accounts of `cap_new` new-session slots each, over `priorities`
    /// priorities in turn; the fallback by last use or at random; ties drawn from a stream
    /// seeded with `seed`.
    pub fn new(accounts: u32, cap_new: u32, priorities: u32, by_lru: bool, seed: u64) -> Self {
        use rand::SeedableRng;
        let accounts: Vec<Account> = (0..accounts)
            .map(|i| idle_account(cap_new, (i % priorities.max(1)) as i64))
            .collect();
        let index = AccountIndex::new(&accounts, by_lru);
        IndexBench {
            accounts,
            index,
            rng: rand_pcg::Pcg64::seed_from_u64(seed),
            now: 0,
        }
    }

    /// A new session's request: the load-aware pick takes a slot of the account it
    /// returns (None when every account is at 100% load).
    pub fn acquire(&mut self) -> Option<u32> {
        let i = self.index.pick_load_aware(None, &mut self.rng)?;
        self.index
            .update(&mut self.accounts[i as usize], i, |a| a.busy += 1);
        Some(i)
    }

    /// Account `i` releases a slot, one microsecond after the previous release.
    pub fn release(&mut self, i: u32) {
        self.now += 1;
        let now = self.now;
        self.index.update(&mut self.accounts[i as usize], i, |a| {
            a.busy -= 1;
            a.last_used = Some(now);
        });
    }

    /// The load-aware pick alone.
    pub fn pick_load_aware(&mut self) -> Option<u32> {
        self.index.pick_load_aware(None, &mut self.rng)
    }

    /// The load-aware pick among the accounts `allowed` admits (as with faults or limits).
    pub fn pick_load_aware_allowed(&mut self, mut allowed: impl FnMut(u32) -> bool) -> Option<u32> {
        self.index
            .pick_load_aware(Some(&mut allowed), &mut self.rng)
    }

    /// The fallback pick alone.
    pub fn pick_fallback(&mut self) -> Option<u32> {
        self.index.pick_fallback(None, &mut self.rng)
    }

    /// The load-aware pick by a scan of every account, as gateways of at most
    /// `SCAN_MAX_ACCOUNTS` select.
    pub fn pick_load_aware_by_scan(&mut self) -> Option<u32> {
        let candidates =
            (self.accounts.iter().zip(0..)).filter_map(|(a, i)| Some((load_aware_key(a)?, i)));
        pick_min(candidates, &mut self.rng)
    }
}

/// The account with the least key among `candidates` (in account order), by a scan:
/// ties broken uniformly at random by reservoir sampling in account order, drawing on
/// every tie met on the way (also ties of a key a later account then beats). Small
/// gateways select this way, as slotsim always did; the indexes draw once among the final
/// tied set, which has the same law but other draws.
pub(super) fn pick_min<K: Ord>(
    candidates: impl Iterator<Item = (K, u32)>,
    rng: &mut impl Rng,
) -> Option<u32> {
    let mut best: Option<(K, u32)> = None;
    let mut ties = 0u32;
    for (key, i) in candidates {
        match &mut best {
            Some((k, _)) if key > *k => {}
            Some((k, idx)) if key == *k => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    *idx = i;
                }
            }
            _ => {
                best = Some((key, i));
                ties = 1;
            }
        }
    }
    best.map(|(_, i)| i)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_pcg::Pcg64;
    use std::collections::BTreeMap;

    fn account(cap_new: u32, priority: i64) -> Account {
        idle_account(cap_new, priority)
    }

    /// The accounts a pick may return: the allowed ones of the least key, by a scan.
    fn least<K: Ord + Copy>(
        keys: impl Iterator<Item = (Option<K>, u32)>,
        allowed: &dyn Fn(u32) -> bool,
    ) -> Vec<u32> {
        let keyed: Vec<(K, u32)> = keys
            .filter(|(_, i)| allowed(*i))
            .filter_map(|(k, i)| k.map(|k| (k, i)))
            .collect();
        let Some(m) = keyed.iter().map(|(k, _)| *k).min() else {
            return Vec::new();
        };
        keyed
            .into_iter()
            .filter(|(k, _)| *k == m)
            .map(|(_, i)| i)
            .collect()
    }

    /// Random changes of busy, waiting and last use on random gateways (few priorities,
    /// small capacities, so that ties are common), with random accounts ruled out: every
    /// pick is one of the scan's least-key accounts (none exactly when the scan has none),
    /// with no draw without a tie, and the indexes equal ones built afresh.
    #[test]
    fn picks_are_the_scans_least_accounts() {
        let mut rng = Pcg64::seed_from_u64(8);
        for case in 0..200 {
            let n = rng.random_range(1..60u32);
            let by_lru = case % 3 != 0;
            let mut accounts: Vec<Account> = (0..n)
                .map(|_| account(rng.random_range(0..4), rng.random_range(0..3)))
                .collect();
            let mut index = AccountIndex::new(&accounts, by_lru);
            let mut clock: Time = 0;
            for step in 0..400 {
                let i = rng.random_range(0..n);
                let change = rng.random_range(0..4);
                let waiting = rng.random_range(0..3);
                clock += rng.random_range(0..2); // equal instants make last-use ties too
                index.update(&mut accounts[i as usize], i, |a| match change {
                    0 => a.busy += 1,
                    1 => a.busy = a.busy.saturating_sub(1),
                    2 => a.waiting = waiting,
                    _ => a.last_used = Some(clock),
                });
                let banned: Vec<u32> = (0..n).filter(|_| rng.random_bool(0.2)).collect();
                let allowed = |i: u32| !banned.contains(&i);
                let keys = || accounts.iter().zip(0..);
                for layer in 0..2 {
                    let seed = case * 1000 + step;
                    let mut r = Pcg64::seed_from_u64(seed);
                    let (got, want, all) = if layer == 0 {
                        (
                            index.pick_load_aware(Some(&mut |i| allowed(i)), &mut r),
                            least(keys().map(|(a, i)| (load_aware_key(a), i)), &allowed),
                            least(keys().map(|(a, i)| (load_aware_key(a), i)), &|_| true),
                        )
                    } else {
                        (
                            index.pick_fallback(Some(&mut |i| allowed(i)), &mut r),
                            least(keys().map(|(a, i)| (fallback_key(a, by_lru), i)), &allowed),
                            least(keys().map(|(a, i)| (fallback_key(a, by_lru), i)), &|_| true),
                        )
                    };
                    match got {
                        None => assert!(want.is_empty(), "case {case} step {step}"),
                        Some(g) => assert!(
                            want.contains(&g),
                            "case {case} step {step}: {g} not in {want:?}"
                        ),
                    }
                    if want.len() <= 1 {
                        let mut fresh = Pcg64::seed_from_u64(seed);
                        assert_eq!(
                            r.random::<u64>(),
                            fresh.random::<u64>(),
                            "no draw without a tie"
                        );
                    }
                    let mut r = Pcg64::seed_from_u64(seed);
                    let any = if layer == 0 {
                        index.pick_load_aware(None, &mut r)
                    } else {
                        index.pick_fallback(None, &mut r)
                    };
                    assert_eq!(any.is_some(), !all.is_empty());
                    if let Some(a) = any {
                        assert!(all.contains(&a));
                    }
                }
            }
            assert!(
                index.same_as(&AccountIndex::new(&accounts, by_lru)),
                "case {case}"
            );
        }
    }

    /// The indexes as they were before buckets and heaps: one ordered tree of the keys per
    /// index, each key with its accounts in a list (pushed last, swap-removed). The new
    /// indexes must pick exactly as these did, draw for draw.
    struct TreeIndex {
        load_aware: BTreeMap<LoadAwareKey, Vec<u32>>,
        fallback: BTreeMap<FallbackKey, Vec<u32>>,
        by_lru: bool,
    }

    fn tree_remove<K: Ord>(t: &mut BTreeMap<K, Vec<u32>>, k: K, i: u32) {
        let g = t.get_mut(&k).unwrap();
        let p = g.iter().position(|&x| x == i).unwrap();
        g.swap_remove(p);
        if g.is_empty() {
            t.remove(&k);
        }
    }

    fn tree_pick<K: Ord>(
        t: &BTreeMap<K, Vec<u32>>,
        allowed: &dyn Fn(u32) -> bool,
        rng: &mut impl Rng,
    ) -> Option<u32> {
        for g in t.values() {
            let n = g.iter().filter(|&&i| allowed(i)).count();
            if n == 0 {
                continue;
            }
            let j = if n == 1 {
                0
            } else {
                rng.random_range(0..n as u32) as usize
            };
            return g.iter().copied().filter(|&i| allowed(i)).nth(j);
        }
        None
    }

    impl TreeIndex {
        fn new(accounts: &[Account], by_lru: bool) -> TreeIndex {
            let mut t = TreeIndex {
                load_aware: BTreeMap::new(),
                fallback: BTreeMap::new(),
                by_lru,
            };
            for (i, a) in accounts.iter().enumerate() {
                if let Some(k) = load_aware_key(a) {
                    t.load_aware.entry(k).or_default().push(i as u32);
                }
                if let Some(k) = fallback_key(a, by_lru) {
                    t.fallback.entry(k).or_default().push(i as u32);
                }
            }
            t
        }

        fn update(&mut self, a: &mut Account, i: u32, f: impl FnOnce(&mut Account)) {
            let (la, fb) = (load_aware_key(a), fallback_key(a, self.by_lru));
            f(a);
            let (la2, fb2) = (load_aware_key(a), fallback_key(a, self.by_lru));
            if la != la2 {
                if let Some(k) = la {
                    tree_remove(&mut self.load_aware, k, i);
                }
                if let Some(k) = la2 {
                    self.load_aware.entry(k).or_default().push(i);
                }
            }
            if fb != fb2 {
                if let Some(k) = fb {
                    tree_remove(&mut self.fallback, k, i);
                }
                if let Some(k) = fb2 {
                    self.fallback.entry(k).or_default().push(i);
                }
            }
        }
    }

    /// Long random histories on gateways of up to 300 accounts, with few priorities and
    /// small capacities (many ties and many groups emptied and filled again, so heaps are
    /// rebuilt): every pick, with and without accounts ruled out, returns the account the
    /// tree index returns and leaves the random stream in the same state.
    #[test]
    fn picks_match_the_tree_index_draw_for_draw() {
        let mut rng = Pcg64::seed_from_u64(11);
        for case in 0..40u64 {
            let n = rng.random_range(1..300u32);
            let by_lru = case % 4 != 0;
            let mut accounts: Vec<Account> = (0..n)
                .map(|_| account(rng.random_range(0..6), rng.random_range(0..3)))
                .collect();
            let mut index = AccountIndex::new(&accounts, by_lru);
            let mut tree = TreeIndex::new(&accounts, by_lru);
            let mut clock: Time = 0;
            for step in 0..3000u64 {
                let i = rng.random_range(0..n);
                let change = rng.random_range(0..5);
                let waiting = rng.random_range(0..3);
                clock += rng.random_range(0..3);
                let f = |a: &mut Account| match change {
                    0 | 1 => a.busy += 1,
                    2 => a.waiting = waiting,
                    _ => {
                        a.busy = a.busy.saturating_sub(1);
                        a.last_used = Some(clock);
                    }
                };
                let mut copy = account(0, 0);
                let a = &mut accounts[i as usize];
                (
                    copy.cap_new,
                    copy.priority,
                    copy.busy,
                    copy.waiting,
                    copy.last_used,
                ) = (a.cap_new, a.priority, a.busy, a.waiting, a.last_used);
                index.update(a, i, f);
                tree.update(&mut copy, i, f);
                // Accounts go busy and come back often, as in a gateway.
                if accounts[i as usize].busy > 3 {
                    index.update(&mut accounts[i as usize], i, |a| a.busy = 0);
                    tree.update(&mut copy, i, |a| a.busy = 0);
                }
                let banned: Vec<u32> = (0..n).filter(|_| rng.random_bool(0.3)).collect();
                let allowed = |i: u32| !banned.contains(&i);
                let seed = case * 100_000 + step;
                for layer in 0..2 {
                    for restrict in [false, true] {
                        let (mut r1, mut r2) =
                            (Pcg64::seed_from_u64(seed), Pcg64::seed_from_u64(seed));
                        let mut f = |i: u32| allowed(i);
                        let f: Option<&mut dyn FnMut(u32) -> bool> =
                            restrict.then_some(&mut f as _);
                        let everyone = |_: u32| true;
                        let rule: &dyn Fn(u32) -> bool =
                            if restrict { &allowed } else { &everyone };
                        let (got, want) = if layer == 0 {
                            (
                                index.pick_load_aware(f, &mut r1),
                                tree_pick(&tree.load_aware, rule, &mut r2),
                            )
                        } else {
                            (
                                index.pick_fallback(f, &mut r1),
                                tree_pick(&tree.fallback, rule, &mut r2),
                            )
                        };
                        assert_eq!(got, want, "case {case} step {step} layer {layer}");
                        assert_eq!(r1.random::<u64>(), r2.random::<u64>());
                    }
                }
            }
            assert!(index.same_as(&AccountIndex::new(&accounts, by_lru)));
        }
    }

    /// Ties are drawn uniformly: five idle never-used accounts, 5000 picks, each about a
    /// fifth (binomial sd 28; the bound is 5 sd), whichever accounts are ruled out.
    #[test]
    fn ties_are_drawn_uniformly() {
        let accounts: Vec<Account> = (0..6).map(|_| account(2, 0)).collect();
        let index = AccountIndex::new(&accounts, true);
        let mut rng = Pcg64::seed_from_u64(5);
        let mut seen = [0u32; 6];
        for _ in 0..5000 {
            let a = index
                .pick_load_aware(Some(&mut |i| i != 3), &mut rng)
                .unwrap();
            seen[a as usize] += 1;
        }
        assert_eq!(seen[3], 0);
        for (i, &c) in seen.iter().enumerate().filter(|(i, _)| *i != 3) {
            assert!(
                (c as f64 - 1000.0).abs() < 5.0 * 28.3,
                "account {i}: {seen:?}"
            );
        }
    }

    /// In whole replications every change of an account reaches the indexes: checked
    /// against indexes built afresh from the accounts after every event, with two pools
    /// of different priority, reserves, poll and FIFO waits, fallback by last use and at
    /// random, under a load that fills the gateway at times.
    #[test]
    fn indexes_stay_in_step_in_whole_replications() {
        use crate::engine::test_support::model;
        use crate::engine::Sim;
        // The last case has faults, a session limit and an RPM band: picks then skip the
        // accounts the schedulability decision rules out.
        let guards = "max_sessions = 4\nbase_rpm = 6\n[pools.faults]\n\
                      rate_limit = { per_request = 0.05 }\noverload = { per_request = 0.02 }";
        for (wait, selection, guard) in [
            ("poll", "last_used", ""),
            ("fifo", "random", ""),
            ("poll", "last_used", guards),
        ] {
            let cfg = model(&format!(
                r#"
                horizon = "40m"
                warmup = "5m"
                replications = 1
                [gateway]
                wait = "{wait}"
                fallback_selection = "{selection}"
                [[pools]]
                name = "a"
                accounts = 20
                concurrency = 3
                reserved = 1
                priority = 10
                [[pools]]
                name = "b"
                accounts = 15
                concurrency = 2
                priority = 20
                {guard}
                [workload]
                arrival = {{ process = "poisson", rate = "40/min" }}
                requests_per_session = {{ dist = "geometric", mean = 6 }}
                think_time = {{ dist = "exponential", mean = "20s" }}
                service_time = {{ dist = "lognormal", median = "20s", p95 = "90s" }}
                "#
            ));
            let mut sim = Sim::new(&cfg, 3, false);
            assert!(sim.index.is_some(), "35 accounts are indexed");
            sim.check_index_every_event = true;
            sim.run();
            let o = sim.into_output();
            assert!(
                o.counts.requests_rejected > 0 && o.waiting_us > 0,
                "{:?}",
                o.counts
            );
        }
    }
}
