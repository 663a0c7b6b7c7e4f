#!/usr/bin/env bash
# A job that survives its time limit: deploy/slurm/submit.sbatch with REQUEUE=1 on a real
# two-node Slurm cluster (slurm_cluster.sh). Mid-run the batch shell gets SIGUSR1 (what
# --signal=B:USR1@60 sends before the time limit); the ranks stop cleanly (exit 75), the script
# requeues the job, Slurm restarts it, and the restarted job resumes by itself (--resume from
# SLURM_RESTART_COUNT): at the end completions.jsonl holds every prompt exactly once, each the
# same greedy text as an uninterrupted local run, and the job ends with exit 0 after one restart.
# Needs root (it starts munged, slurmctld and two slurmd); installs Slurm if missing.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
# shellcheck source=slurm_cluster.sh
source "$(dirname "$0")/slurm_cluster.sh"

trap 'slurm_cluster_stop; rm -rf "$WORK"' EXIT
((EUID == 0)) || fail "needs root: it runs its own slurmctld/slurmd (SlurmUser=root)"
slurm_cluster_start "$WORK/cluster" || fail "could not start the test cluster"

export LLMPIPE_REPO=$LLMPIPE_SOURCE_DIR LLMPIPE_BIN WORKDIR=$WORK/workspace
mkdir -p "$WORKDIR"
python3 -c '
import json
for i in range(300): print(json.dumps({"id": i, "prompt": "Once upon a time" if i % 2 else "Tom had a dog"}))' \
  >"$WORK/many.jsonl"

start=$SECONDS
PROMPTS=$WORK/many.jsonl OUTPUT_DIR=$WORK/out LLMPIPE_ARGS="-n 96 --threads 1 --temperature 0" REQUEUE=1 \
  timeout --kill-after=5 500 sbatch --wait --nodes=2 --ntasks-per-node=1 --cpus-per-task=1 --time=10 \
  --gres=none --open-mode=append --output="$WORK/job.out" "$LLMPIPE_SOURCE_DIR/deploy/slurm/submit.sbatch" \
  >"$WORK/sbatch.out" 2>&1 &
job_pid=$!
for _ in $(seq 1 600); do
  [[ -s "$WORK/out/completions.jsonl" ]] && break
  sleep 0.1
done
[[ -s "$WORK/out/completions.jsonl" ]] || { cat "$WORK/sbatch.out" "$WORK/job.out"; fail "no completion within 60 s"; }
job=$(grep -o 'Submitted batch job [0-9]*' "$WORK/sbatch.out" | grep -o '[0-9]*$') || fail "no job id"
timeout 10 scancel --batch --signal=USR1 "$job" || fail "scancel --signal=USR1 failed"
rc=0
wait "$job_pid" || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/sbatch.out" "$WORK/job.out"; fail "requeued job: sbatch --wait exited $rc, want 0"; }
grep -q "requeueing job $job (restart 1 of at most 10)" "$WORK/job.out" ||
  { cat "$WORK/job.out"; fail "the stopped job did not requeue itself"; }
grep -q "resuming in $WORK/out (restart 1)" "$WORK/job.out" ||
  { cat "$WORK/job.out"; fail "the requeued job did not resume"; }
grep -q "resume: [1-9][0-9]* completions kept" "$WORK/out/rank_0.log" ||
  { cat "$WORK/out/rank_0.log"; fail "the resumed run kept no completions"; }
echo "requeued job done in $((SECONDS - start)) s"

# The same prompts uninterrupted, locally: every id once, each the same text.
mpirun_llmpipe 2 300 run -m "$MODEL" --prompts "$WORK/many.jsonl" -o "$WORK/ref" -n 96 --threads 1 \
  --temperature 0 >"$WORK/ref.out" 2>&1 || { cat "$WORK/ref.out"; fail "reference run failed"; }
python3 - "$WORK/out" "$WORK/ref" <<'PY' || fail "requeued outputs differ from an uninterrupted run"
import json, sys
got = [json.loads(l) for l in open(f"{sys.argv[1]}/completions.jsonl")]
ref = {c["id"]: c["completion"] for c in map(json.loads, open(f"{sys.argv[2]}/completions.jsonl"))}
ids = [c["id"] for c in got]
assert len(ids) == len(set(ids)), "an id completed twice"
assert sorted(ids) == list(range(300)), f"{300 - len(set(ids))} prompts missing"
bad = [c["id"] for c in got if c["completion"] != ref[c["id"]]]
assert not bad, f"texts differ for ids {bad[:5]}"
m = json.load(open(f"{sys.argv[1]}/metrics.json"))
assert m["prompts"] == 300 and m["resumed"]["completions_kept"] > 0, m
print(f"ok: 300 prompts once each, {m['resumed']['completions_kept']} kept across the requeue")
PY
pass "REQUEUE=1: stopped by the time-limit signal, requeued, resumed, every prompt once as uninterrupted"
