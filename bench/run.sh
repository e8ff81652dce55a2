#!/usr/bin/env bash
# Every speed and memory target of slotsim, measured as whole processes, with raw rows
# appended to bench/results.csv: date, commit, machine, target, command, figure, value.
#
#   bash bench/run.sh            # everything (about 10-20 minutes on 2 cores)
#   bash bench/run.sh engine     # one group: engine | accounts | memory | cores | output | micro
#   REPEAT=5 bash bench/run.sh   # runs per measurement (default 3; every run is a row)
#
# Needs: cargo, python3 (installs SimPy 4.1.1 with pip if missing), GNU time at
# /usr/bin/time. Timings on a shared or noisy machine vary: compare medians, and compare
# A against B in the same session. bench/README.md has the table and how to read it.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
REPEAT=${REPEAT:-3}
groups=${*:-engine accounts memory cores output micro}
csv=bench/results.csv
header="date_utc,commit,machine,target,command,figure,value"
if [ ! -f "$csv" ] || [ "$(head -1 "$csv")" != "$header" ]; then
  [ -f "$csv" ] && mv "$csv" "bench/results-old-$(date -u +%Y%m%d%H%M%S).csv"
  echo "$header" > "$csv"
fi
machine="$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(free -g | awk '/Mem:/{print $2}') GiB"
commit="$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src Cargo.toml Cargo.lock || echo -dirty)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cargo build --release --locked --quiet
(cd bench/bareloop && cargo build --release --quiet)
bin=${SLOTSIM:-$root/target/release/slotsim}  # SLOTSIM=path measures another build
bare=$root/bench/bareloop/target/release/bareloop
python3 -c "import simpy" 2>/dev/null || python3 -m pip install --quiet simpy==4.1.1

