// LLaMA hyper-parameters, from GGUF metadata (llama.*) or, later, a Hugging Face config.json.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace llmpipe {

namespace gguf {
class Reader;
}
namespace hf {
struct HfConfig;
}

// RoPE frequency scaling (Hugging Face rope_scaling); the forward pass supports none yet.
struct RopeScaling {
  std::string type;  // "linear", "dynamic", "llama3", ...
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
};

struct LlamaHParams {
  int64_t n_vocab = 0;
  int64_t n_ctx_train = 0;  // context length the model was trained with
  int64_t n_embd = 0;
  int64_t n_layer = 0;
  int64_t n_head = 0;
  int64_t n_head_kv = 0;
  int64_t n_ff = 0;
  float rms_eps = 1e-5f;
  float rope_freq_base = 10000.0f;
  std::optional<RopeScaling> rope_scaling;

  int64_t head_dim() const { return n_embd / n_head; }
  int64_t kv_dim() const { return head_dim() * n_head_kv; }
  // Checks the values are positive and consistent (heads divide the embedding, GQA groups).
  void validate(const std::string& source) const;
  std::string summary() const;  // one line per field, for `llmpipe info`
};

// Reads llama.* keys; errors name the missing key. n_vocab comes from the token list or,
// if absent, from the embedding tensor.
LlamaHParams hparams_from_gguf(const gguf::Reader& file);

// From a Hugging Face config.json (already parsed); validated like the GGUF ones.
LlamaHParams hparams_from_hf_config(const hf::HfConfig& config);

}  // namespace llmpipe
