// Next-token sampling: greedy at temperature 0, else temperature, top-k and top-p (nucleus) with
// a seeded RNG per sequence, so that a sequence's tokens do not depend on what runs beside it.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace llmpipe {

struct SamplingParams {
  float temperature = 0.0f;  // 0: greedy
  int top_k = 0;             // 0: all tokens
  float top_p = 1.0f;        // 1: no nucleus cut
  uint64_t seed = 0;
  // The next token is the argmax of the logits (callers may take it from a backend's
  // argmax_rows instead of the logits).
  bool greedy() const { return temperature == 0.0f; }
};

class Sampler {
 public:
  // `stream` separates sequences sharing one seed (e.g. the prompt's index).
  Sampler(SamplingParams params, uint64_t stream = 0);
  int32_t sample(std::span<const float> logits);
  const SamplingParams& params() const { return params_; }

 private:
  SamplingParams params_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> candidates_;  // (logit, id), reused between calls
};

// Index of the largest logit; the lowest index wins ties.
int32_t argmax(std::span<const float> logits);

}  // namespace llmpipe
