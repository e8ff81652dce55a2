//! Exact reference results that `slotsim validate` and the statistical tests compare the
//! simulator against (docs/model.md section 6).
//!
//! This module owns, using only `std` and `f64` arithmetic:
//!
//! - [`erlang_b`]: Erlang B blocking probability (stable recursion).
//! - [`erlang_c`] and [`mmc_mean_wait`]: M/M/c probability of waiting and mean wait (FIFO,
//!   no reservation).
//! - [`guard_channel`]: the guard-channel model (Hong & Rappaport 1986) for open mode: two
//!   Poisson streams (bound at rate `a`, new at rate `b`) on one account with `C` slots and
//!   `R` reserved, no waiting.
//! - [`session_chain`]: the exact two-dimensional Markov chain over (busy slots, thinking
//!   sessions) for session mode with one account, no waiting, no user limit and bindings
//!   that never expire, solved by banded GTH state reduction (subtraction-free) with the
//!   thinking dimension truncated where the stationary mass at the cut is < 1e-12.
//! - [`student_t_975`]: the 0.975 quantile of Student's t distribution.
//!
//! Every formula has its own self-checks (the `#[test]` functions at the bottom).

/// Erlang B blocking probability for `servers` servers and `offered_erlangs` = lambda/mu,
/// by the stable recursion B(0) = 1, B(k) = A B(k-1) / (k + A B(k-1)).
pub fn erlang_b(servers: u32, offered_erlangs: f64) -> f64 {
    assert!(
        offered_erlangs >= 0.0 && offered_erlangs.is_finite(),
        "offered load must be finite and >= 0, got {offered_erlangs}"
    );
    let mut b = 1.0;
    for k in 1..=servers {
        let ab = offered_erlangs * b;
        b = ab / (f64::from(k) + ab);
    }
    b
}

/// Erlang C: probability that an arrival has to wait in an M/M/c queue with `servers`
/// servers and offered load `offered_erlangs` = lambda/mu. Returns 1 when the queue is
/// unstable (A >= c).
pub fn erlang_c(servers: u32, offered_erlangs: f64) -> f64 {
    assert!(servers >= 1, "Erlang C needs at least one server");
    let c = f64::from(servers);
    if offered_erlangs >= c {
        return 1.0;
    }
    let b = erlang_b(servers, offered_erlangs);
    c * b / (c - offered_erlangs * (1.0 - b))
}

/// Mean waiting time in queue (before service) of an M/M/c FIFO queue:
/// W_q = C(c, lambda/mu) / (c mu - lambda). Infinite when lambda >= c mu.
pub fn mmc_mean_wait(servers: u32, lambda: f64, mu: f64) -> f64 {
    assert!(mu > 0.0, "service rate must be > 0");
    let cap = f64::from(servers) * mu;
    if lambda >= cap {
        return f64::INFINITY;
    }
    erlang_c(servers, lambda / mu) / (cap - lambda)
}

/// Threshold T = max(C - R, 0) for new sessions; R < 0 behaves as R = 0.
pub fn new_session_threshold(c: u32, r: i32) -> u32 {
    let r = i64::from(r.max(0));
    (i64::from(c) - r).max(0) as u32
}

/// Stationary result of the guard-channel model.
#[derive(Debug, Clone)]
pub struct GuardChannel {
    /// Stationary probabilities p_0..=p_C of the number of busy slots.
    pub p: Vec<f64>,
    /// Blocking probability of new requests: sum over n >= T of p_n (1 when T = 0).
    pub new_blocking: f64,
    /// Blocking probability of bound requests: p_C.
    pub bound_blocking: f64,
    /// Served requests per second: a (1 - p_C) + b (1 - new_blocking).
    pub throughput: f64,
    /// Mean number of busy slots.
    pub mean_busy: f64,
}

