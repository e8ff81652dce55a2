//! Micro-benchmarks of the two structures the engine leans on at scale: the event queue
//! (`slotsim::engine::EventQueue`) and the selection index (`slotsim::engine::IndexBench`,
//! a handle kept for this crate). `cargo bench` here, or `bash bench/run.sh micro`; times
//! are per operation as divan prints them (fastest, slowest, median, mean of its samples).

use slotsim::engine::{EventQueue, IndexBench};

fn main() {
    divan::main();
}

/// A small xorshift generator, so that the benchmarks need no random-number crate and the
/// cost of a draw stays out of the figures as far as possible.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A payload of the size of the engine's events (an enum of up to two u32 fields).
#[derive(Clone, Copy)]
struct Ev(#[allow(dead_code)] u32, #[allow(dead_code)] u32);

mod queue {
    use super::*;

    /// The queue as the engine builds it (a sorted list up to 32 events, then a 4-ary heap
    /// that turns into a radix heap when it grows past 4,096 events, see
    /// src/engine/queue.rs), and the same queue kept a heap at every size, for comparison:
    /// both hand out events in the same order.
    fn queue(heap_only: bool) -> EventQueue<Ev> {
        if heap_only {
            EventQueue::with_limits(0, usize::MAX)
        } else {
            EventQueue::default()
        }
    }

    /// The "hold" operation of a queue of `size` pending events: pop the earliest and
    /// schedule a new one up to 2^20 us later, as every event of a simulation in its
    /// steady state does. Sizes: one account, a small gateway, a 10,000-account one, and
    /// beyond.
    fn hold(bencher: divan::Bencher, size: u64, heap_only: bool) {
        let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
        let mut q = queue(heap_only);
        for i in 0..size {
            q.push(rng.next() % (1 << 20), Ev(i as u32, 0));
        }
        bencher.bench_local(|| {
            let (t, ev) = q.pop().expect("the queue holds `size` events");
            q.push(t + rng.next() % (1 << 20), ev);
        });
    }

    #[divan::bench(args = [16, 1_000, 100_000, 1_000_000])]
    fn hold_engine_queue(bencher: divan::Bencher, size: u64) {
        hold(bencher, size, false);
    }

    #[divan::bench(args = [16, 1_000, 100_000, 1_000_000])]
    fn hold_heap_only(bencher: divan::Bencher, size: u64) {
        hold(bencher, size, true);
    }

    /// The event loop's own use: `take` the earliest, schedule 0, 1 or 2 events (a mean
    /// of one), `settle`; delays as a gateway's: a tenth at the same microsecond, the rest
    /// a lognormal-like spread of milliseconds to minutes.
    fn take_settle(bencher: divan::Bencher, size: u64, heap_only: bool) {
        let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
        let mut q = queue(heap_only);
        let mut delay = move || {
            let r = rng.next();
            if r % 10 == 0 {
                0
            } else {
                // 2^10 to 2^28 us (1 ms to 4.5 min), uniform in the exponent.
                let bits = 10 + (r >> 8) % 19;
                (r >> 32) % (1 << bits)
            }
        };
        for i in 0..size {
            q.push(delay(), Ev(i as u32, 0));
        }
        let mut n = 0u64;
        bencher.bench_local(|| {
            let (t, ev) = q.take().expect("the queue holds about `size` events");
            n += 1;
            // 0, 1 or 2 new events, one on average, so that the size stays about `size`.
            for _ in 0..[1, 0, 2][(n % 3) as usize] {
                q.push(t + delay(), ev);
            }
            q.settle();
        });
    }

    #[divan::bench(args = [100, 100_000, 1_000_000])]
    fn take_settle_engine_queue(bencher: divan::Bencher, size: u64) {
        take_settle(bencher, size, false);
    }

    #[divan::bench(args = [100, 100_000, 1_000_000])]
    fn take_settle_heap_only(bencher: divan::Bencher, size: u64) {
        take_settle(bencher, size, true);
    }

    /// Pushing `size` events then popping them all (the cost per event, both together).
    fn fill_and_drain(bencher: divan::Bencher, size: u64, heap_only: bool) {
        let mut rng = XorShift(7);
        let times: Vec<u64> = (0..size).map(|_| rng.next() % (1 << 30)).collect();
        bencher
            .counter(divan::counter::ItemsCount::new(size))
            .bench_local(|| {
                let mut q = queue(heap_only);
                for (i, &t) in times.iter().enumerate() {
                    q.push(t, Ev(i as u32, 0));
                }
                while let Some(e) = q.pop() {
                    divan::black_box(e);
                }
            });
    }

    #[divan::bench(args = [1_000, 100_000])]
    fn fill_and_drain_engine_queue(bencher: divan::Bencher, size: u64) {
        fill_and_drain(bencher, size, false);
    }

    #[divan::bench(args = [1_000, 100_000])]
    fn fill_and_drain_heap_only(bencher: divan::Bencher, size: u64) {
        fill_and_drain(bencher, size, true);
    }
}

mod index {
    use super::*;

    /// Accounts with 4 new-session slots (5 with reserved 1, as in claude-code-pool), 2
    /// priorities, fallback by last use.
    fn gateway(accounts: u32) -> IndexBench {
        IndexBench::new(accounts, 4, 2, true, 1)
    }

    /// One request's work on the index at a steady 60% of the new-session slots busy:
    /// a load-aware pick takes a slot, and the slot taken longest ago is released (its
    /// account's load and last use change). Gateways of 10 to 100,000 accounts.
    #[divan::bench(args = [10, 100, 1_000, 10_000, 100_000])]
    fn acquire_and_release(bencher: divan::Bencher, accounts: u32) {
        let mut g = gateway(accounts);
        let mut held = std::collections::VecDeque::new();
        for _ in 0..(accounts * 4 * 6 / 10) {
            held.push_back(g.acquire().expect("room below 60%"));
        }
        bencher.bench_local(|| {
            held.push_back(g.acquire().expect("room below 60%"));
            g.release(held.pop_front().expect("held"));
        });
    }

    /// The load-aware pick alone, by the index and, for comparison, by the scan that
    /// gateways of at most 24 accounts use (the crossing point of the two is why).
    #[divan::bench(args = [10, 24, 100, 10_000])]
    fn pick_by_index(bencher: divan::Bencher, accounts: u32) {
        let mut g = loaded(accounts);
        bencher.bench_local(|| g.pick_load_aware());
    }

    #[divan::bench(args = [10, 24, 100, 10_000])]
    fn pick_by_scan(bencher: divan::Bencher, accounts: u32) {
        let mut g = loaded(accounts);
        bencher.bench_local(|| g.pick_load_aware_by_scan());
    }

    /// The load-aware pick when faults or limits rule out a tenth of the accounts (every
    /// tenth), which the pick skips in key order.
    #[divan::bench(args = [100, 10_000])]
    fn pick_with_accounts_ruled_out(bencher: divan::Bencher, accounts: u32) {
        let mut g = loaded(accounts);
        bencher.bench_local(|| g.pick_load_aware_allowed(|i| i % 10 != 0));
    }

    /// A gateway with a mixed history: a slot taken on every account, half of them
    /// released again at different instants (so that loads and last uses differ).
    fn loaded(accounts: u32) -> IndexBench {
        let mut g = gateway(accounts);
        let taken: Vec<u32> = (0..accounts).filter_map(|_| g.acquire()).collect();
        for &i in taken.iter().step_by(2) {
            g.release(i);
        }
        g
    }
}
