#include "model/llama_hparams.h"

#include <cmath>
#include <numbers>
#include <sstream>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/hf/hf_config.h"
#include "model/llama_arch.h"

namespace llmpipe {

namespace {
// Limits far above any LLaMA; beyond them the metadata is corrupt.
constexpr int64_t kMaxDim = 1 << 20;
constexpr int64_t kMaxLayers = 4096;

void validate_rope_scaling(const RopeScaling& s, const std::string& source) {
  if (s.type != "linear" && s.type != "llama3")
    fail(source, ": rope scaling '", s.type, "' is not supported (supported: linear, llama3)");
  if (!(s.factor > 0)) fail(source, ": rope scaling factor ", s.factor, " is not positive");
  if (s.type == "llama3" && (s.original_max_position_embeddings <= 0 ||
                             !(s.high_freq_factor > s.low_freq_factor) || !(s.low_freq_factor > 0)))
    fail(source, ": llama3 rope scaling needs original_max_position_embeddings > 0 (got ",
         s.original_max_position_embeddings, ") and high_freq_factor > low_freq_factor > 0 (got ",
         s.high_freq_factor, ", ", s.low_freq_factor, ")");
}
}  // namespace

float LlamaHParams::rope_position_scale() const {
  return rope_scaling && rope_scaling->type == "linear" ? float(1.0 / rope_scaling->factor) : 1.0f;
}

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
  if (n_embd_head < 0 || n_embd_head > kMaxDim)
    fail(source, ": head dimension (key_length) = ", n_embd_head, " is not in [1, ", kMaxDim, "]");
  if (n_embd_head == 0 && n_embd % n_head != 0)
    fail(source, ": embedding length ", n_embd, " is not divisible by head count ", n_head,
         " (and no explicit head dimension is given)");
  if (n_head % n_head_kv != 0)
    fail(source, ": head count ", n_head, " is not a multiple of head count kv ", n_head_kv);
  if (head_dim() % 2 != 0)
    fail(source, ": head dimension ", head_dim(), " is odd (RoPE needs pairs)");
  if (!(rms_eps > 0) || !(rope_freq_base > 0))
    fail(source, ": rms epsilon and rope frequency base must be positive");
  if (sliding_window < 0) fail(source, ": sliding window ", sliding_window, " is negative");
  if (rope_scaling) validate_rope_scaling(*rope_scaling, source);
}

std::string LlamaHParams::summary() const {
  std::ostringstream os;
  os << "  architecture        " << arch_gguf_name(arch) << "\n"
     << "  vocab size          " << n_vocab << "\n"
     << "  context length      " << n_ctx_train << "\n"
     << "  embedding length    " << n_embd << "\n"
     << "  layers              " << n_layer << "\n"
     << "  heads               " << n_head << " (kv " << n_head_kv << ", head dim " << head_dim()
     << ")\n"
     << "  feed-forward length " << n_ff << "\n"
     << "  rms epsilon         " << rms_eps << "\n"
     << "  rope freq base      " << rope_freq_base << "\n";
  if (rope_scaling)
    os << "  rope scaling        " << rope_scaling->type << " x" << rope_scaling->factor << "\n";
  if (has_rope_freqs) os << "  rope freq factors   rope_freqs.weight\n";
  if (sliding_window > 0) os << "  sliding window      " << sliding_window << "\n";
  return os.str();
}

std::vector<float> llama3_rope_freq_factors(const RopeScaling& s, int64_t head_dim,
                                            float freq_base) {
  // llama.cpp's convert_hf_to_gguf (LlamaModel.generate_extra_tensors), which stores what
  // transformers' _compute_llama3_parameters divides each inverse frequency by.
  const double low_wavelen = double(s.original_max_position_embeddings) / s.low_freq_factor;
  const double high_wavelen = double(s.original_max_position_embeddings) / s.high_freq_factor;
  std::vector<float> out;
  for (int64_t i = 0; i < head_dim / 2; ++i) {
    const double freq = std::pow(double(freq_base), -2.0 * double(i) / double(head_dim));
    const double wavelen = 2 * std::numbers::pi / freq;
    double divisor = 1;
    if (wavelen > low_wavelen) {
      divisor = s.factor;
    } else if (wavelen >= high_wavelen) {
      const double smooth =
          (double(s.original_max_position_embeddings) / wavelen - s.low_freq_factor) /
          (s.high_freq_factor - s.low_freq_factor);
      divisor = 1 / ((1 - smooth) / s.factor + smooth);
    }
    out.push_back(float(divisor));
  }
  return out;
}

