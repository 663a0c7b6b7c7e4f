// Decoder hyper-parameters of the LLaMA family (llama, mistral, qwen2, qwen3), from GGUF
// metadata (<arch>.*) or a Hugging Face config.json. What differs between the architectures is
// in the architecture table (model/llama_arch.h); these are the numbers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmpipe {

namespace gguf {
class Reader;
}
namespace hf {
struct HfConfig;
}

// The decoder variants of one forward pass (model/llama_arch.h says how each differs).
enum class ModelArch { Llama, Qwen2, Qwen3 };

// RoPE frequency scaling (Hugging Face rope_scaling / rope_parameters, GGUF rope.scaling.*).
// Supported: "linear" (positions divided by factor) and "llama3" (per-frequency divisors, the
// tensor rope_freqs.weight; see llama3_rope_freq_factors); others are refused by validate().
struct RopeScaling {
  std::string type;  // "linear", "llama3"; ("dynamic", "yarn", ... refused)
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  int64_t original_max_position_embeddings = 0;
};

struct LlamaHParams {
  ModelArch arch = ModelArch::Llama;
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
  // The model has the tensor rope_freqs.weight [head_dim / 2] (divisors of the RoPE
  // frequencies): GGUF files that hold it, HF directories with llama3 rope scaling (computed).
  bool has_rope_freqs = false;
  int64_t n_embd_head = 0;     // explicit head dimension (Qwen3); 0: n_embd / n_head
  int64_t sliding_window = 0;  // attention window in positions (Mistral); 0: none

  int64_t head_dim() const { return n_embd_head > 0 ? n_embd_head : n_embd / n_head; }
  int64_t q_dim() const { return head_dim() * n_head; }  // width of q and the attention output
  int64_t kv_dim() const { return head_dim() * n_head_kv; }
  float rope_position_scale() const;  // 1 / factor for linear scaling, else 1
  // Checks the values are positive and consistent (heads divide the embedding, GQA groups).
  void validate(const std::string& source) const;
  std::string summary() const;  // one line per field, for `llmpipe info`
};

// LLaMA 3.1's rope scaling as llama.cpp stores it (rope_freqs.weight): the divisor of each of
// the head_dim / 2 frequencies, as transformers' _compute_llama3_parameters scales them.
std::vector<float> llama3_rope_freq_factors(const RopeScaling& s, int64_t head_dim,
                                            float freq_base);

// Reads <arch>.* keys; errors name the missing key. n_vocab comes from the token list or,
// if absent, from the embedding tensor.
LlamaHParams hparams_from_gguf(const gguf::Reader& file);

// From a Hugging Face config.json (already parsed); validated like the GGUF ones.
LlamaHParams hparams_from_hf_config(const hf::HfConfig& config);

}  // namespace llmpipe
