#!/usr/bin/env bash
# Per-rank launcher (design report §4.2): srun starts one copy per task, inside the container
# (`apptainer exec ... bash /app/deploy/slurm/run.sh`) or natively. It sets the rank environment,
# prints a preamble (rank, node, CPUs, GPUs) to the rank's srun output file, wraps the rank in a
# profiler if asked, and then execs llmpipe, so signals from srun (SIGUSR1 before the time limit,
# SIGTERM on cancel) reach llmpipe itself. Nothing is installed at run time.
#
# Arguments: passed to `llmpipe run` (submit.sbatch passes the staged configs and paths).
#
# Environment (all optional):
#   LLMPIPE_BIN       the llmpipe binary (default: `llmpipe` on PATH, as in the image)
#   PROFILER          none (default) | nsys | perf: wrap each rank; output under PROFILE_DIR
#   PROFILE_DIR       where profiles go (default: $OUTPUT_DIR/profiles, else ./profiles)
#   PROFILER_ARGS     extra arguments for the profiler (word-split)
#   OMP_NUM_THREADS   defaults to the task's CPUs (SLURM_CPUS_PER_TASK), else 4
#   LLMPIPE_DRY_RUN   1: print the command instead of running it (for tests)
set -euo pipefail

log() { echo "run.sh[rank ${RANK:-?}]: $*"; }
die() { echo "run.sh[rank ${RANK:-?}]: error: $*" >&2; exit 1; }

# Rank identity from Slurm (srun) or, outside Slurm, from OpenMPI's mpirun.
set_rank_env() {
  export RANK=${SLURM_PROCID:-${OMPI_COMM_WORLD_RANK:-0}}
  export WORLD_SIZE=${SLURM_NTASKS:-${OMPI_COMM_WORLD_SIZE:-1}}
  export LOCAL_RANK=${SLURM_LOCALID:-${OMPI_COMM_WORLD_LOCAL_RANK:-0}}
  export OMP_NUM_THREADS=${OMP_NUM_THREADS:-${SLURM_CPUS_PER_TASK:-4}}
}

preamble() {
  log "rank $RANK of $WORLD_SIZE (local $LOCAL_RANK) on node ${SLURMD_NODENAME:-?}, host $(hostname), pid $$"
  log "job ${SLURM_JOB_ID:-none} step ${SLURM_STEP_ID:-none}, cpus ${SLURM_CPUS_PER_TASK:-?}, OMP_NUM_THREADS=$OMP_NUM_THREADS"
  log "CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES:-<unset>}, container: ${APPTAINER_CONTAINER:-${SINGULARITY_CONTAINER:-none}}"
  if command -v nvidia-smi >/dev/null 2>&1 && [[ -n "${CUDA_VISIBLE_DEVICES:-}" ]]; then
    nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv,noheader 2>&1 |
      sed "s/^/run.sh[rank $RANK]: gpu /" || true
  fi
}

# profiler_prefix: fills the array `prefix` with the profiler command for this rank.
profiler_prefix() {
  prefix=()
  local dir=${PROFILE_DIR:-${OUTPUT_DIR:-.}/profiles}
  local -a extra=()
  # Word-splitting PROFILER_ARGS is the point: it holds several arguments.
  read -r -a extra <<<"${PROFILER_ARGS:-}"
  case "${PROFILER:-none}" in
    none | "") return 0 ;;
    nsys)
      command -v nsys >/dev/null 2>&1 || die "PROFILER=nsys but nsys is not on PATH (use an image with Nsight Systems, or PROFILER=none)"
      mkdir -p "$dir"
      prefix=(nsys profile "--trace=cuda,nvtx,osrt,mpi" --force-overwrite=true -o "$dir/rank_${RANK}" "${extra[@]}")
      ;;
    perf)
      command -v perf >/dev/null 2>&1 || die "PROFILER=perf but perf is not on PATH (install linux-perf in the image, or PROFILER=none)"
      mkdir -p "$dir"
      prefix=(perf record -g -o "$dir/rank_${RANK}.perf.data" "${extra[@]}" --)
      ;;
    *) die "PROFILER must be none, nsys or perf (got '${PROFILER}')" ;;
  esac
  log "profiling with ${PROFILER} into $dir"
}

main() {
  set_rank_env
  preamble
  local bin=${LLMPIPE_BIN:-llmpipe}
  if [[ "$bin" == */* ]]; then
    [[ -x "$bin" ]] || die "LLMPIPE_BIN=$bin is not an executable file (build it with scripts/build.sh, or set IMAGE)"
  else
    command -v "$bin" >/dev/null 2>&1 || die "'$bin' is not on PATH (set LLMPIPE_BIN)"
  fi
  local -a prefix
  profiler_prefix
  # Compute threads = the task's CPUs: without a CPU-binding task plugin the rank would see
  # every core of the node. Arguments given later (LLMPIPE_ARGS) still win.
  local -a threads=()
  [[ -n "${SLURM_CPUS_PER_TASK:-}" ]] && threads=(--threads "$SLURM_CPUS_PER_TASK")
  local -a cmd=("${prefix[@]}" "$bin" run "${threads[@]}" "$@")
  log "exec ${cmd[*]}"
  if [[ "${LLMPIPE_DRY_RUN:-0}" == 1 ]]; then
    return 0
  fi
  exec "${cmd[@]}"
}

main "$@"
