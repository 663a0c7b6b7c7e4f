#!/usr/bin/env bash
# The pipeline on the GPU: P = 1 and P = 2 ranks sharing one GPU (mpirun -n 2 ... --backend
# cuda), and P = 2 with --gpu-layers 1 (each stage's other layers on the CPU): greedy
# completions identical to llama.cpp's reference (as the CPU gives them), and the device memory
# plan in each rank's log. Activation hops: ranks sharing a GPU take the host path (and
# --hop-transport nccl is refused at start, on every rank, without a hang); with two GPUs,
# P = 2 over NCCL gives the reference completions too. Default --gpu-layers (all that fit):
# under a --gpu-memory cap below the whole stage's plan, the first layers that fit go on the
# GPU and the rest on the CPU, with the reference completions; a cap below one layer is a
# clear error. Exits 77 (CTest: skipped) when no GPU is visible (no NVIDIA driver, or no
# device); a driver that is there but fails is a failure, not a skip (cuda_probe tells them apart).
source "$(dirname "$0")/../integration/lib.sh"

set +e
probe=$("${LLMPIPE_CUDA_PROBE:?the cuda_probe tool (tests/CMakeLists.txt sets it)}" 2>&1)
rc=$?
set -e
if ((rc == 77)); then
  echo "skipped: $probe"
  exit 77
fi
((rc == 0)) || fail "$probe"

reference_prompts "$WORK/prompts.jsonl"
gpus=${probe%% *}  # "N CUDA device(s)"
runs=("1 f16" "1 f32" "2 f16" "2 f32" "2 f16 --gpu-layers 1")
if (( gpus >= 2 )); then
  runs+=("2 f32 --hop-transport nccl")
else
  echo "skipped: P = 2 over NCCL needs two GPUs, this machine has $gpus (not counted as passed)"
fi
for run in "${runs[@]}"; do
  read -r p kv extra <<< "$run"
  extra=${extra:-}
  read -r -a extra_args <<< "$extra"
  out="$WORK/p$p-$kv${extra// /}"
  mpirun_llmpipe "$p" 300 run -m "$MODEL" --prompts "$WORK/prompts.jsonl" -o "$out" \
    --max-new-tokens 128 --threads 1 --backend cuda --kv-type "$kv" --batch-size 2 "${extra_args[@]}" \
    > "$out.stdout" 2> "$out.stderr" || { cat "$out.stderr"; fail "P=$p kv $kv $extra run failed"; }
  python3 - "$out" "$REFERENCE" <<'PY' || fail "P=$p kv $kv outputs differ from the reference"
import json, sys
out, ref_path = sys.argv[1], sys.argv[2]
refs = [json.loads(l) for l in open(ref_path)]
done = {c["id"]: c for c in map(json.loads, open(f"{out}/completions.jsonl"))}
assert len(done) == len(refs), f"{len(done)} completions for {len(refs)} prompts"
for i, ref in enumerate(refs):
  assert done[i]["completion"] == ref["greedy_text"], (i, done[i]["completion"], ref["greedy_text"])
PY
  grep -q "device memory plan" "$out/rank_0.log" || fail "no device memory plan in the rank log"
  grep -q "cuda:" "$out/rank_0.log" || fail "rank 0 did not run on the GPU"
  [[ -z "$extra" ]] || grep -q "offload: layers" "$out/rank_0.log" || fail "no offload line"
  pass "P=$p, kv $kv $extra: completions identical to the reference on --backend cuda"
done