/// Guard-channel model (Hong & Rappaport 1986), as docs/model.md states it: one account with
/// `c` slots and `r` reserved (T = max(C - R, 0), R < 0 behaves as 0), bound requests at
/// rate `a` (may use all C slots), new requests at rate `b` (only while fewer than T slots
/// are busy), service rate `mu` for both classes.
///
/// p_n is proportional to (a+b)^n / (n! mu^n) for n <= T and (a+b)^T a^(n-T) / (n! mu^n)
/// for T <= n <= C; computed in log space and normalised, so large C does not overflow.
pub fn guard_channel(c: u32, r: i32, a: f64, b: f64, mu: f64) -> GuardChannel {
    assert!(c >= 1, "C must be >= 1 (C <= 0 is a scenario error)");
    assert!(
        a >= 0.0 && b >= 0.0 && mu > 0.0,
        "rates must be >= 0, mu > 0"
    );
    let t = new_session_threshold(c, r) as usize;
    let c = c as usize;
    // log w_n, with w_0 = 1 and w_n = w_{n-1} * rate(n-1) / (n mu).
    let mut logw = vec![0.0_f64; c + 1];
    for n in 1..=c {
        let rate = if n - 1 < t { a + b } else { a };
        logw[n] = logw[n - 1] + rate.ln() - (n as f64 * mu).ln();
    }
    let max = logw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let w: Vec<f64> = logw.iter().map(|&l| (l - max).exp()).collect();
    let total: f64 = w.iter().sum();
    let p: Vec<f64> = w.iter().map(|x| x / total).collect();
    let new_blocking: f64 = if t == 0 {
        1.0
    } else {
        p[t..].iter().sum::<f64>().min(1.0)
    };
    let bound_blocking = p[c];
    let throughput = a * (1.0 - bound_blocking) + b * (1.0 - new_blocking);
    let mean_busy = p.iter().enumerate().map(|(n, x)| n as f64 * x).sum();
    GuardChannel {
        p,
        new_blocking,
        bound_blocking,
        throughput,
        mean_busy,
    }
}

/// Stationary result of the session-mode Markov chain.
#[derive(Debug, Clone)]
pub struct SessionChain {
    /// Probability that a new session is rejected: P(n >= T) (PASTA).
    pub new_session_rejection: f64,
    /// Bound requests rejected / bound requests issued:
    /// sum_m m nu P(C, m) / sum_m m nu P(., m) (0 when no bound request is ever issued).
    pub continuity_failure: f64,
    /// Completed requests per second: sum n mu P(n, m).
    pub throughput: f64,
    /// Mean number of busy slots.
    pub mean_busy: f64,
    /// Mean number of thinking sessions.
    pub mean_thinking: f64,
    /// Truncation level M of the thinking dimension (m = 0..=M) actually used.
    pub truncation: usize,
    /// Stationary mass at m = M (asserted < 1e-12).
    pub mass_at_truncation: f64,
    /// Bound requests issued per second: nu E[m].
    pub bound_request_rate: f64,
    /// Stationary distribution, `p[m][n]`.
    pub p: Vec<Vec<f64>>,
}

/// Tolerance on the stationary mass at the truncation level of [`session_chain`].
pub const SESSION_TRUNCATION_TAIL: f64 = 1e-12;

/// Session mode, exponential: one account with `c` slots and `r` reserved, sessions
/// arriving Poisson(`lambda`), each completed request followed, with probability `q`, by
/// an exponential think time of mean `think_mean` and a bound request (else the session
/// ends; requests per session are geometric on 1, 2, ... with mean 1/(1-q)); exponential
/// service of mean `service_mean`; no waiting, no user limit, bindings never expire.
///
/// State (n busy, m thinking). New session: (n+1, m) if n < T, else rejected (no change).
/// Completion (rate n mu): (n-1, m+1) with prob q, (n-1, m) otherwise. Think end (rate
/// m nu): (n+1, m-1) if n < C, else the bound request is rejected and the session
/// abandons: (n, m-1). At the truncation level M, a continuing session is dropped (the
/// transition goes to (n-1, M)); M is grown from 20 until the mass at m = M is < 1e-12.
pub fn session_chain(
    c: u32,
    r: i32,
    lambda: f64,
    q: f64,
    think_mean: f64,
    service_mean: f64,
) -> SessionChain {
    assert!(c >= 1, "C must be >= 1");
    assert!(lambda >= 0.0 && lambda.is_finite(), "lambda must be >= 0");
    assert!((0.0..1.0).contains(&q), "q must be in [0, 1)");
    assert!(think_mean > 0.0 && service_mean > 0.0, "means must be > 0");
    let mut m_max = 20usize;
    loop {
        let p = solve_session_chain(c, r, lambda, q, 1.0 / think_mean, 1.0 / service_mean, m_max);
        let tail: f64 = p[m_max].iter().sum();
        if tail < SESSION_TRUNCATION_TAIL {
            return session_metrics(c, r, think_mean, service_mean, p, tail);
        }
        assert!(
            m_max < 20_000,
            "session chain truncation did not converge (mass {tail} at M = {m_max})"
        );
        m_max *= 2;
    }
}

