// Seeded random weights for synthetic models: counter-based, so any row of any tensor can be
// generated on any thread in any order and the file is the same bytes for the same seed.
// Scales keep activations finite through every layer: matrices uniform with standard deviation
// 1/sqrt(fan_in) (outputs have about unit variance after RMS norm), norm weights 1, embeddings
// small (std 0.02).
#pragma once

#include <cstdint>
#include <span>

#include "model/llama_arch.h"

namespace llmpipe {

struct WeightInit {
  bool ones = false;  // norm weights
  float stddev = 0;   // uniform in [-sqrt(3) stddev, sqrt(3) stddev] otherwise
};

WeightInit weight_init(TensorRole role, const LlamaHParams& h);

// Fills `out` with elements [row * out.size(), (row + 1) * out.size()) of tensor `tensor_index`.
void fill_random_row(uint64_t seed, uint64_t tensor_index, int64_t row, WeightInit init,
                     std::span<float> out);

}  // namespace llmpipe
