#!/usr/bin/env bash
# Exercises the Slurm path for real on this one machine: installs Debian's slurm-wlm and
# munge, starts a single-node Slurm (munged, slurmctld, slurmd) with a minimal private
# configuration, submits a small sharded sweep with deploy/slurm/submit.sh (job array +
# dependent merge), waits with a bounded timeout, and checks that the merged CSV files are
# byte-identical to an unsharded run. Stops the daemons it started on exit.
#
#   sudo deploy/slurm/test-local.sh            # as root; Debian or Ubuntu with apt
#
# Environment: SLOTSIM (a slotsim binary; default: `cargo build --release --locked` and
# target/release/slotsim), SHARDS (default 4), TIMEOUT_S (for the jobs, default 600),
# KEEP=1 to keep the work folder. Exit 0 only when the comparison passes.
set -euo pipefail

started=$(date +%s)
repo=$(cd "$(dirname "$0")/../.." && pwd)
shards=${SHARDS:-4}
timeout_s=${TIMEOUT_S:-600}
say() { echo "[test-local $(($(date +%s) - started))s] $*"; }
fail() { echo "[test-local] FAILED: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "run as root (it installs packages and starts daemons)"

say "installing slurm-wlm and munge"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
installed=$(date +%s)

if [[ -z ${SLOTSIM:-} ]]; then
    say "building slotsim (release)"
    (cd "$repo" && cargo build --release --locked --quiet)
    SLOTSIM=$repo/target/release/slotsim
fi
SLOTSIM=$(realpath "$SLOTSIM")
export SLOTSIM

work=$(mktemp -d /tmp/slotsim-slurm.XXXXXX)
chmod 755 "$work"
pids=()
munged_pid=
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    if [[ -n $munged_pid ]]; then
        kill "$munged_pid" 2>/dev/null || true
    fi
    if [[ $status -ne 0 ]]; then
        for log in "$work"/log/*.log "$work"/shards/logs/*.out; do
            [[ -f $log ]] || continue
            echo "---- $log (last lines)" >&2
            tail -n 20 "$log" >&2
        done
    fi
    if [[ ${KEEP:-0} == 1 || $status -ne 0 ]]; then
        echo "[test-local] work folder kept: $work" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT

say "starting munged"
mkdir -p /etc/munge /var/lib/munge /var/log/munge /run/munge
if [[ ! -s /etc/munge/munge.key ]]; then
    dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
fi
chown -R munge:munge /etc/munge /var/lib/munge /var/log/munge /run/munge 2>/dev/null || true
chmod 700 /etc/munge
chmod 400 /etc/munge/munge.key
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    # Our own munged, with its own socket, so nothing else on the machine is affected.
    mdir=$work/munge
    mkdir -p "$mdir"
    as_munge=()
    if id munge >/dev/null 2>&1; then
        chown munge:munge "$mdir"
        as_munge=(runuser -u munge --)
    fi
    "${as_munge[@]}" munged --socket="$mdir/munge.socket" --pid-file="$mdir/munged.pid" \
        --log-file="$mdir/munged.log" --seed-file="$mdir/munged.seed" --force
    for _ in $(seq 50); do [[ -s $mdir/munged.pid ]] && break; sleep 0.1; done
    [[ -s $mdir/munged.pid ]] || fail "munged did not start: $(cat "$mdir/munged.log" 2>/dev/null)"
    munged_pid=$(cat "$mdir/munged.pid")
    munge_socket=$mdir/munge.socket
else
    munge_socket=/run/munge/munge.socket.2
fi
munge -n --socket="$munge_socket" | unmunge --socket="$munge_socket" >/dev/null \
    || fail "munge does not work"

say "configuring a single-node Slurm in $work"
host=$(hostname -s)
mkdir -p "$work/log" "$work/spool/ctld" "$work/spool/d"
node=$(slurmd -C | head -n 1)
cat >"$work/slurm.conf" <<CONF
ClusterName=slotsimtest
SlurmctldHost=$host
SlurmctldPort=16817
SlurmdPort=16818
AuthType=auth/munge
AuthInfo=socket=$munge_socket
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MinJobAge=600
$node State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$work/slurm.conf

say "starting slurmctld and slurmd"
slurmctld -D -i -f "$SLURM_CONF" >"$work/log/slurmctld.stdout" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$work/log/slurmd.stdout" 2>&1 &
pids+=($!)
deadline=$(($(date +%s) + 60))
until sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed)'; do
    [[ $(date +%s) -lt $deadline ]] || fail "the node did not come up within 60 s: $(sinfo -N 2>&1 || true)"
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || fail "a Slurm daemon exited"; done
    sleep 1
done
say "node up: $(sinfo -h -N -o '%N %T %c CPUs')"

# A small sweep: 3 points x 8 replications = 24 work items over $shards shards.
scenario=$repo/scenarios/quick.toml
flags=(--replications 8 --max-replications 8 --horizon 2h)

say "unsharded run"
"$SLOTSIM" run "$scenario" --quiet --threads 1 --out "$work/unsharded" "${flags[@]}" >/dev/null

say "submitting $shards shards and the merge"
submitted=$(date +%s)
ids=$("$repo/deploy/slurm/submit.sh" "$shards" "$scenario" "$work/shards" "$work/merged" "${flags[@]}")
say "submitted: $ids"
merge_id=${ids##* }
deadline=$(($(date +%s) + timeout_s))
while :; do
    state=$(scontrol show job "$merge_id" 2>/dev/null | grep -oE 'JobState=[A-Z_]+' | cut -d= -f2 || true)
    case $state in
    COMPLETED) break ;;
    FAILED | CANCELLED | TIMEOUT | NODE_FAIL | OUT_OF_MEMORY | BOOT_FAIL | DEADLINE)
        fail "merge job $merge_id ended $state" ;;
    PENDING)
        if scontrol show job "$merge_id" | grep -q 'Reason=DependencyNeverSatisfied'; then
            fail "a shard failed, so the merge can never run"
        fi ;;
    esac
    [[ $(date +%s) -lt $deadline ]] || fail "jobs not done after ${timeout_s} s (merge job state: ${state:-unknown})"
    sleep 1
done
finished=$(date +%s)
say "jobs done in $((finished - submitted)) s"

say "comparing the merged CSV files with the unsharded run's"
n=0
for f in "$work"/unsharded/*.csv; do
    name=$(basename "$f")
    cmp "$f" "$work/merged/$name" || fail "$name differs"
    n=$((n + 1))
done
[[ $n -ge 4 ]] || fail "only $n CSV files compared"
for f in "$work"/merged/*.csv; do
    [[ -f $work/unsharded/$(basename "$f") ]] || fail "merged has an extra $(basename "$f")"
done
[[ -f $work/merged/report.html ]] || fail "no report.html in the merged output"
ls "$work/shards" | grep -c '^shard-' | grep -qx "$shards" || fail "expected $shards shard folders"

say "PASS: $n CSV files byte-identical ($shards shards via a Slurm job array + dependent merge); install $((installed - started)) s, total $(($(date +%s) - started)) s"
