// `llmpipe convert`: a model directory or file (Hugging Face safetensors / PyTorch, or GGUF) to
// one self-contained GGUF file, optionally converting the weights' type.
#include <cstdio>
#include <memory>

#include "app/commands.h"
#include "model/converting_tensor_source.h"
#include "model/gguf_export.h"

namespace llmpipe::app {

namespace {
struct ConvertOptions {
  std::string input, output;
  std::string type = "keep";
  bool quiet = false;
};
}  // namespace

void register_convert(CLI::App& app) {
  auto o = std::make_shared<ConvertOptions>();
  auto* cmd = app.add_subcommand(
      "convert",
      "Write a model (Hugging Face directory: config.json, tokenizer.model, safetensors or\n"
      "pytorch_model.bin, sharded or not; or a GGUF file) as one self-contained GGUF file.\n"
      "  llmpipe convert ~/models/open_llama_7b open_llama_7b-q8_0.gguf --type q8_0");
  cmd->add_option("INPUT", o->input, "Hugging Face model directory or GGUF file")->required();
  cmd->add_option("OUTPUT", o->output, "GGUF file to write")->required();
  cmd->add_option("--type,--dtype", o->type,
                  "Weight matrices' type: keep (as stored), f32, f16, bf16, q8_0 or q4_0; norms are f32")
      ->capture_default_str()
      ->check(CLI::IsMember({"keep", "f32", "f16", "bf16", "q8_0", "q4_0"}));
  cmd->add_flag("-q,--quiet", o->quiet, "No progress lines");
  cmd->callback([o] {
    const ModelSource m = open_model(o->input, weight_dtype_from_name(o->type));
    uint64_t bytes = 0;
    write_model_gguf(m, o->output, [&](size_t i, size_t n, const TensorDesc& t) {
      bytes += t.bytes;
      if (!o->quiet)
        std::fprintf(stderr, "[%zu/%zu] %-28s %-5s %s\n", i + 1, n, t.name.c_str(),
                     std::string(dtype_name(t.dtype)).c_str(), t.shape_string().c_str());
    });
    if (!o->quiet)
      std::fprintf(stderr, "wrote %s: %.1f MiB of tensors\n", o->output.c_str(),
                 double(bytes) / (1 << 20));
  });
}

}  // namespace llmpipe::app
