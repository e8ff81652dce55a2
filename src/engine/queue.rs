//! The event queue: events ordered by (time, sequence number), in one of three layouts.
//!
//! Tie rule: events scheduled for the same microsecond come out in the order they were
//! scheduled (first in, first out), so a run is a pure function of its inputs. Each push
//! gets the next sequence number, and the queue hands out the event with the smallest
//! (time, sequence number) pair. All three layouts below give exactly that order, so which one
//! is in use changes the cost of a run, never its results.
//!
//! **Very small queues: a sorted list.** Up to [`SORTED_MAX`] events (a gateway of one or
//! two accounts: the one-account model of bench/ never holds more than about 22) are
//! kept in one vector, latest first, so that the earliest is taken from its end in
//! constant time. A new event is put in its place by moving the events earlier than it one
//! place towards the end: a few short copies, with one hard-to-predict branch (where the
//! scan stops) instead of the three or four of every level of a heap. When the list is
//! full it is reversed, which makes it a heap (ascending order is one), and stays a heap.
//!
//! **Small queues: a 4-ary heap.** An implicit min-heap in one vector, four children per
//! node. Four children halve the depth of a binary heap, and the four children of a node
//! sit next to each other in memory, so a pop reads one or two cache lines per level
//! instead of one per level of twice as many levels. Entries are moved into a hole rather
//! than swapped. While the heap fits in the processor's caches this is hard to beat.
//!
//! **Large queues: a radix heap.** A gateway with thousands of accounts has hundreds of
//! thousands of events pending (every session in flight has one). The heap is then many
//! megabytes, and every pop and push walks about ten levels of it, each level a likely
//! cache miss. A radix heap instead keeps events in buckets, each a plain vector that is
//! only appended to and read from start to end, so its memory traffic is sequential.
//!
//! It relies on a property of a simulation: no event is ever scheduled earlier than the
//! last event handed out (the clock never runs backwards). Call that time `last`. Times are
//! read as 16 digits of 4 bits. An event at time `t > last` goes to the bucket of (`d`,
//! `v`): `d` the highest digit in which `t` and `last` differ, `v` the value of that digit
//! in `t`; events at exactly `last` go to a separate first-in-first-out list, `due`. The
//! buckets, taken by `d` then `v`, hold ever later events: two events of different buckets
//! agree with `last` on every digit above the higher `d`, and there the one of the lower
//! bucket has the lower value (`last`'s own, or a lower `v`). To hand out an event: if
//! `due` has one, take its first; otherwise find the lowest non-empty bucket, make its
//! earliest time the new `last`, and spread that bucket's events over `due` and the
//! buckets of lower digits (they now differ from the new `last` only in lower digits);
//! the other buckets' events keep their bucket, as they differ from the new `last` where
//! they differed from the old one. An event moves down at most 16 times in its life, in
//! practice a few, each move a sequential copy. (With digits of one bit, 64 buckets, an
//! event scheduled tens of seconds ahead moves about a dozen times: each move takes it
//! down one bit or two. With digits of 4 bits it moves about once a digit, half as often,
//! for 256 buckets whose few kilobytes of bookkeeping stay in the nearest caches.)
//!
//! The last steps down are short of entries: near `last` a bucket spans a few
//! microseconds, and spreading it moves about one entry for a pass over the bookkeeping.
//! So a bucket of at most [`SORT_MAX`] entries is not spread but sorted into `due`, which
//! then holds a short stretch of time rather than one instant; an event pushed into that
//! stretch (rare: the engine's delays are longer) goes into `due` in its place. At 1,000
//! accounts this made the whole run about a tenth cheaper.
//!
//! Why the order is exact: times are compared as integers, with no rounding. Among equal
//! times, events must come out in the order they were pushed, and the radix heap keeps
//! that order without sequence numbers (its entries are a quarter smaller without them):
//! events of one time always share a bucket (an event's bucket follows from its time and
//! `last` alone, and when `last` changes the events of the buckets not emptied keep
//! theirs), a bucket is only appended to, spreading visits a bucket in order and appends
//! to buckets below it, which are empty (it is the lowest non-empty one), and the sort of a
//! small bucket keeps the order of equal times. A heap turning into a radix heap hands its
//! events over in (time, sequence) order.
//!
//! **Looking ahead.** A radix heap takes its earliest [`LOOK_AHEAD`] events out of the
//! buckets before they are due, into a short list in order, so that the event loop can see
//! the next few events (`EventQueue::peek`) and have their data fetched from memory while
//! earlier events are handled (the buckets show which events are near, not which come
//! next). An event pushed earlier than the list's last event (rare: its delay would have to
//! be shorter than the gap to the next few events) goes into the list in its place, so the
//! order stays exact.
//!
//! The queue starts as a sorted list, becomes a heap at [`SORTED_MAX`] events and turns
//! into a radix heap when it reaches [`RADIX_FROM`] events (and stays one if it shrinks
//! again: at small sizes both are cheap). If an event were ever pushed earlier than the
//! last handed out (the engine never does: every event it schedules is at
//! the current time plus a delay, or at a deadline not yet passed), the queue turns back
//! into a heap, which accepts any time, so the order stays exact for every input.
//!
//! At 10,000 accounts this makes the whole simulation about a fifth cheaper (the commit
//! that brought the radix heap has the measurements); the one-account model, whose queue
//! holds a few events, keeps the sorted list. A bucket emptied by spreading keeps room for
//! at most a sixteenth of the entries held (or 1,024), not the most it ever held: with 256
//! buckets each keeping its peak, a 5,400 s run at 10,000 accounts peaked at 217 MB, and
//! with the limit at 145 MB (the vectors' regrowth costs little next to spreading).

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