row() { # target command figure value
  local cmd=${2//\"/\"\"}
  echo "$(date -u +%FT%TZ),$commit,\"$machine\",$1,\"$cmd\",$3,$4" | tee -a "$csv"
}
json() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"; }
# Runs a command under GNU time; sets $wall and $cpu (user + system, s) and $rss (KiB);
# its stdout goes to $tmp/stdout. On a busy machine CPU time is the steadier figure.
timed() {
  /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" "$@" > "$tmp/stdout"
  local user sys
  read -r wall user sys rss < "$tmp/time"
  cpu=$(python3 -c "print(round($user + $sys, 2))")
}
# The sum of a column of a CSV file.
colsum() { python3 -c "import csv,sys; print(sum(float(r[sys.argv[2]]) for r in csv.DictReader(open(sys.argv[1]))))" "$1" "$2"; }

engine() {
  # One account, C=5, R=2, no waiting, 2,000,000 simulated s: slotsim, the bare loop, SimPy.
  local sc=bench/one-account.toml
  for _ in $(seq "$REPEAT"); do
    timed "$bin" run $sc --threads 1 --quiet --out "$tmp/one"
    row one-account "slotsim run $sc --threads 1" whole_process_s "$wall"
    row one-account "slotsim run $sc --threads 1" whole_process_cpu_s "$cpu"
    row one-account "slotsim run $sc --threads 1" peak_rss_kib "$rss"
    row one-account "slotsim run $sc --threads 1" engine_s "$(json "$tmp/one/run.json" wall_time_s)"
    timed "$bare" 2000000
    row one-account "bench/bareloop 2000000" whole_process_s "$wall"
    row one-account "bench/bareloop 2000000" whole_process_cpu_s "$cpu"
    row one-account "bench/bareloop 2000000" engine_s "$(sed -n 's/^wall_s=//p' "$tmp/stdout")"
  done
  cp "$tmp/stdout" "$tmp/bare.txt"
  # SimPy takes about half a minute per run: once, unless REPEAT_SIMPY says otherwise.
  for _ in $(seq "${REPEAT_SIMPY:-1}"); do
    timed python3 bench/simpy_model.py 2000000
    row one-account "python3 bench/simpy_model.py 2000000" whole_process_s "$wall"
    row one-account "python3 bench/simpy_model.py 2000000" whole_process_cpu_s "$cpu"
    row one-account "python3 bench/simpy_model.py 2000000" engine_s "$(sed -n 's/^wall_s=//p' "$tmp/stdout")"
  done
  # The three agree within their batch-means standard errors (the check fails the script).
  python3 bench/agree.py "$tmp/one/replications.csv" "$tmp/bare.txt" "$tmp/stdout" |
    while read -r fig val; do row one-account "bench/agree.py" "$fig" "$val"; done
}

accounts() {
  # Simulation time per simulated request and per event at the same load per account
  # (claude-code-pool's: one session a minute per 5-slot account, reserved 1), in the
  # steady state: each repetition runs the scenario twice, to the end of a warm-up W
  # (ACC_WARMUP, default 3600 s: the scenario's own warm-up, by which its busy slots and
  # waiters have settled) and to W + M, and the steady-state figures are the differences
  # (time, requests, events) between the two runs, so the filling of the empty gateway
  # is left out. M = 5,600,000 / n s (about 1.4 million requests) but at least 1800 s, so
  # that the window is not lost in the noise of the two runs' warm-ups at large n. The run
  # to W + M is also reported whole. 100,000 accounts take about seven minutes of CPU and
  # 1.1 GB per repetition: REPEAT_LARGE (default 1) repetitions for n >= 100,000.
  local w=${ACC_WARMUP:-3600}
  for n in ${ACCOUNTS:-10 100 1000 10000 100000}; do
    local m=$(( 5600000 / n )); [ "$m" -lt 1800 ] && m=1800
    local h=$(( w + m ))
    sed -e "s/^accounts = 20.*/accounts = $n/" \
        -e "s|^arrival = .*|arrival = { process = \"poisson\", rate = \"$n/min\" }|" \
        -e 's/^warmup = .*/warmup = 0/' -e '/^\[sweep\]/,$d' \
        scenarios/claude-code-pool.toml > "$tmp/acc.toml"
    local cmd="slotsim run scenarios/claude-code-pool.toml with accounts=$n, rate $n/min, warmup 0, reserved 1, 1 replication, --threads 1, --horizon $w and --horizon $h"
    local reps=$REPEAT; [ "$n" -ge 100000 ] && reps=${REPEAT_LARGE:-1}
    for _ in $(seq "$reps"); do
      local req eng ev req0 eng0 ev0
      timed "$bin" run "$tmp/acc.toml" --horizon "$w" --replications 1 --threads 1 --quiet --out "$tmp/acc0"
      req0=$(colsum "$tmp/acc0/replications.csv" requests_arrived)
      eng0=$(json "$tmp/acc0/run.json" wall_time_s)
      ev0=$(json "$tmp/acc0/run.json" events_simulated)
      timed "$bin" run "$tmp/acc.toml" --horizon "$h" --replications 1 --threads 1 --quiet --out "$tmp/acc"
      req=$(colsum "$tmp/acc/replications.csv" requests_arrived)
      eng=$(json "$tmp/acc/run.json" wall_time_s)
      ev=$(json "$tmp/acc/run.json" events_simulated)
      row "accounts-$n" "$cmd" steady_requests "$(python3 -c "print(round($req - $req0))")"
      row "accounts-$n" "$cmd" steady_events_per_request "$(python3 -c "print(round(($ev - $ev0) / ($req - $req0), 3))")"
      row "accounts-$n" "$cmd" steady_engine_us_per_request "$(python3 -c "print(round(($eng - $eng0) * 1e6 / ($req - $req0), 4))")"
      row "accounts-$n" "$cmd" steady_engine_us_per_event "$(python3 -c "print(round(($eng - $eng0) * 1e6 / ($ev - $ev0), 4))")"
      row "accounts-$n" "$cmd" requests "$req"
      row "accounts-$n" "$cmd" engine_us_per_request "$(python3 -c "print(round($eng * 1e6 / $req, 4))")"
      row "accounts-$n" "$cmd" engine_us_per_event "$(python3 -c "print(round($eng * 1e6 / $ev, 4))")"
      row "accounts-$n" "$cmd" whole_process_cpu_us_per_request "$(python3 -c "print(round($cpu * 1e6 / $req, 4))")"
      row "accounts-$n" "$cmd" whole_process_s "$wall"
      row "accounts-$n" "$cmd" peak_rss_kib "$rss"
    done
  done
}

memory() {
  # Peak memory against the horizon: one replication of claude-code-pool, reserved 1,
  # with a 10-minute warm-up (its own 1 h would leave a 1 h horizon nothing to measure).
  sed -e 's/^warmup = .*/warmup = "10m"/' scenarios/claude-code-pool.toml > "$tmp/mem.toml"
  for h in 1h 24h 7d; do
    local cmd="slotsim run scenarios/claude-code-pool.toml with warmup 10m, --reserved 1 --replications 1 --threads 1 --horizon $h"
    for _ in $(seq "$REPEAT"); do
      timed "$bin" run "$tmp/mem.toml" --reserved 1 --replications 1 --threads 1 \
        --horizon "$h" --quiet --out "$tmp/mem"
      row "memory-horizon-$h" "$cmd" peak_rss_kib "$rss"
      row "memory-horizon-$h" "$cmd" whole_process_s "$wall"
      row "memory-horizon-$h" "$cmd" whole_process_cpu_s "$cpu"
      row "memory-horizon-$h" "$cmd" report_html_bytes "$(stat -c %s "$tmp/mem/report.html")"
    done
  done
}

cores() {
  # A 6-point x 10-replication sweep on 1 thread and on 2.
  for t in 1 2; do
    local cmd="slotsim run scenarios/claude-code-pool.toml --reserved 0..=5 --replications 10 --threads $t"
    for _ in $(seq "$REPEAT"); do
      timed "$bin" run scenarios/claude-code-pool.toml --reserved 0..=5 --replications 10 \
        --threads "$t" --quiet --out "$tmp/cores"
      row "sweep-6x10-threads-$t" "$cmd" whole_process_s "$wall"
      row "sweep-6x10-threads-$t" "$cmd" engine_s "$(json "$tmp/cores/run.json" wall_time_s)"
    done
  done
}

output() {
  # What writing costs: the small example, and a 10,000-point sweep of cheap points.
  local cmd="slotsim run scenarios/quick.toml"
  for _ in $(seq "$REPEAT"); do
    timed "$bin" run scenarios/quick.toml --quiet --out "$tmp/quick"
    row quick "$cmd" whole_process_s "$wall"
    row quick "$cmd" whole_process_cpu_s "$cpu"
    row quick "$cmd" engine_s "$(json "$tmp/quick/run.json" wall_time_s)"
  done
  sed -e 's/^horizon = .*/horizon = "10m"/' -e 's/^warmup = .*/warmup = "1m"/' \
      -e 's/^replications = .*/replications = 2/' -e 's/^accounts = .*/accounts = 1/' \
      -e 's/^concurrency = .*/concurrency = 10000/' -e '/^\[sweep\]/,$d' \
      scenarios/quick.toml > "$tmp/wide.toml"
  cmd="slotsim run scenarios/quick.toml with 1 account of 10000 slots, horizon 10m, warm-up 1m, 2 replications, --reserved 0..=9999"
  for _ in $(seq "$REPEAT"); do
    timed "$bin" run "$tmp/wide.toml" --reserved 0..=9999 --quiet --out "$tmp/wide"
    row sweep-10000-points "$cmd" whole_process_s "$wall"
    row sweep-10000-points "$cmd" whole_process_cpu_s "$cpu"
    row sweep-10000-points "$cmd" engine_s "$(json "$tmp/wide/run.json" wall_time_s)"
    row sweep-10000-points "$cmd" peak_rss_kib "$rss"
  done
}

micro() {
  # Micro-benchmarks of the event queue and the selection index (divan, in bench/micro, a
  # crate of its own): divan's table is printed, and each benchmark's median is a row.
  (cd bench/micro && cargo bench --quiet --bench micro) | tee "$tmp/micro.txt"
  python3 bench/micro_rows.py < "$tmp/micro.txt" | while read -r name ns; do
    row "micro-$name" "cargo bench --bench micro (bench/micro)" median_ns_per_iteration "$ns"
  done
}

for g in $groups; do
  case $g in
    engine|accounts|memory|cores|output|micro) "$g" ;;
    *) echo "unknown group '$g': engine, accounts, memory, cores, output or micro" >&2; exit 2 ;;
  esac
done
