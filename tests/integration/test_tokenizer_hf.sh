#!/usr/bin/env bash
# Byte-level BPE against Hugging Face tokenizers (PyPI, in the build folder's venv): for each
# vocab-only GGUF of llama.cpp (LLaMA 3, Qwen2, GPT-2, DeepSeek LLM) make_hf_tokenizer.py
# builds the same tokenizer with the tokenizers library and encodes 400 varied strings;
# check_tokenizer encodes them from the GGUF and from that tokenizer.json (ids equal, decode
# inverts encode); Tekken's regexes likewise on GPT-2's vocabulary. Then `llmpipe convert` of a Hugging Face directory whose tokenizer is a
# tokenizer.json: the GGUF tokenizes as tokenizers does, and as the directory itself.
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
build_dir=$(dirname "$LLMPIPE_BIN")
python=$("$LLMPIPE_SOURCE_DIR/scripts/test-venv.sh" "$build_dir")
data=$LLMPIPE_TEST_DATA
make_hf=$LLMPIPE_SOURCE_DIR/tests/tools/make_hf_tokenizer.py
check=$build_dir/tests/check_tokenizer

for name in llama-bpe qwen2 gpt-2 deepseek-llm; do
  mkdir -p "$WORK/$name"
  "$python" "$make_hf" "$data/ggml-vocab-$name.gguf" "$WORK/$name" --cases 400
  out=$("$check" "$data/ggml-vocab-$name.gguf" "$WORK/$name") || { echo "$out"; fail "$name: llmpipe differs from tokenizers"; }
  echo "$out"
  pass "$name: 400 strings encode as tokenizers does, from the GGUF and from tokenizer.json"
done

# Tekken's regexes (Mistral Nemo / Small 3; no vocab-only GGUF of it here) on GPT-2's vocabulary:
# the tokenizer.json alone, against tokenizers.
mkdir -p "$WORK/tekken"
"$python" "$make_hf" "$data/ggml-vocab-gpt-2.gguf" "$WORK/tekken" --cases 400 --pre tekken
out=$("$check" "$data/ggml-vocab-gpt-2.gguf" "$WORK/tekken" --json-only) || { echo "$out"; fail "tekken: llmpipe differs from tokenizers"; }
echo "$out"
grep -q "pre 'tekken'" <<<"$out" || fail "tekken's regex not recognised by name"
pass "tekken: 400 strings split and encode as tokenizers does"

# A tiny model (vocab_size 512) with a 512-token byte-level tokenizer.json (GPT-2's first 511
# tokens and <|endoftext|>) instead of its tokenizer.model.
hf=$WORK/hf-bpe
cp -r "$data/hf-arch/llama3-rope" "$hf"
rm "$hf/tokenizer.model"
"$python" "$make_hf" "$data/ggml-vocab-gpt-2.gguf" "$hf" --truncate 512 --cases 200
# config.json's special ids win over the tokenizer's (as in transformers): make them agree.
"$python" - "$hf/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["bos_token_id"] = c["eos_token_id"] = 511
json.dump(c, open(sys.argv[1], "w"))
PY
out=$(timeout 300 "$LLMPIPE_BIN" convert "$hf" "$WORK/hf-bpe.gguf" 2>&1) || { echo "$out"; fail "convert of the tokenizer.json directory"; }
out=$("$check" "$WORK/hf-bpe.gguf" "$hf") || { echo "$out"; fail "converted GGUF differs from tokenizers"; }
echo "$out"
for text in "Hello world" "  two  spaces, tabs\t and 123456 digits" "日本語 🦙 llama's <|endoftext|>"; do
  a=$(timeout 60 "$LLMPIPE_BIN" tokenize -m "$hf" -p "$text" --ids --special)
  b=$(timeout 60 "$LLMPIPE_BIN" tokenize -m "$WORK/hf-bpe.gguf" -p "$text" --ids --special)
  [[ -n "$a" && "$a" == "$b" ]] || fail "tokenize '$text': directory [$a], converted GGUF [$b]"
done
pass "convert: the GGUF of a tokenizer.json directory tokenizes as tokenizers and as the directory"
