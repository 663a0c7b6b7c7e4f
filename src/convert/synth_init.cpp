#include "convert/synth_init.h"

#include <cmath>

namespace llmpipe {

namespace {
constexpr uint64_t kGolden = 0x9e3779b97f4a7c15ull;

// SplitMix64's output function: a bijective 64-bit mix.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

WeightInit weight_init(TensorRole role, const LlamaHParams& h) {
  // Biases: small, like the embedding (a bias of ones would swamp the projections).
  if (role == TensorRole::AttnQBias || role == TensorRole::AttnKBias ||
      role == TensorRole::AttnVBias)
    return {false, 0.02f};
  if (role_requires_f32(role)) return {true, 0};
  if (role == TensorRole::TokenEmbd) return {false, 0.02f};
  const auto shape = expected_shape(role, h);
  return {false, float(1.0 / std::sqrt(double(shape[0])))};  // shape[0]: the input dimension
}

void fill_random_row(uint64_t seed, uint64_t tensor_index, int64_t row, WeightInit init,
                     std::span<float> out) {
  if (init.ones) {
    for (float& x : out) x = 1.0f;
    return;
  }
  const float a = init.stddev * std::sqrt(3.0f);
  const uint64_t key = mix64(seed * kGolden ^ mix64(tensor_index + 1));
  uint64_t counter = key + uint64_t(row) * uint64_t(out.size()) * kGolden;
  for (float& x : out) {
    counter += kGolden;
    const uint64_t z = mix64(counter);
    const float u = float(z >> 40) * (1.0f / 16777216.0f);  // [0, 1), 24 bits
    x = (2.0f * u - 1.0f) * a;
  }
}

}  // namespace llmpipe
