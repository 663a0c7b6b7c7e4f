#!/usr/bin/env bash
# Accounting and the knobs around micro-batching, across real ranks:
#  - --trace writes one Chrome/Perfetto trace with a track per rank: a compute span per batch the
#    rank ran (as many as metrics.json counts) and, past rank 0, a receive span before each;
#  - metrics.json has per-stage run, busy and wait seconds that add up;
#  - a KV budget too small for batch_size x context fails before loading, saying what to lower;
#  - activations sent as f16 / bf16 between stages: the effect on greedy outputs is measured.
source "$(dirname "$0")/lib.sh"
reference_prompts "$WORK/prompts.jsonl"
common=(-m "$MODEL" --prompts "$WORK/prompts.jsonl" --threads 1 --max-new-tokens 128)

mpirun_llmpipe 3 120 run "${common[@]}" -o "$WORK/traced" --batch-size 3 --trace "$WORK/trace.json" \
  2> "$WORK/traced.stderr" || { cat "$WORK/traced.stderr"; fail "traced run failed"; }
python3 - "$WORK/trace.json" "$WORK/traced/metrics.json" <<'PY' || fail "trace/metrics check"
import json, sys
trace, metrics = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
events = trace["traceEvents"]
names = {e["pid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "process_name"}
assert sorted(names) == [0, 1, 2], names
for s in metrics["stages"]:
    r = s["rank"]
    spans = [e for e in events if e["ph"] == "X" and e["pid"] == r]
    compute = [e for e in spans if e["name"] == "compute"]
    assert len(compute) == s["batches"] > 0, (r, len(compute), s["batches"])
    assert all(e["dur"] >= 0 and e["ts"] >= 0 for e in spans)
    if r > 0:
        assert len([e for e in spans if e["name"] == "receive"]) == s["batches"], r
    # Spans of one rank never overlap: it does one thing at a time.
    spans.sort(key=lambda e: e["ts"])
    for a, b in zip(spans, spans[1:]):
        assert a["ts"] + a["dur"] <= b["ts"] + 1.0, (r, a, b)
    assert 0 < s["busy_fraction"] <= 1 and s["run_s"] > 0, s
    accounted = s["compute_s"] + s["send_wait_s"] + s["recv_wait_s"]
    assert accounted <= s["run_s"] * 1.05 + 0.01, (r, accounted, s["run_s"])
assert metrics["config"]["micro_batches"] == 0  # default: one per stage
print("trace: 3 tracks, one compute span per batch; busy fractions",
      [round(s["busy_fraction"], 2) for s in metrics["stages"]])
PY
pass "trace and stage accounting"

# KV cache budget: 5 layers x 8 sequences x 2048 positions x 32 x 2 x 2 bytes = 10 MiB > 1 MiB.
set +e
mpirun_llmpipe 2 60 run "${common[@]}" -o "$WORK/kv" --batch-size 8 --kv-memory 1M > /dev/null 2> "$WORK/kv.stderr"
rc=$?
set -e
((rc == 1)) || fail "KV over budget: expected exit 1, got $rc"
grep -q "needs .* MiB of KV cache .* but the budget (kv_memory) is 1 MiB: lower batch_size or ctx_size" \
  "$WORK/kv.stderr" || { cat "$WORK/kv.stderr"; fail "KV over budget: unclear message"; }
[[ ! -e "$WORK/kv/rank_0.log" ]] || fail "KV over budget: a rank started loading"
mpirun_llmpipe 2 60 run "${common[@]}" -o "$WORK/kv_ok" --batch-size 8 --ctx-size 256 --kv-memory 1M \
  2> "$WORK/kv_ok.stderr" || { cat "$WORK/kv_ok.stderr"; fail "KV within budget should run"; }
set +e
"$LLMPIPE_BIN" run "${common[@]}" -o "$WORK/kv_bad" --kv-memory lots > /dev/null 2> "$WORK/kv_bad.stderr"
rc=$?
set -e
((rc == 1)) || fail "unreadable --kv-memory: expected exit 1, got $rc"
grep -q "cannot read 'lots' as a memory size: use e.g. 512M or 4G" "$WORK/kv_bad.stderr" ||
  { cat "$WORK/kv_bad.stderr"; fail "unreadable --kv-memory: unclear message"; }
for size in inf nan 1e30G 0x10M -4G 99999999999999999999G; do  # stod reads these; none is a memory size
  set +e
  "$LLMPIPE_BIN" run "${common[@]}" -o "$WORK/kv_bad" --kv-memory "$size" > /dev/null 2> "$WORK/kv_bad.stderr"
  rc=$?
  set -e
  ((rc == 1)) || fail "--kv-memory $size: expected exit 1, got $rc"
  grep -qE "(cannot read '$size' as a memory size|memory size '$size' does not fit in 64 bits)" \
    "$WORK/kv_bad.stderr" || { cat "$WORK/kv_bad.stderr"; fail "--kv-memory $size: unclear message"; }
done
pass "KV budget checked before loading"

# Activations on the hop in 16 or 8 bits: measure how many greedy completions change.
for hop in f32 f16 bf16 q8_0; do
  mpirun_llmpipe 3 120 run "${common[@]}" -o "$WORK/hop_$hop" --batch-size 3 --hop-type "$hop" \
    2> "$WORK/hop_$hop.stderr" || { cat "$WORK/hop_$hop.stderr"; fail "--hop-type $hop failed"; }
done
python3 - "$WORK" <<'PY' || fail "16/8-bit hops changed too many completions"
import json, sys
def load(name):
    return {c["id"]: c["completion"] for c in map(json.loads, open(f"{sys.argv[1]}/{name}/completions.jsonl"))}
exact = load("hop_f32")
for hop in ("f16", "bf16", "q8_0"):
    got = load(f"hop_{hop}")
    same = sum(got[i] == exact[i] for i in exact)
    print(f"--hop-type {hop}: {same}/{len(exact)} greedy completions (128 tokens) identical to f32 hops")
    # Over 64 prompts (bench/RESULTS.md) f16 kept 62 of 64 completions, bf16 51, q8_0 29, the
    # first difference after a median 81 characters: a rounding of this tiny model's 64-wide
    # hidden state can flip a late near-tie. These 3 prompts were measured to stay identical for
    # every hop type, and the run is deterministic (same build, same CPU kind: no timing enters
    # the arithmetic), so all 3 must; a wrong scale or block order changes them all.
    assert same == len(exact), (hop, same)
PY
grep -q '"hop_type": "f16"' "$WORK/hop_f16/metrics.json" || fail "hop type not in metrics config"
pass "16-bit and 8-bit activation hops"
