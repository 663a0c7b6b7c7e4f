#include "kernels/cpu/cpu_kernels.h"

#include <cmath>

#include "core/error.h"
#include "kernels/cpu/reference_ops.h"

namespace llmpipe::cpu {

namespace {
void attention_ref(TensorView out, TensorView q, KvView cache, const BatchLayout& batch,
                   AttentionShape shape, int64_t i0, int64_t i1, float*) {
  ref::attention_f32(out, q, cache, batch, shape, i0, i1);
}
void swiglu_ref(float* g, const float* u, int64_t n) {
  for (int64_t i = 0; i < n; ++i) g[i] = g[i] / (1.0f + std::exp(-g[i])) * u[i];
}
void add_ref(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}
}  // namespace

const CpuKernels& cpu_kernels_scalar() {
  static const CpuKernels k = [] {
    CpuKernels t;
    t.isa = CpuIsa::Scalar;
    t.rms_norm_f32 = ref::rms_norm_f32;
    t.attention_f32 = attention_ref;
    t.swiglu_f32 = swiglu_ref;
    t.add_f32 = add_ref;
    return t;
  }();
  return k;
}

#if !defined(LLMPIPE_X86_KERNELS)
const CpuKernels& cpu_kernels_avx2() { fail("avx2 kernels are not part of this build"); }
const CpuKernels& cpu_kernels_avx512() { fail("avx512 kernels are not part of this build"); }
#endif

const CpuKernels& cpu_kernels(CpuIsa isa) {
  LLMPIPE_CHECK(cpu_isa_supported(isa), "CPU kernels for ", cpu_isa_name(isa), " not supported here");
  switch (isa) {
    case CpuIsa::Scalar: return cpu_kernels_scalar();
    case CpuIsa::Avx2: return cpu_kernels_avx2();
    case CpuIsa::Avx512: return cpu_kernels_avx512();
  }
  fail("unknown CPU ISA");
}

}  // namespace llmpipe::cpu
