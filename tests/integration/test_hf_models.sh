#!/usr/bin/env bash
# Hugging Face model directories made from the bundled GGUF model (make_hf_fixture.py): config.json,
# tokenizer.model, and weights as safetensors and torch.save .bin, single files and 2 shards with
# an index. Greedy completions through the real pipeline (P = 1, 2, and 3 for shards) must be
# token-identical to llama.cpp's reference for the GGUF model, every rank holding only its tensors
# and opening only the shards that hold them.
source "$(dirname "$0")/lib.sh"

# python3 with PyTorch (Debian's python3-torch lives in /usr/bin/python3's path) writes the .bin
# fixtures with torch.save itself; without it they are written by the stdlib replica too.
TORCH_PY=""
for py in python3 /usr/bin/python3; do
  if command -v "$py" > /dev/null && "$py" -c "import torch" 2> /dev/null; then TORCH_PY=$py; break; fi
done
FIXTURE="$LLMPIPE_SOURCE_DIR/tests/integration/make_hf_fixture.py"
python3 "$FIXTURE" "$MODEL" "$WORK/hf" --bin-writer stdlib \
  --variants st-single,st-sharded,bin-single,bin-sharded || fail "fixture"
VARIANTS=(st-single st-sharded bin-single bin-sharded)
if [[ -n "$TORCH_PY" ]]; then
  "$TORCH_PY" "$FIXTURE" "$MODEL" "$WORK/hf-torch" --bin-writer torch --variants bin-single,bin-sharded ||
    fail "torch fixture"
  for v in bin-single bin-sharded; do ln -s "$WORK/hf-torch/$v" "$WORK/hf/torch-$v"; done
  VARIANTS+=(torch-bin-single torch-bin-sharded)
else
  echo "note: PyTorch not importable: .bin fixtures come from the stdlib torch.save replica only"
fi

# The tokenizer.model built from the GGUF vocabulary is a valid SentencePiece model: the
# reference library encodes the reference prompts to llama.cpp's tokens.
SPM_PY=""
for py in python3 /usr/bin/python3; do
  if command -v "$py" > /dev/null && "$py" -c "import sentencepiece" 2> /dev/null; then SPM_PY=$py; break; fi
done
if [[ -n "$SPM_PY" ]]; then
  "$SPM_PY" - "$WORK/hf/st-single/tokenizer.model" "$REFERENCE" <<'PY' || fail "tokenizer.model vs sentencepiece"
import json, sys
import sentencepiece as spm
sp = spm.SentencePieceProcessor(model_file=sys.argv[1])
for line in open(sys.argv[2]):
    r = json.loads(line)
    ids = [sp.bos_id()] + sp.encode(r["prompt"])
    assert ids == r["prompt_tokens"], (r["prompt"], ids, r["prompt_tokens"])
PY
  pass "tokenizer.model: sentencepiece encodes the reference prompts to the reference tokens"
else
  echo "note: python sentencepiece not importable: tokenizer.model not cross-checked"
fi

# LLMPIPE_HF_VARIANTS="st-single bin-single" narrows the run when debugging.
[[ -n "${LLMPIPE_HF_VARIANTS:-}" ]] && read -r -a VARIANTS <<< "$LLMPIPE_HF_VARIANTS"

reference_prompts "$WORK/prompts.jsonl"
check_run() {  # check_run OUT P [HF_DIR]: with HF_DIR, each rank opened only the shards it needs
  python3 - "$1" "$2" "$REFERENCE" "${3:-}" "$LLMPIPE_SOURCE_DIR/tests/integration" <<'PY'
import glob, json, os, sys, re
out, p, ref_path, hf_dir = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
sys.path.insert(0, sys.argv[5])
from make_hf_fixture import HF_NAMES, HF_LAYER
def hf_name(gguf):
    if gguf in HF_NAMES: return HF_NAMES[gguf]
    _, layer, role, _ = gguf.split(".")
    return f"model.layers.{layer}.{HF_LAYER[role]}.weight"
refs = [json.loads(l) for l in open(ref_path)]
done = {c["id"]: c for c in map(json.loads, open(f"{out}/completions.jsonl"))}
assert len(done) == len(refs), f"{len(done)} completions for {len(refs)} prompts"
for i, ref in enumerate(refs):
    c = done[i]
    assert c["prompt_tokens"] == len(ref["prompt_tokens"]), (c["prompt_tokens"], len(ref["prompt_tokens"]))
    assert c["completion_tokens"] == len(ref["greedy_tokens"]), (i, c["completion_tokens"])
    assert c["completion"] == ref["greedy_text"], f"prompt {i}: {c['completion']!r} != {ref['greedy_text']!r}"
m = json.load(open(f"{out}/metrics.json"))
for s in m["stages"]:
    names = re.search(r"tensors held: \d+ \(([^)]*)\)", open(f"{out}/rank_{s['rank']}.log").read()).group(1).split()
    first, last = s["layers"]
    want = {f"blk.{l}.{t}.weight" for l in range(first, last) for t in
            ("attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down")}
    if s["rank"] == 0: want.add("token_embd.weight")
    if s["rank"] == p - 1: want |= {"output_norm.weight", "output.weight"}
    assert set(names) == want, (s["rank"], sorted(set(names) ^ want))
    if hf_dir:
        log = open(f"{out}/rank_{s['rank']}.log").read()
        opened = {os.path.basename(f) for f in re.search(r"checkpoint files opened: \d+ \(([^)]*)\)", log).group(1).split()}
        index = glob.glob(f"{hf_dir}/*.index.json")
        if index:
            wm = json.load(open(index[0]))["weight_map"]
            need = {wm[hf_name(n)] for n in want}
        else:
            need = {os.path.basename(f) for f in glob.glob(f"{hf_dir}/*.safetensors") + glob.glob(f"{hf_dir}/*.bin")}
        assert opened == need, (s["rank"], opened, need)
PY
}

