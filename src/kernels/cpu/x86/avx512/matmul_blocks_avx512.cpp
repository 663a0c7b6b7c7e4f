// Matmuls with the block-decoded weight types for the avx512 level: the shared
// ../matmul_blocks_impl.h compiled with this level's target flags (CMakeLists.txt) and its
// struct Simd.
#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/matmul_blocks_impl.h"
