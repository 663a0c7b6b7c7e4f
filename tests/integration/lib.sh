# shellcheck shell=bash
# Shared helpers for the process-level tests. Sourced; expects LLMPIPE_BIN and LLMPIPE_SOURCE_DIR
# (set by CTest). Every launch is bounded by a timeout so that no test can hang.
set -euo pipefail

: "${LLMPIPE_BIN:?set by ctest}"
: "${LLMPIPE_SOURCE_DIR:?set by ctest}"
# shellcheck disable=SC2034  # used by the scripts that source this file
MODEL="$LLMPIPE_SOURCE_DIR/models/stories260K.gguf"
REFERENCE="$LLMPIPE_SOURCE_DIR/tests/data/stories260K-greedy.jsonl"
WORK=$(mktemp -d /tmp/llmpipe-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

# Yield the CPU while MPI waits: ranks outnumber the cores here.
export OMPI_MCA_mpi_yield_when_idle=1
export OMPI_MCA_rmaps_base_oversubscribe=1

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# mpirun_llmpipe P TIMEOUT ARGS...: runs `llmpipe ARGS` on P ranks.
mpirun_llmpipe() {
  local p=$1 limit=$2
  shift 2
  timeout --kill-after=5 "$limit" mpirun --allow-run-as-root --oversubscribe --bind-to none \
    -n "$p" "$LLMPIPE_BIN" "$@"
}

# Reference prompts as a prompts file (id = line index).
reference_prompts() {
  python3 - "$REFERENCE" > "$1" <<'PY'
import json, sys
for i, line in enumerate(open(sys.argv[1])):
    print(json.dumps({"id": i, "prompt": json.loads(line)["prompt"]}))
PY
}

# chat_model PYTHON OUT: stories260K has no chat template; OUT is a copy with a small one
# (system turn trimmed and ended with ". ", other turns as they are), by gguf-py's
# gguf-new-metadata from the test venv whose python is PYTHON.
chat_model() {
  local template="{{ bos_token }}{% for m in messages %}{% if m.role == 'system' %}{{ m.content | trim }}. {% else %}{{ m.content }}{% endif %}{% endfor %}"
  "$(dirname "$1")/gguf-new-metadata" "$MODEL" "$2" --chat-template "$template" \
    > "$2.meta.out" 2>&1 || { cat "$2.meta.out"; fail "gguf-new-metadata failed"; }
}
