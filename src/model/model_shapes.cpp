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

// Sources: the models' config.json on Hugging Face (openlm-research/open_llama_3b and _7b,
// meta-llama/Llama-2-7b-hf). `tiny` is ours: small enough to run in a second, with grouped-query
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
};

}  // namespace

std::span<const ModelShape> model_shapes() { return kShapes; }

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
