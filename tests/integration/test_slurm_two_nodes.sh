#!/usr/bin/env bash
# A real Slurm cluster of two emulated nodes on this machine (slurm_cluster.sh), and the real
# job script deploy/slurm/submit.sbatch submitted with `sbatch --wait`:
#   1. a two-node pipeline run: completions (equal to a local mpirun run), per-rank logs from
#      both nodes, metrics.json, the job-end summary; the default GPU gres request (fake GPUs);
#   2. a rank killed mid-run: the job fails fast (non-zero sbatch exit within a bound) and the
#      logs name the lost rank; completions.jsonl holds only whole lines; and a bad layer split:
#      fast failure with the rank's error message in its output and in the summary;
#   3. the time-limit warning (SIGUSR1 to the batch shell, what --signal=B:USR1@60 sends): the
#      ranks stop between batches, list unfinished prompts, write metrics.json, exit 75;
#   4. scripts/experiment in slurm mode (one sbatch job per sweep point);
#   5. container mode (IMAGE set) through fake_apptainer.sh, which checks that every path the
#      ranks get lies under a bind (/tmp/workspace, /app, /workspace/model) and runs it natively.
# Needs root (it starts munged, slurmctld and two slurmd); installs Slurm if missing.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/slurm_cluster.sh"

trap 'slurm_cluster_stop; rm -rf "$WORK"' EXIT
((EUID == 0)) || fail "needs root: it runs its own slurmctld/slurmd (SlurmUser=root)"

SUBMIT="$LLMPIPE_SOURCE_DIR/deploy/slurm/submit.sbatch"
export SLURM_CLUSTER_GPUS=1
slurm_cluster_start "$WORK/cluster" || fail "could not start the test cluster"

# What every job shares: the native binary CTest built, a private workspace, a short run.
export LLMPIPE_REPO=$LLMPIPE_SOURCE_DIR LLMPIPE_BIN WORKDIR=$WORK/workspace
mkdir -p "$WORKDIR"
# The test cluster has 2 cores per node: one CPU per rank (the default asks for 4).
common=(--wait --nodes=2 --ntasks-per-node=1 --cpus-per-task=1 --time=5)

# job_id_of SBATCH_OUTPUT: the job id sbatch printed.
job_id_of() { grep -o 'Submitted batch job [0-9]*' "$1" | grep -o '[0-9]*$'; }

# ---- 1. a two-node run ---------------------------------------------------------------------
rc=0
start=$SECONDS
OUTPUT_DIR=$WORK/ok LLMPIPE_ARGS="-n 24 --threads 1" \
  timeout --kill-after=5 120 sbatch "${common[@]}" --output="$WORK/ok.job.out" "$SUBMIT" \
  >"$WORK/ok.sbatch" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/ok.sbatch" "$WORK/ok.job.out" "$WORK"/ok/srun_rank*.out 2>/dev/null; fail "two-node job: sbatch --wait exited $rc"; }
pass "two-node job finished in $((SECONDS - start))s"

# The same prompts through a local mpirun: the Slurm run must produce the same tokens.
mpirun_llmpipe 2 120 run --exp-config "$LLMPIPE_SOURCE_DIR/configs/exp_config.json" \
  --prompts "$LLMPIPE_SOURCE_DIR/configs/prompts.jsonl" -m "$MODEL" -o "$WORK/local" -n 24 \
  --threads 1 >"$WORK/local.out" 2>&1 || { cat "$WORK/local.out"; fail "local mpirun run failed"; }

python3 - "$WORK/ok" "$WORK/local" "$LLMPIPE_SOURCE_DIR/configs/prompts.jsonl" <<'PY' || fail "two-node job outputs"
import json, re, sys
out, local, prompts = sys.argv[1:]
want = [json.loads(l)["id"] for l in open(prompts)]
done = {c["id"]: c for c in map(json.loads, open(f"{out}/completions.jsonl"))}
ref = {c["id"]: c for c in map(json.loads, open(f"{local}/completions.jsonl"))}
assert sorted(done) == sorted(want), (sorted(done), want)
for i in want:
    assert done[i]["completion_tokens"] > 0, done[i]
    assert done[i]["completion"] == ref[i]["completion"], (i, done[i]["completion"], ref[i]["completion"])
