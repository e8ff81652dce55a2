#!/usr/bin/env bash
# Benchmarks behind the README's numbers. Prints CSV rows and appends them to
# bench/results.csv with the machine. Usage: bash bench/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/slotsim
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
tmp=$(mktemp -d)
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
row() { # name threads args...
  local name=$1 threads=$2; shift 2
  local best=""
  for i in 1 2 3; do
    "$bin" run "$@" --threads "$threads" --quiet --out "$tmp/o" > /dev/null
    local w; w=$(field "$tmp/o/run.json" wall_time_s)
    if [ -z "$best" ] || python3 -c "import sys; sys.exit(0 if $w < $best else 1)"; then best=$w; fi
  done
  local ev; ev=$(field "$tmp/o/run.json" events_simulated)
  local rate; rate=$(python3 -c "print(round($ev / $best))")
  echo "$(date -u +%F),$name,$threads,$ev,$best,$rate,\"$machine\"" | tee -a bench/results.csv
}
[ -f bench/results.csv ] || echo "date,benchmark,threads,events,best_wall_s_of_3,events_per_s,machine" > bench/results.csv
# Events per second, single-threaded, on the small example (200 replications per point
# so that the timing is not dominated by start-up).
row quick-x200-reps 1 scenarios/quick.toml --replications 200
# Parallel speed-up: 6 sweep points x 10 replications, 1 thread versus 2.
row sweep-6x10 1 scenarios/claude-code-pool.toml --reserved 0..=5 --replications 10
row sweep-6x10 2 scenarios/claude-code-pool.toml --reserved 0..=5 --replications 10
# Peak memory: one replication at a time, 6 h versus 48 h of simulated time.
[ -f bench/memory.csv ] || echo "date,benchmark,horizon,peak_rss_kib,machine" > bench/memory.csv
for h in 6h 48h; do
  kib=$( { /usr/bin/time -f "%M" "$bin" run scenarios/claude-code-pool.toml --reserved 1 \
      --replications 2 --threads 1 --horizon "$h" --quiet --out "$tmp/m" > /dev/null; } 2>&1 | tail -1)
  echo "$(date -u +%F),peak-rss-claude-code-pool-r1,$h,$kib,\"$machine\"" | tee -a bench/memory.csv
done
rm -rf "$tmp"
