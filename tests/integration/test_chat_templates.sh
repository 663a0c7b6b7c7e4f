#!/usr/bin/env bash
# Every real chat template in tests/data/chat-templates renders every conversation exactly as
# Python's jinja2 does under transformers' settings (tests/tools/jinja_chat_render.py, PyPI
# jinja2 in the build folder's venv): same text, or both refuse with the same raise_exception
# message, or both fail.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
# The real templates, plus the tokenizer.chat_template of two test vocabularies (via gguf-py).
templates="$WORK/templates"
mkdir -p "$templates"
cp "$LLMPIPE_SOURCE_DIR"/tests/data/chat-templates/*.jinja "$templates/"
"$python" - "$LLMPIPE_TEST_DATA" "$templates" <<'PY'
import sys, gguf
for name in ("qwen2", "phi-3"):
    field = gguf.GGUFReader(f"{sys.argv[1]}/ggml-vocab-{name}.gguf").fields["tokenizer.chat_template"]
    with open(f"{sys.argv[2]}/gguf-vocab-{name}.jinja", "wb") as f:
        f.write(bytes(field.parts[field.data[0]]))
PY
export LLMPIPE_CHAT_DATE=2026-01-15
"$python" "$LLMPIPE_SOURCE_DIR/tests/tools/jinja_chat_render.py" "$templates" "$WORK/ref"
mkdir -p "$WORK/ours"
"$build_dir/tests/chat_render" "$templates" "$WORK/ref/jobs.json" "$WORK/ours" 2>"$WORK/errors.txt" ||
  { cat "$WORK/errors.txt"; fail "chat_render failed"; }
n=$(find "$WORK/ref/expected" -name '*.txt' | wc -l)
[[ $n -ge 300 ]] || fail "expected at least 300 reference renders, found $n"
bad=0
for f in "$WORK"/ref/expected/*.txt; do
  label=$(basename "$f" .txt)
  if ! cmp -s "$f" "$WORK/ours/$label.txt"; then
    echo "--- $label differs (jinja2 vs ours):"
    diff <(cat "$f"; echo) <(cat "$WORK/ours/$label.txt"; echo) | head -20 || true
    grep -F "$label:" "$WORK/errors.txt" || true
    bad=$((bad + 1))
  fi
done
[[ $bad -eq 0 ]] || fail "$bad of $n renders differ from jinja2"
raised=$(grep -l '^<<raise_exception>>' "$WORK"/ref/expected/*.txt | wc -l)
errors=$(grep -l '^<<error>>' "$WORK"/ref/expected/*.txt | wc -l)
[[ $raised -ge 10 ]] || fail "expected templates to refuse some conversations, only $raised did"
pass "$n renders of $(find "$templates" -name '*.jinja' | wc -l) templates equal jinja2's ($raised refused by raise_exception, $errors errors on both sides)"
