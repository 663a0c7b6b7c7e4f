#!/usr/bin/env bash
# quantize_row writes Q4_0, Q4_1, Q5_0, Q5_1 and Q8_0 blocks byte for byte as gguf-py's numpy
# quantize does (PyPI, in the build folder's venv), on random rows in several regimes and on
# rows of every matrix of tiny256-distilled.gguf.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
"$python" "$LLMPIPE_SOURCE_DIR/tests/tools/gguf_py_quantize.py" "$WORK/rows.bin" \
  "$LLMPIPE_TEST_DATA/tiny256-distilled.gguf" 3
out=$("$build_dir/tests/check_row_quantize" "$WORK/rows.bin") || { echo "$out"; fail "quantize differs from gguf-py"; }
echo "$out"
[[ $(grep -c "byte-identical" <<<"$out") -eq 5 ]] || fail "expected 5 types checked"
pass "5 block types byte-identical to gguf-py's quantize"
