#include "model/llama_hparams.h"

#include <sstream>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/hf/hf_config.h"

namespace llmpipe {

namespace {
// Limits far above any LLaMA; beyond them the metadata is corrupt.
constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxLayers = 4096;
}  // namespace

void LlamaHParams::validate(const std::string& source) const {
  auto positive = [&](const char* name, int64_t v, int64_t max) {
    if (v <= 0 || v > max) fail(source, ": ", name, " = ", v, " is not in [1, ", max, "]");
  };
  positive("vocabulary size", n_vocab, 1 << 24);
  positive("context length", n_ctx_train, 1 << 24);
  positive("embedding length", n_embd, kMaxDim);
  positive("block count", n_layer, kMaxLayers);
  positive("head count", n_head, kMaxDim);
  positive("head count kv", n_head_kv, kMaxDim);
  positive("feed-forward length", n_ff, kMaxDim);
  if (n_embd % n_head != 0)
    fail(source, ": embedding length ", n_embd, " is not divisible by head count ", n_head);
  if (n_head % n_head_kv != 0)
    fail(source, ": head count ", n_head, " is not a multiple of head count kv ", n_head_kv);
  if (head_dim() % 2 != 0) fail(source, ": head dimension ", head_dim(), " is odd (RoPE needs pairs)");
  if (!(rms_eps > 0) || !(rope_freq_base > 0))
    fail(source, ": rms epsilon and rope frequency base must be positive");
  if (rope_scaling)
    fail(source, ": rope scaling '", rope_scaling->type, "' (factor ", rope_scaling->factor,
         ") is not supported by the forward pass yet; only unscaled RoPE is");
}

std::string LlamaHParams::summary() const {
  std::ostringstream os;
  os << "  vocab size          " << n_vocab << "\n"
     << "  context length      " << n_ctx_train << "\n"
     << "  embedding length    " << n_embd << "\n"
     << "  layers              " << n_layer << "\n"
     << "  heads               " << n_head << " (kv " << n_head_kv << ", head dim " << head_dim()
     << ")\n"
     << "  feed-forward length " << n_ff << "\n"
     << "  rms epsilon         " << rms_eps << "\n"
     << "  rope freq base      " << rope_freq_base << "\n";
  return os.str();
}

LlamaHParams hparams_from_gguf(const gguf::Reader& f) {
  const auto arch = f.get_string("general.architecture");
  if (!arch) fail(f.path(), ": missing metadata key general.architecture");
  if (*arch != "llama")
    fail(f.path(), ": unsupported architecture '", *arch, "' (supported: llama)");
  auto required = [&](const char* key) {
    const auto v = f.get_int(key);
    if (!v) fail(f.path(), ": missing metadata key ", key);
    return *v;
  };
  LlamaHParams h;
  h.n_ctx_train = required("llama.context_length");
  h.n_embd = required("llama.embedding_length");
  h.n_layer = required("llama.block_count");
  h.n_head = required("llama.attention.head_count");
  h.n_head_kv = f.get_int("llama.attention.head_count_kv").value_or(h.n_head);
  h.n_ff = required("llama.feed_forward_length");
  h.rms_eps = float(f.get_float("llama.attention.layer_norm_rms_epsilon").value_or(1e-5));
  h.rope_freq_base = float(f.get_float("llama.rope.freq_base").value_or(10000.0));
  if (const auto n = f.get_int("llama.vocab_size")) {
    h.n_vocab = *n;
  } else if (const auto* tokens = f.get_array("tokenizer.ggml.tokens")) {
    h.n_vocab = int64_t(tokens->items.size());
  } else if (const auto* embd = f.find_tensor("token_embd.weight"); embd && embd->shape.size() == 2) {
    h.n_vocab = embd->shape[1];
  } else {
    fail(f.path(), ": cannot tell the vocabulary size (no llama.vocab_size, tokenizer or token_embd)");
  }
  if (const auto dims = f.get_int("llama.rope.dimension_count"); dims && h.n_head > 0 &&
                                                                 h.n_embd % h.n_head == 0 &&
                                                                 *dims != h.n_embd / h.n_head)
    fail(f.path(), ": llama.rope.dimension_count = ", *dims,
         " differs from the head dimension; partial RoPE is not supported");
  h.validate(f.path());
  return h;
}

LlamaHParams hparams_from_hf_config(const hf::HfConfig& c) {
  LlamaHParams h;
  h.n_vocab = c.vocab_size;
  h.n_ctx_train = c.max_position_embeddings;
  h.n_embd = c.hidden_size;
  h.n_layer = c.num_hidden_layers;
  h.n_head = c.num_attention_heads;
  h.n_head_kv = c.num_key_value_heads;
  h.n_ff = c.intermediate_size;
  h.rms_eps = float(c.rms_norm_eps);
  h.rope_freq_base = float(c.rope_theta);
  if (c.rope_scaling)
    h.rope_scaling = RopeScaling{c.rope_scaling->type, c.rope_scaling->factor,
                                 c.rope_scaling->low_freq_factor, c.rope_scaling->high_freq_factor,
                                 c.rope_scaling->original_max_position_embeddings};
  h.validate(c.path);
  return h;
}

}  // namespace llmpipe
