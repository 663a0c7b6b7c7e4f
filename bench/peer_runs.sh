#!/usr/bin/env bash
# One model, three programs one after the other (never overlapping): llmpipe bench, llama.cpp's
# llama-bench, and the same llama-bench with another libggml-cpu.so (e.g. built without AMX),
# pp512 / tg128, 2 reps; raw JSONL per program in OUT, then a summary table.
#   bench/peer_runs.sh MODEL THREADS LLAMA_BIN_DIR [OTHER_LIB_DIR]
# Environment: LLMPIPE (build/llmpipe), OUT (a temporary directory), P (512), N (128), REPS (2).
set -euo pipefail
[[ $# -ge 3 && $# -le 4 ]] || { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
MODEL=$1 THREADS=$2 BIN=$3 OTHER=${4:-}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LLMPIPE=${LLMPIPE:-$ROOT/build/llmpipe}
OUT=${OUT:-$(mktemp -d /tmp/peer-runs.XXXXXX)}
P=${P:-512} N=${N:-128} REPS=${REPS:-2}
[[ -f $MODEL ]] || { echo "error: model $MODEL does not exist" >&2; exit 1; }
[[ -x $BIN/llama-bench ]] || { echo "error: $BIN/llama-bench is not an executable" >&2; exit 1; }
mkdir -p "$OUT"
echo "llmpipe $(date -u +%T)" >&2
"$LLMPIPE" bench -m "$MODEL" -p "$P" -n "$N" -t "$THREADS" -r "$REPS" --json > "$OUT/llmpipe.jsonl"
echo "llama.cpp $(date -u +%T)" >&2
"$BIN/llama-bench" -m "$MODEL" -p "$P" -n "$N" -t "$THREADS" -r "$REPS" -mmp 0 -o jsonl > "$OUT/llama.jsonl" 2>/dev/null
if [[ -n $OTHER ]]; then
  echo "llama.cpp with $OTHER $(date -u +%T)" >&2
  LD_LIBRARY_PATH=$OTHER "$BIN/llama-bench" -m "$MODEL" -p "$P" -n "$N" -t "$THREADS" -r "$REPS" -mmp 0 \
    -o jsonl > "$OUT/other.jsonl" 2>/dev/null
fi
python3 - "$OUT" <<'PY'
import json, os, sys
def load(name):
    path = os.path.join(sys.argv[1], name)
    res = {}
    if os.path.exists(path):
        for line in open(path):
            if line.startswith("{"):
                j = json.loads(line)
                res["pp" if j["n_prompt"] else "tg"] = j
    return res
ours, llama, other = load("llmpipe.jsonl"), load("llama.jsonl"), load("other.jsonl")
print("| test | llmpipe t/s | llama.cpp t/s | other lib t/s | ours / best peer | llmpipe floor |")
print("|---|---|---|---|---|---|")
for t in ("pp", "tg"):
    o = ours.get(t, {}).get("avg_ts")
    peers = [x[t]["avg_ts"] for x in (llama, other) if t in x]
    fmt = lambda d: f"{d[t]['avg_ts']:.2f}" if t in d else "-"
    ratio = f"{o / max(peers):.2f}" if o and peers else "-"
    floor = ours.get(t, {}).get("floor_fraction") or 0
    print(f"| {t} | {fmt(ours)} | {fmt(llama)} | {fmt(other)} | {ratio} | {floor:.2f} |")
PY
