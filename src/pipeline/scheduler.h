// Rank 0's scheduler: admits prompts into KV slots (up to batch_size sequences), builds batches
// (one decode token per generating sequence, then prompt chunks), runs them through the
// pipeline, applies the sampled tokens and decides when each sequence stops. Finished sequences
// free their slot for the next pending prompt at once (continuous batching).
//
// The slots are dealt into M micro-batches (slot i belongs to micro-batch i mod M). Each
// micro-batch has at most one batch in the pipeline, since its next step needs the tokens the
// last one samples; with M = P batches circulating, every stage has work while the others
// compute. Results come back in the order batches were sent (every stage works FIFO).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/chat_prompt.h"
#include "pipeline/run_config.h"
#include "pipeline/run_io.h"
#include "pipeline/stage_runtime.h"
#include "runtime/generator.h"
#include "tokenizer/tokenizer.h"

namespace llmpipe {

struct SchedulerTotals {
  int64_t prompts = 0;  // completed
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t errors = 0;
};

class Scheduler {
 public:
  // on_completion receives each completion record as its sequence finishes; on_error each
  // prompt that cannot run (e.g. longer than the context).
  Scheduler(StageRuntime& runtime, const Tokenizer& tokenizer, const RunConfig& config,
            int64_t n_ctx, int64_t micro_batches, std::function<void(const nlohmann::json&)> on_completion,
            std::function<void(const nlohmann::json&)> on_error);
  ~Scheduler();

  // Returns when every prompt is done, or early, between batches, once a stop signal arrived
  // (stop_signal.h); then unfinished() lists the prompts it did not complete.
  void run(std::vector<PromptRequest> prompts);
  const SchedulerTotals& totals() const { return totals_; }
  // {"line", "id"} of each prompt in flight or pending when the run stopped early.
  const std::vector<nlohmann::json>& unfinished() const { return unfinished_; }

 private:
  struct Sequence;
  struct MicroBatch;
  bool admit(PromptRequest req, int32_t slot);
  void refill(std::deque<PromptRequest>& pending);
  bool has_work(const MicroBatch& mb) const;
  void launch(MicroBatch& mb);
  BatchMessage build_batch(MicroBatch& mb);
  void apply(const TokensMessage& result, MicroBatch& mb);
  void finish(Sequence& s, FinishReason reason);
  void show_progress(bool final) const;

  StageRuntime& runtime_;
  const Tokenizer& tokenizer_;
  chat::ChatFormatter chat_;      // renders `messages` requests
  std::vector<int32_t> end_ids_;  // end-of-generation tokens besides eos
  const RunConfig& config_;
  int64_t n_ctx_;
  std::function<void(const nlohmann::json&)> on_completion_, on_error_;
  std::vector<std::unique_ptr<Sequence>> slots_;  // [batch_size], empty = free
  std::vector<MicroBatch> micro_;                 // [M]
  std::deque<MicroBatch*> in_flight_;             // in the order sent
  size_t next_micro_ = 0;                         // round-robin start for launching
  uint64_t next_batch_id_ = 1;
  SchedulerTotals totals_;
  std::vector<nlohmann::json> unfinished_;
  int64_t total_prompts_ = 0;
  double start_s_ = 0;
};

}  // namespace llmpipe
