#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace llmpipe {

PerplexityPlan plan_perplexity(int64_t n_tokens, int64_t n_ctx, int64_t max_chunks) {
  if (n_ctx < 3) fail("perplexity needs a context of at least 3 tokens, not ", n_ctx);
  const int64_t whole = n_tokens / n_ctx;
  if (whole < 1)
    fail("the text has ", n_tokens, " tokens; one chunk of context ", n_ctx, " needs ", n_ctx,
         " (give a longer text or a smaller -c)");
  PerplexityPlan p;
  p.n_ctx = n_ctx;
  p.n_chunks = max_chunks > 0 ? std::min(whole, max_chunks) : whole;
  p.first = n_ctx / 2;
  return p;
}

std::vector<int32_t> chunk_tokens(std::span<const int32_t> tokens, const PerplexityPlan& plan,
                                  int64_t c, std::optional<int32_t> bos) {
  LLMPIPE_CHECK(c >= 0 && c < plan.n_chunks && (c + 1) * plan.n_ctx <= int64_t(tokens.size()),
                "chunk ", c, " out of range");
  const auto sub = tokens.subspan(size_t(c * plan.n_ctx), size_t(plan.n_ctx));
  std::vector<int32_t> out(sub.begin(), sub.end());
  if (bos) out.front() = *bos;
  return out;
}

std::vector<int32_t> scored_rows(const PerplexityPlan& plan, int64_t row0, int64_t n) {
  LLMPIPE_CHECK(row0 >= 0 && n >= 0 && row0 + n <= plan.n_ctx, "piece [", row0, ", ", row0 + n,
                ") of a chunk of ", plan.n_ctx);
  std::vector<int32_t> rows;
  for (int64_t i = std::max(plan.first, row0); i < row0 + n && i + 1 < plan.n_ctx; ++i)
    rows.push_back(int32_t(i - row0));
  return rows;
}

double token_log_prob(std::span<const float> logits, int32_t target) {
  LLMPIPE_CHECK(target >= 0 && size_t(target) < logits.size(), "token ", target,
                " outside the vocabulary of ", logits.size());
  double max = -std::numeric_limits<double>::infinity();
  for (float l : logits) max = std::max(max, double(l));
  double sum = 0;
  for (float l : logits) sum += std::exp(double(l) - max);
  return double(logits[size_t(target)]) - max - std::log(sum);
}

void NllAccumulator::add(double nll) {
  nll_ += nll;
  nll2_ += nll * nll;
  ++count_;
}

void NllAccumulator::add_chunk(std::span<const float> logits, int64_t n_vocab,
                               std::span<const int32_t> chunk, int64_t first) {
  const int64_t n = int64_t(chunk.size());
  LLMPIPE_CHECK(int64_t(logits.size()) == n * n_vocab, logits.size(), " logits for ", n,
                " rows of ", n_vocab);
  add_rows(logits, n_vocab, chunk, 0, first);
}

void NllAccumulator::add_rows(std::span<const float> logits, int64_t n_vocab,
                              std::span<const int32_t> chunk, int64_t row0, int64_t first) {
  const int64_t n = int64_t(chunk.size()), rows = n_vocab > 0 ? int64_t(logits.size()) / n_vocab : 0;
  LLMPIPE_CHECK(n_vocab > 0 && rows * n_vocab == int64_t(logits.size()) && row0 >= 0 &&
                    row0 + rows <= n,
                logits.size(), " logits at row ", row0, " for a chunk of ", n, " rows of ", n_vocab);
  for (int64_t i = std::max(first, row0); i < row0 + rows && i + 1 < n; ++i)
    add(-token_log_prob(logits.subspan(size_t((i - row0) * n_vocab), size_t(n_vocab)),
                        chunk[size_t(i + 1)]));
}

double NllAccumulator::running_ppl() const { return std::exp(nll_ / double(count_)); }

PerplexityEstimate NllAccumulator::estimate() const {
  PerplexityEstimate e;
  e.count = count_;
  const double mean = nll_ / double(count_);
  e.ppl = std::exp(mean);
  const double var = nll2_ / double(count_) - mean * mean;  // llama.cpp's formula
  e.error = count_ > 1 && var > 0 ? e.ppl * std::sqrt(var / double(count_ - 1))
                                  : std::numeric_limits<double>::quiet_NaN();
  return e;
}

}  // namespace llmpipe
