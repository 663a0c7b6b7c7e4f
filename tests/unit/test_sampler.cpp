// The sampler against exactly computed distributions: temperature, top-k and top-p each change
// which tokens can be drawn and with what probability. Empirical frequencies over N draws are
// compared with the exact probabilities by Pearson's chi-square; the bound is the chi-square
// quantile at p = 1e-6 for the degrees of freedom (Wilson–Hilferty), so a correct sampler fails
// with probability ~1e-6 per test (the seeds are fixed, so in practice never), while a wrong
// distribution (a temperature not applied, a nucleus one token too short or long) gives a
// statistic orders of magnitude above it at these N.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "core/error.h"
#include "runtime/sampler.h"

namespace llmpipe {
namespace {

// Exact distribution of the sampler's definition, in float64: softmax(logits / T) over the
// top_k largest, then the smallest prefix (by probability, ties by lower id) whose mass >= top_p,
// renormalized.
std::vector<double> exact_distribution(const std::vector<float>& logits, float temperature,
                                       int top_k, float top_p) {
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return logits[size_t(a)] > logits[size_t(b)]; });
  size_t keep = top_k > 0 ? std::min(order.size(), size_t(top_k)) : order.size();
  const double max = logits[size_t(order[0])];
  std::vector<double> p(keep);
  double sum = 0;
  for (size_t i = 0; i < keep; ++i)
    sum += p[i] = std::exp((logits[size_t(order[i])] - max) / temperature);
  if (top_p < 1.0f) {
    double mass = 0;
    size_t n = 0;
    while (n < keep) {
      mass += p[n++] / sum;
      if (mass >= top_p) break;
    }
    keep = n;
    sum = std::accumulate(p.begin(), p.begin() + std::ptrdiff_t(keep), 0.0);
  }
  std::vector<double> out(logits.size(), 0.0);
  for (size_t i = 0; i < keep; ++i) out[size_t(order[i])] = p[i] / sum;
  return out;
}

// Chi-square quantile at upper-tail probability ~1e-6 (z = 4.753), Wilson–Hilferty.
double chi_square_bound(int df) {
  const double z = 4.753, a = 2.0 / (9.0 * df);
  return df * std::pow(1 - a + z * std::sqrt(a), 3);
}

struct Draws {
  std::vector<int64_t> counts;
  int64_t n = 0;
};

Draws draw(const std::vector<float>& logits, SamplingParams params, int64_t n,
           uint64_t stream = 0) {
  Sampler s(params, stream);
  Draws d{std::vector<int64_t>(logits.size(), 0), n};
  for (int64_t i = 0; i < n; ++i) {
    const int32_t t = s.sample(logits);
    EXPECT_GE(t, 0);
    EXPECT_LT(t, int32_t(logits.size()));
    ++d.counts[size_t(t)];
  }
  return d;
}

// Pearson's statistic over the tokens of non-zero probability; tokens of probability zero must
// never be drawn (checked exactly).
void expect_matches(const Draws& d, const std::vector<double>& p, const char* what) {
  double chi2 = 0;
  int df = -1;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == 0) {
      EXPECT_EQ(d.counts[i], 0) << what << ": token " << i << " has probability 0";
      continue;
    }
    const double e = p[i] * double(d.n);
    chi2 += (double(d.counts[i]) - e) * (double(d.counts[i]) - e) / e;
    ++df;
  }
  if (df < 1) {  // one token carries all the mass: every draw must be it
    return;
  }
  EXPECT_LT(chi2, chi_square_bound(df))
      << what << ": chi-square " << chi2 << " over " << df << " degrees of freedom";
}

std::vector<float> test_logits() {
  // Twelve tokens, distinct logits spread over ~4 nats, plus a tie (ids 3 and 7) so the
  // tie order of top-k/top-p is exercised.
  return {0.3f, -1.2f, 2.1f, 1.4f, -0.4f, 0.9f, -2.5f, 1.4f, 0.0f, 1.9f, -0.8f, 0.6f};
}

constexpr int64_t kDraws = 200000;

TEST(Sampler, TemperatureOneIsTheSoftmax) {
  const auto logits = test_logits();
  expect_matches(draw(logits, {1.0f, 0, 1.0f, 7}, kDraws), exact_distribution(logits, 1, 0, 1),
                 "T=1");
}

