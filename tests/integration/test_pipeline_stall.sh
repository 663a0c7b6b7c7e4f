#!/usr/bin/env bash
# A rank that stops answering without dying (SIGSTOP: a hung process or node): with
# --hop-timeout 4 the other ranks end the job within the deadline plus a margin, with a message
# naming the stalled rank; completions.jsonl holds only whole lines; every rank's log has
# heartbeat lines from before the stall. A bad --hop-timeout is refused before loading.
source "$(dirname "$0")/lib.sh"

python3 -c '
import json
for i in range(2000): print(json.dumps({"id": i, "prompt": "Once upon a time"}))' > "$WORK/many.jsonl"
mpirun_llmpipe 3 120 run -m "$MODEL" --prompts "$WORK/many.jsonl" -o "$WORK/out" -n 128 --threads 1 \
  --hop-timeout 4 > "$WORK/run.out" 2>&1 &
launcher=$!
for _ in $(seq 1 300); do
  [[ -s "$WORK/out/completions.jsonl" ]] && break
  sleep 0.1
done
[[ -s "$WORK/out/completions.jsonl" ]] || { cat "$WORK/run.out"; fail "no completion before the stall"; }
sleep 3  # past one heartbeat interval (hop_timeout / 2) of steady running: no false alarm
kill -0 "$launcher" 2> /dev/null || { cat "$WORK/run.out"; fail "the run ended before the stall"; }
victim=$(grep -o 'pid [0-9]*' "$WORK/out/rank_1.log" | head -1 | cut -d' ' -f2)
[[ -n "$victim" ]] || fail "rank 1 pid not logged"
kill -STOP "$victim"
stopped_at=$SECONDS
rc=0
wait "$launcher" || rc=$?
elapsed=$((SECONDS - stopped_at))
kill -KILL "$victim" 2> /dev/null || true
[[ $rc -ne 0 ]] || fail "job exited 0 after a rank stalled"
[[ $rc -ne 124 ]] || { cat "$WORK/run.out"; fail "job hung until the launcher's timeout"; }
# The deadline is 4 s (10x a step of this model is far less), plus the heartbeat interval for the
# stall to show and the launcher's teardown.
((elapsed <= 20)) || fail "ranks took ${elapsed}s to notice a 4 s stall"
grep -q "stalled: rank 1 (silent [0-9]* s) of 3 stopped answering" "$WORK/run.out" ||
  { cat "$WORK/run.out"; fail "no message names the stalled rank"; }
grep -q "Raise --hop-timeout" "$WORK/run.out" || fail "the message does not say what to change"
if grep -q "stalled: rank [02] " "$WORK/run.out"; then cat "$WORK/run.out"; fail "a live rank was named stalled"; fi
python3 - "$WORK/out/completions.jsonl" <<'PY'
import json, sys
data = open(sys.argv[1]).read()
assert data.endswith("\n"), "last line is incomplete"
for line in data.splitlines():
    json.loads(line)
print(f"{len(data.splitlines())} complete lines")
PY
for r in 0 1 2; do
  grep -q "heartbeat: [0-9]* batches" "$WORK/out/rank_$r.log" || fail "rank $r logged no heartbeat"
done
grep -q "heartbeat: .*last heard: rank 1 " "$WORK/out/rank_0.log" || fail "heartbeat lines lack peers"
pass "stall: exit $rc ${elapsed}s after SIGSTOP of rank 1, named in the message"

set +e
"$LLMPIPE_BIN" run -m "$MODEL" --prompts "$WORK/many.jsonl" -o "$WORK/bad" --hop-timeout -1 \
  > /dev/null 2> "$WORK/bad.stderr"
rc=$?
set -e
((rc == 1)) || fail "--hop-timeout -1: expected exit 1, got $rc"
grep -q "hop_timeout must be a number of seconds >= 0" "$WORK/bad.stderr" ||
  { cat "$WORK/bad.stderr"; fail "--hop-timeout -1: unclear message"; }
[[ ! -e "$WORK/bad/rank_0.log" ]] || fail "--hop-timeout -1: a rank started loading"
pass "bad --hop-timeout refused before loading"
