#!/usr/bin/env bash
# `mpirun -n P llmpipe perplexity`: real ranks, each a contiguous slice of stories260K's 5 layers,
# print exactly (byte for byte) the single-process run's running estimates and final
# "PPL = x +/- e", for P = 2, 3 and 5, a custom split and small forward passes (several pieces in
# flight). Equality, not a tolerance, is expected: every stage runs the same per-layer code as
# the single process, the activations hop as F32 (unchanged), every kernel gives a row the same
# bits whatever the other rows of its pass (README, "CPU kernels"), and rank 0 adds the last
# stage's per-token NLLs in token order, as the single process does. Errors: more ranks than
# layers, a too-short text (both: every rank fails at once, rank 0 says why, no hang), and a rank
# killed mid-run (the job ends non-zero within 30 s, the launcher names the lost rank).
source "$(dirname "$0")/lib.sh"

story() {
  cat <<'TXT'
Once upon a time, there was a little girl named Lily. She loved to play outside in the park
with her friends. One day, she saw a big red ball under a tree. She ran to the ball and kicked
it very hard. The ball went up in the sky and came down on the other side of the river. Lily was
sad, but her mom said they could find it together. They walked across the bridge and found the
ball in the grass. Lily was happy and said thank you to her mom.
TXT
}
text="$WORK/story.txt"
for _ in 1 2 3 4 5 6; do story >> "$text"; done

timeout --kill-after=5 120 "$LLMPIPE_BIN" perplexity -m "$MODEL" -f "$text" -c 64 -t 1 \
  > "$WORK/one.out" 2> "$WORK/one.err" || { cat "$WORK/one.err"; fail "single process"; }
grep -q "^Final estimate: PPL = [0-9.]* +/- [0-9.]*$" "$WORK/one.out" ||
  { cat "$WORK/one.out"; fail "single process: no final estimate"; }
[[ $(grep -o '\[[0-9]*\]' "$WORK/one.out" | wc -l) -ge 2 ]] || fail "fewer than 2 chunks"

# same_as_one NAME P ARGS...: P ranks print exactly the single-process stdout.
same_as_one() {
  local name=$1 p=$2
  shift 2
  mpirun_llmpipe "$p" 120 perplexity -m "$MODEL" -f "$text" -c 64 -t 1 "$@" \
    > "$WORK/$name.out" 2> "$WORK/$name.err" || { cat "$WORK/$name.err"; fail "$name: exit"; }
  cmp -s "$WORK/one.out" "$WORK/$name.out" ||
    { diff "$WORK/one.out" "$WORK/$name.out"; fail "$name: output differs from one process"; }
  pass "$name: $(tail -1 "$WORK/$name.out"), as in one process"
}
same_as_one p2 2
grep -q "rank 1 of 2 on .*, pid [0-9]*: layers \[3, 5) of 5" "$WORK/p2.err" ||
  { cat "$WORK/p2.err"; fail "p2: rank 1 does not report its layers"; }
grep -q "2 stage(s)" "$WORK/p2.err" || { cat "$WORK/p2.err"; fail "p2: no summary line"; }
same_as_one p3 3
same_as_one p5-pieces 5 -b 7       # one layer per rank; 10 passes per chunk, 5 in flight
same_as_one p2-split-1-4 2 --layer-split 1,4 -b 20

# More ranks than layers: every rank refuses before loading, rank 0 says why.
rc=0
mpirun_llmpipe 6 120 perplexity -m "$MODEL" -f "$text" -c 64 -t 1 \
  > /dev/null 2> "$WORK/p6.err" || rc=$?
[[ $rc -ne 0 ]] || fail "6 ranks for 5 layers succeeded"
[[ $rc -ne 124 && $rc -ne 137 ]] || fail "6 ranks for 5 layers hung"
grep -q "pipeline size 6 exceeds the model's 5 layers" "$WORK/p6.err" ||
  { cat "$WORK/p6.err"; fail "6 ranks: unclear error"; }
[[ $(grep -c "llmpipe perplexity: error:" "$WORK/p6.err") -eq 1 ]] ||
  { cat "$WORK/p6.err"; fail "6 ranks: the error should be printed once, by rank 0"; }
pass "more ranks than layers is a clear error"

story > "$WORK/short.txt"
rc=0
mpirun_llmpipe 2 120 perplexity -m "$MODEL" -f "$WORK/short.txt" -c 512 -t 1 \
  > /dev/null 2> "$WORK/short.err" || rc=$?
[[ $rc -ne 0 && $rc -ne 124 && $rc -ne 137 ]] || fail "too-short text under mpirun: exit $rc"
grep -q "one chunk of context 512 needs 512" "$WORK/short.err" ||
  { cat "$WORK/short.err"; fail "too-short text under mpirun: unclear error"; }
pass "a too-short text under mpirun is a clear error"

# SIGKILL rank 1 of 3 once the first estimate is out: a long text (thousands of chunks).
for _ in $(seq 1 400); do story; done > "$WORK/long1.txt"
for _ in 1 2 3 4 5 6 7 8; do cat "$WORK/long1.txt"; done > "$WORK/long.txt"
mpirun_llmpipe 3 120 perplexity -m "$MODEL" -f "$WORK/long.txt" -c 64 -b 16 -t 1 \
  > "$WORK/kill.out" 2> "$WORK/kill.err" &
launcher=$!
for _ in $(seq 1 600); do
  grep -q '\[1\]' "$WORK/kill.out" && break
  sleep 0.1
done
grep -q '\[1\]' "$WORK/kill.out" || { cat "$WORK/kill.err"; fail "no estimate before the kill"; }
victim=$(grep -o 'rank 1 of 3 on .*, pid [0-9]*' "$WORK/kill.err" | grep -o '[0-9]*$')
[[ -n "$victim" ]] || { cat "$WORK/kill.err"; fail "rank 1 pid not reported"; }
kill -9 "$victim"
killed_at=$SECONDS
rc=0
wait "$launcher" || rc=$?
elapsed=$((SECONDS - killed_at))
[[ $rc -ne 0 ]] || { cat "$WORK/kill.err"; fail "job exited 0 after a rank was killed"; }
# (137 is mpirun passing on rank 1's SIGKILL; a hang would be timeout's 124, after 120 s.)
[[ $rc -ne 124 ]] || fail "job hung until the timeout"
(( elapsed <= 30 )) || fail "ranks took ${elapsed}s to exit"
grep -Eiq "rank 1|lost|exited on signal 9" "$WORK/kill.err" ||
  { cat "$WORK/kill.err"; fail "no message names the lost rank"; }
if grep -q "Final estimate" "$WORK/kill.out"; then fail "a final estimate after a rank was lost"; fi
pass "rank loss: exit $rc after ${elapsed}s, no final estimate"
