#!/usr/bin/env python3
"""gguf-py's (PyPI) float32 values of every tensor of a GGUF file, for check_gguf_decode.

Writes OUT: per tensor, in file order, u32 name length, the name, u64 element count, then the
values as little-endian float32 (gguf.quants.dequantize: numpy, independent of llmpipe).
usage: gguf_py_dequant.py FILE.gguf OUT
"""
import struct
import sys

import gguf
import numpy as np


def main():
    r = gguf.GGUFReader(sys.argv[1])
    with open(sys.argv[2], "wb") as out:
        for t in r.tensors:
            values = np.ascontiguousarray(gguf.quants.dequantize(t.data, t.tensor_type), dtype="<f4")
            name = t.name.encode()
            out.write(struct.pack("<I", len(name)) + name + struct.pack("<Q", values.size))
            out.write(values.tobytes())
            print(f"{t.name} {t.tensor_type.name} {values.size}")


if __name__ == "__main__":
    main()
