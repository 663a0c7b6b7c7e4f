// The scale searches behind the K-quant and IQ4 row quantizers (quantize_k.cpp,
// quantize_iq4.cpp): for a group of weights, the scale (and min) and integer codes that
// minimise a weighted squared (or absolute) error. They follow the algorithms of llama.cpp's
// reference quantizers (ggml-quants.c, without an importance matrix), written anew here: the
// same candidate scales, the same weights, and the same float expression order, so that files
// come out as llama-quantize's do. Compiled without FMA contraction (CMakeLists.txt).
#pragma once

#include <cstdint>

namespace llmpipe::cpu::qsearch {

// Groups whose largest magnitude is below this are stored as zero.
inline constexpr float kGroupMaxEps = 1e-15f;

// x rounded to the nearest integer, ties to even (as the FPU rounds); saturates far outside
// the code ranges so that the callers' clamps still apply.
int nearest_int(float x);

// Symmetric codes L[i] in [0, 2*nmax) for value scale * (L[i] - nmax), least squares weighted by
// x^2 over 18 candidate scales around max/nmax (Q6_K). Returns the scale (0: all zero).
float symmetric_scale(int n, int nmax, const float* x, int8_t* L);

// Symmetric codes L[i] in [0, 2*nmax) for scale * (L[i] - nmax), refined code by code for up to
// five passes (Q3_K). Returns the scale.
float symmetric_scale_refined(int n, int nmax, const float* x, int8_t* L);

// Affine codes L[i] in [0, nmax] for scale * L[i] - min, min >= 0, searched over nstep + 1
// candidate scales (nmax + rmin + rdelta * k) / (max - min) with weights w; `use_mad`
// minimises the weighted absolute error instead of the squared one. Returns the scale and
// writes the min (Q2_K, Q4_K, Q5_K).
float affine_scale(int n, int nmax, const float* x, const float* w, uint8_t* L, float* min,
                   float rmin, float rdelta, int nstep, bool use_mad);

// Index of the value of `levels` (16, ascending) nearest to x; ties to the lower one.
int nearest_level(const int8_t* levels, float x);

}  // namespace llmpipe::cpu::qsearch
