// Q4_0 / Q8_0 matmuls and activation quantization for the avx512 level: the shared ../matmul_quant_impl.h compiled with this level's
// target flags (CMakeLists.txt) and its struct Simd.
#define LLMPIPE_X86_ISA avx512
#include "kernels/cpu/x86/avx512/simd_avx512.h"  // first: it includes <immintrin.h>
#include "kernels/cpu/x86/matmul_quant_impl.h"
