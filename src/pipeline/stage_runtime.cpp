#include "pipeline/stage_runtime.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "core/nvtx_range.h"
#include "runtime/perplexity.h"

namespace llmpipe {

namespace {
using Clock = TraceRecorder::Clock;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}
}  // namespace

StageRuntime::StageRuntime(Transport& transport, LlamaStage& stage, int64_t n_slots,
                           DType hop_type, TraceRecorder& trace, StageLinks links)
    : transport_(transport),
      stage_(stage),
      hop_type_(hop_type),
      trace_(trace),
      links_(std::move(links)),
      samplers_(size_t(n_slots)) {}

void StageRuntime::load_input(BatchMessage& msg, int64_t n) {
  const int64_t d = stage_.hparams().n_embd;
  if (msg.hidden_on_device) {
    if (!links_.prev)
      fail("batch ", msg.batch_id, " sent its activations over NCCL, but this rank has no NCCL",
           " link with the previous one: the ranks were started with different settings?");
    links_.prev->recv(stage_.input(n));  // queued before the forward pass on the same stream
    return;
  }
  if (int64_t(msg.hidden.size()) != n * d)
    fail("batch ", msg.batch_id, " carries ", msg.hidden.size(), " activations for ", n,
         " tokens of width ", d, ": the ranks run different models?");
  stage_.backend().from_host(stage_.input(n), msg.hidden);
}

std::optional<TokensMessage> StageRuntime::process(BatchMessage& msg,
                                                   std::span<const int32_t> tokens) {
  if (batch_hook_) batch_hook_(stats_);
  std::optional<NvtxRange> nvtx(std::in_place, "stage compute");
  const auto t0 = Clock::now();
  const int64_t n = int64_t(msg.positions.size());
  if (!stage_.spec().is_first) load_input(msg, n);
  const BatchLayout layout{msg.positions, msg.slots, msg.batch_id};
  const TensorView out = stage_.forward(layout, tokens, msg.logit_rows);
  ++stats_.batches;
  stats_.tokens += uint64_t(n);

  std::optional<TokensMessage> result;
  if (stage_.spec().is_last) {
    result = msg.targets.empty() ? sample(msg, out) : score(msg, out);
  } else if (links_.next) {
    // Wait for the pass here, so that compute time is the GPU's; the send is queued below.
    stage_.output_backend().synchronize();
    msg.hidden.clear();
    msg.hidden_on_device = true;
  } else {
    msg.hidden.resize(size_t(n * stage_.hparams().n_embd));
    msg.hidden_on_device = false;
    stage_.output_backend().to_host(msg.hidden, out);
  }
  const auto t1 = Clock::now();
  stats_.compute_s += seconds(t0, t1);
  trace_.add("compute", msg.batch_id, n, t0, t1);
  if (result && transport_.rank() == 0) return result;  // one stage: nothing to send

  nvtx.reset();
  const NvtxRange nvtx_send("stage send");
  if (result)  // last stage: the sampled tokens go back to rank 0
    transport_.send(0, Channel::Tokens, encode_tokens(*result));
  else {
    // The device send first: the receiver queues its receive when the header arrives, and the
    // sender's stream waits for that receive (the header must not wait for the stream).
    if (msg.hidden_on_device) links_.next->send(out);
    transport_.send(transport_.rank() + 1, Channel::Activations, encode_batch(msg, hop_type_));
  }
  const auto t2 = Clock::now();
  stats_.send_wait_s += seconds(t1, t2);
  trace_.add("send", msg.batch_id, n, t1, t2);
  return std::nullopt;
}

TokensMessage StageRuntime::sample(const BatchMessage& msg, TensorView logits) {
  const size_t vocab = size_t(logits.cols);
  LLMPIPE_CHECK(size_t(logits.rows) == msg.samples.size(), logits.rows, " logit rows for ",
                msg.samples.size(), " samples");
  // All greedy (the common case for evaluations): the backend's argmax, so a GPU sends back one
  // int per row instead of the vocabulary's logits.
  const bool greedy = std::all_of(msg.samples.begin(), msg.samples.end(),
                                  [](const SampleSpec& s) { return s.params().greedy(); });
  if (greedy) {
    greedy_ids_.resize(msg.samples.size());
    stage_.output_backend().argmax_rows(greedy_ids_, logits);
  } else {
    logits_host_.resize(size_t(logits.rows) * vocab);
    stage_.output_backend().to_host(logits_host_, logits);
  }
  TokensMessage result{msg.batch_id, {}, {}};
  for (size_t r = 0; r < msg.samples.size(); ++r) {
    const SampleSpec& s = msg.samples[r];
    if (s.slot < 0 || size_t(s.slot) >= samplers_.size())
      fail("sample request for slot ", s.slot, " of ", samplers_.size());
    auto& sampler = samplers_[size_t(s.slot)];
    if (s.reset || !sampler) sampler.emplace(s.params(), s.stream);
    if (greedy)
      result.tokens.push_back(greedy_ids_[r]);
    else
      result.tokens.push_back(sampler->sample(std::span(logits_host_).subspan(r * vocab, vocab)));
  }
  return result;
}

TokensMessage StageRuntime::score(const BatchMessage& msg, TensorView logits) {
  const size_t vocab = size_t(logits.cols);
  LLMPIPE_CHECK(size_t(logits.rows) == msg.targets.size(), logits.rows, " logit rows for ",
                msg.targets.size(), " targets");
  logits_host_.resize(size_t(logits.rows) * vocab);
  if (logits.rows > 0) stage_.output_backend().to_host(logits_host_, logits);
  TokensMessage result{msg.batch_id, {}, {}};
  result.nll.reserve(msg.targets.size());
  // The same expression as NllAccumulator::add_rows, so that the sums are bit for bit the
  // single-process run's.
  for (size_t r = 0; r < msg.targets.size(); ++r)
    result.nll.push_back(
        -token_log_prob(std::span(logits_host_).subspan(r * vocab, vocab), msg.targets[r]));
  return result;
}

void StageRuntime::serve() {
  for (;;) {
    const auto t0 = Clock::now();
    Bytes bytes = [&] {
      const NvtxRange nvtx("stage receive");
      return transport_.recv(transport_.rank() - 1, Channel::Activations);
    }();
    const auto t1 = Clock::now();
    stats_.recv_wait_s += seconds(t0, t1);
    if (message_kind(bytes) == MessageKind::Shutdown) {
      if (!stage_.spec().is_last)
        transport_.send(transport_.rank() + 1, Channel::Activations, encode_shutdown());
      return;
    }
    BatchMessage msg = decode_batch(bytes);
    trace_.add("receive", msg.batch_id, int64_t(msg.positions.size()), t0, t1);
    process(msg, {});
  }
}

TokensMessage StageRuntime::receive_tokens() {
  const auto t0 = Clock::now();
  Bytes bytes = transport_.recv(transport_.size() - 1, Channel::Tokens);
  const auto t1 = Clock::now();
  stats_.recv_wait_s += seconds(t0, t1);
  TokensMessage m = decode_tokens(bytes);
  trace_.add("receive tokens", m.batch_id, int64_t(m.tokens.size()), t0, t1);
  return m;
}

void StageRuntime::send_shutdown() {
  if (transport_.size() > 1) transport_.send(1, Channel::Activations, encode_shutdown());
}

}  // namespace llmpipe
