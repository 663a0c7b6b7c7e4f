// Perplexity scoring (runtime/perplexity.h) against float64 recomputations: the accumulation
// on synthetic logits, the chunking edge cases, and the whole path on the bundled model (every
// row's logits from one pass) against the independent float64 forward pass.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "formats/gguf_reader.h"
#include "formats/gguf_tensor_source.h"
#include "kernels/cpu/cpu_backend.h"
#include "model/llama_stage.h"
#include "runtime/generator.h"
#include "runtime/perplexity.h"
#include "llama_f64_reference.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

double log_prob64(const std::vector<double>& l, int32_t t) {
  double m = l[0];
  for (double x : l) m = std::max(m, x);
  double s = 0;
  for (double x : l) s += std::exp(x - m);
  return l[size_t(t)] - m - std::log(s);
}

// Scoring a chunk in pieces (as the command does, one forward pass at a time) gives the same
// sums, in the same order, as scoring it whole: pieces of 5 rows over a 12-row chunk.
TEST(Perplexity, PiecesScoreAsTheWholeChunk) {
  const int64_t n_ctx = 12, n_vocab = 11, first = n_ctx / 2, piece = 5;
  std::mt19937 rng(3);
  std::normal_distribution<float> d(0.f, 3.f);
  std::vector<float> logits(size_t(n_ctx * n_vocab));
  for (auto& x : logits) x = d(rng);
  std::vector<int32_t> tokens(static_cast<size_t>(n_ctx));
  for (auto& t : tokens) t = int32_t(rng() % uint32_t(n_vocab));
  NllAccumulator whole, pieces;
  whole.add_chunk(logits, n_vocab, tokens, first);
  for (int64_t r = 0; r < n_ctx; r += piece) {
    const int64_t n = std::min(piece, n_ctx - r);
    pieces.add_rows(std::span<const float>(logits).subspan(size_t(r * n_vocab), size_t(n * n_vocab)),
                    n_vocab, tokens, r, first);
  }
  ASSERT_EQ(pieces.count(), whole.count());
  EXPECT_EQ(pieces.estimate().ppl, whole.estimate().ppl);
  EXPECT_EQ(pieces.estimate().error, whole.estimate().error);
  EXPECT_THROW(pieces.add_rows(std::span<const float>(logits).subspan(0, size_t(2 * n_vocab)),
                               n_vocab, tokens, n_ctx - 1, first),
               std::exception);  // rows past the chunk's end
}

TEST(Perplexity, AccumulationMatchesFloat64Recomputation) {
  const int64_t n_ctx = 12, n_vocab = 37, first = n_ctx / 2;
  std::mt19937 rng(7);
  std::normal_distribution<float> d(0.f, 4.f);
  std::uniform_int_distribution<int32_t> tok(0, int32_t(n_vocab - 1));
  NllAccumulator acc;
  std::vector<double> nlls;
  for (int chunk = 0; chunk < 3; ++chunk) {
    std::vector<float> logits(size_t(n_ctx * n_vocab));
    for (auto& x : logits) x = d(rng) + 100.f;  // offset: log-softmax must subtract the max
    std::vector<int32_t> tokens(static_cast<size_t>(n_ctx));
    for (auto& t : tokens) t = tok(rng);
    acc.add_chunk(logits, n_vocab, tokens, first);
    for (int64_t i = first; i < n_ctx - 1; ++i) {
      const std::vector<double> row(logits.begin() + i * n_vocab,
                                    logits.begin() + (i + 1) * n_vocab);
      nlls.push_back(-log_prob64(row, tokens[size_t(i + 1)]));
    }
  }
  ASSERT_EQ(acc.count(), int64_t(nlls.size()));
  ASSERT_EQ(nlls.size(), 3u * 5u);
  double mean = 0;
  for (double v : nlls) mean += v;
  mean /= double(nlls.size());
  double ss = 0;  // two-pass variance (population), then the standard error of the mean
  for (double v : nlls) ss += (v - mean) * (v - mean);
  const double n = double(nlls.size());
  const double ppl = std::exp(mean);
  const double err = ppl * std::sqrt(ss / n / (n - 1));
  const auto e = acc.estimate();
  EXPECT_NEAR(e.ppl, ppl, 1e-12 * ppl);
  EXPECT_NEAR(e.error, err, 1e-9 * err);
  EXPECT_NEAR(acc.running_ppl(), ppl, 1e-12 * ppl);
}

