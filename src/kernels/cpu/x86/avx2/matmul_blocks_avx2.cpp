// Matmuls with the block-decoded weight types for the avx2 level: the shared
// ../matmul_blocks_impl.h compiled with this level's target flags (CMakeLists.txt) and its
// struct Simd.
#define LLMPIPE_X86_ISA avx2
#include "kernels/cpu/x86/avx2/simd_avx2.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/matmul_blocks_impl.h"