fn session_metrics(
    c: u32,
    r: i32,
    think_mean: f64,
    service_mean: f64,
    p: Vec<Vec<f64>>,
    tail: f64,
) -> SessionChain {
    let mu = 1.0 / service_mean;
    let nu = 1.0 / think_mean;
    let t = new_session_threshold(c, r) as usize;
    let c = c as usize;
    let mut rejection = 0.0;
    let mut bound_rejected = 0.0;
    let mut bound_issued = 0.0;
    let mut mean_busy = 0.0;
    let mut mean_thinking = 0.0;
    for (m, row) in p.iter().enumerate() {
        for (n, &x) in row.iter().enumerate() {
            if n >= t {
                rejection += x;
            }
            mean_busy += n as f64 * x;
            mean_thinking += m as f64 * x;
            bound_issued += m as f64 * nu * x;
            if n == c {
                bound_rejected += m as f64 * nu * x;
            }
        }
    }
    let continuity_failure = if bound_issued > 0.0 {
        bound_rejected / bound_issued
    } else {
        0.0
    };
    SessionChain {
        new_session_rejection: rejection.min(1.0),
        continuity_failure,
        throughput: mean_busy * mu,
        mean_busy,
        mean_thinking,
        truncation: p.len() - 1,
        mass_at_truncation: tail,
        bound_request_rate: bound_issued,
        p,
    }
}

/// Index of state (n, m) among (C+1)(M+1) states.
fn state_index(c: usize, n: usize, m: usize) -> usize {
    m * (c + 1) + n
}

/// Builds the transitions of the truncated chain: (from, to, rate), self-loops omitted.
fn session_transitions(
    c: u32,
    r: i32,
    lambda: f64,
    q: f64,
    nu: f64,
    mu: f64,
    m_max: usize,
) -> Vec<(usize, usize, f64)> {
    let t = new_session_threshold(c, r) as usize;
    let c = c as usize;
    let mut tr = Vec::new();
    for m in 0..=m_max {
        for n in 0..=c {
            let from = state_index(c, n, m);
            if n < t && lambda > 0.0 {
                tr.push((from, state_index(c, n + 1, m), lambda));
            }
            if n > 0 {
                let done = n as f64 * mu;
                if q > 0.0 {
                    let m2 = (m + 1).min(m_max);
                    tr.push((from, state_index(c, n - 1, m2), done * q));
                }
                if q < 1.0 {
                    tr.push((from, state_index(c, n - 1, m), done * (1.0 - q)));
                }
            }
            if m > 0 {
                let think = m as f64 * nu;
                let to = if n < c {
                    state_index(c, n + 1, m - 1)
                } else {
                    state_index(c, n, m - 1)
                };
                tr.push((from, to, think));
            }
        }
    }
    tr
}

/// Solves pi Q = 0 for the truncated chain; returns `p[m][n]`, normalised.
///
/// Uses the GTH (Grassmann-Taksar-Heyman) state-reduction algorithm, which involves no
/// subtraction and so keeps every probability to full relative accuracy even when they
/// span hundreds of orders of magnitude. States are ordered by index m (C+1) + n, so
/// every transition moves at most C+1 places and the reduction stays inside that band
/// (work ~ states x (C+1)^2). Back-substitution rescales on the fly so nothing overflows.
/// The residual max |pi Q| of the normalised result is then checked.
fn solve_session_chain(
    c: u32,
    r: i32,
    lambda: f64,
    q: f64,
    nu: f64,
    mu: f64,
    m_max: usize,
) -> Vec<Vec<f64>> {
    let cs = c as usize;
    let size = (cs + 1) * (m_max + 1);
    let tr = session_transitions(c, r, lambda, q, nu, mu, m_max);
    let x = gth_banded(size, cs + 1, &tr);

    let max_rate = {
        let mut out = vec![0.0; size];
        for &(from, to, rate) in &tr {
            if from != to {
                out[from] += rate;
            }
        }
        out.iter().fold(0.0_f64, |s, v| s.max(*v))
    };
    let mut flow = vec![0.0; size];
    for &(from, to, rate) in &tr {
        if from != to {
            flow[to] += x[from] * rate;
            flow[from] -= x[from] * rate;
        }
    }
    let residual = flow.iter().fold(0.0_f64, |s, v| s.max(v.abs()));
    assert!(
        residual <= 1e-12 * max_rate.max(1e-300),
        "session chain residual {residual} too large (max rate {max_rate})"
    );
    (0..=m_max)
        .map(|m| (0..=cs).map(|n| x[state_index(cs, n, m)]).collect())
        .collect()
}