/// An entry of the radix heap: no sequence number, as its containers keep the events of
/// one time in the order they were pushed (see the module comment). A quarter smaller
/// (24 bytes for the engine's events, not 32), and every entry is copied several times
/// on its way down the buckets, mostly through memory far out of the caches.
#[derive(Clone, Copy)]
struct Timed<E> {
    time: Time,
    event: E,
}

const ARITY: usize = 4;

/// The size at which a sorted list turns into a heap. An insertion into the list moves
/// the entries earlier than the new one (about half of them), which beats a heap's
/// sift while the list is this short (the one-account model of bench/ holds at most
/// about 22 events).
const SORTED_MAX: usize = 32;

/// The size at which a heap turns into a radix heap: 4,096 entries of 32 bytes are
/// 128 KiB, about where the heap stops fitting in a core's private caches.
const RADIX_FROM: usize = 4096;

/// A priority queue of events keyed by integer time, FIFO among equal times.
///
/// Besides `push` and `pop`, the event loop uses `take` and `settle`: `take` hands out the
/// earliest event but, in the heap, leaves its entry at the root; the next `push` (most
/// events schedule at least one more) overwrites the root and sifts it down once, instead
/// of a removal (one sift down) and an insertion (one sift up); `settle` removes the entry
/// if nothing was pushed. Keys are unique, so the order of events is the same either way.
/// The sorted list and the radix heap remove the event at `take`, and `settle` has
/// nothing to do.
/// `push`, `take` and `settle` test nothing more than a heap alone would: a radix heap
/// leaves the heap's vector empty and without room, which sends the heap's own "empty"
/// and "full" cases to it.
pub struct EventQueue<E> {
    /// The sorted list (latest first) while `sorted`, otherwise the heap.
    heap: Vec<Entry<E>>,
    next_seq: u64,
    /// The root entry was handed out by `take` and is to be replaced or removed (heap only).
    taken: bool,
    /// The queue is still a sorted list: `heap` holds the entries latest first, with room
    /// for exactly the number of entries at which it turns into a heap, so that a push
    /// into a full list finds it full and goes to `push_large`.
    sorted: bool,
    /// Set once the queue has reached `radix_from` events: then `heap` is empty, with no
    /// room, so that a push finds it full and goes to the radix heap.
    radix: Option<Box<Radix<E>>>,
    /// A u32 (more is never reached) that fits beside `taken`, keeping the queue small.
    radix_from: u32,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::with_radix_from(RADIX_FROM)
    }
}

impl<E> EventQueue<E> {
    /// A queue that turns into a radix heap when it holds `n` events and its heap's vector
    /// is full (0: from the first push; `usize::MAX`: never). The results are the same for every `n`; the
    /// tests and micro-benchmarks use it to reach both layouts.
    pub fn with_radix_from(n: usize) -> Self {
        Self::with_limits(SORTED_MAX, n)
    }

    /// A queue that is a sorted list up to `sorted_max` events (0: a heap from the
    /// start), then a heap, then a radix heap from `radix_from` events (see
    /// [`EventQueue::with_radix_from`]). The tests use it to reach every layout.
    pub fn with_limits(sorted_max: usize, radix_from: usize) -> Self {
        let sorted_max = sorted_max.min(radix_from);
        EventQueue {
            heap: Vec::with_capacity(sorted_max),
            next_seq: 0,
            taken: false,
            sorted: sorted_max > 0,
            radix: None,
            radix_from: radix_from.min(u32::MAX as usize) as u32,
        }
    }
}

