// LLaMA hyper-parameters, from GGUF metadata (llama.*) or, later, a Hugging Face config.json.
#pragma once

#include <cstdint>
#include <string>

namespace llmpipe {

namespace gguf {
class Reader;
}

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

  int64_t head_dim() const { return n_embd / n_head; }
  int64_t kv_dim() const { return head_dim() * n_head_kv; }
  // Checks the values are positive and consistent (heads divide the embedding, GQA groups).
  void validate(const std::string& source) const;
  std::string summary() const;  // one line per field, for `llmpipe info`
};

// Reads llama.* keys; errors name the missing key. n_vocab comes from the token list or,
// if absent, from the embedding tensor.
LlamaHParams hparams_from_gguf(const gguf::Reader& file);

}  // namespace llmpipe
