#!/usr/bin/env python3
"""Every quantized tensor of CONVERTED against gguf-py's numpy quantization of the same tensor
of ORIGINAL (F32): the bytes must be identical. An independent quantizer checks llmpipe's
conversion (at `convert`, or at load, which uses the same converting source), where comparing
two llmpipe paths with each other could not catch a quantizer bug both share.
usage: gguf_py_compare_quantized.py CONVERTED ORIGINAL TYPE   (TYPE: e.g. Q8_0)
Prints the number of tensors compared; exits 1 on the first difference.
"""
import sys

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader
from gguf.quants import quantize

converted, original, type_name = sys.argv[1], sys.argv[2], sys.argv[3]
want_type = GGMLQuantizationType[type_name]
orig = {t.name: t for t in GGUFReader(original).tensors}
compared = 0
for t in GGUFReader(converted).tensors:
    if t.tensor_type != want_type:
        continue
    src = orig[t.name]
    assert src.tensor_type == GGMLQuantizationType.F32, (t.name, src.tensor_type)
    rows = np.asarray(src.data, dtype=np.float32).reshape(-1, int(src.shape[0]))
    want = quantize(rows, want_type).tobytes()
    got = np.asarray(t.data).tobytes()
    if got != want:
        diff = next(i for i, (a, b) in enumerate(zip(got, want)) if a != b)
        sys.exit(f"{t.name}: {type_name} bytes differ from gguf-py's at byte {diff} of {len(want)}")
    compared += 1
if compared == 0:
    sys.exit(f"no {type_name} tensor in {converted}")
print(compared)
