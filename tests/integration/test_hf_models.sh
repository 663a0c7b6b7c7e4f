#!/usr/bin/env bash
# Hugging Face model directories made from the bundled GGUF model (make_hf_fixture.py): config.json,
# tokenizer.model, and weights as safetensors and torch.save .bin, single files and 2 shards with
# an index. Greedy completions through the real pipeline (P = 1 and 2 ranks) must be
# token-identical to llama.cpp's reference for the GGUF model, every rank holding only its tensors.
source "$(dirname "$0")/lib.sh"

# python3 with PyTorch (Debian's python3-torch lives in /usr/bin/python3's path) writes the .bin
# fixtures with torch.save itself; without it they are written by the stdlib replica too.
TORCH_PY=""
for py in python3 /usr/bin/python3; do
  if command -v "$py" > /dev/null && "$py" -c "import torch" 2> /dev/null; then TORCH_PY=$py; break; fi
done
FIXTURE="$LLMPIPE_SOURCE_DIR/tests/integration/make_hf_fixture.py"
python3 "$FIXTURE" "$MODEL" "$WORK/hf" --bin-writer stdlib \
  --variants st-single,st-sharded,bin-single,bin-sharded || fail "fixture"
VARIANTS=(st-single st-sharded bin-single bin-sharded)
if [[ -n "$TORCH_PY" ]]; then
  "$TORCH_PY" "$FIXTURE" "$MODEL" "$WORK/hf-torch" --bin-writer torch --variants bin-single,bin-sharded ||
    fail "torch fixture"
  for v in bin-single bin-sharded; do ln -s "$WORK/hf-torch/$v" "$WORK/hf/torch-$v"; done
  VARIANTS+=(torch-bin-single torch-bin-sharded)
else
  echo "note: PyTorch not importable: .bin fixtures come from the stdlib torch.save replica only"
fi

# LLMPIPE_HF_VARIANTS="st-single bin-single" narrows the run when debugging.
[[ -n "${LLMPIPE_HF_VARIANTS:-}" ]] && read -r -a VARIANTS <<< "$LLMPIPE_HF_VARIANTS"

reference_prompts "$WORK/prompts.jsonl"
check_run() {  # check_run OUT P
  python3 - "$1" "$2" "$REFERENCE" <<'PY'
import json, sys, re
out, p, ref_path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
refs = [json.loads(l) for l in open(ref_path)]
done = {c["id"]: c for c in map(json.loads, open(f"{out}/completions.jsonl"))}
assert len(done) == len(refs), f"{len(done)} completions for {len(refs)} prompts"
for i, ref in enumerate(refs):
    c = done[i]
    assert c["prompt_tokens"] == len(ref["prompt_tokens"]), (c["prompt_tokens"], len(ref["prompt_tokens"]))
    assert c["completion_tokens"] == len(ref["greedy_tokens"]), (i, c["completion_tokens"])
    assert c["completion"] == ref["greedy_text"], f"prompt {i}: {c['completion']!r} != {ref['greedy_text']!r}"
m = json.load(open(f"{out}/metrics.json"))
for s in m["stages"]:
    names = re.search(r"tensors held: \d+ \(([^)]*)\)", open(f"{out}/rank_{s['rank']}.log").read()).group(1).split()
    first, last = s["layers"]
    want = {f"blk.{l}.{t}.weight" for l in range(first, last) for t in
            ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")}
    if s["rank"] == 0: want.add("token_embd.weight")
    if s["rank"] == p - 1: want |= {"output_norm.weight", "output.weight"}
    assert set(names) == want, (s["rank"], sorted(set(names) ^ want))
PY
}

for v in "${VARIANTS[@]}"; do
  for p in 1 2; do
    mpirun_llmpipe "$p" 300 run -m "$WORK/hf/$v" --prompts "$WORK/prompts.jsonl" -o "$WORK/out-$v-$p" \
      --max-new-tokens 128 --threads 1 > "$WORK/$v-$p.stdout" 2> "$WORK/$v-$p.stderr" ||
      { cat "$WORK/$v-$p.stderr"; fail "$v P=$p run failed"; }
    check_run "$WORK/out-$v-$p" "$p" || fail "$v P=$p outputs"
    pass "$v P=$p: completions identical to the GGUF reference"
  done
done
