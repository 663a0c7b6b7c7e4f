// Q4_0 / Q8_0 matmuls and activation quantization for the avx2 level: the shared ../matmul_quant_impl.h compiled with this level's
// target flags (CMakeLists.txt) and its struct Simd.
#define LLMPIPE_X86_ISA avx2
#include "kernels/cpu/x86/avx2/simd_avx2.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/matmul_quant_impl.h"
