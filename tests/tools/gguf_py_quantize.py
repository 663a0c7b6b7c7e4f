#!/usr/bin/env python3
"""Rows of floats with gguf-py's numpy quantization of them (Q4_0, Q4_1, Q5_0, Q5_1, Q8_0).

Writes FILE: per case, u32 ggml type id, u32 element count, the float32 row, then gguf-py's
blocks. Rows: random ones in several regimes (normal, uniform at scales 1e-3..1e3, outliers,
exact zeros, constants, values on a grid, ties between the two extremes) and rows of the 2-D
tensors of a GGUF model (MODEL, e.g. tiny256-distilled.gguf, F32 weights).
usage: gguf_py_quantize.py FILE MODEL [SEED]
"""
import struct
import sys

import numpy as np
from gguf import GGMLQuantizationType as T
from gguf import GGUFReader
from gguf.quants import quantize

TYPES = [T.Q4_0, T.Q4_1, T.Q5_0, T.Q5_1, T.Q8_0]


def random_rows(rng):
    n = 32 * 64
    rows = [rng.standard_normal(n), rng.standard_t(3, n)]
    rows += [s * rng.uniform(-1, 1, n) for s in (1e-3, 0.02, 1.0, 1e3)]
    spiky = 0.01 * rng.standard_normal(n)
    spiky[rng.integers(0, n, 40)] = rng.uniform(-5, 5, 40)
    rows.append(spiky)
    rows.append(np.zeros(n))
    rows.append(np.full(n, -0.75))
    rows.append(rng.integers(-8, 8, n) * 0.125)          # on a grid: halfway cases
    ties = rng.uniform(-1, 1, n)
    ties[0::32], ties[31::32] = 2.0, -2.0                # equal magnitudes, opposite signs
    rows.append(ties)
    rows.append(np.where(rng.uniform(size=n) < 0.5, 0.0, rng.standard_normal(n)))
    return [r.astype(np.float32) for r in rows]


def model_rows(path):
    rows = []
    for t in GGUFReader(path).tensors:
        if len(t.shape) == 2 and t.tensor_type == T.F32:
            data = np.asarray(t.data, dtype=np.float32).reshape(-1)
            cols = int(t.shape[0])
            rows.append(data[: cols * 16].copy())  # its first 16 rows
    return rows


def main():
    path, model = sys.argv[1], sys.argv[2]
    rng = np.random.default_rng(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    rows = random_rows(rng) + model_rows(model)
    with open(path, "wb") as f:
        for qtype in TYPES:
            for row in rows:
                blocks = quantize(row.reshape(1, -1), qtype)
                f.write(struct.pack("<II", int(qtype), row.size))
                f.write(row.tobytes())
                f.write(blocks.tobytes())
    print(f"{len(rows)} rows x {len(TYPES)} types")


if __name__ == "__main__":
    main()
