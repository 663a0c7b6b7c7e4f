// What travels between stages, encoded as flat byte messages.
//   Activations channel (stage s -> s+1): a batch (layout, sampling specs or scoring targets,
//   hidden states) or a shutdown. Tokens channel (last stage -> stage 0): the sampled token of
//   each logit row, or (a scoring batch) each row's negative log-likelihood of its target.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/dtype.h"
#include "runtime/sampler.h"
#include "transport/transport.h"

namespace llmpipe {

// Per logit row, what the last stage needs to sample for that sequence.
struct SampleSpec {
  int32_t slot = 0;
  uint32_t reset = 0;  // 1: a new sequence starts in this slot, (re)create its sampler
  float temperature = 0;
  float top_p = 1;
  int32_t top_k = 0;
  uint32_t pad = 0;
  uint64_t seed = 0;
  uint64_t stream = 0;  // per-sequence RNG stream (the prompt's index)

  SamplingParams params() const { return {temperature, top_k, top_p, seed}; }
};

struct BatchMessage {
  uint64_t batch_id = 0;
  std::vector<int32_t> positions, slots;  // [n_tokens]
  std::vector<int32_t> logit_rows;        // batch rows whose logits are sampled
  std::vector<SampleSpec> samples;        // [logit_rows]; empty in a scoring batch
  std::vector<float> hidden;              // [n_tokens * n_embd]
  // The hidden states travel over the hop's device link (NCCL) instead: `hidden` stays empty.
  bool hidden_on_device = false;
  // A scoring batch (perplexity): per logit row, the token it is scored against; the last stage
  // returns -log P(target) per row instead of sampling. Empty: the rows are sampled. (Last, and
  // initialized, so that initializers written before it stay complete.)
  std::vector<int32_t> targets = {};
};

struct TokensMessage {
  uint64_t batch_id = 0;
  std::vector<int32_t> tokens;  // one per logit row, in order (sampling batches)
  std::vector<double> nll;      // one per logit row, in order (scoring batches)
};

enum class MessageKind : uint32_t { Batch = 1, Shutdown = 2, Tokens = 3 };

// `hidden_type` F16 or BF16 halves the activation bytes on the wire (decoded back to F32);
// ignored when m.hidden_on_device (no activation bytes at all).
Bytes encode_batch(const BatchMessage& m, DType hidden_type = DType::F32);
Bytes encode_shutdown();
Bytes encode_tokens(const TokensMessage& m);

MessageKind message_kind(std::span<const std::byte> bytes);
BatchMessage decode_batch(std::span<const std::byte> bytes);
TokensMessage decode_tokens(std::span<const std::byte> bytes);

}  // namespace llmpipe