LlamaHParams hparams_from_gguf(const gguf::Reader& f) {
  const auto arch_name = f.get_string("general.architecture");
  if (!arch_name) fail(f.path(), ": missing metadata key general.architecture");
  const auto arch = arch_from_gguf_name(*arch_name);
  if (!arch)
    fail(f.path(), ": unsupported architecture '", *arch_name,
         "' (supported: ", supported_gguf_archs(), ")");
  const std::string prefix = std::string(*arch_name) + ".";
  auto key = [&](const char* k) { return prefix + k; };
  auto required = [&](const char* k) {
    const auto v = f.get_int(key(k));
    if (!v) fail(f.path(), ": missing metadata key ", key(k));
    return *v;
  };
  LlamaHParams h;
  h.arch = *arch;
  h.n_ctx_train = required("context_length");
  h.n_embd = required("embedding_length");
  h.n_layer = required("block_count");
  h.n_head = required("attention.head_count");
  h.n_head_kv = f.get_int(key("attention.head_count_kv")).value_or(h.n_head);
  h.n_ff = required("feed_forward_length");
  h.rms_eps = float(f.get_float(key("attention.layer_norm_rms_epsilon")).value_or(1e-5));
  h.rope_freq_base = float(f.get_float(key("rope.freq_base")).value_or(10000.0));
  h.sliding_window = f.get_int(key("attention.sliding_window")).value_or(0);
  if (const auto kl = f.get_int(key("attention.key_length"))) {
    const auto vl = f.get_int(key("attention.value_length")).value_or(*kl);
    if (vl != *kl)
      fail(f.path(), ": ", key("attention.key_length"), " = ", *kl, " differs from ",
           key("attention.value_length"), " = ", vl,
           "; only equal K and V head sizes are supported");
    // Kept implicit when it is the default, so that files round-trip their keys.
    if (h.n_head <= 0 || h.n_embd % h.n_head != 0 || *kl != h.n_embd / h.n_head)
      h.n_embd_head = *kl;
  }
  if (const auto type = f.get_string(key("rope.scaling.type")); type && *type != "none") {
    RopeScaling s;
    s.type = std::string(*type);
    s.factor = f.get_float(key("rope.scaling.factor")).value_or(1.0);
    h.rope_scaling = s;
  }
  h.has_rope_freqs = f.find_tensor(tensor_name(TensorRole::RopeFreqs)) != nullptr;
  if (const auto n = f.get_int(key("vocab_size"))) {
    h.n_vocab = *n;
  } else if (const auto* tokens = f.get_array("tokenizer.ggml.tokens")) {
    h.n_vocab = int64_t(tokens->items.size());
  } else if (const auto* embd = f.find_tensor("token_embd.weight");
             embd && embd->shape.size() == 2) {
    h.n_vocab = embd->shape[1];
  } else {
    fail(f.path(), ": cannot tell the vocabulary size (no ", key("vocab_size"),
         ", tokenizer or token_embd)");
  }
  if (const auto dims = f.get_int(key("rope.dimension_count"));
      dims && h.n_head > 0 && (h.n_embd_head > 0 || h.n_embd % h.n_head == 0) &&
      *dims != h.head_dim())
    fail(f.path(), ": ", key("rope.dimension_count"), " = ", *dims,
         " differs from the head dimension ", h.head_dim(), "; partial RoPE is not supported");
  h.validate(f.path());
  return h;
}

LlamaHParams hparams_from_hf_config(const hf::HfConfig& c) {
  LlamaHParams h;
  const auto arch = arch_from_hf_config(c.architectures, c.model_type);
  if (!arch)
    fail(c.path, ": architectures [",
         c.architectures.empty() ? std::string() : c.architectures.front(), "], model_type '",
         c.model_type, "' is not supported (supported: ", supported_hf_classes(), ")");
  h.arch = *arch;
  h.n_vocab = c.vocab_size;
  h.n_ctx_train = c.max_position_embeddings;
  h.n_embd = c.hidden_size;
  h.n_layer = c.num_hidden_layers;
  h.n_head = c.num_attention_heads;
  h.n_head_kv = c.num_key_value_heads;
  h.n_ff = c.intermediate_size;
  h.rms_eps = float(c.rms_norm_eps);
  h.rope_freq_base = float(c.rope_theta);
  if (c.head_dim && (c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads != 0 ||
                     *c.head_dim != c.hidden_size / c.num_attention_heads))
    h.n_embd_head = *c.head_dim;
  if (c.attention_bias)
    fail(c.path,
         ": field attention_bias is true: biases on all four attention projections are "
         "not supported (qwen2's q/k/v biases are)");
  if (c.sliding_window) {
    // Qwen2/Qwen3 configs carry a sliding_window that applies only with use_sliding_window.
    if (arch_info(h.arch).window_needs_flag && c.use_sliding_window)
      fail(c.path,
           ": field use_sliding_window is true: per-layer sliding windows "
           "(max_window_layers) are not supported");
    if (!arch_info(h.arch).window_needs_flag) h.sliding_window = *c.sliding_window;
  }
  if (c.rope_scaling) {
    h.rope_scaling = RopeScaling{c.rope_scaling->type, c.rope_scaling->factor,
                                 c.rope_scaling->low_freq_factor, c.rope_scaling->high_freq_factor,
                                 c.rope_scaling->original_max_position_embeddings};
    h.has_rope_freqs = c.rope_scaling->type == "llama3";
  }
  h.validate(c.path);
  return h;
}

}  // namespace llmpipe
