#include "kernels/cpu/quant_search.h"

#include <algorithm>
#include <cmath>

namespace llmpipe::cpu::qsearch {

namespace {

// The signed element of largest magnitude (the first of equal ones) and that magnitude.
void signed_max(int n, const float* x, float& max, float& amax) {
  max = 0;
  amax = 0;
  for (int i = 0; i < n; ++i) {
    const float ax = std::fabs(x[i]);
    if (ax > amax) {
      amax = ax;
      max = x[i];
    }
  }
}

int clamp_code(int l, int lo, int hi) { return std::max(lo, std::min(hi, l)); }

// Sums of w*x*l and w*l*l over codes l = round(iscale * x) in [-nmax, nmax), w = x^2.
struct ScaleFit {
  float sumlx = 0, suml2 = 0;
};
ScaleFit fit_symmetric(int n, int nmax, const float* x, float iscale, int8_t* L) {
  ScaleFit f;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_code(nearest_int(iscale * x[i]), -nmax, nmax - 1);
    if (L) L[i] = int8_t(l + nmax);
    const float w = x[i] * x[i];
    f.sumlx += w * x[i] * float(l);
    f.suml2 += w * float(l) * float(l);
  }
  return f;
}

}  // namespace

int nearest_int(float x) {
  constexpr float kLimit = 4194303.0f;  // beyond any code range, well inside int's
  return int(std::nearbyint(std::clamp(x, -kLimit, kLimit)));
}

float symmetric_scale(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  signed_max(n, x, max, amax);
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, int8_t(0));
    return 0;
  }
  ScaleFit f = fit_symmetric(n, nmax, x, float(-nmax) / max, L);
  float scale = f.suml2 != 0 ? f.sumlx / f.suml2 : 0.0f;
  float best = scale * f.sumlx;
  for (int k = -9; k <= 9; ++k) {
    if (k == 0) continue;
    const float iscale = -(float(nmax) + 0.1f * float(k)) / max;
    f = fit_symmetric(n, nmax, x, iscale, nullptr);
    if (f.suml2 > 0 && f.sumlx * f.sumlx > best * f.suml2) {
      fit_symmetric(n, nmax, x, iscale, L);
      scale = f.sumlx / f.suml2;
      best = scale * f.sumlx;
    }
  }
  return scale;
}

float symmetric_scale_refined(int n, int nmax, const float* x, int8_t* L) {
  float max = 0, amax = 0;
  signed_max(n, x, max, amax);
  if (amax < kGroupMaxEps) {
    std::fill(L, L + n, int8_t(0));
    return 0;
  }
  ScaleFit f = fit_symmetric(n, nmax, x, float(-nmax) / max, L);
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] - nmax);  // signed while refining
  // Move one code at a time to the value that fits the others' least-squares scale best.
  for (int pass = 0; pass < 5; ++pass) {
    int changed = 0;
    for (int i = 0; i < n; ++i) {
      const float w = x[i] * x[i];
      float slx = f.sumlx - w * x[i] * float(L[i]);
      if (!(slx > 0)) continue;
      float sl2 = f.suml2 - w * float(L[i]) * float(L[i]);
      const int l = clamp_code(nearest_int(x[i] * sl2 / slx), -nmax, nmax - 1);
      if (l == L[i]) continue;
      slx += w * x[i] * float(l);
      sl2 += w * float(l) * float(l);
      if (sl2 > 0 && slx * slx * f.suml2 > f.sumlx * f.sumlx * sl2) {
        L[i] = int8_t(l);
        f = {slx, sl2};
        ++changed;
      }
    }
    if (changed == 0) break;
  }
  for (int i = 0; i < n; ++i) L[i] = int8_t(L[i] + nmax);
  return f.sumlx / f.suml2;
}

namespace {

struct AffineFit {
  float scale, min, err;
  bool ok;
};

// Least-squares scale and min (min <= 0 here: the value is scale * l + min) of codes
// l = round(iscale * (x - min0)) in [0, nmax], and their weighted error.
AffineFit fit_affine(int n, int nmax, const float* x, const float* w, float iscale, float min0,
                     float sum_w, float sum_x, bool use_mad, uint8_t* L) {
  float sum_l = 0, sum_l2 = 0, sum_xl = 0;
  for (int i = 0; i < n; ++i) {
    const int l = clamp_code(nearest_int(iscale * (x[i] - min0)), 0, nmax);
    L[i] = uint8_t(l);
    sum_l += w[i] * float(l);
    sum_l2 += w[i] * float(l) * float(l);
    sum_xl += w[i] * float(l) * x[i];
  }
  const float D = sum_w * sum_l2 - sum_l * sum_l;
  if (!(D > 0)) return {0, 0, 0, false};
  float scale = (sum_w * sum_xl - sum_x * sum_l) / D;
  float min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
  if (min > 0) {
    min = 0;
    scale = sum_xl / sum_l2;
  }
  float err = 0;
  for (int i = 0; i < n; ++i) {
    const float diff = scale * float(L[i]) + min - x[i];
    err += w[i] * (use_mad ? std::fabs(diff) : diff * diff);
  }
  return {scale, min, err, true};
}

}  // namespace

float affine_scale(int n, int nmax, const float* x, const float* w, uint8_t* L, float* the_min,
                   float rmin, float rdelta, int nstep, bool use_mad) {
  float min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
  for (int i = 1; i < n; ++i) {
    min = std::min(min, x[i]);
    max = std::max(max, x[i]);
    sum_w += w[i];
    sum_x += w[i] * x[i];
  }
  if (min > 0) min = 0;
  if (max == min) {
    std::fill(L, L + n, uint8_t(0));
    *the_min = -min;
    return 0;
  }
  // Start from the codes of the plain range (max - min) / nmax.
  float iscale = float(nmax) / (max - min);
  float scale = 1 / iscale;
  float best = 0;
  for (int i = 0; i < n; ++i) {
    L[i] = uint8_t(clamp_code(nearest_int(iscale * (x[i] - min)), 0, nmax));
    const float diff = scale * float(L[i]) + min - x[i];
    best += w[i] * (use_mad ? std::fabs(diff) : diff * diff);
  }
  uint8_t trial[256];
  for (int k = 0; k <= nstep && nstep >= 1; ++k) {
    iscale = (rmin + rdelta * float(k) + float(nmax)) / (max - min);
    const AffineFit f = fit_affine(n, nmax, x, w, iscale, min, sum_w, sum_x, use_mad, trial);
    if (f.ok && f.err < best) {
      std::copy(trial, trial + n, L);
      best = f.err;
      scale = f.scale;
      min = f.min;
    }
  }
  *the_min = -min;
  return scale;
}

int nearest_level(const int8_t* levels, float x) {
  if (x <= float(levels[0])) return 0;
  if (x >= float(levels[15])) return 15;
  int lo = 0, hi = 15;  // levels[lo] < x < levels[hi]
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    (x < float(levels[mid]) ? hi : lo) = mid;
  }
  return x - float(levels[lo]) < float(levels[hi]) - x ? lo : hi;
}

}  // namespace llmpipe::cpu::qsearch