for v in "${VARIANTS[@]}"; do
  ps=(1 2)
  [[ $v == *sharded ]] && ps+=(3)  # P = 3: the first and last stages need one shard each
  for p in "${ps[@]}"; do
    mpirun_llmpipe "$p" 300 run -m "$WORK/hf/$v" --prompts "$WORK/prompts.jsonl" -o "$WORK/out-$v-$p" \
      --max-new-tokens 128 --threads 1 > "$WORK/$v-$p.stdout" 2> "$WORK/$v-$p.stderr" ||
      { cat "$WORK/$v-$p.stderr"; fail "$v P=$p run failed"; }
    check_run "$WORK/out-$v-$p" "$p" "$WORK/hf/$v" || fail "$v P=$p outputs"
    pass "$v P=$p: completions identical to the GGUF reference; each rank opened only its shards"
  done
done

# `llmpipe convert`: the GGUF written from a sharded HF directory holds the original GGUF's
# tensors bit for bit, is self-contained (tokenizer included) and runs token-identically.
"$LLMPIPE_BIN" convert "$WORK/hf/st-sharded" "$WORK/converted.gguf" -q || fail "convert"
"$LLMPIPE_BIN" convert "$WORK/hf/bin-sharded" "$WORK/converted-bin.gguf" -q || fail "convert .bin"
python3 - "$LLMPIPE_SOURCE_DIR/tests/integration" "$MODEL" "$WORK/converted.gguf" "$WORK/converted-bin.gguf" <<'PY' || fail "converted tensors"
import sys
sys.path.insert(0, sys.argv[1])
from make_hf_fixture import read_gguf
meta0, t0 = read_gguf(sys.argv[2])
for path in sys.argv[3:]:
    meta, t = read_gguf(path)
    assert set(t) == set(t0), sorted(set(t) ^ set(t0))
    for name in t0:
        assert t[name] == t0[name], f"{path}: tensor {name} differs"
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type",
                "llama.block_count", "llama.attention.head_count_kv", "llama.feed_forward_length"):
        assert meta[key] == meta0[key], (path, key)
PY
pass "convert: tensors and tokenizer identical to the original GGUF"
mpirun_llmpipe 2 300 run -m "$WORK/converted.gguf" --prompts "$WORK/prompts.jsonl" -o "$WORK/out-conv" \
  --max-new-tokens 128 --threads 1 > /dev/null 2> "$WORK/conv.stderr" || { cat "$WORK/conv.stderr"; fail "converted run"; }
check_run "$WORK/out-conv" 2 || fail "converted outputs"
pass "convert: P=2 completions identical to the GGUF reference"

# --dtype: BF16 weights stored in the HF directory (F32 -> BF16 rounded to nearest even) give
# the same greedy text as the F32 GGUF converted to bf16 at load, in generate and in run.
python3 "$FIXTURE" "$MODEL" "$WORK/hf-bf16" --dtype bf16 --bin-writer stdlib --variants st-single,bin-single > /dev/null ||
  fail "bf16 fixture"
gen() { "$LLMPIPE_BIN" generate -n 60 --temperature 0 --no-echo --threads 1 -p "Once upon a time" "$@" 2> /dev/null; }
want=$(gen -m "$MODEL" --dtype bf16) || fail "generate --dtype bf16"
[[ "$want" != "$(gen -m "$MODEL")" ]] || echo "note: bf16 and f32 greedy texts agree on this prompt"
bf16_dirs=("$WORK/hf-bf16/st-single" "$WORK/hf-bf16/bin-single")
if [[ -n "$TORCH_PY" ]]; then
  "$TORCH_PY" "$FIXTURE" "$MODEL" "$WORK/hf-bf16-torch" --dtype bf16 --bin-writer torch --variants bin-sharded > /dev/null ||
    fail "bf16 torch fixture"
  bf16_dirs+=("$WORK/hf-bf16-torch/bin-sharded")
fi
for d in "${bf16_dirs[@]}"; do
  got=$(gen -m "$d") || fail "generate bf16 $d"
  [[ "$got" == "$want" ]] || fail "bf16 $d: '$got' != '$want'"
done
python3 "$FIXTURE" "$MODEL" "$WORK/hf-f16" --dtype f16 --bin-writer stdlib --variants st-sharded,bin-single > /dev/null ||
  fail "f16 fixture"
