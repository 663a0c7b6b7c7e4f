#!/usr/bin/env bash
# Compare llmpipe with llama.cpp on one model: prompt processing (pp) and text generation (tg)
# speed, in llama-bench's terms, with the two programs alternating so that machine noise (other
# jobs, thermal state) hits both alike.
#
#   bench/llama_compare.sh MODEL THREADS [LLAMA_BENCH]
#
# LLAMA_BENCH (argument or environment): path to llama.cpp's llama-bench; without it only
# llmpipe runs. Environment: P (prompt tokens, 512), N (generated tokens, 128), REPS
# (repetitions per run, 5), ROUNDS (alternations, 2), LLMPIPE (binary, build/llmpipe),
# OUT (directory for the raw JSONL, a temporary one by default), LLAMA_LOAD (llama-bench
# arguments choosing how it loads weights, "-lm mmap,none": both with and without mmap; older
# builds spell it "-mmp 1,0"), WEIGHTS (llmpipe bench --weights, packed).
# Prints the mean t/s of each program per test and the ratio ours / llama.cpp, against the
# better of llama.cpp's load settings (its "load" column says which).
set -euo pipefail

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
[[ ${1:-} == -h || ${1:-} == --help ]] && usage 0
[[ $# -ge 2 && $# -le 3 ]] || usage
MODEL=$1
THREADS=$2
LLAMA_BENCH=${3:-${LLAMA_BENCH:-}}
P=${P:-512}
N=${N:-128}
REPS=${REPS:-5}
ROUNDS=${ROUNDS:-2}
LLAMA_LOAD=${LLAMA_LOAD:--lm mmap,none}
read -r -a llama_load <<< "$LLAMA_LOAD"
WEIGHTS=${WEIGHTS:-packed}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LLMPIPE=${LLMPIPE:-$ROOT/build/llmpipe}
OUT=${OUT:-$(mktemp -d /tmp/llama-compare.XXXXXX)}
mkdir -p "$OUT"

[[ -f $MODEL ]] || { echo "error: model $MODEL does not exist" >&2; exit 1; }
[[ -x $LLMPIPE ]] || { echo "error: $LLMPIPE is not built (cmake --build build)" >&2; exit 1; }
if [[ -n $LLAMA_BENCH && ! -x $LLAMA_BENCH ]]; then
  echo "error: llama-bench $LLAMA_BENCH is not an executable" >&2
  exit 1
fi

echo "model $MODEL, $THREADS threads, pp$P / tg$N, $REPS reps x $ROUNDS rounds; raw JSONL in $OUT" >&2
for ((round = 1; round <= ROUNDS; ++round)); do
  echo "round $round/$ROUNDS: llmpipe" >&2
  "$LLMPIPE" bench -m "$MODEL" -p "$P" -n "$N" -t "$THREADS" -r "$REPS" --weights "$WEIGHTS" --json \
    >> "$OUT/llmpipe.jsonl"
  if [[ -n $LLAMA_BENCH ]]; then
    echo "round $round/$ROUNDS: llama-bench" >&2
    "$LLAMA_BENCH" -m "$MODEL" -p "$P" -n "$N" -t "$THREADS" -r "$REPS" "${llama_load[@]}" -o jsonl \
      >> "$OUT/llama.jsonl"
  fi
done

python3 - "$OUT/llmpipe.jsonl" "${LLAMA_BENCH:+$OUT/llama.jsonl}" <<'PY'
import json, statistics, sys

def load(path):
    """(test name, load setting) -> every per-run t/s sample, pooled over rounds"""
    tests = {}
    if not path:
        return tests
    for line in open(path):
        line = line.strip()
        if not line.startswith("{"):
            continue
        j = json.loads(line)
        name = f"pp{j['n_prompt']}" if j["n_prompt"] > 0 else f"tg{j['n_gen']}"
        load = j.get("load_mode") or ("mmap" if j.get("use_mmap", True) else "none")
        tests.setdefault((name, load), []).extend(j.get("samples_ts") or [j["avg_ts"]])
    return tests

def best(tests, name):
    """the load setting with the highest mean t/s for this test, and its samples"""
    runs = [(statistics.mean(v), m, v) for (n, m), v in tests.items() if n == name and v]
    if not runs:
        return "-", []
    _, load, samples = max(runs)
    return load, samples

def fmt(samples):
    if not samples:
        return "-"
    sd = statistics.stdev(samples) if len(samples) > 1 else 0.0
    return f"{statistics.mean(samples):.2f} ± {sd:.2f}"

ours, theirs = load(sys.argv[1]), load(sys.argv[2] if len(sys.argv) > 2 else "")
print("| test | llmpipe t/s | llama.cpp t/s | llama.cpp load | ours / llama.cpp |")
print("| ---- | ----------: | ------------: | :------------: | ---------------: |")
for name in sorted({n for n, _ in ours}, key=lambda n: (n[:2] != "pp", n)):
    _, mine = best(ours, name)
    load, other = best(theirs, name)
    ratio = f"{statistics.mean(mine) / statistics.mean(other):.3f}" if other else "-"
    print(f"| {name} | {fmt(mine)} | {fmt(other)} | {load} | {ratio} |")
PY