TEST(Perplexity, LogProbOfUniformLogitsIsMinusLogVocab) {
  const std::vector<float> l(50, 3.5f);
  EXPECT_NEAR(token_log_prob(l, 7), -std::log(50.0), 1e-12);
  EXPECT_THROW(token_log_prob(l, 50), Error);
}

TEST(Perplexity, ErrorIsNanWithOneToken) {
  NllAccumulator acc;
  acc.add(2.0);
  EXPECT_NEAR(acc.estimate().ppl, std::exp(2.0), 1e-12);
  EXPECT_TRUE(std::isnan(acc.estimate().error));
}

TEST(Perplexity, ChunkingEdgeCases) {
  auto p = plan_perplexity(100, 10, 0);
  EXPECT_EQ(p.n_chunks, 10);
  EXPECT_EQ(p.first, 5);
  EXPECT_EQ(p.scored_per_chunk(), 4);
  EXPECT_EQ(plan_perplexity(109, 10, 0).n_chunks, 10);  // the partial chunk is dropped
  EXPECT_EQ(plan_perplexity(100, 10, 3).n_chunks, 3);
  EXPECT_EQ(plan_perplexity(100, 10, 50).n_chunks, 10);
  EXPECT_EQ(plan_perplexity(10, 10, 0).n_chunks, 1);  // exactly one chunk
  EXPECT_EQ(plan_perplexity(7, 7, 0).scored_per_chunk(), 3);  // odd: first = 3
  EXPECT_THROW(plan_perplexity(9, 10, 0), Error);  // fewer tokens than one chunk
  EXPECT_THROW(plan_perplexity(100, 2, 0), Error);  // nothing to score
  try {
    plan_perplexity(9, 10, 0);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("9 tokens"), std::string::npos) << e.what();
  }

  std::vector<int32_t> toks(25);
  for (size_t i = 0; i < toks.size(); ++i) toks[i] = int32_t(100 + i);
  p = plan_perplexity(25, 10, 0);
  EXPECT_EQ(chunk_tokens(toks, p, 1, std::nullopt),
            (std::vector<int32_t>{110, 111, 112, 113, 114, 115, 116, 117, 118, 119}));
  const auto c = chunk_tokens(toks, p, 1, 1);
  EXPECT_EQ(c.front(), 1);
  EXPECT_EQ(c.back(), 119);
  EXPECT_THROW(chunk_tokens(toks, p, 2, 1), Error);
}

// The engine's scoring of one chunk of the bundled model (logits of all rows from passes of 5
// tokens) against log-softmax of the float64 reference's logits at each prefix.
TEST(Perplexity, ModelChunkMatchesFloat64Forward) {
  const auto file = std::make_shared<const gguf::Reader>(gguf::Reader::open(test::model_path()));
  GgufTensorSource source{file};
  const LlamaHParams h = hparams_from_gguf(*file);
  CpuBackend backend({.threads = 2});
  const StageSpec spec{{0, h.n_layer}, true, true};
  const int64_t n_ctx = 16, piece = 5;
  LlamaStage stage(h, spec, load_stage_weights(source, h, spec, backend), backend,
                   {h.n_layer, 1, n_ctx, h.kv_dim(), DType::F32}, piece, piece);
  Generator gen(stage);
  std::vector<int32_t> chunk{1};
  for (int32_t i = 1; i < n_ctx; ++i) chunk.push_back(int32_t((i * 37 + 11) % h.n_vocab));
  std::vector<float> logits;
  for (int64_t i = 0; i < n_ctx; i += piece) {
    const int64_t n = std::min(piece, n_ctx - i);
    const auto part = gen.step_all(std::span(chunk).subspan(size_t(i), size_t(n)), i);
    ASSERT_EQ(int64_t(part.size()), n * h.n_vocab);
    logits.insert(logits.end(), part.begin(), part.end());
  }
  NllAccumulator acc;
  acc.add_chunk(logits, h.n_vocab, chunk, n_ctx / 2);

  test::LlamaF64 f64(*file);
  double nll = 0;
  int64_t count = 0;
  for (int64_t i = n_ctx / 2; i + 1 < n_ctx; ++i, ++count)
    nll -= log_prob64(f64.last_logits({chunk.begin(), chunk.begin() + i + 1}), chunk[size_t(i + 1)]);
  ASSERT_EQ(acc.count(), count);
  const double ppl = std::exp(nll / double(count));
  EXPECT_NEAR(acc.estimate().ppl, ppl, 1e-4 * ppl);
  EXPECT_GT(ppl, 1.0);
}

}  // namespace
}  // namespace llmpipe
