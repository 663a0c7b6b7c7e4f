#!/usr/bin/env bash
# Real mpirun with P = 1, 2, 3 and 5 ranks (stories260K has 5 layers: one per stage at P = 5),
# and an uneven --layer-split: greedy completions must be token-identical to llama.cpp's
# reference and to each other; each rank's log shows it mapped only its own tensors.
source "$(dirname "$0")/lib.sh"

reference_prompts "$WORK/prompts.jsonl"
check_run() {  # check_run OUT P
  python3 - "$1" "$2" "$REFERENCE" "$LLMPIPE_SOURCE_DIR/src" <<'PY'
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
assert m["world_size"] == p and len(m["stages"]) == p, m
for key in ("wall_s", "prompts", "prompt_tokens", "completion_tokens", "tokens_per_s", "layer_split", "config"):
    assert key in m, key
assert m["prompts"] == len(refs) and m["completion_tokens"] == sum(len(r["greedy_tokens"]) for r in refs)
want = (m["prompt_tokens"] + m["completion_tokens"]) / m["wall_s"]
assert abs(m["total_tokens_per_s"] - want) <= 1e-6 * want, (m["total_tokens_per_s"], want)
assert m["total_tokens_per_s"] > m["tokens_per_s"] > 0, m
for c in done.values():
    # decoding alone: tokens after the first over the time after the first
    assert c["decode_tokens_per_s"] > 0 if c["completion_tokens"] > 1 else c["decode_tokens_per_s"] == 0, c
layers = [s["layers"] for s in sorted(m["stages"], key=lambda s: s["rank"])]
assert layers[0][0] == 0 and layers[-1][1] == 5 and all(a[1] == b[0] for a, b in zip(layers, layers[1:])), layers
for s in m["stages"]:
    for key in ("rank", "compute_s", "send_wait_s", "recv_wait_s", "tensors", "weight_bytes"):
        assert key in s, key
    assert s["gpu_layers"] is None, s  # CPU ranks
    log = open(f"{out}/rank_{s['rank']}.log").read()
    held = re.search(r"tensors held: (\d+) \(([^)]*)\)", log)
    names = held.group(2).split()
    first, last = s["layers"]
    want = {f"blk.{l}.{t}.weight" for l in range(first, last) for t in
            ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")}
    if s["rank"] == 0: want.add("token_embd.weight")
    if s["rank"] == p - 1: want |= {"output_norm.weight", "output.weight"}
    assert set(names) == want, (s["rank"], sorted(set(names) ^ want))
print(f"P={p}: {len(refs)} completions identical to the reference; each rank held only its tensors")
PY
}

for p in 1 2 3 5; do
  mpirun_llmpipe "$p" 300 run -m "$MODEL" --prompts "$WORK/prompts.jsonl" -o "$WORK/p$p" \
    --max-new-tokens 128 --threads 1 > "$WORK/p$p.stdout" 2> "$WORK/p$p.stderr" ||
    { cat "$WORK/p$p.stderr"; fail "P=$p run failed"; }
  check_run "$WORK/p$p" "$p" || fail "P=$p outputs"
done

# Uneven split, f32 KV cache, and batch of 3 sequences at once: same tokens.
mpirun_llmpipe 3 300 run -m "$MODEL" --prompts "$WORK/prompts.jsonl" -o "$WORK/uneven" \
  --max-new-tokens 128 --layer-split 1,3,1 --kv-type f32 --batch-size 3 --threads 1 \
  2> "$WORK/uneven.stderr" || { cat "$WORK/uneven.stderr"; fail "uneven split run failed"; }
check_run "$WORK/uneven" 3 || fail "uneven split outputs"
grep -q '"layer_split": \[' "$WORK/uneven/metrics.json" || fail "metrics lacks layer_split"
python3 -c "import json,sys; m=json.load(open('$WORK/uneven/metrics.json')); assert m['layer_split']==[1,3,1], m['layer_split']" ||
  fail "layer split not recorded"
