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

/// An event with its key: the time in the high 64 bits, the sequence number in the low
/// 64, so that one 128-bit comparison orders by (time, sequence) without branches.
#[derive(Clone, Copy)]
struct Entry<E> {
    key: u128,
    event: E,
}

impl<E> Entry<E> {
    #[inline(always)]
    fn before(&self, other: &Self) -> bool {
        self.key < other.key
    }

    #[inline(always)]
    fn time(&self) -> Time {
        (self.key >> 64) as Time
    }
}

const ARITY: usize = 4;

/// A priority queue of events keyed by integer time, FIFO among equal times.
pub struct EventQueue<E> {
    heap: Vec<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: Vec::new(),
            next_seq: 0,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    #[inline]
    pub fn push(&mut self, time: Time, event: E) {
        let item = Entry {
            key: (time as u128) << 64 | self.next_seq as u128,
            event,
        };
        self.next_seq += 1;
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

    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        let last = self.heap.pop()?;
        let n = self.heap.len();
        if n == 0 {
            return Some((last.time(), last.event));
        }
        let top = self.heap[0];
        // Sift the former last entry down from the root.
        let mut i = 0;
        loop {
            let first = ARITY * i + 1;
            if first >= n {
                break;
            }
            let end = (first + ARITY).min(n);
            let mut best = first;
            for c in first + 1..end {
                if self.heap[c].before(&self.heap[best]) {
                    best = c;
                }
            }
            if !self.heap[best].before(&last) {
                break;
            }
            self.heap[i] = self.heap[best];
            i = best;
        }
        self.heap[i] = last;
        Some((top.time(), top.event))
    }

    pub fn len(&self) -> usize {
        self.heap.len()
    }

    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
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
                } else {
                    let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                    assert_eq!(q.pop(), want);
                }
                assert_eq!(q.len(), shadow.len());
            }
        }
    }
}
