#!/usr/bin/env python3
"""Hugging Face tokenizers (PyPI, the reference) on a byte-level BPE vocab-only GGUF.

    make_hf_tokenizer.py VOCAB.gguf OUT_DIR [--cases N] [--truncate N]

Reads the GGUF's vocabulary with gguf-py and builds the same tokenizer with the `tokenizers`
library: a BPE model (vocab, merges, ignore_merges for llama-bpe), the pre-tokenizer's split
regexes + ByteLevel (gpt-2: ByteLevel's own regex), ByteLevel decoder, control tokens as special
added tokens and user-defined ones as plain added tokens, at their GGUF ids. Writes OUT_DIR/
tokenizer.json, tokenizer_config.json (bos/eos, add_bos_token) and cases.jsonl: varied strings
(llama.cpp's vector inputs, code, numbers, whitespace runs, emoji, CJK, Cyrillic, contractions,
special tokens, mixed) with
the ids tokenizers' encode gives them (add_special_tokens=False; added tokens are matched, as
encode always does). check_tokenizer compares llmpipe's encode, from the GGUF and from this
tokenizer.json, with those ids.
--truncate N keeps the first N-1 tokens and the merges among them, and the first control token
at id N-1 (bos and eos): a tokenizer to go with a tiny model of vocab_size N (GPT-2's vocabulary
numbers tokens in merge order, so the truncated one is a complete BPE). --pre NAME puts another
pre-tokenizer's regexes on the vocabulary (tekken, which no test vocabulary has): then only the
tokenizer.json is comparable (check_tokenizer --json-only).
"""
import argparse
import json
import random

import gguf
from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, pre_tokenizers

# The regexes of tokenizer.ggml.pre, as the models' tokenizer.json files write them
# (src/tokenizer/pre_tokenizer.cpp holds the same facts).
LLAMA3 = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}|"
          r" ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2 = LLAMA3.replace(r"\p{N}{1,3}", r"\p{N}")
DEEPSEEK_LLM = [
    r"[\r\n]",
    r"\s?[A-Za-z\x{B5}\x{C0}-\x{D6}\x{D8}-\x{F6}\x{F8}-\x{1BA}\x{1BC}-\x{1BF}\x{1C4}-\x{293}"
    r"\x{295}-\x{2AF}\x{370}-\x{373}\x{376}\x{377}\x{37B}-\x{37D}\x{37F}\x{386}\x{388}-\x{38A}"
    r"\x{38C}\x{38E}-\x{3A1}\x{3A3}-\x{3F5}\x{3F7}-\x{481}\x{48A}-\x{52F}\x{531}-\x{556}"
    r"\x{10A0}-\x{10C5}\x{13A0}-\x{13F5}\x{13F8}-\x{13FD}\x{1C90}-\x{1CBA}\x{1CBD}-\x{1CBF}"
    r"\x{1D00}-\x{1D2B}\x{1D6B}-\x{1D77}\x{1D79}-\x{1D9A}\x{1E00}-\x{1F15}\x{1F18}-\x{1F1D}"
    r"\x{1F20}-\x{1F45}\x{1F48}-\x{1F4D}\x{1F50}-\x{1F57}\x{1F59}\x{1F5B}\x{1F5D}"
    r"\x{1F5F}-\x{1F7D}\x{1F80}-\x{1FB4}\x{1FB6}-\x{1FBC}\x{1FBE}\x{1FC2}-\x{1FC4}"
    r"\x{1FC6}-\x{1FCC}\x{1FD0}-\x{1FD3}\x{1FD6}-\x{1FDB}\x{1FE0}-\x{1FEC}\x{1FF2}-\x{1FF4}"
    r"\x{1FF6}-\x{1FFC}\x{2102}\x{2107}\x{210A}-\x{2113}\x{2115}\x{2119}-\x{211D}\x{2124}"
    r"\x{2126}\x{2128}\x{212A}-\x{212D}\x{212F}-\x{2134}\x{2139}\x{213C}-\x{213F}"
    r"\x{2145}-\x{2149}\x{214E}\x{2183}\x{2184}\x{2C00}-\x{2C7B}\x{2C7E}-\x{2CE4}"
    r"\x{2CEB}-\x{2CEE}\x{2CF2}\x{2CF3}\x{A640}-\x{A66D}\x{A680}-\x{A69B}\x{A722}-\x{A76F}"
    r"\x{A771}-\x{A787}\x{A78B}-\x{A78E}\x{AB70}-\x{ABBF}\x{FB00}-\x{FB06}\x{FB13}-\x{FB17}"
    r"\x{FF21}-\x{FF3A}\x{FF41}-\x{FF5A}\x{10400}-\x{1044F}\x{104B0}-\x{104D3}"
    r"\x{104D8}-\x{104FB}\x{10C80}-\x{10CB2}\x{10CC0}-\x{10CF2}\x{118A0}-\x{118DF}"
    r"\x{1E900}-\x{1E943}]+",
    r"\s?[!-/:-~\x{FF01}-\x{FF0F}\x{FF1A}-\x{FF5E}\x{2018}-\x{201F}\x{3000}-\x{3002}]+",
    r"\s+$",
    r"[\x{4E00}-\x{9FA5}\x{800}-\x{4E00}\x{AC00}-\x{D7FF}]+",
    r"\p{N}+",
]
TEKKEN = (r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+|"
          r"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*|"
          r"\p{N}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")