m = json.load(open(f"{out}/metrics.json"))
assert m["world_size"] == 2 and len(m["stages"]) == 2 and m["prompts"] == len(want), m
assert m["stopped_by_signal"] is None and m["unfinished"] == 0, m
nodes = {}
for r in (0, 1):
    log = open(f"{out}/rank_{r}.log").read()
    node = re.search(r"rank %d of 2 on \S+ \(slurm node (\w+)\)" % r, log)
    assert node, f"rank_{r}.log does not name its Slurm node:\n{log[:400]}"
    nodes[r] = node.group(1)
    srun_out = open(f"{out}/srun_rank{r}.out").read()
    assert f"rank {r} of 2 (local 0) on node {nodes[r]}" in srun_out, srun_out[:400]
    # The default request is one GPU per task: the fake gres shows up as a visible device.
    assert "CUDA_VISIBLE_DEVICES=0" in srun_out, srun_out[:400]
assert set(nodes.values()) == {"n1", "n2"}, f"ranks did not run on both nodes: {nodes}"
print(f"ok: {len(done)} completions equal to the local run; rank 0 on {nodes[0]}, rank 1 on {nodes[1]}")
PY
for f in exp_config.json ds_config.json prompts.jsonl; do
  [[ -f "$WORKDIR/runs/$(job_id_of "$WORK/ok.sbatch")/$f" ]] || fail "$f was not staged into the workspace"
done
summary=$WORK/ok/job_summary.txt
[[ -f "$summary" ]] || fail "no job_summary.txt"
grep -q "^== llmpipe job [0-9]* summary ==" "$summary" || fail "summary header missing"
grep -q "srun exit: 0" "$summary" || { cat "$summary"; fail "summary lacks srun exit 0"; }
grep -q "completions: 5" "$summary" || { cat "$summary"; fail "summary lacks the completion count"; }
# Accounting is off in the test cluster: the summary must fall back to scontrol.
grep -q "JobState=" "$summary" || { cat "$summary"; fail "summary lacks the scheduler view"; }
grep -q "summary ==" "$WORK/ok.job.out" || fail "job output lacks the summary"
pass "two-node job: completions, rank logs from n1 and n2, metrics.json, staged inputs, summary"

# Long runs for the next two jobs: many prompts, so there is time to act mid-run.
python3 -c '
import json
for i in range(400): print(json.dumps({"id": i, "prompt": "Once upon a time"}))' >"$WORK/many.jsonl"

# submit_long NAME EXTRA_SBATCH_ARGS...: starts a long job in the background; sets job_pid.
submit_long() {
  local name=$1
  shift
  PROMPTS=$WORK/many.jsonl OUTPUT_DIR=$WORK/$name LLMPIPE_ARGS="-n 128 --threads 1" \
    timeout --kill-after=5 150 sbatch "${common[@]}" --output="$WORK/$name.job.out" "$@" "$SUBMIT" \
    >"$WORK/$name.sbatch" 2>&1 &
  job_pid=$!
}

# wait_for_completions NAME: until the job has written a completion (at most 60 s).
wait_for_completions() {
  local _
  for _ in $(seq 1 600); do
    [[ -s "$WORK/$1/completions.jsonl" ]] && return 0
    sleep 0.1
  done
  cat "$WORK/$1.sbatch" "$WORK/$1.job.out" "$WORK/$1"/srun_rank*.out 2>/dev/null
  fail "$1: no completion within 60 s"
}

whole_lines() {
  python3 - "$1" <<'PY'
import json, sys
data = open(sys.argv[1]).read()
assert data.endswith("\n"), "last line is incomplete"
print(len([json.loads(l) for l in data.splitlines()]))
PY
}

# ---- 2. a rank dies: the job fails fast ----------------------------------------------------
# No GPU request this time (GPUS_PER_TASK=0 in submit.sh terms).
submit_long killed --gres=none
wait_for_completions killed
victim=$(grep -o 'pid [0-9]*' "$WORK/killed/rank_1.log" | head -1 | cut -d' ' -f2)
[[ -n "$victim" ]] || fail "rank 1 pid not logged"
kill -9 "$victim"
killed_at=$SECONDS
rc=0
wait "$job_pid" || rc=$?
elapsed=$((SECONDS - killed_at))
[[ $rc -ne 0 ]] || fail "job exited 0 after a rank was killed"
# (137 would also be the job's own status: srun passes on the killed rank's 128 + 9.)
[[ $rc -ne 124 ]] || fail "job hung until the test's timeout"
((elapsed <= 30)) || fail "job took ${elapsed}s to end after the kill"
grep -Eq "task 1: Killed|rank 1|task 1" "$WORK/killed.job.out" ||
  { cat "$WORK/killed.job.out"; fail "the job output does not name the lost rank"; }
