//! A bare hand-written event loop of the one-account session model: one account of C
//! slots, R reserved, no waiting, Poisson session arrivals, geometric requests per
//! session, exponential think and service times, bindings that never expire. Sessions
//! carry no state beyond the event: the requests left travel in the event itself.
//!
//! It models exactly what slotsim's `bench/one-account.toml` asks for, with nothing
//! else: a binary heap of (time, sequence) in integer microseconds, xoshiro256++,
//! counts only. It is the floor an engine can approach, not a product.
//!
//! Usage: bareloop [SECONDS] [SEED] [C R LAMBDA MEAN_REQUESTS THINK_MEAN SERVICE_MEAN]
//! Prints one `key=value` line per figure.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Instant;

struct Xoshiro256pp([u64; 4]);

impl Xoshiro256pp {
    fn seeded(seed: u64) -> Self {
        let mut z = seed;
        let mut next = || {
            z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut x = z;
            x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            x ^ (x >> 31)
        };
        Xoshiro256pp([next(), next(), next(), next()])
    }
    #[inline]
    fn next_u64(&mut self) -> u64 {
        let s = &mut self.0;
        let r = (s[0].wrapping_add(s[3])).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        r
    }
    /// Uniform in (0, 1].
    #[inline]
    fn open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    #[inline]
    fn exp(&mut self, mean: f64) -> f64 {
        -self.open01().ln() * mean
    }
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival,
    /// A request completes; `left` requests of its session remain after it.
    Complete { left: u32 },
    /// A think time ends: the session issues a bound request; `left` counts it.
    Issue { left: u32 },
}

fn us(seconds: f64) -> u64 {
    (seconds * 1e6).round() as u64
}

fn main() {
    let args: Vec<f64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numeric arguments"))
        .collect();
    let arg = |i: usize, d: f64| args.get(i).copied().unwrap_or(d);
    let horizon_s = arg(0, 2_000_000.0);
    let seed = arg(1, 1.0) as u64;
    let c = arg(2, 5.0) as u32;
    let r = arg(3, 2.0) as u32;
    let lambda = arg(4, 1.0);
    let mean_requests = arg(5, 4.0);
    let think_mean = arg(6, 4.0);
    let service_mean = arg(7, 1.0);
    let t_new = c.saturating_sub(r);
    let horizon = us(horizon_s);
    let ln_q = (1.0 - 1.0 / mean_requests).ln();

    let started = Instant::now();
    let mut rng = Xoshiro256pp::seeded(seed);
    let mut heap: BinaryHeap<Reverse<(u64, u64, Ev)>> = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: u64, ev: Ev| {
        heap.push(Reverse((t, seq, ev)));
        seq += 1;
    };
    let mut busy = 0u32;
    let (mut sessions, mut sessions_rejected) = (0u64, 0u64);
    let (mut bound, mut bound_rejected, mut completed, mut events) = (0u64, 0u64, 0u64, 0u64);
    // Batch means over 20 equal stretches of time, for a standard error of each rate.
    const BATCHES: usize = 20;
    let mut batch = [[0u64; 4]; BATCHES];
    let t0 = us(rng.exp(1.0 / lambda)).max(1);
    push(&mut heap, t0, Ev::Arrival);
    while let Some(Reverse((now, _, ev))) = heap.pop() {
        events += 1;
        let b = &mut batch[((now as u128 * BATCHES as u128) / horizon as u128).min(BATCHES as u128 - 1) as usize];
        match ev {
            Ev::Arrival => {
                let next = now + us(rng.exp(1.0 / lambda)).max(1);
                if next < horizon {
                    push(&mut heap, next, Ev::Arrival);
                }
                let u = rng.open01();
                let n = (u.ln() / ln_q).floor() as u32 + 1;
                sessions += 1;
                b[0] += 1;
                if busy < t_new {
                    busy += 1;
                    push(&mut heap, now + us(rng.exp(service_mean)), Ev::Complete { left: n - 1 });
                } else {
                    sessions_rejected += 1;
                    b[1] += 1;
                }
            }
            Ev::Complete { left } => {
                busy -= 1;
                completed += 1;
                if left > 0 {
                    let at = now + us(rng.exp(think_mean));
                    if at < horizon {
                        push(&mut heap, at, Ev::Issue { left });
                    }
                }
            }
            Ev::Issue { left } => {
                bound += 1;
                b[2] += 1;
                if busy < c {
                    busy += 1;
                    push(&mut heap, now + us(rng.exp(service_mean)), Ev::Complete { left: left - 1 });
                } else {
                    bound_rejected += 1;
                    b[3] += 1;
                }
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    let se = |num: usize, den: usize| {
        let xs: Vec<f64> = batch.iter().map(|b| b[num] as f64 / b[den].max(1) as f64).collect();
        let m = xs.iter().sum::<f64>() / BATCHES as f64;
        let v = xs.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / (BATCHES - 1) as f64;
        (v / BATCHES as f64).sqrt()
    };
    println!("impl=bareloop");
    println!("simulated_s={horizon_s}");
    println!("events={events}");
    println!("wall_s={wall:.6}");
    println!("simulated_s_per_wall_s={:.0}", horizon_s / wall);
    println!("new_session_rejection_rate={:.6}", sessions_rejected as f64 / sessions as f64);
    println!("new_session_rejection_rate_se={:.6}", se(1, 0));
    println!("continuity_failure_rate={:.6}", bound_rejected as f64 / bound as f64);
    println!("continuity_failure_rate_se={:.6}", se(3, 2));
    println!("throughput_rps={:.6}", completed as f64 / horizon_s);
}
