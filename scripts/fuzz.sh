#!/usr/bin/env bash
# Coverage-guided fuzzing (libFuzzer + ASan + UBSan, clang) of the parsers that read untrusted
# checkpoint bytes: safetensors headers, the unpickler, zip directories, GGUF files,
# tokenizer.json (+ tokenizer_config.json) files with the tokenizer built from them, and prompts
# files in both forms (llmpipe's and OpenAI batch requests) with the batch output built for them,
# and chat templates rendered for a conversation (within the renderer's step budget). Seeds come
# from the fixture builder (a real safetensors file, a torch.save-format data.pkl and zip) and,
# for GGUF, small files written below: one per tensor type (whole blocks, so the fuzzer starts
# from files that pass the size checks) and one mixing every type with a general.file_type.
#
#   scripts/fuzz.sh            # 60 s per target
#   FUZZ_SECONDS=600 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
command -v clang++ >/dev/null || { echo "fuzz: clang++ is needed (apt-get install clang)" >&2; exit 1; }
if [[ ! -f build-fuzz/CMakeCache.txt ]]; then
  CXX=clang++ cmake -S fuzz -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build build-fuzz -j "$(nproc)"

corpus=build-fuzz/corpus
if [[ ! -d $corpus ]]; then
  mkdir -p "$corpus"/{safetensors,pickle,zip}
  tmp=$(mktemp -d)
  python3 tests/integration/make_hf_fixture.py models/stories260K.gguf "$tmp" --bin-writer stdlib \
    --variants st-sharded,bin-sharded >/dev/null
  python3 - "$tmp" "$corpus" <<'PY'
import glob, io, struct, sys, zipfile
tmp, corpus = sys.argv[1:]
for i, st in enumerate(sorted(glob.glob(f"{tmp}/st-sharded/*.safetensors"))):
    data = open(st, "rb").read()
    n = struct.unpack("<Q", data[:8])[0]
    # Keep the header and cut the data short (sizes are validated against the data length).
    open(f"{corpus}/safetensors/seed{i}", "wb").write(data[:8 + n] + data[8 + n:8 + n + 64])
for i, b in enumerate(sorted(glob.glob(f"{tmp}/bin-sharded/*.bin"))):
    z = zipfile.ZipFile(b)
    pkl = [n for n in z.namelist() if n.endswith("/data.pkl")][0]
    open(f"{corpus}/pickle/seed{i}", "wb").write(z.read(pkl))
# A small zip: the data.pkl alone plus a tiny storage (the real shards are large for a seed).
buf = io.BytesIO()
with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
    z.writestr("m/data.pkl", open(f"{corpus}/pickle/seed0", "rb").read())
    z.writestr("m/data/0", b"\0" * 16)
    z.writestr("m/version", b"3\n")
open(f"{corpus}/zip/small", "wb").write(buf.getvalue())
PY
  rm -rf "$tmp"
fi

if [[ ! -d $corpus/gguf ]]; then
  mkdir -p "$corpus/gguf"
  python3 - "$corpus/gguf" <<'PY'
import struct, sys
out = sys.argv[1]
# ggml type id: (elements per block, bytes per block), from ggml's type traits.
TYPES = {0: (1, 4), 1: (1, 2), 30: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24),
         8: (32, 34), 10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176),
         14: (256, 210), 20: (32, 18), 23: (256, 136)}
def s(x): return struct.pack("<Q", len(x)) + x.encode()
def gguf(tensors, file_type=None):
    kv = b"" if file_type is None else s("general.file_type") + struct.pack("<II", 4, file_type)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 0 if file_type is None else 1) + kv
    data, infos = b"", b""
    for name, ggml, dims in tensors:
        block, nbytes = TYPES[ggml]
        infos += s(name) + struct.pack("<I", len(dims)) + b"".join(struct.pack("<q", d) for d in dims)
        infos += struct.pack("<IQ", ggml, len(data))
        n = dims[0] // block * nbytes
        for d in dims[1:]: n *= d
        data += bytes((i * 37) & 0xFF for i in range(n))
        data += b"\0" * (-len(data) % 32)
    h = head + infos
    return h + b"\0" * (-len(h) % 32) + data
for ggml, (block, _) in TYPES.items():
    open(f"{out}/type{ggml}", "wb").write(gguf([("w", ggml, [max(block, 32), 2]), ("n", 0, [8])]))
