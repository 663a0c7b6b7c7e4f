#!/usr/bin/env python3
"""An F32 copy of a GGUF model with every tensor dequantized by gguf-py (PyPI gguf), to tell a
quantized format's decode from an engine's quantized arithmetic: run both engines on the copy.
usage: dequant_gguf.py IN.gguf OUT.gguf   (python from scripts/test-venv.sh)
"""
import sys

import gguf
import numpy as np


def main():
    r = gguf.GGUFReader(sys.argv[1])
    w = gguf.GGUFWriter(sys.argv[2], r.fields["general.architecture"].contents())
    for key, field in r.fields.items():
        if key.startswith("GGUF.") or key in ("general.architecture", "general.file_type"):
            continue
        vtype = field.types[0]
        sub = field.types[-1] if vtype == gguf.GGUFValueType.ARRAY else None
        w.add_key_value(key, field.contents(), vtype, sub_type=sub)
    w.add_file_type(0)  # ALL_F32
    for t in r.tensors:
        values = gguf.quants.dequantize(t.data, t.tensor_type).astype(np.float32)
        w.add_tensor(t.name, values.reshape([int(d) for d in reversed(t.shape)]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


if __name__ == "__main__":
    main()
