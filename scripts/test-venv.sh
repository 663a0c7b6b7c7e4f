#!/usr/bin/env bash
# The test-only Python references (PyPI), in a virtual environment under the build folder:
#   scripts/test-venv.sh [BUILD_DIR]   -> prints the venv's python
# gguf: gguf-py's numpy (de)quantization, the independent reference of the block formats.
# jinja2: renders chat templates as transformers does, the reference of src/chat/.
# tokenizers: Hugging Face's (Rust) tokenizers, the reference of the byte-level BPE tokenizer.
# openai: the official client's types, which OpenAI batch files are checked against.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=${1:-build}/venv
if [[ ! -x "$venv/bin/python" ]] || ! "$venv/bin/python" -c 'import gguf, numpy, jinja2, tokenizers, openai' 2>/dev/null; then
  python3 -m venv "$venv" >&2
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'gguf==0.19.0' numpy 'jinja2==3.1.6' \
    'tokenizers==0.23.3' 'openai==3.60.0' >&2
fi
echo "$venv/bin/python"