TEST(Sampler, TemperatureSharpensAndFlattens) {
  const auto logits = test_logits();
  for (float t : {0.5f, 2.0f}) {
    const auto exact = exact_distribution(logits, t, 0, 1);
    expect_matches(draw(logits, {t, 0, 1.0f, 11}, kDraws), exact, "temperature");
    // The test can tell temperatures apart: the T=1 distribution is rejected for these draws.
    const Draws d = draw(logits, {t, 0, 1.0f, 11}, kDraws);
    const auto wrong = exact_distribution(logits, 1, 0, 1);
    double chi2 = 0;
    for (size_t i = 0; i < wrong.size(); ++i) {
      const double e = wrong[i] * kDraws;
      chi2 += (double(d.counts[i]) - e) * (double(d.counts[i]) - e) / e;
    }
    EXPECT_GT(chi2, 100 * chi_square_bound(int(logits.size()) - 1)) << "T=" << t;
  }
}

TEST(Sampler, TopKKeepsTheKLargest) {
  const auto logits = test_logits();
  for (int k : {1, 3, 4, 5}) {  // k = 4 cuts between the tied ids 3 and 7: the lower id stays
    const auto exact = exact_distribution(logits, 0.8f, k, 1);
    ASSERT_EQ(std::count_if(exact.begin(), exact.end(), [](double p) { return p > 0; }), k);
    expect_matches(draw(logits, {0.8f, k, 1.0f, 3}, kDraws), exact, "top-k");
  }
}

TEST(Sampler, TopPKeepsTheSmallestNucleus) {
  const auto logits = test_logits();
  for (float p : {0.3f, 0.5f, 0.75f, 0.9f, 0.99f}) {
    const auto exact = exact_distribution(logits, 1.0f, 0, p);
    expect_matches(draw(logits, {1.0f, 0, p, 5}, kDraws), exact, "top-p");
  }
}

TEST(Sampler, TopKThenTopP) {
  const auto logits = test_logits();
  const auto exact = exact_distribution(logits, 1.5f, 6, 0.8f);
  expect_matches(draw(logits, {1.5f, 6, 0.8f, 9}, kDraws), exact, "top-k then top-p");
}

TEST(Sampler, GreedyIsTheArgmaxWithLowestIdOnTies) {
  Sampler s({0.0f, 0, 1.0f, 1});
  EXPECT_EQ(s.sample(test_logits()), 2);
  const std::vector<float> tie = {0.5f, 3.0f, -1.0f, 3.0f};
  EXPECT_EQ(s.sample(tie), 1);
  EXPECT_EQ(argmax(tie), 1);
}

TEST(Sampler, StreamsAreReproducibleAndIndependentOfInterleaving) {
  const auto logits = test_logits();
  const SamplingParams params{1.0f, 0, 1.0f, 42};
  // Alone: stream 0 and stream 1, 64 draws each.
  std::vector<int32_t> alone0, alone1;
  Sampler a0(params, 0), a1(params, 1);
  for (int i = 0; i < 64; ++i) alone0.push_back(a0.sample(logits));
  for (int i = 0; i < 64; ++i) alone1.push_back(a1.sample(logits));
  // Interleaved, as two sequences of one batch: each stream's tokens are the same.
  std::vector<int32_t> mixed0, mixed1;
  Sampler b0(params, 0), b1(params, 1);
  for (int i = 0; i < 64; ++i) {
    mixed1.push_back(b1.sample(logits));
    mixed0.push_back(b0.sample(logits));
  }
  EXPECT_EQ(alone0, mixed0);
  EXPECT_EQ(alone1, mixed1);
  EXPECT_NE(alone0, alone1) << "two streams of one seed gave the same tokens";
  // Another seed, same stream: different tokens.
  Sampler c0({1.0f, 0, 1.0f, 43}, 0);
  std::vector<int32_t> other;
  for (int i = 0; i < 64; ++i) other.push_back(c0.sample(logits));
  EXPECT_NE(alone0, other) << "seeds 42 and 43 gave the same tokens";
}

TEST(Sampler, RefusesInvalidParameters) {
  EXPECT_THROW(Sampler({-0.1f, 0, 1.0f, 0}), Error);
  EXPECT_THROW(Sampler({1.0f, -1, 1.0f, 0}), Error);
  EXPECT_THROW(Sampler({1.0f, 0, 0.0f, 0}), Error);
  EXPECT_THROW(Sampler({1.0f, 0, 1.5f, 0}), Error);
  EXPECT_THROW(Sampler({NAN, 0, 1.0f, 0}), Error);
}

}  // namespace
}  // namespace llmpipe
