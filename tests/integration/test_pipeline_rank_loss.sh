#!/usr/bin/env bash
# SIGKILL one rank mid-run: the other ranks exit non-zero within 30 s, the launcher names the
# lost rank, and completions.jsonl holds only complete lines.
source "$(dirname "$0")/lib.sh"

python3 -c '
import json
for i in range(400): print(json.dumps({"id": i, "prompt": "Once upon a time"}))' > "$WORK/many.jsonl"
mpirun_llmpipe 3 120 run -m "$MODEL" --prompts "$WORK/many.jsonl" -o "$WORK/out" -n 128 --threads 1 \
  > "$WORK/run.out" 2>&1 &
launcher=$!
# Wait until some completions exist, then kill rank 1.
for _ in $(seq 1 300); do
  [[ -s "$WORK/out/completions.jsonl" ]] && break
  sleep 0.1
done
[[ -s "$WORK/out/completions.jsonl" ]] || { cat "$WORK/run.out"; fail "no completion before the kill"; }
victim=$(grep -o 'pid [0-9]*' "$WORK/out/rank_1.log" | head -1 | cut -d' ' -f2)
[[ -n "$victim" ]] || fail "rank 1 pid not logged"
kill -9 "$victim"
killed_at=$SECONDS
rc=0
wait "$launcher" || rc=$?
elapsed=$((SECONDS - killed_at))
[[ $rc -ne 0 ]] || fail "job exited 0 after a rank was killed"
[[ $rc -ne 124 ]] || fail "job hung until the timeout"
(( elapsed <= 30 )) || fail "ranks took ${elapsed}s to exit"
grep -Eiq "rank 1|lost|exited on signal 9" "$WORK/run.out" || { cat "$WORK/run.out"; fail "no message names the lost rank"; }
python3 - "$WORK/out/completions.jsonl" <<'PY'
import json, sys
data = open(sys.argv[1]).read()
assert data.endswith("\n"), "last line is incomplete"
for line in data.splitlines():
    json.loads(line)
print(f"{len(data.splitlines())} complete lines")
PY
pass "rank loss: exit $rc after ${elapsed}s"
