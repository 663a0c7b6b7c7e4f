#!/usr/bin/env bash
# Misconfigurations fail before loading any weight, with a message saying what to fix, on every
# rank and without hanging; bad prompt lines are recorded in errors.jsonl and the run goes on.
source "$(dirname "$0")/lib.sh"

printf '{"prompt": "Once upon a time"}\n' > "$WORK/one.jsonl"
expect_failure() {  # expect_failure NAME "MESSAGE" P ARGS...
  local name=$1 message=$2 p=$3
  shift 3
  local rc=0
  mpirun_llmpipe "$p" 60 run -m "$MODEL" --prompts "$WORK/one.jsonl" -o "$WORK/$name" "$@" \
    > "$WORK/$name.out" 2>&1 || rc=$?
  [[ $rc -ne 0 ]] || fail "$name: exited 0"
  [[ $rc -ne 124 ]] || fail "$name: hung (killed by timeout)"
  grep -qF -- "$message" "$WORK/$name.out" || { cat "$WORK/$name.out"; fail "$name: message lacks '$message'"; }
  pass "$name"
}

echo '{"pipeline_parallel_size": 3, "tensor_parallel_size": 1}' > "$WORK/ds3.json"
expect_failure world-size "pipeline_parallel_size is 3 but the job has 2 ranks" 2 --parallel-config "$WORK/ds3.json"
echo '{"distributed_training": {"pipeline_parallel_size": 2, "tensor_parallel_size": 2}}' > "$WORK/tp2.json"
expect_failure tensor-parallel "tensor_parallel_size is 2 but only pipeline parallelism is supported" 2 --parallel-config "$WORK/tp2.json"
expect_failure too-many-stages "pipeline size 6 exceeds the model's 5 layers" 6
expect_failure bad-split "layer split sums to 4 layers but the model has 5" 2 --layer-split 2,2
expect_failure missing-model "model path /nonexistent/model.gguf does not exist" 2 -m /nonexistent/model.gguf
echo '{"model": {"model_path": 42}}' > "$WORK/bad_exp.json"
expect_failure bad-exp-config "field model_path has the wrong type" 1 --exp-config "$WORK/bad_exp.json"
expect_failure nccl-on-cpu "--hop-transport nccl needs the CUDA backend" 2 --hop-transport nccl
head -c 100000 "$MODEL" > "$WORK/truncated.gguf"
expect_failure truncated-model "lies past the end of the file" 2 -m "$WORK/truncated.gguf"

# Malformed lines and an over-long prompt: error records, the good prompts still complete.
python3 - > "$WORK/mixed.jsonl" <<'PY'
import json
print(json.dumps({"id": "a", "prompt": "Once upon a time"}))
print('{"prompt": "unterminated')
print(json.dumps({"id": "no-prompt", "text": "hello"}))
print(json.dumps({"id": "long", "prompt": "Once upon a time " * 200}))
print(json.dumps({"id": "b", "prompt": "Tom and his dog went to the park", "max_new_tokens": 5}))
PY
mpirun_llmpipe 2 120 run -m "$MODEL" --prompts "$WORK/mixed.jsonl" -o "$WORK/mixed" --ctx-size 256 \
  -n 16 > "$WORK/mixed.out" 2>&1 || { cat "$WORK/mixed.out"; fail "mixed prompts run failed"; }
python3 - "$WORK/mixed" <<'PY'
import json, sys
out = sys.argv[1]
done = {c["id"]: c for c in map(json.loads, open(f"{out}/completions.jsonl"))}
errs = [json.loads(l) for l in open(f"{out}/errors.jsonl")]
assert set(done) == {"a", "b"}, done.keys()
assert done["b"]["completion_tokens"] == 5 and done["b"]["finish_reason"] == "length", done["b"]
by_line = {e["line"]: e["error"] for e in errs}
assert "not valid JSON" in by_line[2], by_line
assert "missing required field \"prompt\"" in by_line[3], by_line
assert "does not fit the context of 256 tokens" in by_line[4], by_line
assert json.load(open(f"{out}/metrics.json"))["errors"] == 3
PY
pass "malformed prompt lines"
# Each rank's log says how its hops carry activations, and why.
grep -q "hop 0 -> 1: MPI through host memory: rank 0 keeps its activations in host memory" \
  "$WORK/mixed/rank_1.log" || { cat "$WORK/mixed/rank_1.log"; fail "rank 1's log lacks its hop's path"; }
pass "hop path and reason in the rank logs"
