#!/usr/bin/env bash
# synth tiny -> quantize -> bench --json, through the CLI: reproducible files, a loadable
# quantized model, llama-bench's JSONL keys with sane values; clear errors for bad arguments.
source "$(dirname "$0")/lib.sh"

run() { timeout --kill-after=5 120 "$LLMPIPE_BIN" "$@"; }

run synth --shape tiny --type f16 --seed 3 -o "$WORK/a.gguf" -q 2> "$WORK/synth.err" ||
  { cat "$WORK/synth.err"; fail "synth tiny"; }
grep -q "peak RSS" "$WORK/synth.err" || fail "synth does not report peak RSS"
run synth --shape tiny --type f16 --seed 3 -o "$WORK/b.gguf" -q -t 1 2> /dev/null || fail "synth tiny again"
[[ $(sha256sum < "$WORK/a.gguf") == $(sha256sum < "$WORK/b.gguf") ]] || fail "same seed, different bytes"
pass "synth is reproducible"

run quantize "$WORK/a.gguf" "$WORK/q4.gguf" --type q4_0 -q 2> "$WORK/q.err" ||
  { cat "$WORK/q.err"; fail "quantize"; }
run info -m "$WORK/q4.gguf" > "$WORK/info.txt" || fail "info on the quantized model"
grep -q "blk.0.attn_q.weight *q4_0" "$WORK/info.txt" || fail "attn_q is not q4_0"
grep -q "output_norm.weight *f32" "$WORK/info.txt" || fail "output_norm is not f32"
run generate -m "$WORK/q4.gguf" -p "Once upon a time" -n 8 -t 2 > "$WORK/gen.txt" 2>&1 ||
  { cat "$WORK/gen.txt"; fail "generate on the quantized model"; }
pass "quantize to q4_0, info and generate"

run bench -m "$WORK/q4.gguf" -p 16 -n 4 -r 1 -t 2 --bw-mib 64 --json > "$WORK/bench.jsonl" \
  2> "$WORK/bench.err" || { cat "$WORK/bench.err"; fail "bench --json"; }
python3 - "$WORK/bench.jsonl" "$WORK/q4.gguf" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert len(lines) == 2, lines
keys = ["model_filename", "model_type", "model_size", "model_n_params", "n_threads", "n_prompt",
        "n_gen", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts", "samples_ns", "samples_ts",
        "backend", "bandwidth_gbs", "floor_fraction", "peak_rss_bytes"]
for j in lines:
    missing = [k for k in keys if k not in j]
    assert not missing, missing
    assert j["model_filename"] == sys.argv[2]
    assert j["model_type"].startswith("llama ") and j["model_type"].endswith("Q4_0"), j["model_type"]
    assert j["n_threads"] == 2 and j["backend"] == "CPU"
    assert len(j["samples_ns"]) == 1 and len(j["samples_ts"]) == 1
    assert j["avg_ts"] > 0 and j["avg_ns"] > 0 and j["peak_rss_bytes"] > 0
pp, tg = lines
# The bandwidth is probed around the tg test (the floor is a decode notion): pp, printed first, has none.
assert pp["bandwidth_gbs"] == 0 and tg["bandwidth_gbs"] > 0, (pp["bandwidth_gbs"], tg["bandwidth_gbs"])
assert (pp["n_prompt"], pp["n_gen"], tg["n_prompt"], tg["n_gen"]) == (16, 0, 0, 4)
assert pp["floor_fraction"] == 0 and 0 < tg["floor_fraction"] < 2, tg["floor_fraction"]
PY
pass "bench --json"

run bench -m "$WORK/q4.gguf" -p 8 -n 2 -r 2 -t 1 --bw-mib 0 > "$WORK/bench.md" 2>&1 ||
  { cat "$WORK/bench.md"; fail "bench table"; }
if ! { grep -q "| model .*| t/s " "$WORK/bench.md" && grep -qE "\| +pp8 \|" "$WORK/bench.md" &&
  grep -qE "\| +tg2 \|" "$WORK/bench.md" && grep -q "peak RSS" "$WORK/bench.md"; }; then
  cat "$WORK/bench.md"
  fail "bench table lacks rows"
fi
pass "bench table"

expect_error() {  # expect_error "MESSAGE" ARGS...
  local message=$1 rc=0
  shift
  run "$@" > "$WORK/err.out" 2>&1 || rc=$?
  [[ $rc -ne 0 ]] || fail "'$*' exited 0"
  grep -qF -- "$message" "$WORK/err.out" || { cat "$WORK/err.out"; fail "'$*': message lacks '$message'"; }
}
expect_error "valid shapes: tiny, openllama-3b" synth --shape nope -o "$WORK/x.gguf"
expect_error "q9_9 not in" synth --shape tiny --type q9_9 -o "$WORK/x.gguf"
expect_error "same file" quantize "$WORK/q4.gguf" "$WORK/q4.gguf" --type q8_0
expect_error "does not exist" bench -m "$WORK/missing.gguf"
for cmd in synth quantize bench; do run "$cmd" --help > /dev/null || fail "$cmd --help"; done
[[ ! -e "$WORK/x.gguf" ]] || fail "a failed synth left a file"
pass "errors and --help"
