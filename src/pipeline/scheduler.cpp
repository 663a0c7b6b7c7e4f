#include "pipeline/scheduler.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>

#include "core/error.h"
#include "pipeline/stop_signal.h"

namespace llmpipe {

namespace {
double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

struct Scheduler::Sequence {
  PromptRequest req;
  int32_t slot = 0;
  std::vector<int32_t> prompt_tokens;
  int64_t n_prefilled = 0;  // prompt tokens already in the KV cache
  std::vector<int32_t> generated;
  bool reset_sampler = true;
  StopRule stop;
  StopStrings stops;                     // the request's stop strings, on the decoded text
  std::optional<StreamDecoder> decoder;  // the completion's text so far goes into `stops`
  SampleSpec sample;
  double start_s = 0, first_token_s = 0;

  bool prefilling() const { return n_prefilled < int64_t(prompt_tokens.size()); }
};

struct Scheduler::MicroBatch {
  std::vector<int32_t> slots;      // the KV slots dealt to this micro-batch
  bool in_flight = false;
  uint64_t batch_id = 0;           // of the batch in flight
  std::vector<int32_t> tokens;     // [n_tokens] of that batch (the first stage embeds them)
  std::vector<Sequence*> row_owner;  // [logit rows]: whose token each sampled row is
};

Scheduler::Scheduler(StageRuntime& runtime, const Tokenizer& tokenizer, const RunConfig& config,
                     int64_t n_ctx, int64_t micro_batches,
                     std::function<void(const nlohmann::json&)> on_completion,
                     std::function<void(const nlohmann::json&)> on_error)
    : runtime_(runtime),
      tokenizer_(tokenizer),
      chat_(tokenizer),
      end_ids_(tokenizer.end_of_generation_ids().begin(), tokenizer.end_of_generation_ids().end()),
      config_(config),
      n_ctx_(n_ctx),
      on_completion_(std::move(on_completion)),
      on_error_(std::move(on_error)),
      slots_(size_t(config.batch_size)) {
  if (micro_batches < 1 || micro_batches > config.batch_size)
    fail("micro-batch count ", micro_batches, " must be in [1, batch_size = ", config.batch_size, "]");
  micro_.resize(size_t(micro_batches));
  for (int32_t slot = 0; slot < int32_t(config.batch_size); ++slot)
    micro_[size_t(slot) % micro_.size()].slots.push_back(slot);
}

Scheduler::~Scheduler() = default;

bool Scheduler::admit(PromptRequest req, int32_t slot) {
  auto s = std::make_unique<Sequence>();
  if (req.messages) {
    try {
      chat::ChatPrompt chat = chat_.render(*req.messages);
      req.prompt = std::move(chat.text);
      s->prompt_tokens = std::move(chat.tokens);
    } catch (const Error& e) {
      on_error_({{"line", req.line}, {"id", req.id}, {"error", e.what()}});
      ++totals_.errors;
      return false;
    }
  } else {
    s->prompt_tokens = tokenizer_.encode(req.prompt, tokenizer_.vocab().add_bos);
  }
  if (s->prompt_tokens.empty()) s->prompt_tokens.push_back(tokenizer_.bos_id());
  if (int64_t(s->prompt_tokens.size()) >= n_ctx_) {
    on_error_({{"line", req.line},
               {"id", req.id},
               {"error", cat("prompt of ", s->prompt_tokens.size(),
                             " tokens does not fit the context of ", n_ctx_,
                             " tokens (at least one must be left to generate)")}});
    ++totals_.errors;
    return false;
  }
  s->slot = slot;
  s->stop = {tokenizer_.eos_id(), req.max_new_tokens.value_or(config_.max_new_tokens), n_ctx_,
             end_ids_};
  s->stops = StopStrings(req.stop);
  s->decoder.emplace(tokenizer_, /*at_text_start=*/false);
  s->sample = {slot, 1, req.temperature.value_or(config_.temperature),
               req.top_p.value_or(config_.top_p), config_.top_k, 0, config_.seed,
               uint64_t(req.index)};
  s->start_s = now_s();
  s->req = std::move(req);
  slots_[size_t(slot)] = std::move(s);
  return true;
}

BatchMessage Scheduler::build_batch(MicroBatch& mb) {
  BatchMessage m;
  m.batch_id = next_batch_id_++;
  mb.tokens.clear();
  mb.row_owner.clear();
  auto add = [&](Sequence& s, int32_t token, int64_t pos, bool wants_logits) {
    if (wants_logits) {
      m.logit_rows.push_back(int32_t(mb.tokens.size()));
      SampleSpec spec = s.sample;
      spec.reset = s.reset_sampler ? 1 : 0;
      s.reset_sampler = false;
      m.samples.push_back(spec);
      mb.row_owner.push_back(&s);
    }
    mb.tokens.push_back(token);
    m.positions.push_back(int32_t(pos));
    m.slots.push_back(s.slot);
  };
  // Decoding sequences first: one token each, so prompts never stall generation for long.
  for (int32_t slot : mb.slots)
    if (auto& s = slots_[size_t(slot)]; s && !s->prefilling())
      add(*s, s->generated.back(), int64_t(s->prompt_tokens.size() + s->generated.size()) - 1, true);
  // Then prompt chunks, within the stage's token budget.
  int64_t budget = runtime_.stage().max_tokens() - int64_t(mb.tokens.size());
  for (int32_t slot : mb.slots) {
    auto& s = slots_[size_t(slot)];
    if (!s || !s->prefilling() || budget <= 0) continue;
    const int64_t n = std::min({config_.prefill_chunk, budget,
                                int64_t(s->prompt_tokens.size()) - s->n_prefilled});
    for (int64_t i = 0; i < n; ++i) {
      const int64_t pos = s->n_prefilled + i;
      add(*s, s->prompt_tokens[size_t(pos)], pos, pos + 1 == int64_t(s->prompt_tokens.size()));
    }
    s->n_prefilled += n;
    budget -= n;
  }
  mb.batch_id = m.batch_id;
  return m;
}

void Scheduler::apply(const TokensMessage& result, MicroBatch& mb) {
  if (result.batch_id != mb.batch_id)
    fail("tokens for batch ", result.batch_id, " arrived while batch ", mb.batch_id,
         " was expected first");
  if (result.tokens.size() != mb.row_owner.size())
    fail("last stage returned ", result.tokens.size(), " tokens for ", mb.row_owner.size(), " rows");
  mb.in_flight = false;
  for (size_t r = 0; r < mb.row_owner.size(); ++r) {
    Sequence& s = *mb.row_owner[r];
    const int32_t token = result.tokens[r];
    if (s.generated.empty()) s.first_token_s = now_s();
    const int64_t pos = int64_t(s.prompt_tokens.size() + s.generated.size());
    auto reason = s.stop.check(token, int64_t(s.generated.size()) + 1, pos);
    if (!s.stop.is_end(token)) {
      s.generated.push_back(token);
      if (s.stops.append(s.decoder->push(token))) reason = FinishReason::Stop;
    }
    if (reason) finish(s, *reason);
  }
}

void Scheduler::finish(Sequence& s, FinishReason reason) {
  const double end = now_s();
  s.stops.append(s.decoder->flush());  // ignored once a stop string ended the text
  const std::string& text = s.stops.text();
  const double latency = end - s.start_s;
  // After the first token: decoding alone, without the prompt's prefill or queueing.
  const double decode_s = end - s.first_token_s;
  const size_t decoded = s.generated.empty() ? 0 : s.generated.size() - 1;
  nlohmann::json record = {
      {"id", s.req.id},
      {"prompt", s.req.prompt},
      {"completion", text},
      {"prompt_tokens", s.prompt_tokens.size()},
      {"completion_tokens", s.generated.size()},
      {"finish_reason", finish_reason_name(reason)},
      {"latency_s", latency},
      {"ttft_s", s.first_token_s - s.start_s},
      {"tokens_per_s", latency > 0 ? double(s.generated.size()) / latency : 0.0},
      {"decode_tokens_per_s", decoded > 0 && decode_s > 0 ? double(decoded) / decode_s : 0.0},
      {"created", unix_seconds()}};
  if (s.req.messages) record["messages"] = *s.req.messages;
  on_completion_(record);
  ++totals_.prompts;
  totals_.prompt_tokens += int64_t(s.prompt_tokens.size());
  totals_.completion_tokens += int64_t(s.generated.size());
  slots_[size_t(s.slot)].reset();  // `s` is gone after this line
}

void Scheduler::show_progress(bool final) const {
  static const bool tty = ::isatty(STDERR_FILENO);
  if (!tty) return;
  const double elapsed = now_s() - start_s_;
  const int64_t done = totals_.prompts + totals_.errors;
  const double rate = elapsed > 0 ? double(totals_.completion_tokens) / elapsed : 0;
  const double eta = done > 0 ? elapsed / double(done) * double(total_prompts_ - done) : 0;
  std::fprintf(stderr, "\r[%lld/%lld prompts] %.1f tok/s, elapsed %.0f s, ETA %.0f s   %s",
               static_cast<long long>(done), static_cast<long long>(total_prompts_), rate, elapsed,
               eta, final ? "\n" : "");
}

void Scheduler::refill(std::deque<PromptRequest>& pending) {
  for (size_t slot = 0; slot < slots_.size() && !pending.empty(); ++slot)
    while (!slots_[slot] && !pending.empty()) {
      admit(std::move(pending.front()), int32_t(slot));
      pending.pop_front();
    }
}

bool Scheduler::has_work(const MicroBatch& mb) const {
  for (int32_t slot : mb.slots)
    if (slots_[size_t(slot)]) return true;
  return false;
}

// Runs the first stage on the micro-batch's next batch. With one stage (P = 1) the tokens come
// back at once and are applied; otherwise the batch is in the pipeline until they return.
void Scheduler::launch(MicroBatch& mb) {
  BatchMessage batch = build_batch(mb);
  mb.in_flight = true;
  if (auto result = runtime_.process(batch, mb.tokens)) {
    apply(*result, mb);
  } else {
    in_flight_.push_back(&mb);
  }
}

void Scheduler::run(std::vector<PromptRequest> prompts) {
  std::deque<PromptRequest> pending(std::make_move_iterator(prompts.begin()),
                                    std::make_move_iterator(prompts.end()));
  total_prompts_ = int64_t(pending.size());
  start_s_ = now_s();
  for (;;) {
    // On a stop signal, start nothing new; drain what is in flight (so every stage ends in a
    // consistent state), then list what did not finish.
    const bool stopping = stop_requested() != 0;
    if (!stopping) refill(pending);
    // Start every idle micro-batch that has sequences, round-robin so none starves.
    bool launched = false;
    for (size_t i = 0; i < micro_.size() && !stopping; ++i) {
      MicroBatch& mb = micro_[(next_micro_ + i) % micro_.size()];
      if (mb.in_flight || !has_work(mb)) continue;
      launch(mb);
      launched = true;
      if (!mb.in_flight) refill(pending);  // P = 1: finished sequences free slots at once
    }
    next_micro_ = (next_micro_ + 1) % micro_.size();
    if (in_flight_.empty()) {
      if (launched) continue;
      if (stopping) {
        for (auto& s : slots_)
          if (s) unfinished_.push_back({{"line", s->req.line}, {"id", s->req.id}});
        for (const auto& r : pending) unfinished_.push_back({{"line", r.line}, {"id", r.id}});
      }
      break;  // nothing in flight, nothing to start: every prompt is done (or stopped)
    }
    // Wait for the oldest batch's tokens: the stages keep the others moving meanwhile.
    MicroBatch& mb = *in_flight_.front();
    in_flight_.pop_front();
    apply(runtime_.receive_tokens(), mb);
    show_progress(false);
  }
  show_progress(true);
}

}  // namespace llmpipe