/// Stationary distribution of a CTMC on states 0..size given by its off-diagonal
/// transitions (from, to, rate), all with |from - to| <= `bw`, by GTH state reduction.
/// Requires state 0 to be reachable from every state (then the answer is unique; states
/// that are transient get probability 0). Returns the normalised distribution.
fn gth_banded(size: usize, bw: usize, transitions: &[(usize, usize, f64)]) -> Vec<f64> {
    let width = 2 * bw + 1;
    // a[i * width + (j + bw - i)] = rate i -> j, for |i - j| <= bw.
    let mut a = vec![0.0_f64; size * width];
    let at = |i: usize, j: usize| i * width + j + bw - i;
    for &(from, to, rate) in transitions {
        assert!(rate >= 0.0, "negative rate");
        assert!(
            from.abs_diff(to) <= bw,
            "transition {from} -> {to} outside the band"
        );
        if from != to {
            a[at(from, to)] += rate;
        }
    }
    // Reduce states size-1, ..., 1: censor the chain on {0..k-1}.
    for k in (1..size).rev() {
        let lo = k.saturating_sub(bw);
        let s: f64 = (lo..k).map(|j| a[at(k, j)]).sum();
        assert!(
            s > 0.0,
            "state {k} cannot reach a lower state: state 0 is not reachable from everywhere"
        );
        for i in lo..k {
            let aik = a[at(i, k)];
            if aik == 0.0 {
                continue;
            }
            let f = aik / s;
            a[at(i, k)] = f;
            for j in lo..k {
                if j != i {
                    let akj = a[at(k, j)];
                    if akj != 0.0 {
                        a[at(i, j)] += f * akj;
                    }
                }
            }
        }
    }
    // Back-substitution: pi_k = sum_{i<k} pi_i a[i][k] (a[i][k] already divided by s_k).
    let mut pi = vec![0.0_f64; size];
    pi[0] = 1.0;
    for k in 1..size {
        let lo = k.saturating_sub(bw);
        let v: f64 = (lo..k).map(|i| pi[i] * a[at(i, k)]).sum();
        pi[k] = v;
        if v > 1e150 {
            for p in pi.iter_mut().take(k + 1) {
                *p *= 1e-150;
            }
        }
    }
    let total: f64 = pi.iter().sum();
    assert!(total.is_finite() && total > 0.0, "GTH normalisation failed");
    pi.iter().map(|p| p / total).collect()
}

/// Two-sided 95% Student-t critical value: the 0.975 quantile of t with `df` degrees of
/// freedom. Table for df 1..=30, Cornish-Fisher expansion (4 terms, error < 1e-5) beyond.
pub fn student_t_975(df: u32) -> f64 {
    const TABLE: [f64; 30] = [
        12.706_204_736,
        4.302_652_730,
        3.182_446_305,
        2.776_445_105,
        2.570_581_836,
        2.446_911_851,
        2.364_624_252,
        2.306_004_135,
        2.262_157_163,
        2.228_138_852,
        2.200_985_160,
        2.178_812_830,
        2.160_368_656,
        2.144_786_688,
        2.131_449_546,
        2.119_905_299,
        2.109_815_578,
        2.100_922_040,
        2.093_024_054,
        2.085_963_447,
        2.079_613_845,
        2.073_873_068,
        2.068_657_610,
        2.063_898_562,
        2.059_538_553,
        2.055_529_439,
        2.051_830_516,
        2.048_407_142,
        2.045_229_642,
        2.042_272_456,
    ];
    assert!(df >= 1, "Student t needs df >= 1");
    if df <= 30 {
        return TABLE[df as usize - 1];
    }
    t_975_cornish_fisher(f64::from(df))
}

