#!/usr/bin/env bash
# Pipeline scaling on one machine (issue "keep every stage busy"): aggregate tokens/s of
#   1 rank x 1 thread, 2 ranks x 1 thread, 1 rank x 2 threads   at batch_size 8 (and 1),
# on an OpenLLaMA-3B-shaped Q4_0 model made by `llmpipe synth`, plus batched decode on one rank
# (batch 8 vs 1, short prompts so decode dominates). Prints a Markdown table with the ratios and
# each stage's busy fraction, and leaves metrics, traces and logs under $OUT.
#
# Environment (all optional):
#   LLMPIPE_BIN  llmpipe binary                      (default: build/llmpipe)
#   MODEL        GGUF to run                          (default: synthesized into $OUT)
#   SHAPE, TYPE  what to synthesize when MODEL unset  (default: openllama-3b, q4_0)
#   PROMPTS      number of prompts                    (default: 32)
#   B1_PROMPTS   prompts of the batch-1 runs          (default: PROMPTS; fewer keeps them short)
#   PROMPT_WORDS words per prompt (~tokens)           (default: 128)
#   NEW_TOKENS   tokens generated per prompt          (default: 128)
#   BATCH        batch_size of the scaling runs       (default: 8)
#   OUT          results directory                    (default: out/bench-pipeline)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${LLMPIPE_BIN:-build/llmpipe}
OUT=${OUT:-out/bench-pipeline}
SHAPE=${SHAPE:-openllama-3b}
TYPE=${TYPE:-q4_0}
PROMPTS=${PROMPTS:-32}
B1_PROMPTS=${B1_PROMPTS:-$PROMPTS}
PROMPT_WORDS=${PROMPT_WORDS:-128}
NEW_TOKENS=${NEW_TOKENS:-128}
BATCH=${BATCH:-8}
mkdir -p "$OUT"
[[ -x "$BIN" ]] || { echo "pipeline_scaling: no llmpipe binary at $BIN (build first)" >&2; exit 1; }
if [[ -z "${MODEL:-}" ]]; then
  MODEL="$OUT/$SHAPE-$TYPE.gguf"
  [[ -f "$MODEL" ]] || "$BIN" synth --shape "$SHAPE" --type "$TYPE" --seed 1 -o "$MODEL"
fi
export OMPI_MCA_mpi_yield_when_idle=1

make_prompts() {  # make_prompts FILE COUNT WORDS
  python3 - "$@" <<'PY'
import json, random, sys
path, count, words = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(7)
vocab = "the a little girl boy dog cat park ball tree sun happy sad big red blue ran saw wanted play".split()
with open(path, "w") as f:
    for i in range(count):
        f.write(json.dumps({"id": i, "prompt": " ".join(rng.choice(vocab) for _ in range(words))}) + "\n")
PY
}

run() {  # run NAME RANKS THREADS BATCH PROMPTS_FILE NEW_TOKENS
  local name=$1 ranks=$2 threads=$3 batch=$4 prompts=$5 new=$6
  echo "pipeline_scaling: $name ($ranks rank(s) x $threads thread(s), batch $batch)" >&2
  mpirun --allow-run-as-root --oversubscribe --bind-to none -n "$ranks" \
    "$BIN" run -m "$MODEL" --prompts "$prompts" -o "$OUT/$name" --threads "$threads" \
    --batch-size "$batch" --max-new-tokens "$new" --ctx-size 512 --trace "$OUT/$name/trace.json" \
    > "$OUT/$name.stdout" 2> "$OUT/$name.stderr" || { cat "$OUT/$name.stderr" >&2; exit 1; }
}

make_prompts "$OUT/prompts.jsonl" "$PROMPTS" "$PROMPT_WORDS"
make_prompts "$OUT/short.jsonl" "$BATCH" 4
head -n "$B1_PROMPTS" "$OUT/prompts.jsonl" > "$OUT/prompts_b1.jsonl"
run "r1t1_b$BATCH" 1 1 "$BATCH" "$OUT/prompts.jsonl" "$NEW_TOKENS"
run "r2t1_b$BATCH" 2 1 "$BATCH" "$OUT/prompts.jsonl" "$NEW_TOKENS"
run "r1t2_b$BATCH" 1 2 "$BATCH" "$OUT/prompts.jsonl" "$NEW_TOKENS"
run r1t1_b1 1 1 1 "$OUT/prompts_b1.jsonl" "$NEW_TOKENS"
run r2t1_b1 2 1 1 "$OUT/prompts_b1.jsonl" "$NEW_TOKENS"
run decode_b1 1 1 1 "$OUT/short.jsonl" "$NEW_TOKENS"
run "decode_b$BATCH" 1 1 "$BATCH" "$OUT/short.jsonl" "$NEW_TOKENS"

python3 - "$OUT" "$MODEL" "$BATCH" <<'PY'
import json, sys
out, model, batch = sys.argv[1], sys.argv[2], sys.argv[3]
m = lambda name: json.load(open(f"{out}/{name}/metrics.json"))
def row(name, base=None):
    r = m(name)
    busy = " / ".join(f"{100 * s['busy_fraction']:.0f}%" for s in sorted(r["stages"], key=lambda s: s["rank"]))
    ratio = f"{r['tokens_per_s'] / m(base)['tokens_per_s']:.2f}x" if base else "1.00x"
    return (f"| {name} | {r['world_size']} | {r['config']['threads']} | {r['config']['batch_size']} | "
            f"{r['prompt_tokens'] / r['prompts']:.0f} | {r['completion_tokens']} | {r['wall_s']:.1f} | "
            f"{r['tokens_per_s']:.2f} | {ratio} | {busy} |")
print(f"model: {model}\n")
print("| run | ranks | threads | batch | prompt tok (mean) | completion tok | wall s | tok/s | vs 1x1 | stage busy |")
print("|---|---|---|---|---|---|---|---|---|---|")
b1 = f"r1t1_b{batch}"
print(row(b1)); print(row(f"r2t1_b{batch}", b1)); print(row(f"r1t2_b{batch}", b1))
print(row("r1t1_b1")); print(row("r2t1_b1", "r1t1_b1"))
print(row("decode_b1")); print(row(f"decode_b{batch}", "decode_b1"))
two, one2 = m(f"r2t1_b{batch}"), m(f"r1t2_b{batch}")
print(f"\n2 ranks x 1 thread vs 1 rank x 2 threads: {two['tokens_per_s'] / one2['tokens_per_s']:.2f}x")
print(f"traces: {out}/*/trace.json (ui.perfetto.dev)")
PY
