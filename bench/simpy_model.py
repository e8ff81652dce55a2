"""The one-account session model of bench/one-account.toml, in SimPy.

One account of C slots with R reserved and no waiting; sessions arrive Poisson(lambda);
each has a geometric number of requests (mean MEAN_REQUESTS); a new session's first
request takes a slot only if fewer than C - R are busy, a bound request if fewer than C;
a rejected request ends its session; think and service times are exponential.

Usage: python3 bench/simpy_model.py [SECONDS] [SEED]
Prints one key=value line per figure, like bench/bareloop.
"""
import math
import random
import sys
import time

import simpy

C, R, LAMBDA, MEAN_REQUESTS, THINK_MEAN, SERVICE_MEAN = 5, 2, 1.0, 4.0, 4.0, 1.0
BATCHES = 20


def main():
    horizon = float(sys.argv[1]) if len(sys.argv) > 1 else 2_000_000.0
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    rng = random.Random(seed)
    env = simpy.Environment()
    state = {"busy": 0}
    # Per batch of time: sessions, sessions rejected, bound requests, bound rejected.
    batch = [[0, 0, 0, 0] for _ in range(BATCHES)]
    totals = {"completed": 0}
    ln_q = math.log(1.0 - 1.0 / MEAN_REQUESTS)

    def batch_of(t):
        return min(int(t * BATCHES / horizon), BATCHES - 1)

    def session(n):
        for i in range(n):
            b = batch[batch_of(env.now)]
            if i > 0:
                b[2] += 1
            limit = C - R if i == 0 else C
            if state["busy"] >= limit:
                b[1 if i == 0 else 3] += 1
                return
            state["busy"] += 1
            yield env.timeout(rng.expovariate(1.0 / SERVICE_MEAN))
            state["busy"] -= 1
            totals["completed"] += 1
            if i + 1 < n:
                think = rng.expovariate(1.0 / THINK_MEAN)
                if env.now + think >= horizon:
                    return
                yield env.timeout(think)

    def arrivals():
        while True:
            yield env.timeout(rng.expovariate(LAMBDA))
            if env.now >= horizon:
                return
            batch[batch_of(env.now)][0] += 1
            u = 1.0 - rng.random()
            n = int(math.floor(math.log(u) / ln_q)) + 1
            env.process(session(n))

    started = time.perf_counter()
    env.process(arrivals())
    env.run()
    wall = time.perf_counter() - started

    def rate_and_se(num, den):
        total = sum(b[num] for b in batch) / max(1, sum(b[den] for b in batch))
        xs = [b[num] / max(1, b[den]) for b in batch]
        m = sum(xs) / BATCHES
        v = sum((x - m) ** 2 for x in xs) / (BATCHES - 1)
        return total, math.sqrt(v / BATCHES)

    nsr, nsr_se = rate_and_se(1, 0)
    cfr, cfr_se = rate_and_se(3, 2)
    print("impl=simpy-%s" % simpy.__version__)
    print("simulated_s=%g" % horizon)
    print("wall_s=%.6f" % wall)
    print("simulated_s_per_wall_s=%.0f" % (horizon / wall))
    print("new_session_rejection_rate=%.6f" % nsr)
    print("new_session_rejection_rate_se=%.6f" % nsr_se)
    print("continuity_failure_rate=%.6f" % cfr)
    print("continuity_failure_rate_se=%.6f" % cfr_se)
    print("throughput_rps=%.6f" % (totals["completed"] / horizon))


if __name__ == "__main__":
    main()
