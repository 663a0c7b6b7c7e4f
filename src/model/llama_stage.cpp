#include "model/llama_stage.h"

#include "core/error.h"
#include "model/llama_arch.h"

namespace llmpipe {

namespace {
Buffer alloc_f32(Backend& b, int64_t rows, int64_t cols) {
  return b.alloc(size_t(rows * cols) * sizeof(float));
}
TensorView f32(const Buffer& b, int64_t rows, int64_t cols) {
  return b.view(DType::F32, rows, cols);
}
}  // namespace

LlamaStage::LlamaStage(const LlamaHParams& hparams, const StageSpec& spec, StageWeights weights,
                       Backend& backend, KvCacheShape kv_shape, int64_t max_tokens,
                       int64_t max_logit_rows)
    : h_(hparams),
      spec_(spec),
      weights_(std::move(weights)),
      backend_(backend),
      kv_(backend, kv_shape),
      max_tokens_(max_tokens),
      max_logit_rows_(max_logit_rows),
      whole_spec_(spec) {
  if (max_tokens < 1) fail("a stage needs room for at least one token per batch");
  if (kv_shape.n_layers != spec.layers.size())
    fail("KV cache has ", kv_shape.n_layers, " layers for a stage of ", spec.layers.size());
  rope_.head_dim = int(h_.head_dim());
  rope_.freq_base = h_.rope_freq_base;
  rope_.style = arch_info(h_.arch).rope;
  rope_.position_scale = h_.rope_position_scale();
  if (weights_.rope_freqs) rope_.freq_factors = *weights_.rope_freqs;
  x_ = alloc_f32(backend, max_tokens, h_.n_embd);
  h_buf_ = alloc_f32(backend, max_tokens, h_.n_embd);
  q_ = alloc_f32(backend, max_tokens, h_.q_dim());
  k_ = alloc_f32(backend, max_tokens, h_.kv_dim());
  v_ = alloc_f32(backend, max_tokens, h_.kv_dim());
  attn_ = alloc_f32(backend, max_tokens, h_.q_dim());
  gate_ = alloc_f32(backend, max_tokens, h_.n_ff);
  up_ = alloc_f32(backend, max_tokens, h_.n_ff);
  if (spec.is_last) {
    sel_ = alloc_f32(backend, max_logit_rows, h_.n_embd);
    logits_ = alloc_f32(backend, max_logit_rows, h_.n_vocab);
  }
}

void LlamaStage::set_tail(std::unique_ptr<LlamaStage> tail) {
  LLMPIPE_CHECK(tail && !spec_.is_last && !tail->spec_.is_first &&
                    tail->spec_.layers.first == spec_.layers.last &&
                    tail->max_tokens_ >= max_tokens_,
                "a stage's tail must continue its layers");
  whole_spec_ = {{spec_.layers.first, tail->whole_spec_.layers.last},
                 spec_.is_first,
                 tail->whole_spec_.is_last};
  tail_ = std::move(tail);
}

TensorView LlamaStage::input(int64_t n_tokens) const {
  LLMPIPE_CHECK(n_tokens <= max_tokens_, "batch of ", n_tokens, " tokens exceeds ", max_tokens_);
  return f32(x_, n_tokens, h_.n_embd);
}

// Precondition: h holds rms_norm(x) * w.attn_norm (forward, or the previous layer's last op,
// put it there). Leaves in h the next layer's normed input when `next` is given.
void LlamaStage::run_layer(const LayerWeights& w, const LayerWeights* next, KvView kv,
                           const BatchLayout& batch, int64_t n) {
  const AttentionShape shape{int(h_.n_head), int(h_.n_head_kv), int(h_.head_dim()),
                             int(h_.sliding_window)};
  const TensorView x = f32(x_, n, h_.n_embd);
  const TensorView h = f32(h_buf_, n, h_.n_embd);
  const TensorView q = f32(q_, n, h_.q_dim());
  const TensorView k = f32(k_, n, h_.kv_dim());
  const TensorView v = f32(v_, n, h_.kv_dim());
  const TensorView attn = f32(attn_, n, h_.q_dim());
  const TensorView gate = f32(gate_, n, h_.n_ff);
  const TensorView up = f32(up_, n, h_.n_ff);

  // Attention block: x += Wo · attention(rope(Wq·norm(x)), rope(Wk·norm(x)), Wv·norm(x))
  const TensorView qkv[] = {q, k, v};
  const TensorView w_qkv[] = {w.wq, w.wk, w.wv};
  backend_.matmul_many(qkv, h, w_qkv);
  if (w.bq.data) {  // qwen2: q, k, v biases (no work for architectures without them)
    backend_.add_rows(q, w.bq);
    backend_.add_rows(k, w.bk);
    backend_.add_rows(v, w.bv);
  }
  if (w.q_norm.data) {  // qwen3: RMSNorm of every head of q and k, rows [n * heads, head_dim]
    const TensorView qh = q.reshaped(n * shape.n_head, shape.head_dim);
    const TensorView kh = k.reshaped(n * shape.n_head_kv, shape.head_dim);
    backend_.rms_norm(qh, qh, w.q_norm, h_.rms_eps);
    backend_.rms_norm(kh, kh, w.k_norm, h_.rms_eps);
  }
  backend_.rope_store_kv(q, k, v, kv, batch, rope_);
  backend_.attention(attn, q, kv, batch, shape);
  backend_.matmul(h, attn, w.wo);

  // Feed-forward block: x += W_down · (silu(W_gate·norm(x)) * W_up·norm(x))
  backend_.add_rms_norm(h, x, h, w.ffn_norm, h_.rms_eps);
  backend_.matmul_swiglu(gate, up, h, w.w_gate, w.w_up);
  backend_.matmul(h, gate, w.w_down);
  if (next)
    backend_.add_rms_norm(h, x, h, next->attn_norm, h_.rms_eps);
  else
    backend_.add(x, h);
}

TensorView LlamaStage::forward(const BatchLayout& batch, std::span<const int32_t> tokens,
                               std::span<const int32_t> logit_rows) {
  const int64_t n = batch.n_tokens();
  LLMPIPE_CHECK(n >= 1 && n <= max_tokens_, "batch of ", n, " tokens for a stage of ", max_tokens_);
  LLMPIPE_CHECK(int64_t(batch.slots.size()) == n, "batch layout: ", batch.slots.size(),
                " slots for ", n, " positions");
  const int64_t rows = int64_t(logit_rows.size());
  LLMPIPE_CHECK(rows <= max_logit_rows_, rows, " logit rows, at most ", max_logit_rows_);
  const TensorView x = f32(x_, n, h_.n_embd);
  GraphScope graph(backend_, n);  // the pass's ops as one submission where the backend can
  if (spec_.is_first) {
    LLMPIPE_CHECK(int64_t(tokens.size()) == n, tokens.size(), " tokens for a batch of ", n);
    backend_.get_rows(x, *weights_.tok_embd, tokens);
  }
  const auto& layers = weights_.layers;
  if (!layers.empty())
    backend_.rms_norm(f32(h_buf_, n, h_.n_embd), x, layers.front().attn_norm, h_.rms_eps);
  for (size_t i = 0; i < layers.size(); ++i)
    run_layer(layers[i], i + 1 < layers.size() ? &layers[i + 1] : nullptr, kv_.layer(int64_t(i)),
              batch, n);
  if (!spec_.is_last) {
    graph.submit();
    if (!tail_) return x;
    hop_.resize(size_t(n * h_.n_embd));
    backend_.to_host(hop_, x);
    tail_->backend().from_host(tail_->input(n), hop_);
    return tail_->forward(batch, {}, logit_rows);
  }

  const TensorView logits = f32(logits_, rows, h_.n_vocab);
  if (rows > 0) {  // (a prompt chunk that samples nothing has none)
    const TensorView sel = f32(sel_, rows, h_.n_embd);
    backend_.get_rows(sel, x, logit_rows);
    backend_.rms_norm(sel, sel, *weights_.output_norm, h_.rms_eps);
    backend_.matmul(logits, sel, *weights_.output);
  }
  graph.submit();
  return logits;
}

}  // namespace llmpipe