grep -q "FAILED: srun exited" "$WORK/killed.job.out" || { cat "$WORK/killed.job.out"; fail "no failure line"; }
grep -Eq "srun exit: [1-9]" "$WORK/killed/job_summary.txt" || fail "summary lacks the non-zero srun exit"
grep -q "n2: task 1: Killed" "$WORK/killed/job_summary.txt" ||
  { cat "$WORK/killed/job_summary.txt"; fail "summary does not name the killed rank and its node"; }
# The survivor was told to stop (SIGTERM from --kill-on-bad-exit) and said so before exiting.
grep -q "rank 0: received SIGTERM: exiting now" "$WORK/killed/srun_rank0.out" ||
  { cat "$WORK/killed/srun_rank0.out"; fail "rank 0 did not report its prompt exit"; }
[[ ! -f "$WORK/killed/metrics.json" ]] || fail "metrics.json written by a failed run"
n=$(whole_lines "$WORK/killed/completions.jsonl") || fail "killed job: torn completions.jsonl"
pass "rank killed: sbatch exit $rc ${elapsed}s after the kill, $n whole completion lines"

# ---- 2b. a configuration error: every rank refuses before loading weights, rank 0 says why --
rc=0
start=$SECONDS
OUTPUT_DIR=$WORK/badsplit LLMPIPE_ARGS="--layer-split 2,2" \
  timeout --kill-after=5 60 sbatch "${common[@]}" --gres=none --output="$WORK/badsplit.job.out" "$SUBMIT" \
  >"$WORK/badsplit.sbatch" 2>&1 || rc=$?
[[ $rc -ne 0 && $rc -ne 124 ]] || fail "bad layer split: sbatch exit $rc"
((SECONDS - start <= 30)) || fail "bad layer split: took $((SECONDS - start))s"
msg="layer split sums to 4 layers but the model has 5"
grep -q "$msg" "$WORK/badsplit/srun_rank0.out" || { cat "$WORK/badsplit/srun_rank0.out"; fail "rank 0 output lacks '$msg'"; }
grep -q "$msg" "$WORK/badsplit/job_summary.txt" || { cat "$WORK/badsplit/job_summary.txt"; fail "summary lacks the rank's error"; }
pass "bad layer split: sbatch exit $rc in $((SECONDS - start))s, error in rank 0's output and the summary"

# ---- 3. the time-limit warning: a clean early stop ------------------------------------------
# Submitted through submit.sh this time: sizes from environment variables, no GPU gres.
PROMPTS=$WORK/many.jsonl OUTPUT_DIR=$WORK/stopped LLMPIPE_ARGS="-n 128 --threads 1" \
  NODES=2 TASKS_PER_NODE=1 CPUS_PER_TASK=1 GPUS_PER_TASK=0 TIME_LIMIT=5 JOB_OUTPUT=$WORK/stopped.job.out \
  timeout --kill-after=5 150 "$LLMPIPE_SOURCE_DIR/deploy/slurm/submit.sh" --wait >"$WORK/stopped.sbatch" 2>&1 &
job_pid=$!
wait_for_completions stopped
grep -q -- "--gres=none" "$WORK/stopped.sbatch" || { cat "$WORK/stopped.sbatch"; fail "submit.sh did not drop the GPU request"; }
job=$(job_id_of "$WORK/stopped.sbatch")
# Wait for the job id (sbatch prints it at once, but it runs in the background).
for _ in $(seq 1 50); do
  [[ -n "$job" ]] && break
  sleep 0.1
  job=$(job_id_of "$WORK/stopped.sbatch")
done
[[ -n "$job" ]] || fail "no job id for the stop test"
timeout 10 scancel --batch --signal=USR1 "$job" || fail "scancel --signal=USR1 failed"
signalled_at=$SECONDS
rc=0
wait "$job_pid" || rc=$?
elapsed=$((SECONDS - signalled_at))
[[ $rc -eq 75 ]] || { cat "$WORK/stopped.job.out" "$WORK"/stopped/srun_rank*.out; fail "stopped job: sbatch exit $rc, want 75"; }
((elapsed <= 30)) || fail "stop took ${elapsed}s"
grep -q "received SIGUSR1" "$WORK/stopped.job.out" || fail "batch script did not log the signal"
grep -q "received SIGUSR1: finishing the batch in flight" "$WORK/stopped/srun_rank0.out" ||
  { cat "$WORK"/stopped/srun_rank0.out; fail "rank 0 did not get the forwarded signal"; }