fn t_975_cornish_fisher(nu: f64) -> f64 {
    const Z: f64 = 1.959_963_984_540_054; // standard normal 0.975 quantile
    let z2 = Z * Z;
    let g1 = Z * (z2 + 1.0) / 4.0;
    let g2 = Z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = Z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = Z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    Z + g1 / nu + g2 / nu.powi(2) + g3 / nu.powi(3) + g4 / nu.powi(4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[track_caller]
    fn assert_close(a: f64, b: f64, tol: f64) {
        assert!(
            close(a, b, tol),
            "{a} vs {b} (diff {}, tol {tol})",
            (a - b).abs()
        );
    }

    /// Erlang B by the direct formula (A^c / c!) / sum_k A^k / k!.
    fn erlang_b_direct(c: u32, a: f64) -> f64 {
        let mut term = 1.0;
        let mut sum = 1.0;
        for k in 1..=c {
            term *= a / f64::from(k);
            sum += term;
        }
        term / sum
    }

    #[test]
    fn exact_erlang_b_known_values() {
        assert_close(erlang_b(1, 1.0), 0.5, 1e-15);
        assert_close(erlang_b(5, 3.0), 0.110_054_3, 1e-6);
        assert_close(erlang_b(10, 5.0), 0.018_384_8, 1e-6);
        assert_close(erlang_b(0, 2.0), 1.0, 0.0);
        assert_close(erlang_b(4, 0.0), 0.0, 0.0);
        // Against the direct formula.
        for c in 1..=40 {
            for &a in &[0.1, 0.5, 1.0, 3.0, 7.5, 20.0, 35.0] {
                let rec = erlang_b(c, a);
                let dir = erlang_b_direct(c, a);
                assert!(
                    (rec - dir).abs() <= 1e-12 * dir.max(1e-300) + 1e-300,
                    "B({c}, {a}): recursion {rec} vs direct {dir}"
                );
            }
        }
        // Large C stays finite and sane.
        let b = erlang_b(1000, 950.0);
        assert!(b > 0.0 && b < 0.1, "B(1000, 950) = {b}");
    }

    #[test]
    fn exact_erlang_c_known_values() {
        assert_close(erlang_c(2, 1.0), 1.0 / 3.0, 1e-14);
        assert_close(erlang_c(1, 0.5), 0.5, 1e-14); // M/M/1: P(wait) = rho
        assert_close(erlang_c(3, 3.0), 1.0, 0.0);
        // M/M/1 mean wait: rho / (mu - lambda).
        assert_close(mmc_mean_wait(1, 0.5, 1.0), 1.0, 1e-14);
        // M/M/2, lambda = 1, mu = 1: C = 1/3, Wq = (1/3) / (2 - 1).
        assert_close(mmc_mean_wait(2, 1.0, 1.0), 1.0 / 3.0, 1e-14);
        assert!(mmc_mean_wait(2, 2.0, 1.0).is_infinite());
        // Direct formula for C(c, A).
        for c in 1..=20u32 {
            for &a in &[0.3, 0.9 * f64::from(c), 0.5 * f64::from(c)] {
                let mut term = 1.0;
                let mut sum = 1.0;
                for k in 1..c {
                    term *= a / f64::from(k);
                    sum += term;
                }
                let top = term * a / f64::from(c) * f64::from(c) / (f64::from(c) - a);
                let direct = top / (sum + top);
                assert_close(erlang_c(c, a), direct, 1e-12);
            }
        }
    }

    #[test]
    fn exact_guard_channel_sums_to_one_and_matches_formula() {
        for &(c, r, a, b) in &[
            (3u32, 1i32, 0.7, 1.3),
            (10, 3, 2.0, 5.0),
            (100, 10, 40.0, 60.0),
        ] {
            let g = guard_channel(c, r, a, b, 1.0);
            assert_eq!(g.p.len(), c as usize + 1);
            assert_close(g.p.iter().sum::<f64>(), 1.0, 1e-12);
            assert!(g.p.iter().all(|&x| x >= 0.0));
            assert_close(g.throughput, g.mean_busy, 1e-9 * g.throughput.max(1.0));
            assert!(g.new_blocking >= g.bound_blocking);
        }
        // Small case by hand: C = 2, R = 1, T = 1, a = 1, b = 1, mu = 1.
        // w = [1, 2, 2*1/2 = 1] -> p = [1/4, 1/2, 1/4].
        let g = guard_channel(2, 1, 1.0, 1.0, 1.0);
        assert_close(g.p[0], 0.25, 1e-15);
        assert_close(g.p[1], 0.5, 1e-15);
        assert_close(g.p[2], 0.25, 1e-15);
        assert_close(g.new_blocking, 0.75, 1e-15);
        assert_close(g.bound_blocking, 0.25, 1e-15);
        assert_close(g.throughput, 0.75 + 0.25, 1e-15);
        // mu scales the load: (a, b, mu) and (2a, 2b, 2mu) give the same p.
        let g1 = guard_channel(6, 2, 1.5, 2.5, 1.0);
        let g2 = guard_channel(6, 2, 3.0, 5.0, 2.0);
        for (x, y) in g1.p.iter().zip(&g2.p) {
            assert_close(*x, *y, 1e-14);
        }
    }

    #[test]
    fn exact_guard_channel_r0_is_erlang_b() {
        for &(c, a, b, mu) in &[
            (3u32, 0.5, 1.0, 1.0),
            (10, 2.0, 6.0, 1.2),
            (100, 30.0, 70.0, 1.0),
        ] {
            for r in [0, -1, -5] {
                let g = guard_channel(c, r, a, b, mu);
                let eb = erlang_b(c, (a + b) / mu);
                assert_close(g.new_blocking, eb, 1e-12);
                assert_close(g.bound_blocking, eb, 1e-12);
            }
        }
    }

    #[test]
    fn exact_guard_channel_full_reserve() {
        for &(c, r) in &[(3u32, 3i32), (3, 7), (20, 20), (100, 150)] {
            let (a, b) = (1.7, 4.0);
            let g = guard_channel(c, r, a, b, 1.0);
            assert_close(g.new_blocking, 1.0, 0.0);
            assert_close(g.bound_blocking, erlang_b(c, a), 1e-12);
            assert_close(g.throughput, a * (1.0 - erlang_b(c, a)), 1e-12);
        }
        // No bound traffic with a reserve: new requests see Erlang B with T servers.
        let g = guard_channel(8, 3, 0.0, 4.0, 1.0);
        assert_close(g.new_blocking, erlang_b(5, 4.0), 1e-12);
        assert_close(g.bound_blocking, 0.0, 0.0);
    }

    #[test]
    fn exact_guard_channel_large_c_stable() {
        let g = guard_channel(100, 5, 500.0, 500.0, 1.0); // heavy overload
        assert!(g.p.iter().all(|x| x.is_finite()));
        assert_close(g.p.iter().sum::<f64>(), 1.0, 1e-12);
        assert!(g.new_blocking > 0.9 && g.bound_blocking > 0.7);
        let g = guard_channel(100, 5, 1e-3, 1e-3, 1.0); // nearly idle
        assert!(g.new_blocking < 1e-100);
        assert!(g.p.iter().all(|x| x.is_finite()));
    }

    /// Dense Gaussian elimination on the same generator, as an independent solver.
    fn dense_stationary(
        c: u32,
        r: i32,
        lambda: f64,
        q: f64,
        nu: f64,
        mu: f64,
        m_max: usize,
    ) -> Vec<f64> {
        let size = (c as usize + 1) * (m_max + 1);
        let tr = session_transitions(c, r, lambda, q, nu, mu, m_max);
        let mut a = vec![vec![0.0; size]; size];
        for &(from, to, rate) in &tr {
            a[to][from] += rate;
            a[from][from] -= rate;
        }
        // Replace the last equation by the normalisation.
        a[size - 1] = vec![1.0; size];
        let mut b = vec![0.0; size];
        b[size - 1] = 1.0;
        for k in 0..size {
            let piv = (k..size)
                .max_by(|&i, &j| a[i][k].abs().total_cmp(&a[j][k].abs()))
                .unwrap();
            a.swap(k, piv);
            b.swap(k, piv);
            let (top, bottom) = a.split_at_mut(k + 1);
            let pivot_row = &top[k];
            for (off, row) in bottom.iter_mut().enumerate() {
                let f = row[k] / pivot_row[k];
                if f != 0.0 {
                    for (x, p) in row[k..].iter_mut().zip(&pivot_row[k..]) {
                        *x -= f * p;
                    }
                    b[k + 1 + off] -= f * b[k];
                }
            }
        }
        let mut x = vec![0.0; size];
        for k in (0..size).rev() {
            let s: f64 = (k + 1..size).map(|j| a[k][j] * x[j]).sum();
            x[k] = (b[k] - s) / a[k][k];
        }
        x
    }

    #[test]
    fn exact_session_chain_gth_matches_dense() {
        for &(c, r, lambda, q, think, service) in &[
            (3u32, 1i32, 0.5, 0.5, 2.0, 1.0),
            (5, 2, 1.0, 0.75, 4.0, 1.0),
            (2, 0, 3.0, 0.9, 0.5, 0.7),
        ] {
            let m_max = 25;
            let gth = solve_session_chain(c, r, lambda, q, 1.0 / think, 1.0 / service, m_max);
            let dense = dense_stationary(c, r, lambda, q, 1.0 / think, 1.0 / service, m_max);
            for m in 0..=m_max {
                for n in 0..=c as usize {
                    assert_close(gth[m][n], dense[state_index(c as usize, n, m)], 1e-12);
                }
            }
        }
    }

    #[track_caller]
    fn check_flow_balance(
        c: u32,
        r: i32,
        lambda: f64,
        q: f64,
        think: f64,
        service: f64,
    ) -> SessionChain {
        let s = session_chain(c, r, lambda, q, think, service);
        let mu = 1.0 / service;
        let nu = 1.0 / think;
        let total: f64 = s.p.iter().flatten().sum();
        assert_close(total, 1.0, 1e-12);
        assert!(s.mass_at_truncation < SESSION_TRUNCATION_TAIL);
        let t = new_session_threshold(c, r) as usize;
        let cs = c as usize;
        let accepted_sessions = lambda * (1.0 - s.new_session_rejection);
        let bound_served = s.bound_request_rate * (1.0 - s.continuity_failure);
        let bound_rejected = s.bound_request_rate * s.continuity_failure;
        // Every accepted session ends exactly once: by a final completion or an abandonment.
        let final_completions = s.throughput * (1.0 - q);
        let tol = 1e-9 * (lambda + s.throughput).max(1e-3);
        assert_close(accepted_sessions, final_completions + bound_rejected, tol);
        // Throughput = accepted new-session requests + accepted bound requests.
        assert_close(s.throughput, accepted_sessions + bound_served, tol);
        // Think times started (q per completion) = think times ended (bound requests).
        assert_close(s.bound_request_rate, q * s.throughput, tol);
        assert_close(s.bound_request_rate, s.mean_thinking * nu, tol);
        // Little: mean busy = throughput * service mean.
        assert_close(s.mean_busy, s.throughput / mu, tol);
        // Rejection is P(n >= T) recomputed from the marginal of n.
        let marginal_n: Vec<f64> = (0..=cs)
            .map(|n| s.p.iter().map(|row| row[n]).sum())
            .collect();
        assert_close(
            s.new_session_rejection,
            marginal_n[t.min(cs + 1)..].iter().sum(),
            1e-14,
        );
        assert!((0.0..=1.0).contains(&s.new_session_rejection));
        assert!((0.0..=1.0).contains(&s.continuity_failure));
        s
    }

    #[test]
    fn exact_session_chain_flow_balance() {
        for &(c, r, lambda, q, think, service) in &[
            (3u32, 1i32, 0.5, 0.5, 2.0, 1.0),
            (5, 2, 1.0, 0.75, 4.0, 1.0),
            (3, 0, 2.0, 0.8, 1.0, 1.0),
            (4, 4, 1.0, 0.5, 1.0, 1.0),
            (10, 3, 3.0, 0.9, 10.0, 2.0),
            (1, 0, 0.3, 0.6, 5.0, 1.0),
            (20, 5, 10.0, 0.95, 30.0, 0.5),
        ] {
            check_flow_balance(c, r, lambda, q, think, service);
        }
    }

    #[test]
    fn exact_session_chain_q0_is_erlang_b() {
        for &(c, lambda, service) in &[(1u32, 1.0, 1.0), (3, 2.0, 1.0), (10, 7.0, 0.8)] {
            let s = session_chain(c, 0, lambda, 0.0, 3.0, service);
            assert_close(
                s.new_session_rejection,
                erlang_b(c, lambda * service),
                1e-12,
            );
            assert_close(s.continuity_failure, 0.0, 0.0);
            assert_close(s.mean_thinking, 0.0, 1e-14);
            // With q = 0 and a reserve, new sessions see Erlang B with T servers.
            let s = session_chain(c + 2, 2, lambda, 0.0, 3.0, service);
            assert_close(
                s.new_session_rejection,
                erlang_b(c, lambda * service),
                1e-12,
            );
        }
    }

    #[test]
    fn exact_session_chain_full_reserve_and_large_c() {
        // R >= C: no session is ever admitted.
        let s = session_chain(3, 5, 1.0, 0.5, 2.0, 1.0);
        assert_close(s.new_session_rejection, 1.0, 0.0);
        assert_close(s.throughput, 0.0, 1e-15);
        assert_close(s.continuity_failure, 0.0, 0.0);
        // Large C: both rates vanish, throughput -> lambda / (1 - q).
        let (lambda, q) = (1.0, 0.75);
        let s = check_flow_balance(40, 2, lambda, q, 4.0, 1.0);
        assert!(
            s.new_session_rejection < 1e-9,
            "{}",
            s.new_session_rejection
        );
        assert!(s.continuity_failure < 1e-9, "{}", s.continuity_failure);
        assert_close(s.throughput, lambda / (1.0 - q), 1e-8);
        // Rejection decreases in C.
        let mut prev = 1.0;
        for c in 2..=12 {
            let s = session_chain(c, 1, lambda, q, 4.0, 1.0);
            assert!(s.new_session_rejection < prev, "C = {c}");
            prev = s.new_session_rejection;
        }
    }

    #[test]
    fn exact_session_chain_reserve_trades_new_for_bound() {
        // More reserve: more new-session rejections, fewer continuity failures.
        let mut prev_new = -1.0;
        let mut prev_cont = 2.0;
        for r in 0..=4 {
            let s = session_chain(5, r, 1.0, 0.75, 4.0, 1.0);
            assert!(s.new_session_rejection > prev_new, "R = {r}");
            assert!(s.continuity_failure < prev_cont, "R = {r}");
            prev_new = s.new_session_rejection;
            prev_cont = s.continuity_failure;
        }
    }

    #[test]
    fn exact_session_chain_reference_values() {
        for &(c, r, lambda, q, think, service) in &[
            (3u32, 1i32, 0.5, 0.5, 2.0, 1.0),
            (5, 2, 1.0, 0.75, 4.0, 1.0),
        ] {
            let s = check_flow_balance(c, r, lambda, q, think, service);
            println!(
                "C={c} R={r} lambda={lambda} q={q} think={think} service={service}: M={} \
                 tail={:.3e} new_rej={:.6} cont_fail={:.6} thr={:.6} busy={:.6} thinking={:.6}",
                s.truncation,
                s.mass_at_truncation,
                s.new_session_rejection,
                s.continuity_failure,
                s.throughput,
                s.mean_busy,
                s.mean_thinking
            );
        }
    }

    #[test]
    fn exact_student_t() {
        assert_close(student_t_975(1), 12.7062, 1e-3);
        assert_close(student_t_975(9), 2.2622, 1e-3);
        assert_close(student_t_975(30), 2.0423, 1e-3);
        // Published values beyond the table.
        assert_close(student_t_975(40), 2.021_075, 1e-5);
        assert_close(student_t_975(60), 2.000_298, 1e-5);
        assert_close(student_t_975(120), 1.979_930, 1e-5);
        assert_close(student_t_975(100_000), 1.959_99, 1e-4);
        // The expansion agrees with the table where they meet, and the values decrease.
        assert_close(t_975_cornish_fisher(30.0), student_t_975(30), 1e-4);
        assert_close(t_975_cornish_fisher(20.0), student_t_975(20), 1e-3);
        for df in 1..200 {
            assert!(student_t_975(df + 1) < student_t_975(df), "df = {df}");
        }
    }
}
