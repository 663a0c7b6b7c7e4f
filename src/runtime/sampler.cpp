#include "runtime/sampler.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace llmpipe {

int32_t argmax(std::span<const float> logits) {
  LLMPIPE_CHECK(!logits.empty(), "argmax of no logits");
  return int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

namespace {
// SplitMix64 of (seed, stream): independent, reproducible RNG streams per sequence.
uint64_t mix(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ull * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
}  // namespace

Sampler::Sampler(SamplingParams params, uint64_t stream)
    : params_(params), rng_(mix(params.seed, stream)) {
  if (!(params.temperature >= 0)) fail("temperature must be >= 0, got ", params.temperature);
  if (!(params.top_p > 0 && params.top_p <= 1)) fail("top_p must be in (0, 1], got ", params.top_p);
  if (params.top_k < 0) fail("top_k must be >= 0, got ", params.top_k);
}

int32_t Sampler::sample(std::span<const float> logits) {
  if (params_.greedy()) return argmax(logits);

  candidates_.clear();
  for (size_t i = 0; i < logits.size(); ++i) candidates_.emplace_back(logits[i], int32_t(i));
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t keep = candidates_.size();
  if (params_.top_k > 0) keep = std::min(keep, size_t(params_.top_k));
  if (params_.top_p < 1.0f || keep < candidates_.size()) {
    std::partial_sort(candidates_.begin(), candidates_.begin() + std::ptrdiff_t(keep),
                      candidates_.end(), by_logit);
  }
  candidates_.resize(keep);

  // Softmax at the temperature, in double for stable sums over large vocabularies.
  const double max = std::max_element(candidates_.begin(), candidates_.end(), [](auto& a, auto& b) {
                       return a.first < b.first;
                     })->first;
  std::vector<double> probs(candidates_.size());
  double sum = 0;
  for (size_t i = 0; i < candidates_.size(); ++i) {
    probs[i] = std::exp((double(candidates_[i].first) - max) / params_.temperature);
    sum += probs[i];
  }
  if (params_.top_p < 1.0f) {  // candidates_ are sorted: keep the smallest prefix with mass >= p
    double mass = 0;
    size_t n = 0;
    while (n < probs.size()) {
      mass += probs[n++] / sum;
      if (mass >= params_.top_p) break;
    }
    probs.resize(n);
    sum = 0;
    for (double p : probs) sum += p;
  }
  const double r = std::uniform_real_distribution<double>(0.0, sum)(rng_);
  double acc = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    acc += probs[i];
    if (r < acc) return candidates_[i].second;
  }
  return candidates_[probs.size() - 1].second;
}

}  // namespace llmpipe
