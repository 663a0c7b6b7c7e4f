#!/usr/bin/env bash
# `llmpipe info` on a mixed-type GGUF (made by gguf-py from the bundled model: q8_0 attention,
# q5_0/f16 FFN, f16 embeddings, f32 norms): the declared file type, the mix line equal to the
# counts and bytes per type that gguf-py's own reader finds, the per-tensor types, and a warning
# when general.file_type names a type that no matrix has; a model run could not load (a tensor
# missing or misshaped) is an error after the listing.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
make_mixed="$LLMPIPE_SOURCE_DIR/tests/tools/make_mixed_gguf.py"

expected=$("$python" "$make_mixed" "$MODEL" "$WORK/q8.gguf" 7)
out=$(timeout 60 "$LLMPIPE_BIN" info -m "$WORK/q8.gguf" 2>"$WORK/err") || fail "info failed: $(cat "$WORK/err")"
grep -qx "file type:     7 (MOSTLY_Q8_0)" <<<"$out" || fail "file type line: $(grep 'file type' <<<"$out")"
actual=$(sed -n 's/^mix:  *//p' <<<"$out")
[[ "$actual" == "$expected" ]] || fail "mix line: expected '$expected' (gguf-py), got '$actual'"
[[ "$actual" == *q8_0* && "$actual" == *q5_0* && "$actual" == *f16* && "$actual" == *f32* ]] ||
  fail "the mix should have four types: $actual"
grep -Eq '^ +blk\.0\.attn_q\.weight +q8_0 ' <<<"$out" || fail "attn_q should be listed as q8_0"
grep -Eq '^ +blk\.0\.ffn_down\.weight +f16 ' <<<"$out" || fail "ffn_down should be listed as f16"
[[ ! -s "$WORK/err" ]] || fail "no warning expected for a consistent label: $(cat "$WORK/err")"
pass "info: file type 7 (MOSTLY_Q8_0), mix = gguf-py's: $actual"

# The same tensors labelled MOSTLY_Q4_K_M (15): no matrix is q4_k, a warning (not an error).
"$python" "$make_mixed" "$MODEL" "$WORK/lying.gguf" 15 >/dev/null
timeout 60 "$LLMPIPE_BIN" info -m "$WORK/lying.gguf" >"$WORK/out" 2>"$WORK/err" ||
  fail "a wrong label must not be an error: $(cat "$WORK/err")"
grep -q "file type:     15 (MOSTLY_Q4_K_M)" "$WORK/out" || fail "file type 15 not shown"
for part in "warning: $WORK/lying.gguf" "general.file_type = 15 (MOSTLY_Q4_K_M) promises q4_k" \
    "none of the 37 matrices is q4_k"; do
  grep -qF "$part" "$WORK/err" || fail "warning lacks '$part': $(cat "$WORK/err")"
done
pass "info warns: $(cat "$WORK/err")"

# A model `run` could not load: info prints what it read, then fails naming each problem. The
# files are the bundled model rewritten by gguf-py without output_norm.weight, and with
# blk.1.ffn_up.weight's shape swapped.
"$python" - "$MODEL" "$WORK" <<'PY'
import sys
import gguf
src, work = sys.argv[1:]
r = gguf.GGUFReader(src)
def write(path, drop=None, swap=None):
    w = gguf.GGUFWriter(path, arch=None)
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "general.alignment":
            continue
        v = f.contents()
        t = f.types[0]
        if t == gguf.GGUFValueType.ARRAY:
            w.add_key_value(f.name, v, t, sub_type=f.types[-1])
        else:
            w.add_key_value(f.name, v, t)
    for t in r.tensors:
        if t.name == drop:
            continue
        data = t.data
        if t.name == swap:
            data = data.reshape(data.shape[::-1]).copy()
        w.add_tensor(t.name, data, raw_dtype=t.tensor_type)
    w.write_header_to_file(); w.write_kv_data_to_file(); w.write_tensors_to_file(); w.close()
write(f"{work}/no_norm.gguf", drop="output_norm.weight")
write(f"{work}/swapped.gguf", swap="blk.1.ffn_up.weight")
PY
for case in no_norm:"missing tensor output_norm.weight" \
    swapped:"tensor blk.1.ffn_up.weight has shape [172, 64], expected [64, 172]"; do
  file=${case%%:*} want=${case#*:}
  if timeout 60 "$LLMPIPE_BIN" info -m "$WORK/$file.gguf" >"$WORK/out" 2>"$WORK/err"; then
    fail "info exited 0 on $file.gguf"
  fi
  grep -q "the model cannot be loaded (1 problem)" "$WORK/err" || fail "$file: $(cat "$WORK/err")"
  grep -qF "$want" "$WORK/err" || fail "$file: expected '$want' in: $(cat "$WORK/err")"
  grep -q "^total: " "$WORK/out" || fail "$file: info did not print what it read first"
done
pass "info: a model run could not load is an error naming the tensor, after the listing"