SPLITS = {"llama-bpe": [LLAMA3], "qwen2": [QWEN2], "deepseek-llm": DEEPSEEK_LLM, "gpt-2": None,
          "tekken": [TEKKEN]}

CONTROL, USER_DEFINED = 3, 4


def field(reader, key):
    f = reader.fields.get(key)
    return None if f is None else f.contents()


def truncate(tokens, types, merges, bos, eos, n):
    control = next(i for i, ty in enumerate(types) if ty == CONTROL)
    kept = set(tokens[:n - 1])
    merges = [m for m in merges if m[0] in kept and m[1] in kept and m[0] + m[1] in kept]
    return tokens[:n - 1] + [tokens[control]], types[:n - 1] + [CONTROL], merges, n - 1, n - 1


def build(path, n_truncate=None, pre=None):
    r = gguf.GGUFReader(path)
    pre = pre or field(r, "tokenizer.ggml.pre")
    tokens = field(r, "tokenizer.ggml.tokens")
    types = field(r, "tokenizer.ggml.token_type")
    merges = [tuple(m.split(" ", 1)) for m in field(r, "tokenizer.ggml.merges")]
    bos, eos = field(r, "tokenizer.ggml.bos_token_id"), field(r, "tokenizer.ggml.eos_token_id")
    if n_truncate:
        tokens, types, merges, bos, eos = truncate(tokens, types, merges, bos, eos, n_truncate)
    vocab = {t: i for i, (t, ty) in enumerate(zip(tokens, types)) if ty not in (CONTROL, USER_DEFINED)}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=merges, ignore_merges=(pre == "llama-bpe")))
    if SPLITS[pre] is None:  # GPT-2: ByteLevel's own regex, the other code path of our reader
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    else:
        tok.pre_tokenizer = pre_tokenizers.Sequence(
            [pre_tokenizers.Split(Regex(p), behavior="isolated", invert=False) for p in SPLITS[pre]]
            + [pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tok.decoder = decoders.ByteLevel()
    # Added tokens at their GGUF ids (add_tokens would number them itself, and reuse a vocab id
    # for a text the vocabulary has, as DeepSeek's user-defined "ø"...): written into the JSON.
    spec = json.loads(tok.to_str())
    spec["added_tokens"] = [
        {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
         "normalized": False, "special": ty == CONTROL}
        for i, (t, ty) in enumerate(zip(tokens, types)) if ty in (CONTROL, USER_DEFINED)]
    tok = Tokenizer.from_str(json.dumps(spec))
    for a in spec["added_tokens"][:50]:
        assert tok.token_to_id(a["content"]) == a["id"], a
    config = {
        "bos_token": tokens[bos],
        "eos_token": tokens[eos],
        "add_bos_token": bool(field(r, "tokenizer.ggml.add_bos_token") or pre == "llama-bpe"),
    }
    if field(r, "tokenizer.chat_template"):
        config["chat_template"] = field(r, "tokenizer.chat_template")
    specials = [t for t, ty in zip(tokens, types) if ty == CONTROL][:4]
    return tok, spec, config, specials


POOL = [
    "hello", "world", "The", " quick", "brown", "fox", " ", "  ", "   ", "    ", "\t", "\n", "\n\n",
    "\n\n\n", " \n ", "\r\n", "\t\t", " \t\n", ",", ".", "!", "?", "...", "'s", "'t", "'re", "'ve",
    "'m", "'ll", "'d", "'S", "'LL", "I'm", "don't", "We've", "she'D", "o'clock", "\"", "(", ")",
    "[", "]", "{", "}", "-", "--", "_", "__init__", "=>", "->", "::", "#include", "<stdio.h>",
    "def f(x):", "    return x", "if (a && b) {", "}", "x += 1;", "0x1F", "1", "12", "123", "1234",
    "12345678", "3.14159", "1,000,000", "-42", "2024-12-03", "v1.2.3", "🦙", "😀", "👍🏽", "🤖🤖",
    "👨‍👩‍👧", "❤️", "日本語", "のテキスト", "中文字符", "漢字", "한국어", "안녕하세요", "Привет",
    "мир", "Ёжик", "Ελληνικά", "Führer", "café", "naïve", "ǅ", "Ǆungla", "ſ", "ﬁ", "Ⅻ", "½",
    "١٢٣", "नमस्ते", "สวัสดี", "مرحبا", "e\u0301", "\u00a0", "\u2009", "\u3000", "\u200b",
    "\u200d", "∑∫√", "≠", "€100", "£", "©", "™", "~~~", "***", "<s>", "</s>", "ʕ•ᴥ•ʔ", "ø", "À",
    "UPPER", "MiXeD", "camelCase", "snake_case", "https://example.com/a?b=c", "a@b.co",
]


def cases(specials, n, gguf_path):
    out = []
    try:  # llama.cpp's vector inputs for this vocabulary, when they lie beside it
        with open(gguf_path + ".inp", encoding="utf-8") as f:
            out += f.read().split("\n__ggml_vocab_test__\n")[:-1]
    except FileNotFoundError:
        pass
    out += ["", " ", "  ", "\n", " leading", "trailing ", "a  b", "\t\tTabs", "Once upon a time",
           "   \n\n   x", "1234567890123", "I'M NOT", "'''", "Hello, world!"]
    out += [s + " " + specials[0] + "x" for s in ("a", "b c")]  # control tokens in the text
    rng = random.Random(1234)
    pool = POOL + specials
    while len(out) < n:
        k = rng.randint(1, 9)
        out.append("".join(rng.choice(pool) + rng.choice(["", "", " ", "\n"]) for _ in range(k)))
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("gguf")
    ap.add_argument("out_dir")
    ap.add_argument("--cases", type=int, default=400)
    ap.add_argument("--truncate", type=int)
    ap.add_argument("--pre", help="another pre-tokenizer's regexes on this vocabulary (tekken)")
    a = ap.parse_args()
    tok, spec, config, specials = build(a.gguf, a.truncate, a.pre)
    out_dir, n = a.out_dir, a.cases
    with open(f"{out_dir}/tokenizer.json", "w", encoding="utf-8") as f:
        f.write(tok.to_str())
    with open(f"{out_dir}/tokenizer_config.json", "w", encoding="utf-8") as f:
        json.dump(config, f, ensure_ascii=False)
    with open(f"{out_dir}/cases.jsonl", "w", encoding="utf-8") as f:
        for text in cases(specials, n, a.gguf):
            ids = tok.encode(text, add_special_tokens=False).ids
            f.write(json.dumps({"text": text, "ids": ids}, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
