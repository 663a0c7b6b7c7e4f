#!/usr/bin/env python3
"""Random blocks of every block-decoded type with gguf-py's numpy dequantization of them.

Writes FILE: per type, u32 ggml type id, u32 element count, the raw blocks, then the expected
float32 values. All fields are random bits except f16 scales, which are random finite halves
(NaN/inf scales excluded: their products are not comparable bit for bit).
usage: gguf_py_blocks.py FILE [BLOCKS_PER_TYPE] [SEED]
"""
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf.constants import GGML_QUANT_SIZES
from gguf.quants import dequantize

# Byte offsets of the f16 scale fields in each block (ggml-common.h).
F16_FIELDS = {
    T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q2_K: [80, 82], T.Q3_K: [108],
    T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208], T.IQ4_NL: [0], T.IQ4_XS: [0],
}


def random_finite_f16(rng, n):
    bits = rng.integers(0, 1 << 16, size=n, dtype=np.uint16)
    bad = (bits & 0x7C00) == 0x7C00  # exponent all ones: inf or NaN
    bits[bad] &= 0xBFFF                # clear the top exponent bit: finite
    return bits


def main():
    path = sys.argv[1]
    nblocks = int(sys.argv[2]) if len(sys.argv) > 2 else 64
    rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    with open(path, "wb") as f:
        for qtype, fields in F16_FIELDS.items():
            block_elems, block_bytes = GGML_QUANT_SIZES[qtype]
            raw = rng.integers(0, 256, size=(nblocks, block_bytes), dtype=np.uint8)
            for off in fields:
                raw[:, off:off + 2] = random_finite_f16(rng, nblocks).view(np.uint8).reshape(nblocks, 2)
            n = nblocks * block_elems
            values = dequantize(raw.reshape(-1), qtype).astype(np.float32).reshape(-1)
            assert values.size == n
            f.write(struct.pack("<II", int(qtype), n))
            f.write(raw.tobytes())
            f.write(values.tobytes())


if __name__ == "__main__":
    main()