want16=$(gen -m "$MODEL" --dtype f16) || fail "generate --dtype f16"
for v in st-sharded bin-single; do
  got=$(gen -m "$WORK/hf-f16/$v") || fail "generate f16 $v"
  [[ "$got" == "$want16" ]] || fail "f16 $v: '$got' != '$want16'"
done
mpirun_llmpipe 2 300 run -m "$WORK/hf/st-single" --dtype bf16 --prompts "$WORK/prompts.jsonl" -o "$WORK/out-bf16" \
  --max-new-tokens 16 --threads 1 > /dev/null 2> "$WORK/bf16.stderr" || { cat "$WORK/bf16.stderr"; fail "run --dtype bf16"; }
grep -q '"dtype": "bf16"' "$WORK/out-bf16/metrics.json" || fail "metrics.json lacks dtype bf16"
pass "--dtype bf16/f16: HF bf16/f16 weights = GGUF converted at load"

# Quantized at load and at conversion: runs, and the two agree token for token.
"$LLMPIPE_BIN" convert "$WORK/hf/st-single" "$WORK/q8.gguf" --type q8_0 -q || fail "convert q8_0"
q8_conv=$(gen -m "$WORK/q8.gguf") || fail "generate q8_0 gguf"
q8_load=$(gen -m "$WORK/hf/bin-sharded" --dtype q8_0) || fail "generate --dtype q8_0"
[[ -n "$q8_conv" && "$q8_conv" == "$q8_load" ]] || fail "q8_0: '$q8_conv' != '$q8_load'"
# Both paths share one quantizer: check it against an independent one (gguf-py's numpy), byte
# for byte, on every tensor the conversion quantized (the HF rows, un-permuted for RoPE, must be
# the GGUF model's rows again).
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$(dirname "$LLMPIPE_BIN")")
"$LLMPIPE_BIN" convert "$WORK/hf/st-single" "$WORK/q4.gguf" --type q4_0 -q || fail "convert q4_0"
for t in q8:Q8_0 q4:Q4_0; do
  n=$("$python" "$LLMPIPE_SOURCE_DIR/tests/tools/gguf_py_compare_quantized.py" \
    "$WORK/${t%%:*}.gguf" "$MODEL" "${t#*:}") || fail "${t#*:} conversion differs from gguf-py's"
  echo "${t#*:}: $n tensors byte-identical to gguf-py's quantization"
done
pass "q8_0 at load = q8_0 converted = gguf-py's quantization"
# convert declares general.file_type as synth and quantize do (llama_ftype, read by gguf-py).
for t in converted:0 q8:7 q4:2; do
  got=$("$python" -c 'import gguf, sys; f = gguf.GGUFReader(sys.argv[1]).fields["general.file_type"]; print(f.contents())'     "$WORK/${t%%:*}.gguf") || fail "${t%%:*}.gguf: no general.file_type"
  [[ "$got" == "${t#*:}" ]] || fail "${t%%:*}.gguf: general.file_type $got, expected ${t#*:}"
done
pass "convert writes general.file_type (ALL_F32, MOSTLY_Q8_0, MOSTLY_Q4_0)"

# `info` on a directory; malformed directories fail on every rank with the reason, without hanging.
# (To a file, not a pipe into grep -q: grep may exit at the match, and info's later writes
# would then die of SIGPIPE, failing the pipeline by chance.)
"$LLMPIPE_BIN" info -m "$WORK/hf/bin-sharded" > "$WORK/info.out" 2>&1 ||
  { cat "$WORK/info.out"; fail "info on an HF directory exited non-zero"; }
grep -q "blk.4.ffn_down.weight  *f32  *\[172, 64\]" "$WORK/info.out" ||
  { cat "$WORK/info.out"; fail "info on an HF directory: blk.4.ffn_down.weight not listed as f32 [172, 64]"; }
expect_run_failure() {  # expect_run_failure NAME DIR "MESSAGE"
  local rc=0
  mpirun_llmpipe 2 120 run -m "$2" --prompts "$WORK/prompts.jsonl" -o "$WORK/$1" > "$WORK/$1.out" 2>&1 || rc=$?
  [[ $rc -ne 0 && $rc -ne 124 ]] || fail "$1: exit code $rc"
  grep -qF -- "$3" "$WORK/$1.out" || { cat "$WORK/$1.out"; fail "$1: message lacks '$3'"; }
  pass "$1: $3"
}
cp -r "$WORK/hf/st-sharded" "$WORK/bad-config"
python3 - "$WORK/bad-config/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1])); del c["intermediate_size"]; json.dump(c, open(sys.argv[1], "w"))
PY
expect_run_failure bad-config "$WORK/bad-config" "config.json: missing field intermediate_size"
cp -r "$WORK/hf/bin-sharded" "$WORK/missing-shard"
rm "$WORK/missing-shard/pytorch_model-00002-of-00002.bin"
expect_run_failure missing-shard "$WORK/missing-shard" "missing shard pytorch_model-00002-of-00002.bin"
