//! The event queue: a binary heap ordered by (time, sequence number).
//!
//! Tie rule: events scheduled for the same microsecond come out in the order they were
//! scheduled (first in, first out), so a run is a pure function of its inputs.

use crate::units::Time;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: Time,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.time == other.time && self.seq == other.seq
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    /// Reversed, so that the max-heap pops the earliest (time, seq) first.
    fn cmp(&self, other: &Self) -> Ordering {
        (other.time, other.seq).cmp(&(self.time, self.seq))
    }
}

/// A priority queue of events keyed by integer time, FIFO among equal times.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
        }
    }
}

impl<E> EventQueue<E> {
    pub fn push(&mut self, time: Time, event: E) {
        self.heap.push(Entry {
            time,
            seq: self.next_seq,
            event,
        });
        self.next_seq += 1;
    }

    pub fn pop(&mut self) -> Option<(Time, E)> {
        self.heap.pop().map(|e| (e.time, e.event))
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