whole_lines "$WORK/stopped/completions.jsonl" >/dev/null || fail "stopped job: torn completions.jsonl"
python3 - "$WORK/stopped" <<'PY' || fail "stopped job outputs"
import json, sys
out = sys.argv[1]
done = [json.loads(l)["id"] for l in open(f"{out}/completions.jsonl")]
left = [json.loads(l) for l in open(f"{out}/errors.jsonl")]
assert all("stopped by SIGUSR1" in e["error"] for e in left), left[:3]
assert sorted(done + [e["id"] for e in left]) == list(range(400)), "completed + unfinished != all prompts"
m = json.load(open(f"{out}/metrics.json"))
assert m["stopped_by_signal"] == "SIGUSR1" and m["unfinished"] == len(left) and m["prompts"] == len(done), m
print(f"ok: {len(done)} completed, {len(left)} listed as unfinished")
PY
grep -q "stop signal: SIGUSR1" "$WORK/stopped/job_summary.txt" || fail "summary lacks the stop signal"
pass "SIGUSR1 before the time limit: clean stop in ${elapsed}s, exit 75, metrics.json written"

# ---- 4. scripts/experiment in slurm mode: one sbatch job per point --------------------------
cat >"$WORK/sweep.json" <<JSON
{"name": "slurm", "mode": "slurm", "stages": [1, 2], "batch_sizes": [2], "reps": 1,
 "max_new_tokens": 8, "slurm_args": ["--gres=none", "--cpus-per-task=1", "--time=5"],
 "timeout_s": 120}
JSON
timeout --kill-after=5 300 "$LLMPIPE_SOURCE_DIR/scripts/experiment" "$WORK/sweep.json" \
  -o "$WORK/sweep" --llmpipe "$LLMPIPE_BIN" --no-plots >"$WORK/sweep.log" 2>&1 ||
  { cat "$WORK/sweep.log"; fail "experiment in slurm mode failed"; }
python3 - "$WORK/sweep" <<'PY' || fail "slurm-mode experiment outputs"
import csv, json, os, sys
out = sys.argv[1]
rows = list(csv.DictReader(open(f"{out}/results.csv")))
assert [int(r["stages"]) for r in rows] == [1, 2], rows
for r in rows:
    d = os.path.join(out, r["run_dir"])
    assert json.load(open(f"{d}/metrics.json"))["world_size"] == int(r["stages"])
    assert "summary ==" in open(f"{d}/job.out").read(), "no job summary"
assert "| 2 | 2 | 5 | 1 |" in open(f"{out}/report.md").read()
print("ok: one Slurm job per point, results.csv and report.md")
PY
pass "experiment, mode slurm"

# ---- 5. container mode: the binds and container paths submit.sbatch builds ------------------
: >"$WORK/fake.sif"
rc=0
env -u LLMPIPE_BIN IMAGE="$WORK/fake.sif" APPTAINER="$LLMPIPE_SOURCE_DIR/tests/integration/fake_apptainer.sh" \
  FAKE_APPTAINER_LLMPIPE="$LLMPIPE_BIN" FAKE_APPTAINER_LOG="$WORK/apptainer.log" MODULES="" \
  OUTPUT_DIR="$WORK/container" LLMPIPE_ARGS="-n 8" \
  timeout --kill-after=5 120 sbatch "${common[@]}" --gres=none --output="$WORK/container.job.out" "$SUBMIT" \
  >"$WORK/container.sbatch" 2>&1 || rc=$?
[[ $rc -eq 0 ]] || { cat "$WORK/container.sbatch" "$WORK/container.job.out" "$WORK"/container/srun_rank*.out 2>/dev/null; fail "container-mode job exited $rc"; }
job=$(job_id_of "$WORK/container.sbatch")
[[ $(grep -c . "$WORK/container/completions.jsonl") -eq 5 ]] || fail "container mode: want 5 completions"
[[ $(grep -c "^nv=1 binds=4 image=$WORK/fake.sif cmd=bash /app/deploy/slurm/run.sh " "$WORK/apptainer.log") -eq 2 ]] ||
  { cat "$WORK/apptainer.log"; fail "want one apptainer exec --nv per rank binding workspace, repo, model and the outside output dir"; }
for want in "--model /workspace/model/stories260K.gguf" "--prompts /tmp/workspace/runs/$job/prompts.jsonl" \
  "--exp-config /tmp/workspace/runs/$job/exp_config.json" "--output-dir $WORK/container"; do
  grep -qF -- "$want" "$WORK/apptainer.log" || { cat "$WORK/apptainer.log"; fail "container command lacks '$want'"; }
done
grep -q "container: $WORK/fake.sif" "$WORK/container/srun_rank1.out" || fail "rank preamble does not name the image"
pass "container mode: binds and container paths, 5 completions"
