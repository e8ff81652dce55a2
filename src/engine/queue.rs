//! The event queue: an implicit 4-ary min-heap ordered by (time, sequence number).
//!
//! Tie rule: events scheduled for the same microsecond come out in the order they were
//! scheduled (first in, first out), so a run is a pure function of its inputs.
//!
//! Four children per node halve the depth of a binary heap, and the four children of a
//! node sit next to each other in memory, so a pop reads one or two cache lines per level
//! instead of one per level of twice as many levels. Entries are moved into a hole rather
//! than swapped. The order of events is the same as any other (time, sequence) priority
//! queue's: only the cost changes.

use crate::units::Time;

#[derive(Clone, Copy)]
struct Entry<E> {
    time: Time,
    seq: u64,
    event: E,
}

impl<E> Entry<E> {
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        (self.time, self.seq) < (other.time, other.seq)
    }
}

const ARITY: usize = 4;

/// A priority queue of events keyed by integer time, FIFO among equal times.
///
/// Besides `push` and `pop`, the event loop uses `take` and `settle`: `take` hands out the
/// earliest event but leaves its entry at the root; the next `push` (most events schedule
/// at least one more) overwrites the root and sifts it down once, instead of a removal
/// (one sift down) and an insertion (one sift up); `settle` removes the entry if nothing
/// was pushed. Keys are unique, so the order of events is the same either way.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
    /// The root entry was handed out by `take` and is to be replaced or removed.
    taken: bool,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            next_seq: 0,
            taken: false,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    #[inline(always)]
    pub fn push(&mut self, time: Time, event: E) {
        let item = Entry {
            time,
            seq: self.next_seq,
            event,
        };
        self.next_seq += 1;
        if self.taken {
            // The root was handed out: the new entry takes its place.
            self.taken = false;
            self.sift_down_from_root(item);
            return;
        }
        let mut i = self.heap.len();
        self.heap.push(item);
        while i > 0 {
            let parent = (i - 1) / ARITY;
            if !item.before(&self.heap[parent]) {
                break;
            }
            self.heap[i] = self.heap[parent];
            i = parent;
        }
        self.heap[i] = item;
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.settle();
        let top = *self.heap.first()?;
        self.remove_root();
        Some((top.time, top.event))
    }

    /// The earliest event, whose entry stays at the root until the next `push` replaces
    /// it or `settle` removes it. Call `settle` before the next `take`.
    #[inline]
    pub fn take(&mut self) -> Option<(Time, E)> {
        debug_assert!(!self.taken, "settle before the next take");
        let top = *self.heap.first()?;
        self.taken = true;
        Some((top.time, top.event))
    }

    /// Removes the entry handed out by `take` if no `push` has replaced it.
    #[inline]
    pub fn settle(&mut self) {
        if self.taken {
            self.taken = false;
            self.remove_root();
        }
    }

    /// Removes the root entry (the heap is not empty).
    #[inline]
    fn remove_root(&mut self) {
        let last = self.heap.pop().expect("the heap is not empty");
        if !self.heap.is_empty() {
            self.sift_down_from_root(last);
        }
    }

    /// Puts `item` at the root (over what was there) and sifts it down to its place.
    #[inline]
    fn sift_down_from_root(&mut self, item: Entry<E>) {
        let heap = &mut self.heap[..];
        let n = heap.len();
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            let best = if first + ARITY <= n {
                // A full node: the earliest of four children in two rounds (one bounds
                // check for the four).
                let kids: &[Entry<E>; ARITY] = heap[first..first + ARITY]
                    .try_into()
                    .expect("a slice of ARITY entries");
                let a = first + kids[1].before(&kids[0]) as usize;
                let b = first + 2 + kids[3].before(&kids[2]) as usize;
                if heap[b].before(&heap[a]) {
                    b
                } else {
                    a
                }
            } else {
                if first >= n {
                    break;
                }
                let mut best = first;
                for c in first + 1..n {
                    if heap[c].before(&heap[best]) {
                        best = c;
                    }
                }
                best
            };
            if !heap[best].before(&item) {
                break;
            }
            heap[i] = heap[best];
            i = best;
        }
        heap[i] = item;
    }

    pub fn len(&self) -> usize {
        self.heap.len() - self.taken as usize
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// Random pushes and pops against a BTreeMap keyed by (time, insertion counter).
    #[test]
    fn matches_btreemap_shadow() {
        for seed in 0..20u64 {
            let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
            let mut q = EventQueue::default();
            let mut shadow = BTreeMap::new();
            let mut counter = 0u64;
            for _ in 0..5_000 {
                if rng.random_bool(0.55) {
                    let t = rng.random_range(0..50u64); // many equal times
                    q.push(t, counter);
                    shadow.insert((t, counter), counter);
                    counter += 1;
                } else if rng.random_bool(0.5) {
                    let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                    assert_eq!(q.pop(), want);
                } else {
                    // As the event loop does: take, perhaps push, then settle.
                    let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                    assert_eq!(q.take(), want);
                    for _ in 0..rng.random_range(0..3) {
                        let t = rng.random_range(0..50u64);
                        q.push(t, counter);
                        shadow.insert((t, counter), counter);
                        counter += 1;
                    }
                    q.settle();
                }
                assert_eq!(q.len(), shadow.len());
            }
        }
    }
}
