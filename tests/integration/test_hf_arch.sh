#!/usr/bin/env bash
# Every supported architecture against Hugging Face transformers' own outputs, stored with the
# fixtures (tests/data/hf-arch/<name>/, made by tests/tools/make_hf_arch_fixtures.py; no torch
# needed here): LLaMA with llama3 and linear rope scaling, Mistral with a sliding window of 8,
# Qwen2 (q/k/v biases, tied embeddings, NEOX RoPE), Qwen3 (q/k norms, head_dim 32 != 64 / 4).
#  1. check_hf_arch: last-position logits within the tolerance of transformers' (derivation in
#     tests/data/README.md) and 16 greedy tokens identical, for the HF directory and for its
#     `llmpipe convert` to GGUF, as one stage and split into two stages.
#  2. the converted GGUF has the architecture's keys and tensors (qwen2.* / qwen3.*,
#     rope_freqs.weight for llama3, no output.weight when tied).
#  3. `llmpipe run` over mpirun, 1 and 2 ranks (HF directory) and 2 ranks (GGUF): completions of
#     the stories260K prompts equal transformers' greedy tokens decoded.
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
CHECK="$build_dir/tests/check_hf_arch"
[[ -x $CHECK ]] || fail "missing $CHECK (build target check_hf_arch)"
DATA="$LLMPIPE_TEST_DATA/hf-arch"
# float32 against float32: the measured differences are below 1e-5 (tests/data/README.md).
TOL=${HF_ARCH_TOL:-1e-4}

python3 - "$REFERENCE" > "$WORK/prompts.jsonl" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    print(json.dumps({"id": i, "prompt": json.loads(line)["prompt"], "max_new_tokens": 16}))
PY

for dir in "$DATA"/*/; do
  name=$(basename "$dir")
  ref="$dir/reference.json"
  "$LLMPIPE_BIN" convert "$dir" "$WORK/$name.gguf" -q || fail "$name: convert"
  for model in "$dir" "$WORK/$name.gguf"; do
    for split in 0 1; do
      out=$("$CHECK" "$model" "$ref" --split "$split" --tol "$TOL") || { echo "$out"; fail "$name: $model split $split"; }
      pass "$(tail -1 <<< "$out") [$( [[ $model == *.gguf ]] && echo gguf || echo hf)]"
    done
  done

  python3 - "$LLMPIPE_SOURCE_DIR/tests/integration" "$WORK/$name.gguf" "$name" <<'PY' || fail "$name: GGUF keys"
import sys
sys.path.insert(0, sys.argv[1])
from make_hf_fixture import read_gguf
meta, tensors = read_gguf(sys.argv[2])
name = sys.argv[3]
names = set(tensors)
arch = {"qwen2": "qwen2", "qwen3": "qwen3"}.get(name, "llama")
assert meta["general.architecture"] == arch, meta["general.architecture"]
assert meta[arch + ".block_count"] == 2
if name == "qwen3":
    assert meta["qwen3.attention.key_length"] == 32 and "blk.1.attn_k_norm.weight" in names
if name == "qwen2":
    assert "blk.0.attn_q.bias" in names and "output.weight" not in names
assert ("rope_freqs.weight" in names) == (name == "llama3-rope"), name
if name == "llama-linear":
    assert meta["llama.rope.scaling.type"] == "linear" and meta["llama.rope.scaling.factor"] == 4.0
if name == "mistral-window":
    assert meta["llama.attention.sliding_window"] == 8
PY
  pass "$name: converted GGUF has the architecture's keys and tensors"

  "$CHECK" "$dir" "$ref" --texts > "$WORK/$name.expected" || fail "$name: expected texts"
  for run in "hf 1 $dir" "hf 2 $dir" "gguf 2 $WORK/$name.gguf"; do
    read -r kind p model <<< "$run"
    o="$WORK/out-$name-$kind-$p"
    mpirun_llmpipe "$p" 300 run -m "$model" --prompts "$WORK/prompts.jsonl" -o "$o" \
      --temperature 0 --kv-type f32 --threads 1 > "$o.log" 2>&1 || { cat "$o.log"; fail "$name $kind P=$p run"; }
    python3 - "$o/completions.jsonl" "$WORK/$name.expected" <<'PY' || fail "$name $kind P=$p completions"
import json, sys
got = {c["id"]: c["completion"] for c in map(json.loads, open(sys.argv[1]))}
want = [json.loads(l)["completion"] for l in open(sys.argv[2])]
for i in range(3):  # the stories260K prompts (the 4th reference prompt has no text)
    if got.get(str(i), got.get(i)) != want[i]:
        sys.exit(f"prompt {i}: got {got.get(str(i), got.get(i))!r}, transformers {want[i]!r}")
PY
    pass "$name $kind P=$p: run completions equal transformers' greedy tokens"
  done
done
