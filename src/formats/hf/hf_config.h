// A Hugging Face `config.json` of a LLaMA-family decoder (LlamaForCausalLM, MistralForCausalLM,
// Qwen2ForCausalLM, Qwen3ForCausalLM), read field by field with defaults as transformers'
// configs have them. Errors name the file and the field, with what was found. Which
// architectures are supported is decided by the model's table (model/llama_arch.h), not here.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace llmpipe::hf {

// rope_scaling (transformers 4) or rope_parameters (transformers 5) when its type is not
// "default".
struct HfRopeScaling {
  std::string type;  // "type" or "rope_type": linear, dynamic, llama3, ...
  double factor = 1.0;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  int64_t original_max_position_embeddings = 0;  // llama3
};

struct HfConfig {
  std::string path;
  std::string model_type;                // "llama", "mistral", "qwen2", "qwen3"
  std::vector<std::string> architectures;
  int64_t hidden_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;       // default: num_attention_heads
  int64_t intermediate_size = 0;
  int64_t max_position_embeddings = 2048;
  int64_t vocab_size = 0;
  double rms_norm_eps = 1e-6;
  double rope_theta = 10000.0;           // top level, or in rope_parameters (transformers 5)
  std::optional<HfRopeScaling> rope_scaling;
  std::optional<int64_t> head_dim;        // explicit head size (Qwen3, Mistral)
  std::optional<int64_t> sliding_window;  // null or absent: none
  bool use_sliding_window = false;        // Qwen: whether sliding_window applies
  bool attention_bias = false;            // biases on q, k, v and o (LLaMA, Qwen3 option)
  bool tie_word_embeddings = false;
  std::optional<int64_t> bos_token_id;
  std::optional<int64_t> eos_token_id;   // the first one if config.json lists several
  std::string torch_dtype;               // "float16", "bfloat16", "float32" or empty
};

// Parses the JSON text of config.json (`path` only names it in errors).
HfConfig parse_hf_config(const std::string& text, const std::string& path);
HfConfig read_hf_config(const std::string& path);

}  // namespace llmpipe::hf
