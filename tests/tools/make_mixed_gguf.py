#!/usr/bin/env python3
"""A mixed-type copy of a GGUF model, made with gguf-py (PyPI), and gguf-py's view of its mix.

Copies SRC's metadata and tensors into OUT with the attention matrices as Q8_0, the FFN matrices
as Q5_0 (F16 where rows are not whole blocks), the token embeddings as F16 and the rest (norms) as F32 (gguf.quants quantizes), sets
general.file_type to FILE_TYPE, then prints the mix line `llmpipe info` should print, computed
from gguf-py's reader of OUT: per type, tensor count and bytes, most bytes first.
usage: make_mixed_gguf.py SRC OUT FILE_TYPE
"""
import sys

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T


def human_bytes(b):
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    v, u = float(b), 0
    while v >= 1024 and u < 4:
        v /= 1024
        u += 1
    return f"{v:.2f} {units[u]}" if u else f"{v:.0f} {units[u]}"


def target_type(name, shape):
    if len(shape) < 2:
        return T.F32
    if name.startswith("token_embd") or shape[-1] % 32:
        return T.F16  # stories260K's ffn_down rows (172) are not whole blocks of 32
    return T.Q8_0 if ".attn_" in name else T.Q5_0


def main():
    src, out, file_type = sys.argv[1], sys.argv[2], int(sys.argv[3])
    r = gguf.GGUFReader(src)
    arch = r.fields["general.architecture"].contents()
    w = gguf.GGUFWriter(out, arch)
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, field.contents(), vtype, sub_type=sub)
    w.add_file_type(file_type)
    for t in r.tensors:
        data = np.asarray(t.data, dtype=np.float32)
        qtype = target_type(t.name, data.shape)
        if qtype == T.F32:
            w.add_tensor(t.name, data)
        elif qtype == T.F16:
            w.add_tensor(t.name, data.astype(np.float16))
        else:
            w.add_tensor(t.name, gguf.quants.quantize(data, qtype), raw_dtype=qtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    counts, sizes = {}, {}
    for t in gguf.GGUFReader(out).tensors:
        name = t.tensor_type.name.lower()
        counts[name] = counts.get(name, 0) + 1
        sizes[name] = sizes.get(name, 0) + int(t.n_bytes)
    order = sorted(counts, key=lambda n: -sizes[n])
    print(", ".join(f"{counts[n]} {n} ({human_bytes(sizes[n])})" for n in order))


if __name__ == "__main__":
    main()
