#!/usr/bin/env bash
# Every block-decoded type (Q4_1, Q5_0, Q5_1, Q2_K..Q6_K, IQ4_NL, IQ4_XS) decodes random blocks
# exactly as gguf-py's numpy reference does (PyPI, in the build folder's venv).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
"$python" "$LLMPIPE_SOURCE_DIR/tests/tools/gguf_py_blocks.py" "$WORK/blocks.bin" 256 7
out=$("$build_dir/tests/check_block_decode" "$WORK/blocks.bin") || { echo "$out"; fail "decode differs from gguf-py"; }
echo "$out"
[[ $(grep -c "bit-identical" <<<"$out") -eq 10 ]] || fail "expected 10 types checked"
pass "10 block types bit-identical to gguf-py on 256 random blocks each"
