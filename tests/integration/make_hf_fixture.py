#!/usr/bin/env python3
"""Builds Hugging Face model directories from a GGUF LLaMA model (the bundled stories260K), so
that the HF loaders can be checked against the GGUF model they came from.

    make_hf_fixture.py MODEL.gguf OUT_DIR [--bin-writer auto|torch|stdlib] [--dtype f32|bf16|f16]

OUT_DIR gets one directory per variant, each with config.json, tokenizer.model (SentencePiece
protobuf built from the GGUF vocabulary) and weights in HF layout (shapes in PyTorch order, Q/K
rows un-permuted to transformers' rotate-half order):

    st-single/     model.safetensors
    st-sharded/    model-0000{1,2}-of-00002.safetensors + model.safetensors.index.json
    bin-single/    pytorch_model.bin
    bin-sharded/   pytorch_model-0000{1,2}-of-00002.bin + pytorch_model.bin.index.json

.bin files are written by torch.save when PyTorch is importable (Debian: python3-torch) and
`--bin-writer` is auto or torch; with `stdlib` (or no torch under auto) they are written with
Python's pickle + zipfile replicating torch.save's format: a stored zip with <stem>/data.pkl
(protocol 2: OrderedDict of torch._utils._rebuild_tensor_v2 with persistent ids
('storage', torch.FloatStorage, key, 'cpu', numel)), <stem>/data/<key>, <stem>/version, entries'
data aligned to 64 bytes. Only the standard library is needed otherwise.
"""
import argparse
import collections
import json
import os
import pickle
import struct
import sys
import types
import zipfile

# ---------------------------------------------------------------------------------------------
# GGUF reader (just enough: v2/v3 metadata and F32/F16 tensors)

GGUF_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
                10: "<Q", 11: "<q", 12: "<d"}


def read_gguf(path):
    data = open(path, "rb").read()
    pos = 0

    def take(fmt):
        nonlocal pos
        v = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return v[0]

    def string():
        nonlocal pos
        n = take("<Q")
        s = data[pos:pos + n].decode("utf-8")
        pos += n
        return s

    def value(t):
        if t in GGUF_SCALARS:
            return take(GGUF_SCALARS[t])
        if t == 8:
            return string()
        if t == 9:
            et, n = take("<I"), take("<Q")
            return [value(et) for _ in range(n)]
        raise ValueError(f"unknown GGUF value type {t}")

    assert data[:4] == b"GGUF", "not a GGUF file"
    pos = 4
    version = take("<I")
    assert version in (2, 3), version
    n_tensors, n_kv = take("<Q"), take("<Q")
    meta = {}
    for _ in range(n_kv):
        k = string()
        meta[k] = value(take("<I"))
    infos = []
    for _ in range(n_tensors):
        name = string()
        dims = [take("<Q") for _ in range(take("<I"))]
        ggml_type, offset = take("<I"), take("<Q")
        infos.append((name, dims, ggml_type, offset))
    align = meta.get("general.alignment", 32)
    start = (pos + align - 1) // align * align
    tensors = {}
    for name, dims, ggml_type, offset in infos:
        assert ggml_type == 0, f"{name}: only F32 GGUF tensors are supported here"
        n = 1
        for d in dims:
            n *= d
        tensors[name] = (list(reversed(dims)), data[start + offset:start + offset + 4 * n])
    return meta, tensors


# ---------------------------------------------------------------------------------------------
# Layout and dtype conversions (bytes level, no numpy)

