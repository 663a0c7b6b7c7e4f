#!/usr/bin/env bash
# Submits deploy/slurm/submit.sbatch with its sizes taken from environment variables, for
# sites and scripts that prefer env vars to sbatch flags. Extra arguments go to sbatch
# (e.g. --wait, --dependency=...). Everything submit.sbatch reads (MODEL, IMAGE, WORKDIR, ...)
# passes through, since sbatch exports the environment.
#
#   GPUS_PER_TASK=0 PARTITION=cpu NODES=4 deploy/slurm/submit.sh --wait
#
# Environment (unset: submit.sbatch's #SBATCH default):
#   NODES            number of nodes (default 2)
#   TASKS_PER_NODE   ranks per node (default 1)
#   CPUS_PER_TASK    CPUs per rank (default 4)
#   GPUS_PER_TASK    GPUs per rank (default 1); 0 requests no GPU gres at all
#   TIME_LIMIT       wall-clock limit, e.g. 00:30:00
#   PARTITION        partition (default: the cluster's default partition)
#   ACCOUNT, QOS     account / QOS to charge
#   JOB_NAME         job name (default llmpipe)
#   JOB_OUTPUT       the batch script's output file (default llmpipe-%j.out)
set -euo pipefail

repo=$(cd "$(dirname "$0")/../.." && pwd)

args=()
[[ -n "${NODES:-}" ]] && args+=(--nodes="$NODES")
[[ -n "${TASKS_PER_NODE:-}" ]] && args+=(--ntasks-per-node="$TASKS_PER_NODE")
[[ -n "${CPUS_PER_TASK:-}" ]] && args+=(--cpus-per-task="$CPUS_PER_TASK")
if [[ -n "${GPUS_PER_TASK:-}" ]]; then
  [[ "$GPUS_PER_TASK" =~ ^[0-9]+$ ]] || { echo "submit.sh: GPUS_PER_TASK must be a number, got '$GPUS_PER_TASK'" >&2; exit 1; }
  if ((GPUS_PER_TASK == 0)); then
    args+=(--gres=none)
  else
    # GPUs are requested per node: tasks per node times GPUs per task.
    args+=(--gres="gpu:$((GPUS_PER_TASK * ${TASKS_PER_NODE:-1}))")
  fi
fi
[[ -n "${TIME_LIMIT:-}" ]] && args+=(--time="$TIME_LIMIT")
[[ -n "${PARTITION:-}" ]] && args+=(--partition="$PARTITION")
[[ -n "${ACCOUNT:-}" ]] && args+=(--account="$ACCOUNT")
[[ -n "${QOS:-}" ]] && args+=(--qos="$QOS")
[[ -n "${JOB_NAME:-}" ]] && args+=(--job-name="$JOB_NAME")
[[ -n "${JOB_OUTPUT:-}" ]] && args+=(--output="$JOB_OUTPUT")

export LLMPIPE_REPO=${LLMPIPE_REPO:-$repo}
echo "submit.sh: sbatch ${args[*]} $* $repo/deploy/slurm/submit.sbatch" >&2
exec sbatch "${args[@]}" "$@" "$repo/deploy/slurm/submit.sbatch"