impl<E: Copy> EventQueue<E> {
    #[inline(always)]
    pub fn push(&mut self, time: Time, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        if self.sorted && self.heap.len() < self.heap.capacity() {
            // The sorted list (never in the middle of a `take`) with room for one more.
            // The entry is written straight into the list, field by field, and never
            // assembled first in a value of its own: that value would be written in
            // pieces and read back whole, and a processor cannot forward small stores to
            // a wider load, so each push would stall until the pieces reached the cache.
            self.insert_sorted(time, seq, event);
            return;
        }
        // Each path builds its own entry: one entry shared with the calls below would
        // live on the stack, and the heap's path would copy it from there at once (the
        // stall described above).
        if self.taken {
            // The root was handed out: the new entry takes its place.
            self.taken = false;
            self.sift_down(0, Entry { time, seq, event });
            return;
        }
        if self.heap.len() == self.heap.capacity() {
            // The heap's vector is full (the same test as `Vec::push` makes, so it costs
            // nothing more), a full sorted list, or a radix heap (whose `heap` has no
            // room at all).
            self.push_large(Entry { time, seq, event });
            return;
        }
        self.sift_up(Entry { time, seq, event });
    }

    /// Inserts an entry into the sorted list (which has room for it): entries earlier
    /// than it move one place towards the end, where the earliest is. A new entry is
    /// later than every entry at the same time (its sequence number is the largest), so
    /// it goes before them: comparing times alone gives the (time, sequence) order.
    #[inline(always)]
    fn insert_sorted(&mut self, time: Time, seq: u64, event: E) {
        let mut i = self.heap.len();
        // Room for the list to grow by one (the entry is written again where it belongs).
        self.heap.push(Entry { time, seq, event });
        let list = &mut self.heap[..];
        while i > 0 && list[i - 1].time <= time {
            list[i] = list[i - 1];
            i -= 1;
        }
        list[i] = Entry { time, seq, event };
    }

    /// Turns a full sorted list into a heap: the entries in ascending order already
    /// are one.
    #[cold]
    #[inline(never)]
    fn become_heap_from_sorted(&mut self) {
        self.sorted = false;
        self.heap.reverse();
    }

