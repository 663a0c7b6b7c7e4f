#!/usr/bin/env bash
# Graceful stop without Slurm: SIGUSR1 to every rank (what srun does when the batch script
# forwards the time-limit warning) stops the run between batches with exit 75, unfinished
# prompts in errors.jsonl and metrics.json written; a second SIGUSR1 exits at once; SIGTERM
# exits at once with a message. completions.jsonl always holds whole lines.
source "$(dirname "$0")/lib.sh"

python3 -c '
import json
for i in range(400): print(json.dumps({"id": i, "prompt": "Once upon a time"}))' >"$WORK/many.jsonl"

# start NAME: a 2-rank run in the background; sets launcher; waits for a first completion.
start() {
  mpirun_llmpipe 2 120 run -m "$MODEL" --prompts "$WORK/many.jsonl" -o "$WORK/$1" -n 128 \
    --threads 1 >"$WORK/$1.out" 2>&1 &
  launcher=$!
  local _
  for _ in $(seq 1 300); do
    [[ -s "$WORK/$1/completions.jsonl" ]] && return 0
    sleep 0.1
  done
  cat "$WORK/$1.out"
  fail "$1: no completion within 30 s"
}

rank_pids() { grep -ho 'pid [0-9]*' "$WORK/$1"/rank_*.log | cut -d' ' -f2; }

finish() {  # finish NAME: waits for the launcher; sets rc and elapsed
  local t0=$SECONDS
  rc=0
  wait "$launcher" || rc=$?
  elapsed=$((SECONDS - t0))
  [[ $rc -ne 124 ]] || fail "$1: hung until the timeout"
  ((elapsed <= 20)) || fail "$1: took ${elapsed}s to stop"
  python3 - "$WORK/$1/completions.jsonl" <<'PY' || fail "$1: torn completions.jsonl"
import json, sys
data = open(sys.argv[1]).read()
assert data.endswith("\n")
[json.loads(l) for l in data.splitlines()]
PY
}

# 1. SIGUSR1 to every rank: clean stop.
start usr1
# shellcheck disable=SC2046  # one pid per word
kill -USR1 $(rank_pids usr1)
finish usr1
[[ $rc -eq 75 ]] || { cat "$WORK/usr1.out"; fail "SIGUSR1: exit $rc, want 75"; }
grep -q "stopped early by SIGUSR1" "$WORK/usr1.out" || { cat "$WORK/usr1.out"; fail "no stop message"; }
python3 - "$WORK/usr1" <<'PY' || fail "SIGUSR1 outputs"
import json, sys
out = sys.argv[1]
done = [json.loads(l)["id"] for l in open(f"{out}/completions.jsonl")]
left = [json.loads(l) for l in open(f"{out}/errors.jsonl")]
assert sorted(done + [e["id"] for e in left]) == list(range(400))
assert all(e["error"] == "not finished: the run was stopped by SIGUSR1" for e in left), left[:2]
m = json.load(open(f"{out}/metrics.json"))
assert m["stopped_by_signal"] == "SIGUSR1" and m["unfinished"] == len(left) > 0 and m["prompts"] == len(done)
assert len(m["stages"]) == 2, "stats of every stage"
PY
pass "SIGUSR1: clean stop in ${elapsed}s, exit 75"

# 2. SIGTERM to rank 0: it exits at once, saying so; the job ends non-zero.
start term
kill -TERM "$(grep -o 'pid [0-9]*' "$WORK/term/rank_0.log" | cut -d' ' -f2)"
finish term
[[ $rc -ne 0 && $rc -ne 75 ]] || fail "SIGTERM: exit $rc"
grep -q "rank 0: received SIGTERM: exiting now" "$WORK/term.out" || { cat "$WORK/term.out"; fail "no SIGTERM message"; }
[[ ! -f "$WORK/term/metrics.json" ]] || fail "SIGTERM: metrics.json written"
pass "SIGTERM: prompt exit ($rc) in ${elapsed}s"

# 3. A second SIGUSR1 exits at once (here on rank 1, which only stops when rank 0 says so).
start twice
victim=$(grep -o 'pid [0-9]*' "$WORK/twice/rank_1.log" | cut -d' ' -f2)
kill -USR1 "$victim"
sleep 0.3
kill -USR1 "$victim"
finish twice
[[ $rc -ne 0 ]] || fail "second SIGUSR1: exit 0"
grep -q "rank 1: received SIGUSR1 again: exiting now" "$WORK/twice.out" || { cat "$WORK/twice.out"; fail "no message"; }
pass "second SIGUSR1: exit $rc in ${elapsed}s"
