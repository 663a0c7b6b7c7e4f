#include "model/model_shapes.h"

#include "core/error.h"

namespace llmpipe {

namespace {

LlamaHParams make(int64_t vocab, int64_t ctx, int64_t embd, int64_t layers, int64_t heads,
                  int64_t heads_kv, int64_t ff, float eps) {
  LlamaHParams h;
  h.n_vocab = vocab;
  h.n_ctx_train = ctx;
  h.n_embd = embd;
  h.n_layer = layers;
  h.n_head = heads;
  h.n_head_kv = heads_kv;
  h.n_ff = ff;
  h.rms_eps = eps;
  h.rope_freq_base = 10000.0f;
  return h;
}

LlamaHParams with_rope(LlamaHParams h, float base) {
  h.rope_freq_base = base;
  return h;
}

// LLaMA 3.1's rope scaling (factor 8, low 1, high 4, original context 8192).
LlamaHParams llama3(LlamaHParams h) {
  h = with_rope(h, 500000.0f);
  h.rope_scaling = RopeScaling{"llama3", 8.0, 1.0, 4.0, 8192};
  h.has_rope_freqs = true;
  return h;
}

LlamaHParams qwen2(LlamaHParams h) {
  h.arch = ModelArch::Qwen2;
  return with_rope(h, 1000000.0f);
}

// Sources: the models' config.json on Hugging Face (openlm-research/open_llama_3b and _7b,
// meta-llama/Llama-2-7b-hf, meta-llama/Llama-3.1-8B and -70B, Qwen/Qwen2.5-7B,
// mistralai/Mistral-7B-v0.3). `tiny` is ours: small enough to run in a second, with grouped-query
// attention so that the GQA path is exercised, and the same 32000-token vocabulary.
const ModelShape kShapes[] = {
    {"tiny", "test model: 256 wide, 4 layers, 8 heads (4 kv), ffn 768, vocab 32000",
     make(32000, 512, 256, 4, 8, 4, 768, 1e-5f)},
    {"openllama-3b", "OpenLLaMA 3B: 3200 wide, 26 layers, 32 heads, ffn 8640, vocab 32000",
     make(32000, 2048, 3200, 26, 32, 32, 8640, 1e-6f)},
    {"openllama-7b", "OpenLLaMA 7B: 4096 wide, 32 layers, 32 heads, ffn 11008, vocab 32000",
     make(32000, 2048, 4096, 32, 32, 32, 11008, 1e-6f)},
    {"llama2-7b", "LLaMA 2 7B: 4096 wide, 32 layers, 32 heads, ffn 11008, vocab 32000, ctx 4096",
     make(32000, 4096, 4096, 32, 32, 32, 11008, 1e-5f)},
    {"mistral-7b", "Mistral 7B v0.3: 4096 wide, 32 layers, 32 heads (8 kv), ffn 14336, vocab 32768",
     with_rope(make(32768, 32768, 4096, 32, 32, 8, 14336, 1e-5f), 1000000.0f)},
    {"qwen2.5-7b",
     "Qwen2.5 7B (qwen2): 3584 wide, 28 layers, 28 heads (4 kv), ffn 18944, q/k/v "
     "biases, vocab 152064",
     qwen2(make(152064, 32768, 3584, 28, 28, 4, 18944, 1e-6f))},
    {"llama3-8b",
     "LLaMA 3.1 8B: 4096 wide, 32 layers, 32 heads (8 kv), ffn 14336, llama3 rope "
     "scaling, vocab 128256, ctx 131072",
     llama3(make(128256, 131072, 4096, 32, 32, 8, 14336, 1e-5f))},
    {"llama3-70b",
     "LLaMA 3.1 70B: 8192 wide, 80 layers, 64 heads (8 kv), ffn 28672, llama3 rope "
     "scaling, vocab 128256, ctx 131072",
     llama3(make(128256, 131072, 8192, 80, 64, 8, 28672, 1e-5f))},
};

}  // namespace

std::span<const ModelShape> model_shapes() {
  return kShapes;
}

std::string model_shape_names() {
  std::string s;
  for (const auto& shape : kShapes) {
    if (!s.empty()) s += ", ";
    s += shape.name;
  }
  return s;
}

const ModelShape& find_model_shape(std::string_view name) {
  for (const auto& shape : kShapes)
    if (shape.name == name) return shape;
  fail("unknown model shape '", name, "' (valid shapes: ", model_shape_names(), ")");
}

}  // namespace llmpipe
