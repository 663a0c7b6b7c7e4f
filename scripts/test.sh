#!/usr/bin/env bash
# Every test: installs what is missing (with --cluster: Slurm, munge and shellcheck, for the
# real two-node Slurm test and the script checks), builds (Release, plus an ASan+UBSan build for
# the file loaders, tokenizer, pipeline and kernels), fuzzes the checkpoint parsers for a bounded
# time, runs the whole suite with CTest, and builds the CUDA backend when a toolkit is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --cluster
scripts/build.sh
BUILD_DIR=build-asan scripts/build.sh -DLLMPIPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
export OMPI_MCA_mpi_yield_when_idle=1
echo "== sanitizer build: loaders, tokenizer, kernels =="
ASAN_OPTIONS=detect_leaks=1 build-asan/tests/unit_tests \
  --gtest_filter='Gguf*:Dequantize*:Quantize*:Tokenizer*:Vocab*:SentencePiece*:ReferenceForward*:Pipeline*:ReferenceMatmul*:CpuKernel*:Safetensors*:Pickle*:HfModel*:ThreadPool*:DeviceLink*:BlockMatmul*'
echo "== fuzzing the checkpoint parsers (bounded; FUZZ_SECONDS per target) =="
FUZZ_SECONDS=${FUZZ_SECONDS:-20} scripts/fuzz.sh

# With a CUDA toolkit: the CUDA build too (sm_75/80/90 unless CUDA_ARCHS says otherwise), only
# the targets the gpu tests need; they report "skipped" on machines without a GPU. It runs before
# the full suite so a missing GPU never hides the suite's own summary.
if [[ -x /usr/local/cuda/bin/nvcc ]]; then
  echo "== CUDA build (-DLLMPIPE_CUDA=ON): gpu tests =="
  generator=()
  command -v ninja >/dev/null && generator=(-G Ninja)
  [[ -f build-cuda/CMakeCache.txt ]] || generator+=(-DCMAKE_BUILD_TYPE=Release)
  cmake -S . -B build-cuda "${generator[@]}" -DLLMPIPE_CUDA=ON \
    "-DCMAKE_CUDA_ARCHITECTURES=${CUDA_ARCHS:-75;80;90}" >/dev/null
  cmake --build build-cuda -j "${JOBS:-$(nproc)}" --target llmpipe cuda_tests bench_cuda_matvec
  (cd build-cuda && ctest -L gpu --output-on-failure --timeout 900)
fi

# The full suite runs last, so its summary is the last thing CI prints.
echo "== full suite =="
(cd build && ctest --output-on-failure --timeout 900)