open(f"{out}/mix", "wb").write(gguf([(f"t{g}", g, [256, 1]) for g in TYPES], file_type=15))
PY
fi

if [[ ! -d $corpus/tokenizer_json ]]; then
  # A small byte-level BPE tokenizer.json (+ NUL + tokenizer_config.json), in the shapes real
  # files have: a Sequence of Split and ByteLevel, added tokens, a template post-processor.
  mkdir -p "$corpus/tokenizer_json"
  python3 - "$corpus/tokenizer_json" <<'PY'
import json, sys
out = sys.argv[1]
vocab = {c: i for i, c in enumerate("abcdefghijklmnopqrstuvwxyz\u0120\u010a")}
vocab.update({"ab": 28, "\u0120a": 29, "\u0120ab": 30})
model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
         "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False,
         "ignore_merges": True, "vocab": vocab, "merges": ["a b", ["\u0120", "a"], "\u0120a b"]}
added = [{"id": 31, "content": "<|end|>", "special": True}, {"id": 32, "content": "<x>", "special": False}]
split = {"type": "Split", "pattern": {"Regex": r"(?i:'s|'t)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|\s+(?!\S)|\s+"},
         "behavior": "Isolated", "invert": False}
post = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|end|>", "type_id": 0}},
                                                 {"Sequence": {"id": "A", "type_id": 0}}]}
seq = {"type": "Sequence", "pretokenizers": [split, {"type": "ByteLevel", "add_prefix_space": False, "use_regex": False}]}
config = {"bos_token": {"content": "<|end|>"}, "eos_token": "<|end|>", "add_bos_token": True,
          "chat_template": [{"name": "default", "template": "{{ x }}"}]}
for name, pre in [("split", seq), ("bytelevel", {"type": "ByteLevel", "add_prefix_space": True})]:
    t = {"version": "1.0", "added_tokens": added, "normalizer": {"type": "NFC"},
         "pre_tokenizer": pre, "post_processor": post, "decoder": {"type": "ByteLevel"}, "model": model}
    open(f"{out}/{name}", "wb").write(json.dumps(t).encode() + b"\0" + json.dumps(config).encode())
PY
fi

if [[ ! -d $corpus/prompts ]]; then
  # Both forms of a prompts file: llmpipe's (prompt, messages, stop, knobs) and OpenAI batch
  # requests (chat and completions, a refused field, a malformed line).
  mkdir -p "$corpus/prompts"
  python3 - "$corpus/prompts" <<'PY'
import json, sys
out = sys.argv[1]
conv = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
ours = [{"id": 1, "prompt": "Once upon a time", "stop": ["x", "y"], "max_new_tokens": 4},
        {"id": "c", "messages": conv, "temperature": 0.5, "top_p": 0.9}, {"prompt": 3}]
open(f"{out}/ours", "w").write("\n".join(map(json.dumps, ours)) + "\n{broken\n\n")
req = lambda cid, url, body: {"custom_id": cid, "method": "POST", "url": url, "body": body}
batch = [req("a", "/v1/chat/completions", {"model": "m", "messages": conv, "max_tokens": 8}),
         req("b", "/v1/completions", {"prompt": ["Once"], "stop": "x", "n": 1, "stream": False}),
         req("c", "/v1/completions", {"prompt": "x", "n": 2}), req("d", "/v1/embeddings", {}),
         {"id": "mixed", "prompt": "x"}]
open(f"{out}/batch", "w").write("\n".join(map(json.dumps, batch)) + "\n")
PY
fi

if [[ ! -d $corpus/chat_template ]]; then
  # The real templates of tests/data (Llama 3.x, Qwen, Mistral, Gemma, ...), conversation fixed.
  mkdir -p "$corpus/chat_template"
  cp tests/data/chat-templates/*.jinja "$corpus/chat_template/"
fi

for target in safetensors pickle zip gguf tokenizer_json prompts chat_template; do
  echo "== fuzz_$target: $seconds s =="
  mkdir -p "build-fuzz/findings/$target"
  build-fuzz/fuzz_$target -max_total_time="$seconds" -max_len=65536 -timeout=10 \
    -artifact_prefix="build-fuzz/findings/$target/" "$corpus/$target" 2>&1 | tail -3
done