    /// Adds `item` at the end of the heap and sifts it up to its place.
    #[inline(always)]
    fn sift_up(&mut self, item: Entry<E>) {
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

    /// A push into a radix heap, or into a heap whose vector is full: the heap grows,
    /// or turns into a radix heap if it holds `radix_from` events or more. Marked cold so
    /// that the small queue's paths are laid out first (a radix heap pays one call).
    #[cold]
    #[inline(never)]
    fn push_large(&mut self, item: Entry<E>) {
        if self.sorted {
            self.become_heap_from_sorted();
        }
        match &mut self.radix {
            Some(r) if item.time >= r.front => r.push(item.time, item.event),
            // Earlier than the radix heap's entries, but the look-ahead list, which
            // holds the earliest entries in order, takes it (see `Radix::ahead`).
            Some(r) if !r.ahead.is_empty() && r.ahead.len() < AHEAD_ROOM => r.insert_ahead(Timed {
                time: item.time,
                event: item.event,
            }),
            Some(_) => self.become_heap(item),
            None if self.heap.len() >= self.radix_from as usize => self.become_radix(item),
            None => {
                self.heap.reserve(1);
                self.sift_up(item);
            }
        }
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(Time, E)> {
        if self.sorted {
            return self.heap.pop().map(|e| (e.time, e.event));
        }
        self.settle();
        match self.heap.first() {
            Some(&top) => {
                self.remove_root();
                Some((top.time, top.event))
            }
            // The heap is empty, or this is a radix heap.
            None => self.pop_radix().map(|e| (e.time, e.event)),
        }
    }

    /// The earliest event. In the heap its entry stays at the root until the next `push`
    /// replaces it or `settle` removes it. Call `settle` before the next `take`.
    #[inline]
    pub fn take(&mut self) -> Option<(Time, E)> {
        debug_assert!(!self.taken, "settle before the next take");
        if self.sorted {
            // The earliest entry is the last: removed at once, in constant time.
            let e = self.heap.pop()?;
            return Some((e.time, e.event));
        }
        if self.heap.is_empty() {
            // The heap is empty, or this is a radix heap.
            let top = self.pop_radix()?;
            return Some((top.time, top.event));
        }
        self.taken = true;
        let top = &self.heap[0];
        Some((top.time, top.event))
    }

    /// Removes the earliest entry of a radix heap (none if this is an empty heap) and
    /// returns it; it stays in memory until the next change of the queue.
    #[inline(never)]
    fn pop_radix(&mut self) -> Option<&Timed<E>> {
        self.radix.as_mut()?.take_next()
    }

    /// Whether the queue is a radix heap (it has held many events).
    #[inline]
    pub fn is_large(&self) -> bool {
        self.radix.is_some()
    }

    /// The event that comes `k` events after the one last handed out (0: the next one),
    /// when that is cheap to know, so that the caller can prefetch its data ahead: in a
    /// radix heap, the next [`LOOK_AHEAD`] events are known in order (see
    /// `Radix::ahead`), less one, that last handed out. Nothing in a heap (small, it fits
    /// in the caches). Changes nothing.
    #[inline]
    pub fn peek(&self, k: usize) -> Option<&E> {
        Some(&self.radix.as_deref()?.ahead.get(k)?.event)
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
            self.sift_down(0, last);
        }
    }

    /// Puts `item` at position `i` (over what was there) and sifts it down to its place.
    #[inline]
    fn sift_down(&mut self, mut i: usize, item: Entry<E>) {
        let heap = &mut self.heap[..];
        let n = heap.len();
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

    /// Moves the heap's entries and `item` into a radix heap (the heap is not in the
    /// middle of a `take`). `last` starts at the earliest time held. The entries go in in
    /// (time, sequence) order, so that the radix heap's containers hold the entries of one
    /// time in that order from the start (it keeps no sequence numbers).
    #[cold]
    #[inline(never)]
    fn become_radix(&mut self, item: Entry<E>) {
        debug_assert!(!self.taken);
        self.heap.push(item);
        self.heap.sort_unstable_by_key(|e| (e.time, e.seq));
        let first = Timed {
            time: self.heap[0].time,
            event: self.heap[0].event,
        };
        let mut r = Box::new(Radix::new(first));
        for e in self.heap.drain(..) {
            r.push(e.time, e.event);
        }
        self.heap = Vec::new();
        self.radix = Some(r);
    }

    /// Moves every entry and `item` (earlier than the radix heap's `last`) back into a
    /// heap, which takes any time. The engine never needs this; it keeps the order exact
    /// whatever is pushed.
    #[cold]
    #[inline(never)]
    fn become_heap(&mut self, item: Entry<E>) {
        let r = self.radix.take().expect("a radix heap");
        let mut heap = Vec::with_capacity(r.len + r.ahead.len() + 1);
        // New sequence numbers, below `item`'s (every entry held was pushed before it),
        // in an order that keeps the events of one time as they were: those in the
        // look-ahead list were taken out before any still in `due` or a bucket, and
        // equal times share a container (see the module comment).
        let held = (0..r.ahead.len())
            .filter_map(|k| r.ahead.get(k))
            .chain(&r.due[r.head..])
            .chain(r.buckets.iter().flatten());
        for (seq, e) in held.enumerate() {
            heap.push(Entry {
                time: e.time,
                seq: seq as u64,
                event: e.event,
            });
        }
        debug_assert!(item.seq >= heap.len() as u64);
        heap.push(item);
        self.heap = heap;
        // Floyd's heap construction: sift down every inner node, the last first.
        for i in (0..self.heap.len() / ARITY + 1).rev() {
            if i < self.heap.len() {
                let e = self.heap[i];
                self.sift_down(i, e);
            }
        }
        // Stay a heap until it has grown well past this size again, so that an input
        // that keeps going back in time does not convert at every push.
        let twice = (2 * self.heap.len()).min(u32::MAX as usize) as u32;
        self.radix_from = self.radix_from.max(twice);
    }

    pub fn len(&self) -> usize {
        match &self.radix {
            Some(r) => r.len + r.ahead.len(),
            None => self.heap.len() - self.taken as usize,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Bits of a time per digit of the radix heap (see the module comment).
const DIGIT_BITS: u32 = 4;
/// Buckets per digit: one for each value of the digit.
const RADIX: usize = 1 << DIGIT_BITS;
/// Digits of a 64-bit time.
const DIGITS: usize = 64_usize.div_ceil(DIGIT_BITS as usize);
const BUCKETS: usize = DIGITS * RADIX;
/// 64-bit words of the non-empty buckets' bitmap.
const WORDS: usize = BUCKETS.div_ceil(64);

/// How many entries past a bucket's end are asked for when one is added (see
/// [`Radix::place`]): 8 entries, 4 cache lines.
const AHEAD: usize = 8;

/// How many entries ahead of the one being spread a bucket's entries are asked for (see
/// [`Radix::refill`]): 16 entries, 6 cache lines.
const SPREAD_AHEAD: usize = 16;

/// Entries an emptied bucket may always keep room for.
const KEEP: usize = 1024;

/// The largest bucket that is sorted into `due` rather than spread (see
/// [`Radix::refill`]).
const SORT_MAX: usize = 64;

/// How many of its earliest entries a radix heap holds apart, in order, before they are
/// handed out (see `Radix::ahead`): the one handed out next and the five after it.
pub const LOOK_AHEAD: usize = 6;

/// Room in the look-ahead list: a push earlier than `last` into a full list turns the
/// queue into a heap (the engine never fills it: it holds [`LOOK_AHEAD`] entries, and
/// pushes that go into it are rare).
const AHEAD_ROOM: usize = 16;
const AHEAD_MASK: usize = AHEAD_ROOM - 1;

/// The look-ahead list of a radix heap: a ring of at most [`AHEAD_ROOM`] entries. Its
/// places hold plain entries, not options (the unused ones hold copies of some entry):
/// an option's tag shares its bytes with the event's, and its copies were made in
/// overlapping pieces, a stall at every event (a load that spans two stores waits for
/// them to reach the cache; see `EventQueue::push`).
struct Ahead<E> {
    buf: [Timed<E>; AHEAD_ROOM],
    head: usize,
    len: usize,
}

impl<E: Copy> Ahead<E> {
    /// An empty list; `filler` fills the unused places.
    fn new(filler: Timed<E>) -> Self {
        Ahead {
            buf: [filler; AHEAD_ROOM],
            head: 0,
            len: 0,
        }
    }

    #[inline(always)]
    fn len(&self) -> usize {
        self.len
    }

    #[inline(always)]
    fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The `k`-th entry (0: the first).
    #[inline(always)]
    fn get(&self, k: usize) -> Option<&Timed<E>> {
        if k < self.len {
            Some(&self.buf[(self.head + k) & AHEAD_MASK])
        } else {
            None
        }
    }

    /// Adds an entry at the end (there is room: the list is refilled to [`LOOK_AHEAD`]).
    #[inline(always)]
    fn push_back(&mut self, e: Timed<E>) {
        self.buf[(self.head + self.len) & AHEAD_MASK] = e;
        self.len += 1;
    }

    /// Removes the first entry and returns where it was (it stays there until the list
    /// has grown by [`AHEAD_ROOM`] - 1 entries); None when the list is empty.
    #[inline(always)]
    fn pop_front(&mut self) -> Option<&Timed<E>> {
        if self.len == 0 {
            return None;
        }
        let at = self.head;
        self.head = (self.head + 1) & AHEAD_MASK;
        self.len -= 1;
        Some(&self.buf[at])
    }
}

/// The radix heap of the large queue (see the module comment).
struct Radix<E> {
    /// The earliest time of the bucket last emptied (or, before any, the earliest time
    /// held): the buckets are reckoned from it. No entry of `due` or the buckets is
    /// earlier.
    last: Time,
    /// The time of the entry last taken out of `due` into the look-ahead list (or, before
    /// any, `last`). No entry of `due` or the buckets is earlier.
    front: Time,
    /// The earliest entries, from `head` on, in order: by time, and the entries of one
    /// time in the order they were pushed. No entry of a bucket comes before them.
    due: Vec<Timed<E>>,
    head: usize,
    /// Bucket `RADIX x d + v` holds the entries whose time differs from `last` first in
    /// digit `d` (counting from the least significant, 0), where their digit is `v`. The
    /// buckets in the order of their numbers hold ever later entries.
    buckets: [Vec<Timed<E>>; BUCKETS],
    /// Bit `b % 64` of word `b / 64` is set when bucket `b` is not empty.
    filled: [u64; WORDS],
    /// The earliest time in each non-empty bucket (kept as entries come in, so that
    /// spreading a bucket does not first read it all once to find it: at thousands of
    /// accounts a bucket is many thousands of entries, far out of the caches).
    earliest: [Time; BUCKETS],
    /// Entries in `due` and the buckets.
    len: usize,
    /// The earliest entries, in order, taken out of `due` and the buckets ahead of being
    /// handed out (up to [`LOOK_AHEAD`]), so that the caller can see the next few events
    /// and fetch their data early (see `EventQueue::peek`); the buckets, unsorted, show
    /// only which events are near, not which come next. The last was the last taken out,
    /// at time `front`, so the entries here are no later than those in `due` and the
    /// buckets: an entry pushed earlier than `front` is put here in its place (the
    /// engine's events rarely are: they are due a delay after the current time, usually
    /// well past the next few events).
    ahead: Ahead<E>,
}

impl<E: Copy> Radix<E> {
    /// An empty radix heap whose `last` is the time of `first`, which is not added
    /// (it fills the look-ahead list's unused places).
    fn new(first: Timed<E>) -> Self {
        Radix {
            last: first.time,
            front: first.time,
            due: Vec::new(),
            head: 0,
            buckets: std::array::from_fn(|_| Vec::new()),
            filled: [0; WORDS],
            earliest: [Time::MAX; BUCKETS],
            len: 0,
            ahead: Ahead::new(first),
        }
    }

    /// Adds an entry no earlier than `front`: into `due`, in its place, if it is earlier
    /// than `due`'s last entry (rare: `due` holds a short stretch of time, see
    /// [`Radix::refill`]), otherwise into the buckets.
    #[inline(always)]
    fn push(&mut self, time: Time, event: E) {
        self.len += 1;
        let e = Timed { time, event };
        match self.due.last() {
            Some(l) if self.head < self.due.len() && time < l.time => self.insert_due(e),
            _ => self.place(e),
        }
    }

    /// Puts an entry into `due` (from `head` on) after the entries no later than it.
    #[cold]
    #[inline(never)]
    fn insert_due(&mut self, e: Timed<E>) {
        let mut k = self.due.len();
        while k > self.head && self.due[k - 1].time > e.time {
            k -= 1;
        }
        self.due.insert(k, e);
    }

    /// Puts an entry no earlier than `last`, and no earlier than `due`'s entries, at the
    /// end of `due` (at `last`) or in the bucket of the highest digit in which its time
    /// differs from `last` and its value there.
    #[inline(always)]
    fn place(&mut self, e: Timed<E>) {
        let diff = e.time ^ self.last;
        if diff == 0 {
            self.due.push(e);
        } else {
            let d = (63 - diff.leading_zeros()) / DIGIT_BITS;
            let v = (e.time >> (d * DIGIT_BITS)) as usize & (RADIX - 1);
            let b = d as usize * RADIX + v;
            let bucket = &mut self.buckets[b];
            bucket.push(e);
            // The lines a bucket's next entries go to were last written when it was last
            // this long, long ago, and each would be read in from memory as its first
            // entry is written (with hundreds of buckets written in turn, the processor
            // does not see their streams): asked for a few entries ahead, they come while
            // other work is done.
            super::prefetch_address(bucket.as_ptr().wrapping_add(bucket.len() + AHEAD));
            self.filled[b / 64] |= 1 << (b % 64);
            self.earliest[b] = self.earliest[b].min(e.time);
        }
    }

    /// The lowest non-empty bucket.
    #[inline(always)]
    fn lowest_filled(&self) -> Option<usize> {
        let w = self.filled.iter().position(|&w| w != 0)?;
        Some(w * 64 + self.filled[w].trailing_zeros() as usize)
    }

    /// Hands out the earliest entry, through the look-ahead list (filled up first); it
    /// stays in the list's memory until the next change of the queue.
    #[inline(always)]
    fn take_next(&mut self) -> Option<&Timed<E>> {
        while self.ahead.len() < LOOK_AHEAD {
            let Some(&e) = self.pop() else { break };
            self.front = e.time;
            self.ahead.push_back(e);
        }
        self.ahead.pop_front()
    }

    /// Puts an entry earlier than `front` (the time of the look-ahead list's last entry)
    /// into the look-ahead list, in its place: after the entries at its time or earlier
    /// (it was pushed after them).
    #[cold]
    #[inline(never)]
    fn insert_ahead(&mut self, e: Timed<E>) {
        let a = &mut self.ahead;
        // From the end, move the later entries one place on.
        let mut k = a.len;
        while k > 0 {
            let before = a.buf[(a.head + k - 1) & AHEAD_MASK];
            if before.time <= e.time {
                break;
            }
            a.buf[(a.head + k) & AHEAD_MASK] = before;
            k -= 1;
        }
        a.buf[(a.head + k) & AHEAD_MASK] = e;
        a.len += 1;
    }

    /// Removes the earliest entry of `due` and the buckets and returns it (it stays in
    /// `due` until the next push).
    #[inline(always)]
    fn pop(&mut self) -> Option<&Timed<E>> {
        if self.head == self.due.len() {
            let b = self.lowest_filled()?;
            self.refill(b);
        }
        self.head += 1;
        self.len -= 1;
        Some(&self.due[self.head - 1])
    }

    /// `due` is used up: empties bucket `b`, the lowest non-empty one, with its earliest
    /// time as the new `last`. A bucket of at most [`SORT_MAX`] entries is sorted into
    /// `due`; a larger one is spread over `due` and the buckets below it.
    ///
    /// Most buckets emptied are small, the last steps of the entries' way down (near
    /// `last`, a bucket spans a few microseconds and holds an entry or none), and each
    /// spread there costs a pass over the bookkeeping for about one entry: sorting the
    /// bucket at once skips those steps. Then `due` holds a short stretch of time, not
    /// one instant, and an entry pushed into that stretch goes into `due` in its place
    /// (see [`Radix::push`]), so that no bucket entry comes before an entry of `due`.
    #[inline(never)]
    fn refill(&mut self, b: usize) {
        self.due.clear();
        self.head = 0;
        self.filled[b / 64] &= !(1 << (b % 64));
        self.last = std::mem::replace(&mut self.earliest[b], Time::MAX);
        if self.buckets[b].len() <= SORT_MAX {
            // One bulk copy, then a stable sort, which keeps the order of equal times (the
            // order in which they were pushed: they always share a bucket). The standard
            // library's sort returns at once for a single entry (most buckets emptied here
            // hold about one), sorts up to 20 by insertion and up to 64 by sorting networks
            // and merges in stack memory; the former hand-written insertion sort moved
            // entries one push at a time.
            let (due, bucket) = (&mut self.due, &mut self.buckets[b]);
            due.extend_from_slice(bucket);
            due.sort_by_key(|e| e.time);
            bucket.clear();
            return;
        }
        let mut bucket = std::mem::take(&mut self.buckets[b]);
        // Every entry goes to `due` or a bucket of a lower digit (they agree with the new
        // `last` on this digit and every higher one).
        for (i, &e) in bucket.iter().enumerate() {
            // The bucket was written long ago and is read from memory: its lines are
            // asked for a few entries ahead, as the processor's own prefetch stops at
            // every page.
            super::prefetch_address(bucket.as_ptr().wrapping_add(i + SPREAD_AHEAD));
            self.place(e);
        }
        // Keep the vector's memory for the bucket's next entries, but no more of it than
        // a sixteenth of the entries held: each of the 256 buckets would otherwise keep the
        // most it ever held, and at thousands of accounts that is many times the queue
        // itself (85 MB more than the entries at 10,000 accounts).
        bucket.clear();
        bucket.shrink_to(KEEP.max(self.len / RADIX));
        self.buckets[b] = bucket;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use std::collections::BTreeMap;

    /// How the pushed times are drawn.
    #[derive(Clone, Copy, Debug)]
    enum Times {
        /// Any time in a small range: many equal times, and times before the last one
        /// handed out (which sends a radix heap back to a heap).
        Small,
        /// The current time plus a delay (often zero, sometimes large), as the engine
        /// schedules: the clock never runs backwards.
        Monotone,
    }

    /// Random pushes, pops and take-push-settle rounds against a BTreeMap keyed by
    /// (time, insertion counter), for queues that turn into a radix heap at various sizes.
    fn shadow(seed: u64, limits: (usize, usize), times: Times, steps: usize, grow: f64) {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(seed);
        let mut q = EventQueue::with_limits(limits.0, limits.1);
        let mut shadow = BTreeMap::new();
        let mut counter = 0u64;
        let mut now = 0u64;
        let draw = |rng: &mut rand_pcg::Pcg64, now: u64| match times {
            Times::Small => rng.random_range(0..50u64),
            Times::Monotone => match rng.random_range(0..4) {
                0 => now,
                1 => now + rng.random_range(0..4u64),
                2 => now + rng.random_range(0..1_000u64),
                _ => {
                    let bits = rng.random_range(0..40);
                    now + rng.random_range(0..1u64 << bits)
                }
            },
        };
        for _ in 0..steps {
            if rng.random_bool(grow) {
                let t = draw(&mut rng, now);
                q.push(t, counter);
                shadow.insert((t, counter), counter);
                counter += 1;
            } else if rng.random_bool(0.5) {
                let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                let got = q.pop();
                assert_eq!(got, want);
                if let Some((t, _)) = got {
                    now = t;
                }
            } else {
                // As the event loop does: take, perhaps push, then settle.
                let want = shadow.pop_first().map(|((t, _), v)| (t, v));
                let got = q.take();
                assert_eq!(got, want);
                if let Some((t, _)) = got {
                    now = t;
                }
                // What `peek` shows are the next events, in order.
                let next: Vec<u64> = shadow.values().take(LOOK_AHEAD).copied().collect();
                for k in 0..LOOK_AHEAD {
                    if let Some(&e) = q.peek(k) {
                        assert_eq!(Some(&e), next.get(k));
                    }
                }
                for _ in 0..rng.random_range(0..3) {
                    let t = draw(&mut rng, now);
                    q.push(t, counter);
                    shadow.insert((t, counter), counter);
                    counter += 1;
                }
                q.settle();
            }
            assert_eq!(q.len(), shadow.len());
        }
        // Drain what is left.
        while let Some(want) = shadow.pop_first().map(|((t, _), v)| (t, v)) {
            assert_eq!(q.pop(), Some(want));
        }
        assert_eq!(q.pop(), None);
        assert!(q.is_empty());
    }

    /// 20 seeds, each with every combination of the sorted list's size limit and the size
    /// from which the radix heap takes over.
    fn shadow_every_limit(times: Times) {
        for seed in 0..20u64 {
            for sorted_max in [0, 1, 5, SORTED_MAX] {
                for radix_from in [0, 1, 7, 64, RADIX_FROM, usize::MAX] {
                    shadow(seed, (sorted_max, radix_from), times, 5_000, 0.55);
                }
            }
        }
    }

    #[test]
    fn matches_btreemap_shadow_small_times() {
        shadow_every_limit(Times::Small);
    }

    #[test]
    fn matches_btreemap_shadow_monotone_times() {
        shadow_every_limit(Times::Monotone);
    }

    /// Queues that grow well past the default switch to a radix heap and shrink again.
    #[test]
    fn matches_btreemap_shadow_large() {
        for seed in 0..2u64 {
            for times in [Times::Small, Times::Monotone] {
                shadow(seed, (SORTED_MAX, RADIX_FROM), times, 60_000, 0.6);
            }
        }
    }

    /// The engine's steady state: take the earliest, push one or two later events.
    #[test]
    fn hold_pattern_matches_heap_only() {
        hold_pattern(EventQueue::with_radix_from(0), 20_000);
    }

    /// A small queue in the steady state stays a sorted list, which must hand out the
    /// same events as a heap.
    #[test]
    fn small_hold_pattern_matches_heap_only() {
        for n in [1, 10, SORTED_MAX as u32 - 1, SORTED_MAX as u32] {
            hold_pattern(EventQueue::default(), n);
        }
    }

    /// A bucket of every size up to one past [`SORT_MAX`], its entries at a few times or
    /// many, emptied at once (sorted into `due`, or, the largest, spread): the entries of
    /// one time come out in the order they were pushed.
    #[test]
    fn emptied_bucket_keeps_push_order_of_equal_times() {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(5);
        for size in 1..=SORT_MAX as u32 + 1 {
            for span in [1u64, 3, 16, 4096] {
                let mut q = EventQueue::with_radix_from(0);
                let mut shadow = BTreeMap::new();
                q.push(0, 0);
                shadow.insert((0, 0), 0);
                for i in 1..=size {
                    // With `last` at 0, every time in [2^16, 2^16 + 4096) first differs
                    // from it in digit 4, where it is 1: one bucket.
                    let t = (1 << 16) + rng.random_range(0..span);
                    q.push(t, i);
                    shadow.insert((t, i), i);
                }
                assert!(q.is_large());
                for ((t, _), i) in shadow {
                    assert_eq!(q.pop(), Some((t, i)));
                }
                assert_eq!(q.pop(), None);
            }
        }
    }

    /// `radix` (any layout) against a heap alone: `n` events, then take-push-settle
    /// rounds that push 0, 1 or 2 events (2 while it holds half of `n`, rounded up, or fewer).
    fn hold_pattern(mut radix: EventQueue<u32>, n: u32) {
        let mut rng = rand_pcg::Pcg64::seed_from_u64(11);
        let mut heap = EventQueue::with_limits(0, usize::MAX);
        for i in 0..n {
            let t = rng.random_range(0..1_000_000u64);
            radix.push(t, i);
            heap.push(t, i);
        }
        for i in 0..200_000u32 {
            let before = radix.len();
            let a = radix.take();
            let b = heap.take();
            assert_eq!(a, b);
            // A radix heap always shows the next events (checked against the order in
            // the shadow test).
            if radix.is_large() && radix.len() >= LOOK_AHEAD - 1 {
                assert!(radix.peek(LOOK_AHEAD - 2).is_some());
            }
            let (t, _) = a.expect("never empty");
            let pushes = if before <= (n as usize).div_ceil(2) {
                2
            } else {
                rng.random_range(0..3)
            };
            for _ in 0..pushes {
                let d = [0, 1, rng.random_range(0..2_000_000u64)][rng.random_range(0..3)];
                radix.push(t + d, i);
                heap.push(t + d, i);
            }
            radix.settle();
            heap.settle();
            assert_eq!(radix.len(), heap.len());
        }
    }
}
