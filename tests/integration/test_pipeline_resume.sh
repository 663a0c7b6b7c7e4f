#!/usr/bin/env bash
# --resume continues an interrupted 2-rank run in its output directory: stopped cleanly by
# SIGUSR1, and separately by SIGKILL of one rank followed by a torn last line in
# completions.jsonl (cut away and reported). Either way the final completions.jsonl equals an
# uninterrupted run's (greedy, and seeded sampling too: each prompt keeps its sampling stream),
# with no id twice and none lost, and metrics.json counts the whole job. Duplicate ids and a
# malformed line inside completions.jsonl are refused with the lines named.
source "$(dirname "$0")/lib.sh"

# Varied prompts with string and number ids; seeded sampling at temperature 0.8.
python3 - > "$WORK/prompts.jsonl" <<'PY'
import json
starts = ["Once upon a time", "The little dog", "Lily wanted to", "One day, a bird", "Tom and Sue"]
for i in range(160):
    rec = {"id": f"p{i}" if i % 2 else i, "prompt": starts[i % len(starts)] + " " * (i % 3)}
    print(json.dumps(rec))
PY
common=(-m "$MODEL" --prompts "$WORK/prompts.jsonl" -n 96 --threads 1 --batch-size 4
  --temperature 0.8 --seed 7)
mpirun_llmpipe 2 300 run "${common[@]}" -o "$WORK/ref" > /dev/null 2> "$WORK/ref.stderr" ||
  { cat "$WORK/ref.stderr"; fail "uninterrupted run"; }

wait_for_lines() {  # wait_for_lines DIR N
  local _
  for _ in $(seq 1 600); do
    [[ -s "$1/completions.jsonl" ]] && (($(wc -l < "$1/completions.jsonl") >= $2)) && return 0
    sleep 0.05
  done
  fail "$1: fewer than $2 completions within 30 s"
}
rank_pid() { grep -o 'pid [0-9]*' "$1/rank_$2.log" | head -1 | cut -d' ' -f2; }

# compare DIR: DIR's completions = the reference's, id for id; metrics count the whole job.
compare() {
  python3 - "$WORK/ref" "$1" <<'PY' || fail "$1: resumed outputs differ from the uninterrupted run"
import json, sys
def load(d):
    data = open(f"{d}/completions.jsonl").read()
    assert data.endswith("\n"), "torn last line"
    recs = [json.loads(l) for l in data.splitlines()]
    ids = [json.dumps(r["id"]) for r in recs]
    assert len(ids) == len(set(ids)), "an id twice"
    return {json.dumps(r["id"]): r for r in recs}
ref, got = load(sys.argv[1]), load(sys.argv[2])
assert set(ref) == set(got), (len(ref), len(got), sorted(set(ref) ^ set(got))[:5])
diff = [i for i in ref if ref[i]["completion"] != got[i]["completion"]]
assert not diff, f"{len(diff)} completions differ, e.g. {diff[:3]}"
m, mr = json.load(open(f"{sys.argv[2]}/metrics.json")), json.load(open(f"{sys.argv[1]}/metrics.json"))
assert m["prompts"] == len(ref) and m["completion_tokens"] == mr["completion_tokens"], (m["prompts"], m["completion_tokens"], mr["completion_tokens"])
r = m["resumed"]
assert r["completions_kept"] + r["this_run_prompts"] == len(ref) and r["completions_kept"] > 0, r
print(f"{len(ref)} completions identical; {r['completions_kept']} kept, {r['this_run_prompts']} resumed")
PY
}

# 1. A clean stop (SIGUSR1 to every rank), then --resume.
mpirun_llmpipe 2 300 run "${common[@]}" -o "$WORK/usr1" > "$WORK/usr1.out" 2>&1 &
launcher=$!
wait_for_lines "$WORK/usr1" 20
kill -USR1 "$(rank_pid "$WORK/usr1" 0)" "$(rank_pid "$WORK/usr1" 1)"
rc=0
wait "$launcher" || rc=$?
((rc == 75)) || { cat "$WORK/usr1.out"; fail "SIGUSR1: exit $rc, want 75"; }
mpirun_llmpipe 2 300 run "${common[@]}" -o "$WORK/usr1" --resume > /dev/null 2> "$WORK/usr1.resume" ||
  { cat "$WORK/usr1.resume"; fail "resume after SIGUSR1"; }
grep -q "resume: [0-9]* completions kept" "$WORK/usr1/rank_0.log" || fail "resume not logged"
[[ ! -s "$WORK/usr1/errors.jsonl" ]] || fail "errors.jsonl keeps the stopped run's 'not finished' records"
compare "$WORK/usr1"
pass "resume after SIGUSR1"

# 2. SIGKILL of rank 1 mid-run, plus a torn last line; --resume cuts it and completes the job.
mpirun_llmpipe 2 300 run "${common[@]}" -o "$WORK/kill" > "$WORK/kill.out" 2>&1 &
launcher=$!
wait_for_lines "$WORK/kill" 20
kill -KILL "$(rank_pid "$WORK/kill" 1)"
wait "$launcher" && fail "the job exited 0 after a rank was killed"
printf '{"id": "p999", "completion": "half a li' >> "$WORK/kill/completions.jsonl"
mpirun_llmpipe 2 300 run "${common[@]}" -o "$WORK/kill" --resume > /dev/null 2> "$WORK/kill.resume" ||
  { cat "$WORK/kill.resume"; fail "resume after SIGKILL"; }
grep -q "resume: cut a torn last line ([0-9]* bytes)" "$WORK/kill.resume" ||
  { cat "$WORK/kill.resume"; fail "the torn line was not reported"; }
compare "$WORK/kill"
pass "resume after SIGKILL of a rank and a torn last line"

# 3. Refusals: duplicate ids, a malformed line before the last.
{ head -3 "$WORK/prompts.jsonl"; head -1 "$WORK/prompts.jsonl"; } > "$WORK/dup.jsonl"
set +e
"$LLMPIPE_BIN" run -m "$MODEL" --prompts "$WORK/dup.jsonl" -o "$WORK/dup" --resume > /dev/null 2> "$WORK/dup.err"
rc=$?
set -e
((rc == 1)) || fail "duplicate ids: exit $rc, want 1"
grep -q 'needs a unique id per prompt.*id 0 on lines 1, 4' "$WORK/dup.err" || { cat "$WORK/dup.err"; fail "duplicate ids: unclear message"; }
mkdir -p "$WORK/bad"
{ head -2 "$WORK/ref/completions.jsonl"; echo "not json"; head -3 "$WORK/ref/completions.jsonl" | tail -1; } > "$WORK/bad/completions.jsonl"
set +e
"$LLMPIPE_BIN" run "${common[@]}" -o "$WORK/bad" --resume > /dev/null 2> "$WORK/bad.err"
rc=$?
set -e
((rc == 1)) || fail "malformed completions line: exit $rc, want 1"
grep -q "completions.jsonl line 3 is not a completion record" "$WORK/bad.err" || { cat "$WORK/bad.err"; fail "malformed line: unclear message"; }
pass "resume refuses duplicate ids and an edited completions.jsonl"
