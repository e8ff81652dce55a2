#!/usr/bin/env bash
# Runs a sharded sweep on Kubernetes: the shared volume, the scenario ConfigMap, the
# Indexed Job of shards, then (when every shard completed) the merge job.
#
#   deploy/kubernetes/run.sh SCENARIO [TIMEOUT_SECONDS, default 86400]
#
# Edit sweep-job.yaml first (image, N in two places, flags). Results stay on the volume
# slotsim-work under SWEEP/out; copy them out with e.g. a pod mounting the volume and
# `kubectl cp`.
set -euo pipefail
if [[ $# -lt 1 ]]; then
    echo "usage: $0 SCENARIO [TIMEOUT_SECONDS]" >&2
    exit 2
fi
here=$(dirname "$0")
timeout_s=${2:-86400}
kubectl apply -f "$here/volume.yaml"
kubectl create configmap slotsim-scenario --from-file=scenario.toml="$1" \
    --dry-run=client -o yaml | kubectl apply -f -
kubectl delete job slotsim-sweep slotsim-merge --ignore-not-found
kubectl apply -f "$here/sweep-job.yaml"
# Wait until the job is complete (every index succeeded) or failed (an index ran out of
# retries: no merge then).
deadline=$(($(date +%s) + timeout_s))
while :; do
    state=$(kubectl get job slotsim-sweep \
        -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
    case $state in
    *Complete*) break ;;
    *Failed*)
        echo "the sweep job failed; see: kubectl logs job/slotsim-sweep" >&2
        exit 1 ;;
    esac
    if [[ $(date +%s) -ge $deadline ]]; then
        echo "the sweep job is not complete after ${timeout_s} s" >&2
        exit 1
    fi
    sleep 10
done
kubectl apply -f "$here/merge-job.yaml"
kubectl wait --for=condition=complete job/slotsim-merge --timeout=1h
kubectl logs job/slotsim-merge
