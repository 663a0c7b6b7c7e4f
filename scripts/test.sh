#!/usr/bin/env bash
# Every test: installs what is missing, builds (Release, plus an ASan+UBSan build for the file
# loaders, tokenizer and kernels), and runs the whole suite with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
BUILD_DIR=build-asan scripts/build.sh -DLLMPIPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
export OMPI_MCA_mpi_yield_when_idle=1
echo "== sanitizer build: loaders, tokenizer, kernels =="
ASAN_OPTIONS=detect_leaks=1 build-asan/tests/unit_tests \
  --gtest_filter='Gguf*:Dequantize*:Quantize*:Tokenizer*:Vocab*:SentencePiece*:ReferenceForward*:Safetensors*:Pickle*:HfModel*'
echo "== full suite =="
cd build
ctest --output-on-failure --timeout 900
