// One rank's part of the pipeline: runs a batch through its stage and hands the result on.
// Communication is an explicit step here (receive, compute, send), never hidden in kernels.
// Not-last stages send hidden states to the next rank; the last stage samples one token per
// logit row (or, in a scoring batch, computes each row's -log P(target): perplexity) and returns
// them to rank 0 (or to its caller when it is rank 0 itself, P = 1).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "model/llama_stage.h"
#include "pipeline/messages.h"
#include "pipeline/trace.h"
#include "transport/device_link.h"
#include "transport/transport.h"

namespace llmpipe {

struct StageStats {
  double load_s = 0;
  double run_s = 0;        // from the start barrier to the end of this rank's work
  double compute_s = 0;    // forward passes and sampling (busy time)
  double send_wait_s = 0;  // handing messages to the transport (encoding included)
  double recv_wait_s = 0;  // waiting for input (idle time)
  uint64_t batches = 0;
  uint64_t tokens = 0;
};

class StageRuntime {
 public:
  // `hop_type`: how activations travel to the next stage (F32; F16/BF16: half the bytes; Q8_0:
  // ~0.27 of them, 8-bit blocks of 32 with a scale each). `links`: the hops that carry
  // activations device to device (connect_stage_links); the others go through host memory.
  StageRuntime(Transport& transport, LlamaStage& stage, int64_t n_slots, DType hop_type,
               TraceRecorder& trace, StageLinks links = {});

  // Runs `msg` through the stage (first stage: embeds `tokens`; others: msg.hidden).
  // Returns the sampled tokens (scoring batches: the rows' NLLs) when this is the last stage and
  // rank 0 (P = 1); otherwise sends the result on and returns nullopt.
  std::optional<TokensMessage> process(BatchMessage& msg, std::span<const int32_t> tokens);

  // Ranks > 0: receive and process batches until shutdown, which is passed on down the pipeline.
  void serve();

  // Blocks for the next tokens message from the last stage (rank 0 only, P > 1).
  TokensMessage receive_tokens();
  void send_shutdown();  // rank 0: start the shutdown wave

  const StageStats& stats() const { return stats_; }
  StageStats& stats() { return stats_; }
  // Called as each batch starts (the rank log's heartbeat lines); none by default.
  void set_batch_hook(std::function<void(const StageStats&)> hook) { batch_hook_ = std::move(hook); }
  LlamaStage& stage() { return stage_; }

 private:
  TokensMessage sample(const BatchMessage& msg, TensorView logits);
  TokensMessage score(const BatchMessage& msg, TensorView logits);  // msg.targets given
  void load_input(BatchMessage& msg, int64_t n);  // not-first stages: the batch's activations

  Transport& transport_;
  LlamaStage& stage_;
  DType hop_type_;
  TraceRecorder& trace_;
  StageLinks links_;
  StageStats stats_;
  std::vector<std::optional<Sampler>> samplers_;  // last stage: one per KV slot
  std::vector<float> logits_host_;
  std::vector<int32_t> greedy_ids_;  // [rows] when every row samples greedily
  std::function<void(const StageStats&)> batch_hook_;
};

}  // namespace llmpipe
