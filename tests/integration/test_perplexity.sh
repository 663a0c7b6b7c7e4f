#!/usr/bin/env bash
# `llmpipe perplexity` on the bundled model: llama-perplexity's output (running estimates and a
# finite final PPL > 1 with its error), the running estimate of the last chunk equal to the final
# PPL, and clear errors (non-zero exit) for a too-short text and -c beyond the model's context.
# Under mpirun: test_perplexity_pipeline.sh.
source "$(dirname "$0")/lib.sh"

run() { timeout --kill-after=5 120 "$LLMPIPE_BIN" "$@"; }

text="$WORK/story.txt"
for _ in 1 2 3 4 5 6; do
  cat >> "$text" <<'TXT'
Once upon a time, there was a little girl named Lily. She loved to play outside in the park
with her friends. One day, she saw a big red ball under a tree. She ran to the ball and kicked
it very hard. The ball went up in the sky and came down on the other side of the river. Lily was
sad, but her mom said they could find it together. They walked across the bridge and found the
ball in the grass. Lily was happy and said thank you to her mom.
TXT
done

run perplexity -m "$MODEL" -f "$text" -c 64 -t 2 > "$WORK/out.txt" 2> "$WORK/err.txt" ||
  { cat "$WORK/out.txt" "$WORK/err.txt"; fail "perplexity"; }
python3 - "$WORK/out.txt" <<'PY' || fail "perplexity output"
import math, re, sys
out = open(sys.argv[1]).read()
running = [float(x) for x in re.findall(r"\[\d+\]([0-9.]+),", out)]
m = re.search(r"Final estimate: PPL = ([0-9.]+) \+/- ([0-9.]+)", out)
assert m, out
ppl, err = float(m.group(1)), float(m.group(2))
assert len(running) >= 2, running
assert math.isfinite(ppl) and ppl > 1 and math.isfinite(err) and err > 0, (ppl, err)
assert abs(running[-1] - ppl) <= 1e-4 * ppl + 1e-4, (running, ppl)
print("ppl", ppl, "+/-", err, "chunks", len(running))
PY
pass "perplexity prints running estimates and a finite final PPL"

run perplexity -m "$MODEL" -f "$text" -c 64 --chunks 1 -t 2 > "$WORK/one.txt" 2> /dev/null ||
  fail "perplexity --chunks 1"
grep -q '^\[1\][0-9.]*,$' "$WORK/one.txt" || { cat "$WORK/one.txt"; fail "--chunks 1: one estimate"; }
first=$(grep -o '^\[1\][0-9.]*' "$WORK/one.txt" | cut -d] -f2)
final=$(sed -n 's/^Final estimate: PPL = \([0-9.]*\) .*/\1/p' "$WORK/one.txt")
[[ "$first" == "$final" ]] || fail "--chunks 1: running $first != final $final"
grep -q "^\[1\]$first," "$WORK/out.txt" || fail "chunk 1 differs between --chunks 1 and all chunks"
pass "--chunks 1: the final estimate is chunk 1's"

echo "Once upon a time" > "$WORK/short.txt"
if run perplexity -m "$MODEL" -f "$WORK/short.txt" -c 64 -t 2 > /dev/null 2> "$WORK/short.err"; then
  fail "a too-short text succeeded"
fi
grep -q "tokens; one chunk of context 64 needs 64" "$WORK/short.err" ||
  { cat "$WORK/short.err"; fail "too-short text: unclear error"; }
pass "a too-short text is a clear error"

if run perplexity -m "$MODEL" -f "$text" -c 100000 -t 2 > /dev/null 2> "$WORK/ctx.err"; then
  fail "-c beyond the model's context succeeded"
fi
grep -q "exceeds the model's context length" "$WORK/ctx.err" ||
  { cat "$WORK/ctx.err"; fail "-c too large: unclear error"; }
pass "-c beyond the model's context is a clear error"

run perplexity --help | grep -q -- "--chunks" || fail "--help does not document --chunks"
pass "--help"
