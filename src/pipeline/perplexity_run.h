// `llmpipe perplexity` on P ranks (P = 1: one process, no messages), with the stage code of
// `llmpipe run`: rank r holds the contiguous layer slice r of the split (balanced, or
// --layer-split). Rank 0 cuts the text into chunks (runtime/perplexity.h) and feeds each chunk in
// forward-pass pieces of at most `batch` tokens at positions from 0, with at most P pieces in
// flight; each piece is a scoring batch (messages.h: the rows to score and their target tokens)
// that goes through StageRuntime::process on every stage, activations hopping stage to stage.
// The last stage computes each scored row's -log P(target) from its logits (StageRuntime::score)
// and returns the NLLs to rank 0, which adds them in token order to its NllAccumulator and
// prints the running estimates and the final "PPL = x +/- e": the single-process output, digit
// for digit, for any P (every row's logits are the same bits whatever the split; the sums are
// taken in the same order).
#pragma once

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "runtime/perplexity.h"
#include "transport/transport.h"

namespace llmpipe {

struct PerplexityConfig {
  std::string model_path;
  std::string text_path;
  std::optional<DType> weight_dtype;  // nullopt: keep the file's types
  int64_t ctx_size = 0;               // 0: the model's context length, at most 512
  int64_t chunks = 0;                 // 0: every whole chunk
  int64_t batch = 512;                // tokens per forward pass
  int threads = 0;                    // 0: the CPUs this process may use
  std::string backend = "cpu";
  int64_t gpu_layers = -1;
  std::vector<int64_t> layer_split;  // layers per stage; empty: balanced
};

struct PerplexityResult {
  int code = 0;                 // the process exit code
  std::vector<double> running;  // rank 0: the running estimate after each chunk
  PerplexityEstimate estimate;  // rank 0: the final estimate
};

// Every rank first makes the same checks (model, split, context, text, chunks) and fails alike,
// rank 0 saying why (code 1). A failure after that ends every rank of the job (Transport::abort).
// Rank 0 prints the estimates to `out` (when not null) and counts and speed to stderr.
PerplexityResult run_perplexity(Transport& transport, const PerplexityConfig& config,
                                std::FILE* out);

}  // namespace llmpipe
