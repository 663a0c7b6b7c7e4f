#!/usr/bin/env bash
# `llmpipe tokenize`: ids and pieces of vocab-only GGUFs (byte-level BPE and SentencePiece),
# BOS and special-token flags, and clear errors (unsupported tokenizer.json, before any weight
# is read; unknown pre-tokenizer; no text).
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"
data=$LLMPIPE_TEST_DATA
tok() { timeout 60 "$LLMPIPE_BIN" tokenize "$@"; }

# llama.cpp's vector for "Hello world" (ggml-vocab-llama-bpe.gguf.out), BOS by the vocabulary.
[[ $(tok -m "$data/ggml-vocab-llama-bpe.gguf" -p "Hello world" --ids) == "128000 9906 1917" ]] ||
  fail "llama-bpe Hello world ids"
[[ $(tok -m "$data/ggml-vocab-llama-bpe.gguf" -p "Hello world" --ids --no-bos) == "9906 1917" ]] ||
  fail "--no-bos"
out=$(tok -m "$data/ggml-vocab-llama-bpe.gguf" -p "Hello world")
[[ "$out" == $'128000\t<|begin_of_text|>\n9906\tHello\n1917\t world' ]] || fail "pieces: $out"
# Special tokens: text unless --special.
[[ $(tok -m "$data/ggml-vocab-llama-bpe.gguf" -p "<|eot_id|>" --ids --no-bos --special) == "128009" ]] ||
  fail "--special <|eot_id|>"
[[ $(tok -m "$data/ggml-vocab-llama-bpe.gguf" -p "<|eot_id|>" --ids --no-bos) != "128009" ]] ||
  fail "<|eot_id|> without --special must be text"
# Qwen2: no BOS; a newline piece is escaped; a split emoji shows its bytes.
out=$(tok -m "$data/ggml-vocab-qwen2.gguf" -p $'a\n')
[[ "$out" == $'64\ta\n198\t\\n' ]] || fail "qwen2 pieces: $out"
# SentencePiece (the LLaMA vectors' "Hello world"), and the -f form.
printf 'Hello world' > "$WORK/text.txt"
[[ $(tok -m "$data/ggml-vocab-llama-spm.gguf" -f "$WORK/text.txt" --ids --no-bos) == "15043 3186" ]] ||
  fail "llama-spm -f"
pass "tokenize: ids, pieces, --no-bos, --special, -f on byte-level BPE and SentencePiece GGUFs"

expect_error() {  # expect_error "message part" ARGS...: non-zero exit, message on stderr
  local want=$1
  shift
  local err rc=0
  err=$(timeout 60 "$LLMPIPE_BIN" "$@" 2>&1 >/dev/null) || rc=$?
  ((rc != 0)) || fail "$* succeeded"
  [[ "$err" == *"$want"* ]] || fail "$*: expected '$want' in: $err"
}
expect_error "give the text with -p TEXT or -f FILE" tokenize -m "$data/ggml-vocab-qwen2.gguf"
expect_error "does not exist" tokenize -m "$WORK/missing.gguf" -p x

# A WordPiece tokenizer.json: refused naming the type, before any weight is read (the
# directory's safetensors file is garbage: reading it would be another error).
hf=$WORK/hf-wordpiece
cp -r "$LLMPIPE_SOURCE_DIR/tests/data/hf-arch/llama3-rope" "$hf"
rm "$hf/tokenizer.model"
echo "not a safetensors file" > "$hf/model.safetensors"
cat > "$hf/tokenizer.json" <<'JSON'
{"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
 "model": {"type": "WordPiece", "unk_token": "[UNK]", "vocab": {"[UNK]": 0, "a": 1}}}
JSON
expect_error "unsupported tokenizer model type 'WordPiece'" tokenize -m "$hf" -p x
expect_error "unsupported tokenizer model type 'WordPiece'" generate -m "$hf" -p x -n 1
expect_error "unsupported tokenizer model type 'WordPiece'" info -m "$hf"
# A GGUF whose tokenizer.ggml.pre llmpipe does not know: named, with the supported ones.
python3 - "$WORK/unknown-pre.gguf" <<'PY'
import struct, sys
def s(x): b = x.encode(); return struct.pack("<Q", len(b)) + b
def kv_str(k, v): return s(k) + struct.pack("<I", 8) + s(v)
def kv_strs(k, vs): return s(k) + struct.pack("<II", 9, 8) + struct.pack("<Q", len(vs)) + b"".join(s(v) for v in vs)
kvs = [kv_str("tokenizer.ggml.model", "gpt2"), kv_str("tokenizer.ggml.pre", "no-such-pre"),
       kv_strs("tokenizer.ggml.tokens", ["a", "b", "ab"]), kv_strs("tokenizer.ggml.merges", ["a b"])]
open(sys.argv[1], "wb").write(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + b"".join(kvs))
PY
expect_error "unsupported byte-level BPE pre-tokenizer 'no-such-pre'" tokenize -m "$WORK/unknown-pre.gguf" -p x
expect_error "supported: llama-bpe" tokenize -m "$WORK/unknown-pre.gguf" -p x
pass "tokenize: errors name what to fix (no text, missing file, WordPiece before weights, unknown pre)"
