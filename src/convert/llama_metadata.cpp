#include "convert/llama_metadata.h"

#include <vector>

#include "model/llama_arch.h"

namespace llmpipe {

uint32_t gguf_file_type(DType type) {
  switch (type) {
    case DType::F32: return 0;   // LLAMA_FTYPE_ALL_F32
    case DType::F16: return 1;   // LLAMA_FTYPE_MOSTLY_F16
    case DType::Q4_0: return 2;  // LLAMA_FTYPE_MOSTLY_Q4_0
    case DType::Q8_0: return 7;  // LLAMA_FTYPE_MOSTLY_Q8_0
    case DType::BF16: return 32; // LLAMA_FTYPE_MOSTLY_BF16
    // Every matrix of one type (`quantize --type q4_k`): the llama_ftype whose matrices are
    // mostly of it (the _S mixes of the K-quants).
    case DType::Q4_1: return 3;
    case DType::Q5_0: return 8;
    case DType::Q5_1: return 9;
    case DType::Q2_K: return 10;
    case DType::Q3_K: return 11;
    case DType::Q4_K: return 14;
    case DType::Q5_K: return 16;
    case DType::Q6_K: return 18;
    case DType::IQ4_NL: return 25;
    case DType::IQ4_XS: return 30;
  }
  return 0;
}

void set_llama_metadata(gguf::Writer& w, const LlamaHParams& h, const std::string& name,
                        DType weight_type) {
  set_hparams_metadata(w, h);
  w.set_string("general.name", name);
  w.set_u32("general.file_type", gguf_file_type(weight_type));
  if (dtype_is_quantized(weight_type)) w.set_u32("general.quantization_version", 2);
}

void set_hparams_metadata(gguf::Writer& w, const LlamaHParams& h) {
  const std::string arch = arch_gguf_name(h.arch);
  auto key = [&](const char* k) { return arch + "." + k; };
  w.set_string("general.architecture", arch);
  w.set_u32(key("vocab_size"), uint32_t(h.n_vocab));
  w.set_u32(key("context_length"), uint32_t(h.n_ctx_train));
  w.set_u32(key("embedding_length"), uint32_t(h.n_embd));
  w.set_u32(key("block_count"), uint32_t(h.n_layer));
  w.set_u32(key("feed_forward_length"), uint32_t(h.n_ff));
  w.set_u32(key("rope.dimension_count"), uint32_t(h.head_dim()));
  w.set_u32(key("attention.head_count"), uint32_t(h.n_head));
  w.set_u32(key("attention.head_count_kv"), uint32_t(h.n_head_kv));
  if (h.n_embd_head > 0) {
    w.set_u32(key("attention.key_length"), uint32_t(h.n_embd_head));
    w.set_u32(key("attention.value_length"), uint32_t(h.n_embd_head));
  }
  w.set_f32(key("attention.layer_norm_rms_epsilon"), h.rms_eps);
  w.set_f32(key("rope.freq_base"), h.rope_freq_base);
  // llama3 scaling travels as the tensor rope_freqs.weight (as llama.cpp writes it).
  if (h.rope_scaling && h.rope_scaling->type == "linear") {
    w.set_string(key("rope.scaling.type"), "linear");
    w.set_f32(key("rope.scaling.factor"), float(h.rope_scaling->factor));
  }
  // Not a llama.cpp key for llama (it ignores Mistral's window); ours, read back by llmpipe.
  if (h.sliding_window > 0) w.set_u32(key("attention.sliding_window"), uint32_t(h.sliding_window));
}


}  // namespace llmpipe
