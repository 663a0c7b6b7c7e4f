#include "pipeline/stage_runtime.h"

#include <chrono>

#include "core/error.h"

namespace llmpipe {

namespace {
class Stopwatch {
 public:
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
  }

 private:
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};
}  // namespace

StageRuntime::StageRuntime(Transport& transport, LlamaStage& stage, int64_t n_slots)
    : transport_(transport), stage_(stage), samplers_(size_t(n_slots)) {}

std::optional<TokensMessage> StageRuntime::process(BatchMessage& msg,
                                                   std::span<const int32_t> tokens) {
  Stopwatch compute;
  const int64_t n = int64_t(msg.positions.size());
  const int64_t d = stage_.hparams().n_embd;
  if (!stage_.spec().is_first) {
    if (int64_t(msg.hidden.size()) != n * d)
      fail("batch ", msg.batch_id, " carries ", msg.hidden.size(), " activations for ", n,
           " tokens of width ", d, ": the ranks run different models?");
    stage_.backend().from_host(stage_.input(n), msg.hidden);
  }
  const BatchLayout layout{msg.positions, msg.slots, msg.batch_id};
  const TensorView out = stage_.forward(layout, tokens, msg.logit_rows);
  ++stats_.batches;
  stats_.tokens += uint64_t(n);

  if (!stage_.spec().is_last) {
    msg.hidden.resize(size_t(n * d));
    stage_.backend().to_host(msg.hidden, out);
    stats_.compute_s += compute.seconds();
    Stopwatch send;
    transport_.send(transport_.rank() + 1, Channel::Activations, encode_batch(msg));
    stats_.send_wait_s += send.seconds();
    return std::nullopt;
  }
  TokensMessage result = sample(msg, out);
  stats_.compute_s += compute.seconds();
  if (transport_.rank() == 0) return result;
  Stopwatch send;
  transport_.send(0, Channel::Tokens, encode_tokens(result));
  stats_.send_wait_s += send.seconds();
  return std::nullopt;
}

TokensMessage StageRuntime::sample(const BatchMessage& msg, TensorView logits) {
  const size_t vocab = size_t(logits.cols);
  logits_host_.resize(size_t(logits.rows) * vocab);
  stage_.backend().to_host(logits_host_, logits);
  TokensMessage result{msg.batch_id, {}};
  for (size_t r = 0; r < msg.samples.size(); ++r) {
    const SampleSpec& s = msg.samples[r];
    if (s.slot < 0 || size_t(s.slot) >= samplers_.size())
      fail("sample request for slot ", s.slot, " of ", samplers_.size());
    auto& sampler = samplers_[size_t(s.slot)];
    if (s.reset || !sampler) sampler.emplace(s.params(), s.stream);
    result.tokens.push_back(sampler->sample(std::span(logits_host_).subspan(r * vocab, vocab)));
  }
  return result;
}

void StageRuntime::serve() {
  for (;;) {
    Stopwatch wait;
    Bytes bytes = transport_.recv(transport_.rank() - 1, Channel::Activations);
    stats_.recv_wait_s += wait.seconds();
    if (message_kind(bytes) == MessageKind::Shutdown) {
      if (!stage_.spec().is_last)
        transport_.send(transport_.rank() + 1, Channel::Activations, encode_shutdown());
      return;
    }
    BatchMessage msg = decode_batch(bytes);
    process(msg, {});
  }
}

TokensMessage StageRuntime::receive_tokens() {
  Stopwatch wait;
  Bytes bytes = transport_.recv(transport_.size() - 1, Channel::Tokens);
  stats_.recv_wait_s += wait.seconds();
  return decode_tokens(bytes);
}

void StageRuntime::send_shutdown() {
  if (transport_.size() > 1) transport_.send(1, Channel::Activations, encode_shutdown());
}

}  // namespace llmpipe
