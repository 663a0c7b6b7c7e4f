#!/usr/bin/env bash
# A real llama.cpp-made K-quant mix (tests/data/tiny256-Q4_K_M.gguf, provenance in
# tests/data/README.md): every tensor decodes bit for bit as gguf-py's numpy dequantization
# (PyPI, in the build folder's venv), and `llmpipe info` names its file type and mix.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
file="$LLMPIPE_TEST_DATA/tiny256-Q4_K_M.gguf"
[[ -f $file ]] || fail "missing $file"

"$python" "$LLMPIPE_SOURCE_DIR/tests/tools/gguf_py_dequant.py" "$file" "$WORK/ref.bin" >/dev/null
out=$("$build_dir/tests/check_gguf_decode" "$file" "$WORK/ref.bin") ||
  { echo "$out"; fail "decode differs from gguf-py"; }
[[ $(grep -c "bit-identical" <<<"$out") -eq 39 ]] || { echo "$out"; fail "expected 39 tensors checked"; }
for line in "type q4_k     25 tensors, 0 mismatched" "type q6_k      5 tensors, 0 mismatched" \
    "type f32       9 tensors, 0 mismatched"; do
  grep -qF "$line" <<<"$out" || { echo "$out"; fail "expected '$line'"; }
done
pass "all 39 tensors of llama.cpp's Q4_K_M (25 q4_k, 5 q6_k, 9 f32) bit-identical to gguf-py"

info=$(timeout 60 "$LLMPIPE_BIN" info -m "$file" 2>"$WORK/err") || fail "info: $(cat "$WORK/err")"
grep -qx "file type:     15 (MOSTLY_Q4_K_M)" <<<"$info" || fail "file type: $(grep 'file type' <<<"$info")"
grep -qx "mix:           25 q4_k (1.51 MiB), 5 q6_k (472.50 KiB), 9 f32 (9.00 KiB)" <<<"$info" ||
  fail "mix: $(grep '^mix' <<<"$info")"
[[ ! -s "$WORK/err" ]] || fail "unexpected warning: $(cat "$WORK/err")"
pass "info: 15 (MOSTLY_Q4_K_M), 25 q4_k + 5 q6_k + 9 f32"
