#!/usr/bin/env bash
# Every test: installs what is missing (with --cluster: Slurm, munge and shellcheck, for the
# real two-node Slurm test and the script checks), builds (Release, plus an ASan+UBSan build that
# runs every unit suite and the integration tests), fuzzes the checkpoint parsers for a bounded
# time, runs the whole suite with CTest, and builds the CUDA backend when a toolkit is present.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh --cluster
scripts/build.sh
BUILD_DIR=build-asan scripts/build.sh -DLLMPIPE_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
export OMPI_MCA_mpi_yield_when_idle=1
echo "== sanitizer build: every unit suite =="
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest -L unit --no-tests=error -j "${JOBS:-$(nproc)}" \
  --output-on-failure --timeout 900)
echo "== sanitizer build: the integration tests on the ASan+UBSan binary =="
# Open MPI's own allocations outlive MPI_Finalize, so leak checking stays off across processes;
# every other ASan/UBSan error fails the test. Not here: the tests of the Slurm cluster, of
# Apptainer and of the scripts (no engine code of their own beyond what the others run).
(cd build-asan && ASAN_OPTIONS=detect_leaks=0 ctest -L integration --no-tests=error \
  -E 'slurm|apptainer|shellcheck' --output-on-failure --timeout 1800)
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
  cmake --build build-cuda -j "${JOBS:-$(nproc)}" --target llmpipe cuda_tests cuda_probe \
    bench_cuda_matvec unit_tests
  # The unit tests' built_with_cuda() branches (factory errors, NCCL links) run in this build.
  (cd build-cuda && ctest -L unit --no-tests=error -R 'BackendFactory|DeviceLink' --timeout 900)
  (cd build-cuda && ctest -L gpu --no-tests=error --output-on-failure --timeout 900)
fi

# The full suite runs last, so its summary is the last thing CI prints.
echo "== full suite =="
(cd build && ctest --no-tests=error --output-on-failure --timeout 900)
