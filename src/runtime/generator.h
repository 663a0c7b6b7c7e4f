// Generation for one sequence on a stage that holds the whole model (first and last): batched
// prefill of the prompt in chunks, then one token per step until EOS, the token limit or the
// end of the context. The pipeline runtime (many stages, many sequences) builds on the same
// pieces: LlamaStage, KvCache, Sampler, StopRule.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/llama_stage.h"
#include "runtime/sampler.h"

namespace llmpipe {

enum class FinishReason { Stop, Length, Context };
const char* finish_reason_name(FinishReason r);  // "stop", "length", "context"

// When a sequence ends, decided in one place for every runtime.
struct StopRule {
  int32_t eos_id = -1;
  int64_t max_new_tokens = 0;
  int64_t n_ctx = 0;
  // Further end-of-generation tokens (end of turn: <|eot_id|>, <|im_end|>...), sorted; like
  // eos they end the sequence and are not part of it (Tokenizer::end_of_generation_ids()).
  std::vector<int32_t> end_ids = {};
  bool is_end(int32_t token) const;
  // Called after `token` was sampled as the n-th new token (1-based) at position `pos`.
  std::optional<FinishReason> check(int32_t token, int64_t n_new, int64_t pos) const;
};

// Stop strings on the decoded text: the text ends before the first occurrence of any of them.
// Matched on text, not tokens, so a stop string split across tokens (or inside one) is found.
class StopStrings {
 public:
  explicit StopStrings(std::vector<std::string> stops = {});
  // Appends newly decoded text; true once a stop string is complete (text() then ends before
  // it, and later appends are ignored).
  bool append(std::string_view piece);
  bool stopped() const { return stopped_; }
  const std::string& text() const { return text_; }
  // How much of text() can be shown now: the rest might be the start of a stop string.
  size_t safe_length() const;

 private:
  std::vector<std::string> stops_;
  std::string text_;
  bool stopped_ = false;
};

struct GenerationResult {
  std::vector<int32_t> tokens;  // new tokens, end tokens excluded
  FinishReason finish = FinishReason::Length;
  double prompt_s = 0;                   // prefill time
  double generate_s = 0;                 // decode time
  std::vector<float> first_step_logits;  // logits after the prompt
};

class Generator {
 public:
  explicit Generator(LlamaStage& stage);  // stage must hold every layer

  // on_token is called for each new token as soon as it is sampled (end tokens excluded); it
  // returns true to end the sequence there (a stop string completed: finish "stop").
  GenerationResult generate(std::span<const int32_t> prompt, const StopRule& stop, Sampler& sampler,
                            const std::function<bool(int32_t)>& on_token = nullptr);

  // One forward pass of `tokens` at positions first_pos.. of the single sequence; returns the
  // last token's logits, copied to the host. (Also what `llmpipe bench` times.)
  std::span<const float> step(std::span<const int32_t> tokens, int64_t first_pos);
  // The same pass, returning the logits of every token ([n, n_vocab], row-major) on the host:
  // what perplexity scores. The stage needs max_logit_rows >= tokens.size().
  std::span<const float> step_all(std::span<const int32_t> tokens, int64_t first_pos);

 private:
  // The forward pass of step(): the last token's logits row, on the stage's output backend.
  TensorView forward(std::span<const int32_t> tokens, int64_t first_pos);
  // The pass with the logits of the given batch rows.
  TensorView forward(std::span<const int32_t> tokens, int64_t first_pos,
                     std::span<const int32_t> logit_rows);
  // The token after `token` (at position pos): greedy sampling takes the backend's argmax (a
  // GPU sends back one int, not the logits), other sampling the logits on the host.
  int32_t next_token(int32_t token, int64_t pos, Sampler& sampler);

  LlamaStage& stage_;
  std::vector<int32_t> positions_, slots_, rows_;
  std::vector<float> logits_;
  uint64_t generation_ = 0;
};

}  // namespace llmpipe
