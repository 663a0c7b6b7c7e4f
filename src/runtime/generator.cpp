#include "runtime/generator.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"

namespace llmpipe {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

const char* finish_reason_name(FinishReason r) {
  switch (r) {
    case FinishReason::Stop: return "stop";
    case FinishReason::Length: return "length";
    case FinishReason::Context: return "context";
  }
  return "?";
}

bool StopRule::is_end(int32_t token) const {
  return token == eos_id || std::binary_search(end_ids.begin(), end_ids.end(), token);
}

std::optional<FinishReason> StopRule::check(int32_t token, int64_t n_new, int64_t pos) const {
  if (is_end(token)) return FinishReason::Stop;
  if (n_new >= max_new_tokens) return FinishReason::Length;
  if (pos + 1 >= n_ctx) return FinishReason::Context;  // no room to feed this token back
  return std::nullopt;
}

StopStrings::StopStrings(std::vector<std::string> stops) : stops_(std::move(stops)) {
  std::erase_if(stops_, [](const std::string& s) { return s.empty(); });
}

bool StopStrings::append(std::string_view piece) {
  if (stopped_) return true;
  const size_t old = text_.size();
  text_ += piece;
  // Only a match that ends in the new piece is new: search from where one could start.
  size_t longest = 0;
  for (const std::string& s : stops_) longest = std::max(longest, s.size());
  const size_t from = old >= longest ? old - longest + 1 : 0;
  size_t cut = std::string::npos;
  for (const std::string& s : stops_) cut = std::min(cut, text_.find(s, from));
  if (cut == std::string::npos) return false;
  text_.resize(cut);
  stopped_ = true;
  return true;
}

size_t StopStrings::safe_length() const {
  if (stopped_) return text_.size();
  size_t hold = 0;  // the longest end of the text that begins some stop string
  for (const std::string& s : stops_)
    for (size_t k = std::min(s.size() - 1, text_.size()); k > hold; --k)
      if (text_.compare(text_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
  return text_.size() - hold;
}

Generator::Generator(LlamaStage& stage) : stage_(stage) {
  if (!stage.spec().is_first || !stage.spec().is_last)
    fail("the single-process generator needs a stage holding the whole model");
}

TensorView Generator::forward(std::span<const int32_t> tokens, int64_t first_pos,
                              std::span<const int32_t> logit_rows) {
  const int64_t n = int64_t(tokens.size());
  positions_.resize(size_t(n));
  slots_.assign(size_t(n), 0);
  for (int64_t i = 0; i < n; ++i) positions_[size_t(i)] = int32_t(first_pos + i);
  const BatchLayout batch{positions_, slots_, ++generation_};
  return stage_.forward(batch, tokens, logit_rows);
}

TensorView Generator::forward(std::span<const int32_t> tokens, int64_t first_pos) {
  const int32_t last_row = int32_t(tokens.size()) - 1;
  return forward(tokens, first_pos, std::span(&last_row, 1));
}

std::span<const float> Generator::step_all(std::span<const int32_t> tokens, int64_t first_pos) {
  rows_.resize(tokens.size());
  for (size_t i = 0; i < rows_.size(); ++i) rows_[i] = int32_t(i);
  const TensorView logits = forward(tokens, first_pos, rows_);
  logits_.resize(size_t(logits.rows * logits.cols));
  stage_.output_backend().to_host(logits_, logits);
  return logits_;
}

std::span<const float> Generator::step(std::span<const int32_t> tokens, int64_t first_pos) {
  const TensorView logits = forward(tokens, first_pos);
  logits_.resize(size_t(logits.cols));
  stage_.output_backend().to_host(logits_, logits);
  return logits_;
}

int32_t Generator::next_token(int32_t token, int64_t pos, Sampler& sampler) {
  if (sampler.params().greedy()) {
    int32_t id = 0;
    stage_.output_backend().argmax_rows(std::span(&id, 1), forward(std::span(&token, 1), pos));
    return id;
  }
  return sampler.sample(step(std::span(&token, 1), pos));
}

GenerationResult Generator::generate(std::span<const int32_t> prompt, const StopRule& stop,
                                     Sampler& sampler,
                                     const std::function<bool(int32_t)>& on_token) {
  const int64_t n_ctx = stage_.kv_cache().shape().n_ctx;
  if (prompt.empty()) fail("empty prompt: at least one token (e.g. BOS) is needed");
  if (int64_t(prompt.size()) >= n_ctx)
    fail("prompt of ", prompt.size(), " tokens does not fit the context of ", n_ctx, " tokens");

  GenerationResult r;
  auto t0 = std::chrono::steady_clock::now();
  std::span<const float> logits;
  for (size_t i = 0; i < prompt.size(); i += size_t(stage_.max_tokens())) {
    const size_t n = std::min(prompt.size() - i, size_t(stage_.max_tokens()));
    logits = step(prompt.subspan(i, n), int64_t(i));
  }
  r.first_step_logits.assign(logits.begin(), logits.end());
  r.prompt_s = seconds_since(t0);

  t0 = std::chrono::steady_clock::now();
  int64_t pos = int64_t(prompt.size());  // position of the next token
  int32_t token = sampler.sample(logits);
  for (;;) {
    auto finish = stop.check(token, int64_t(r.tokens.size()) + 1, pos);
    if (!stop.is_end(token)) {
      r.tokens.push_back(token);
      if (on_token && on_token(token)) finish = FinishReason::Stop;
    }
    if (finish) {
      r.finish = *finish;
      break;
    }
    token = next_token(token, pos++, sampler);
  }
  r.generate_s = seconds_since(t0);
  return r;
}

}  // namespace llmpipe