# The hop of P = 2: on one GPU both ranks share it, so the host path, and the log says why.
if (( gpus == 1 )); then
  grep -q "hop 0 -> 1: MPI through host memory: both ranks use GPU-" "$WORK/p2-f16/rank_0.log" ||
    fail "rank 0's log does not say why the shared-GPU hop takes the host path"
  pass "ranks sharing a GPU: activations through host memory, with the reason in the log"
  set +e
  mpirun_llmpipe 2 120 run -m "$MODEL" --prompts "$WORK/prompts.jsonl" -o "$WORK/nccl-shared" \
    --max-new-tokens 8 --threads 1 --backend cuda --hop-transport nccl \
    > "$WORK/nccl-shared.stdout" 2> "$WORK/nccl-shared.stderr"
  code=$?
  set -e
  (( code != 0 && code != 124 && code != 137 )) ||
    fail "--hop-transport nccl on a shared GPU: exit $code (expected a refusal, not success or a hang)"
  grep -q "hop 0 -> 1 cannot use NCCL: both ranks use GPU-" "$WORK/nccl-shared.stderr" ||
    { cat "$WORK/nccl-shared.stderr"; fail "no clear refusal of NCCL on a shared GPU"; }
  pass "--hop-transport nccl on a shared GPU: refused at start with the reason (exit $code)"
else
  grep -q "hop 0 -> 1: NCCL" "$WORK/p2-f32--hop-transportnccl/rank_0.log" ||
    fail "rank 0's log does not show the NCCL hop"
  pass "P = 2 on two GPUs: activations over NCCL"
fi

# Default --gpu-layers: all that fit. The whole model's plan at 64 slots x 512 positions (an F32
# cache of 8 MiB per layer), then a cap ~6 MiB below it: some layers on the GPU, the rest on
# the CPU, the same completions; a cap below the workspace alone: a clear error, no hang.
fit_args=(run -m "$MODEL" --prompts "$WORK/prompts.jsonl" --max-new-tokens 32 --threads 1
  --backend cuda --kv-type f32 --batch-size 64 --ctx-size 512)
mpirun_llmpipe 1 300 "${fit_args[@]}" -o "$WORK/fit-all" > "$WORK/fit-all.stdout" 2> "$WORK/fit-all.stderr" ||
  { cat "$WORK/fit-all.stderr"; fail "the uncapped run failed"; }
use=$(sed -n 's/.*device memory plan: .* = \([0-9]*\) MiB; free.*/\1/p' "$WORK/fit-all/rank_0.log" | head -1)
[[ -n "$use" ]] || fail "no device memory total in $WORK/fit-all/rank_0.log"
mpirun_llmpipe 1 300 "${fit_args[@]}" -o "$WORK/fit-part" --gpu-memory "$(( use - 6 ))M" \
  > "$WORK/fit-part.stdout" 2> "$WORK/fit-part.stderr" || { cat "$WORK/fit-part.stderr"; fail "the capped run failed"; }
grep -Eq "device memory: all 5 layers need .*: the first [1-4] on the GPU, the other [1-4] on the CPU" \
  "$WORK/fit-part/rank_0.log" || { cat "$WORK/fit-part/rank_0.log"; fail "no partial placement under --gpu-memory $(( use - 6 ))M"; }
python3 - "$WORK/fit-all" "$WORK/fit-part" <<'PY' || fail "partial placement changed the completions"
import json, sys
a, b = ({c["id"]: c["completion"] for c in map(json.loads, open(f"{d}/completions.jsonl"))} for d in sys.argv[1:])
assert a == b and len(a) > 0, (a, b)
stages = [json.load(open(f"{d}/metrics.json"))["stages"][0] for d in sys.argv[1:]]
assert stages[0]["gpu_layers"] == 5 and 1 <= stages[1]["gpu_layers"] <= 4, stages
assert stages[0]["tensors"] == stages[1]["tensors"], stages  # both parts counted
PY
pass "default --gpu-layers under --gpu-memory $(( use - 6 ))M: $(grep -o 'the first [0-9]* on the GPU' "$WORK/fit-part/rank_0.log"), same completions"
set +e
mpirun_llmpipe 1 120 "${fit_args[@]}" -o "$WORK/fit-none" --gpu-memory 8M > "$WORK/fit-none.stdout" 2> "$WORK/fit-none.stderr"
code=$?
set -e
(( code != 0 && code != 124 && code != 137 )) || fail "--gpu-memory 8M: exit $code (expected a clear error)"
grep -q "not even one layer fits" "$WORK/fit-none.stderr" ||
  { cat "$WORK/fit-none.stderr"; fail "no clear error when not one layer fits"; }
pass "--gpu-memory 8M: refused before loading, 'not even one layer fits' (exit $code)"
