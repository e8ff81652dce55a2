#!/usr/bin/env bash
# Submits a sharded slotsim sweep to Slurm: a job array of N shards, then a merge job
# that runs only when every shard succeeded. Prints the two job ids.
#
#   deploy/slurm/submit.sh N SCENARIO SHARD_ROOT OUT [slotsim run flags...]
#
# Environment: SLOTSIM (the slotsim binary, default `slotsim` on PATH; use an absolute
# path), SBATCH_FLAGS (extra sbatch options for both jobs, e.g. "--partition=batch
# --time=02:00:00"), SHARD_CPUS (threads per shard, default 1), LOG_DIR (for the
# jobs' output files, default SHARD_ROOT/logs).
set -euo pipefail

if [[ $# -lt 4 ]]; then
    echo "usage: $0 N SCENARIO SHARD_ROOT OUT [slotsim run flags...]" >&2
    exit 2
fi
n=$1
scenario=$(realpath "$2")
root=$(realpath -m "$3")
out=$(realpath -m "$4")
shift 4
if ! [[ $n =~ ^[1-9][0-9]*$ ]]; then
    echo "N must be a whole number >= 1, got $n" >&2
    exit 2
fi
here=$(dirname "$(realpath "$0")")
logs=${LOG_DIR:-$root/logs}
mkdir -p "$root" "$logs"
# Fail here, not in N jobs, when the scenario or the flags are wrong.
"${SLOTSIM:-slotsim}" check "$scenario" >/dev/null

# shellcheck disable=SC2086
array=$(sbatch --parsable ${SBATCH_FLAGS:-} --array="1-$n" \
    --cpus-per-task="${SHARD_CPUS:-1}" --output="$logs/shard-%A_%a.out" \
    "$here/sweep.sbatch" "$scenario" "$root" "$@")
array=${array%%;*}
# shellcheck disable=SC2086
merge=$(sbatch --parsable ${SBATCH_FLAGS:-} --dependency="afterok:$array" \
    --output="$logs/merge-%j.out" "$here/merge.sbatch" "$root" "$out")
merge=${merge%%;*}
echo "array $array merge $merge"