def unpermute_rows(raw, shape, n_head, elem):
    """GGUF rows (RoPE pairs adjacent) back to HF rotate-half order (inverse of llama.cpp's
    convert_hf_to_gguf permute): hf row h*hd + j*hd/2 + i = gguf row h*hd + 2i + j."""
    rows, cols = shape
    hd = rows // n_head
    rb = cols * elem
    out = bytearray(len(raw))
    for h in range(n_head):
        for i in range(hd // 2):
            for j in range(2):
                g = h * hd + 2 * i + j
                f = h * hd + j * (hd // 2) + i
                out[f * rb:(f + 1) * rb] = raw[g * rb:(g + 1) * rb]
    return bytes(out)


def f32_to_bf16(raw):
    out = bytearray()
    for (u,) in struct.iter_unpack("<I", raw):
        if (u & 0x7FFFFFFF) > 0x7F800000:
            out += struct.pack("<H", (u >> 16) | 0x40)
        else:
            out += struct.pack("<H", ((u + 0x7FFF + ((u >> 16) & 1)) >> 16) & 0xFFFF)
    return bytes(out)


def f32_to_f16(raw):
    vals = [v for (v,) in struct.iter_unpack("<f", raw)]
    return struct.pack(f"<{len(vals)}e", *vals)


HF_NAMES = {
    "token_embd.weight": "model.embed_tokens.weight",
    "output_norm.weight": "model.norm.weight",
    "output.weight": "lm_head.weight",
}
HF_LAYER = {
    "attn_norm": "input_layernorm", "attn_q": "self_attn.q_proj", "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj", "attn_output": "self_attn.o_proj",
    "ffn_norm": "post_attention_layernorm", "ffn_gate": "mlp.gate_proj", "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}


def hf_state_dict(meta, tensors, dtype):
    """[(hf name, torch dtype name, shape, bytes)] in transformers' order."""
    n_head = meta["llama.attention.head_count"]
    n_head_kv = meta.get("llama.attention.head_count_kv", n_head)
    out = []
    for name, (shape, raw) in tensors.items():
        if name in HF_NAMES:
            hf = HF_NAMES[name]
        else:
            _, layer, role, _ = name.split(".")
            hf = f"model.layers.{layer}.{HF_LAYER[role]}.weight"
            if role in ("attn_q", "attn_k"):
                raw = unpermute_rows(raw, shape, n_head if role == "attn_q" else n_head_kv, 4)
        t = dtype
        if len(shape) == 1 or dtype == "f32":
            t = "f32"  # norms stay F32 (as HF checkpoints of 16-bit models often keep them too)
        elif dtype == "bf16":
            raw = f32_to_bf16(raw)
        elif dtype == "f16":
            raw = f32_to_f16(raw)
        out.append((hf, t, shape, raw))

    def key(e):
        n = e[0]
        if n.startswith("model.layers."):
            return (1, int(n.split(".")[2]))
        return {"model.embed_tokens.weight": 0, "model.norm.weight": 2, "lm_head.weight": 3}[n], 0
    out.sort(key=key)
    return out


# ---------------------------------------------------------------------------------------------
# Writers

ST_DTYPE = {"f32": "F32", "bf16": "BF16", "f16": "F16"}


def write_safetensors(path, entries):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, t, shape, raw in entries:
        header[name] = {"dtype": ST_DTYPE[t], "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h)
        for e in entries:
            f.write(e[3])


def write_bin_torch(path, entries):
    import torch
    dt = {"f32": torch.float32, "bf16": torch.bfloat16, "f16": torch.float16}
    sd = collections.OrderedDict()
    for name, t, shape, raw in entries:
        sd[name] = torch.frombuffer(bytearray(raw), dtype=dt[t]).reshape(shape).clone()
    torch.save(sd, path)


STORAGE = {"f32": "FloatStorage", "bf16": "BFloat16Storage", "f16": "HalfStorage"}
ELEM = {"f32": 4, "bf16": 2, "f16": 2}


def write_bin_stdlib(path, entries):
    """torch.save's zip format with the standard library only (see the module docstring)."""
    saved = {k: sys.modules.get(k) for k in ("torch", "torch._utils")}
    torch_mod, utils_mod = types.ModuleType("torch"), types.ModuleType("torch._utils")
    torch_mod._utils = utils_mod
    storage_types = {}
    for t, cls_name in STORAGE.items():
        cls = type(cls_name, (), {"__module__": "torch"})
        setattr(torch_mod, cls_name, cls)
        storage_types[t] = cls

    def _rebuild_tensor_v2(*args):
        raise RuntimeError("never called")
    _rebuild_tensor_v2.__module__ = "torch._utils"
    _rebuild_tensor_v2.__qualname__ = "_rebuild_tensor_v2"
    utils_mod._rebuild_tensor_v2 = _rebuild_tensor_v2

    class Storage:
        def __init__(self, key, t, raw):
            self.key, self.t, self.raw = key, t, raw

    class Tensor:
        def __init__(self, storage, shape):
            self.storage, self.shape = storage, shape

        def __reduce_ex__(self, proto):
            stride, s = [], 1
            for d in reversed(self.shape):
                stride.insert(0, s)
                s *= d
            return (_rebuild_tensor_v2, (self.storage, 0, tuple(self.shape), tuple(stride), False,
                                         collections.OrderedDict()))

    class Pickler(pickle.Pickler):
        def persistent_id(self, obj):
            if isinstance(obj, Storage):
                return ("storage", storage_types[obj.t], obj.key, "cpu", len(obj.raw) // ELEM[obj.t])
            return None

    try:
        sys.modules["torch"], sys.modules["torch._utils"] = torch_mod, utils_mod
        sd = collections.OrderedDict()
        storages = []
        for i, (name, t, shape, raw) in enumerate(entries):
            st = Storage(str(i), t, raw)
            storages.append(st)
            sd[name] = Tensor(st, shape)
        sd._metadata = collections.OrderedDict([("", {"version": 1})])
        import io
        buf = io.BytesIO()
        Pickler(buf, protocol=2).dump(sd)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v

    stem = os.path.splitext(os.path.basename(path))[0]
    records = [("data.pkl", buf.getvalue())] + [(f"data/{s.key}", s.raw) for s in storages] + \
              [("version", b"3\n")]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for name, payload in records:
            info = zipfile.ZipInfo(f"{stem}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            # torch pads the local header's extra field ("FB" id) so that data is 64-aligned.
            offset = z.fp.tell() + 30 + len(info.filename.encode())
            pad = (64 - (offset + 4) % 64) % 64
            info.extra = b"FB" + struct.pack("<H", pad) + b"Z" * pad
            z.writestr(info, payload)


def sentencepiece_model(meta):
    """SentencePiece ModelProto (protobuf wire format) from GGUF tokenizer metadata."""
    def varint(v):
        v &= (1 << 64) - 1
        out = bytearray()
        while True:
            b = v & 0x7F
            v >>= 7
            out.append(b | (0x80 if v else 0))
            if not v:
                return bytes(out)

    def key(field, wt):
        return varint(field << 3 | wt)

    def ld(field, payload):
        return key(field, 2) + varint(len(payload)) + payload

    def vint(field, v):
        return key(field, 0) + varint(v)

    out = bytearray()
    tokens = meta["tokenizer.ggml.tokens"]
    scores = meta.get("tokenizer.ggml.scores", [0.0] * len(tokens))
    types_ = meta.get("tokenizer.ggml.token_type", [1] * len(tokens))
    for piece, score, t in zip(tokens, scores, types_):
        out += ld(1, ld(1, piece.encode()) + key(2, 5) + struct.pack("<f", score) + vint(3, t))
    pad = meta.get("tokenizer.ggml.padding_token_id", -1)
    if pad >= len(tokens):
        pad = -1
    trainer = (vint(3, 2) + vint(4, len(tokens)) + vint(35, 1) +
               vint(40, meta.get("tokenizer.ggml.unknown_token_id", 0)) +
               vint(41, meta.get("tokenizer.ggml.bos_token_id", 1)) +
               vint(42, meta.get("tokenizer.ggml.eos_token_id", 2)) + vint(43, pad))
    out += ld(2, trainer)
    out += ld(3, ld(1, b"identity") + vint(3, 1) + vint(4, 0) + vint(5, 1))
    return bytes(out)


def config_json(meta):
    n_head = meta["llama.attention.head_count"]
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_size": meta["llama.embedding_length"],
        "intermediate_size": meta["llama.feed_forward_length"],
        "num_hidden_layers": meta["llama.block_count"],
        "num_attention_heads": n_head,
        "num_key_value_heads": meta.get("llama.attention.head_count_kv", n_head),
        "max_position_embeddings": meta["llama.context_length"],
        "rms_norm_eps": meta.get("llama.attention.layer_norm_rms_epsilon", 1e-5),
        "rope_theta": meta.get("llama.rope.freq_base", 10000.0),
        "rope_scaling": None,
        "vocab_size": len(meta["tokenizer.ggml.tokens"]),
        "bos_token_id": meta.get("tokenizer.ggml.bos_token_id", 1),
        "eos_token_id": meta.get("tokenizer.ggml.eos_token_id", 2),
        "hidden_act": "silu",
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("gguf")
    ap.add_argument("out")
    ap.add_argument("--bin-writer", choices=["auto", "torch", "stdlib"], default="auto")
    ap.add_argument("--dtype", choices=["f32", "bf16", "f16"], default="f32")
    ap.add_argument("--variants", default="st-single,st-sharded,bin-single,bin-sharded")
    a = ap.parse_args()
    meta, tensors = read_gguf(a.gguf)
    entries = hf_state_dict(meta, tensors, a.dtype)
    writer = a.bin_writer
    if writer == "auto":
        try:
            import torch  # noqa: F401
            writer = "torch"
        except ImportError:
            writer = "stdlib"
    write_bin = write_bin_torch if writer == "torch" else write_bin_stdlib
    cfg = config_json(meta)
    cfg["torch_dtype"] = {"f32": "float32", "bf16": "bfloat16", "f16": "float16"}[a.dtype]
    spm = sentencepiece_model(meta)
    half = len(entries) // 2
    shards = [entries[:half], entries[half:]]
    for variant in a.variants.split(","):
        d = os.path.join(a.out, variant)
        os.makedirs(d, exist_ok=True)
        json.dump(cfg, open(os.path.join(d, "config.json"), "w"), indent=2)
        open(os.path.join(d, "tokenizer.model"), "wb").write(spm)
        kind, layout = variant.split("-")
        ext, stem = ("safetensors", "model") if kind == "st" else ("bin", "pytorch_model")
        write = write_safetensors if kind == "st" else write_bin
        if layout == "single":
            write(os.path.join(d, f"{stem}.{ext}"), entries)
            continue
        weight_map = {}
        for i, part in enumerate(shards):
            fname = f"{stem}-{i + 1:05d}-of-{len(shards):05d}.{ext}"
            write(os.path.join(d, fname), part)
            weight_map.update({e[0]: fname for e in part})
        index = {"metadata": {"total_size": sum(len(e[3]) for e in entries)}, "weight_map": weight_map}
        json.dump(index, open(os.path.join(d, f"{stem}.{ext}.index.json"), "w"), indent=2)
    print(f"wrote {a.variants} to {a.out} ({a.dtype}; .bin by {writer})")


if __name__ == "__main__":
    main()
