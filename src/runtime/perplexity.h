// Perplexity as llama.cpp's llama-perplexity computes it: the text's tokens cut into
// non-overlapping chunks of n_ctx tokens, each chunk's first token replaced by BOS when the
// vocabulary adds one, and only the second half of each chunk scored (every scored token then
// has at least n_ctx/2 tokens of context). Pure functions, no model: the command runs the model.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace llmpipe {

struct PerplexityPlan {
  int64_t n_ctx = 0;     // tokens per chunk
  int64_t n_chunks = 0;  // chunks evaluated
  int64_t first = 0;     // first scored row of a chunk: n_ctx / 2
  int64_t scored_per_chunk() const { return n_ctx - 1 - first; }
};

// Fails (clearly) when n_ctx < 3 (nothing to score) or the text has fewer than n_ctx tokens.
// max_chunks <= 0: every whole chunk.
PerplexityPlan plan_perplexity(int64_t n_tokens, int64_t n_ctx, int64_t max_chunks);

// The tokens of chunk `c`, the first replaced by `bos` when given.
std::vector<int32_t> chunk_tokens(std::span<const int32_t> tokens, const PerplexityPlan& plan,
                                  int64_t c, std::optional<int32_t> bos);

// The rows of the piece [row0, row0 + n) of a chunk that are scored, as rows 0..n-1 of the piece:
// chunk rows in [first, n_ctx - 1) (chunk row i predicts chunk[i + 1]), ascending.
std::vector<int32_t> scored_rows(const PerplexityPlan& plan, int64_t row0, int64_t n);

// log P(target) under softmax(logits), in double precision.
double token_log_prob(std::span<const float> logits, int32_t target);

struct PerplexityEstimate {
  double ppl = 0;     // exp(mean NLL)
  double error = 0;   // ppl * standard error of the mean NLL; NaN when undefined
  int64_t count = 0;  // scored tokens
};

// Sums of the NLL and its square over the scored tokens.
class NllAccumulator {
 public:
  void add(double nll);
  // Scores rows [first, n_ctx - 1) of a chunk's logits ([n_ctx, n_vocab], row-major): row i
  // predicts chunk[i + 1].
  void add_chunk(std::span<const float> logits, int64_t n_vocab, std::span<const int32_t> chunk,
                 int64_t first);
  // The same for a piece of the chunk: logits of rows [row0, row0 + rows) of the chunk, so a
  // chunk can be scored as its forward passes return, without holding [n_ctx, n_vocab].
  void add_rows(std::span<const float> logits, int64_t n_vocab, std::span<const int32_t> chunk,
                int64_t row0, int64_t first);
  int64_t count() const { return count_; }
  double running_ppl() const;  // exp(mean NLL so far)
  PerplexityEstimate estimate() const;

 private:
  double nll_ = 0, nll2_ = 0;
  int64_t count_ = 0;
};

}  // namespace llmpipe
