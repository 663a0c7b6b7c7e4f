// `llmpipe info`: what a model file holds — architecture, hyper-parameters, tensors.
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/commands.h"
#include "core/error.h"
#include "formats/gguf_file_type.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_tensor_source.h"
#include "model/llama_hparams.h"
#include "model/model_source.h"
#include "model/stage_weights.h"

namespace llmpipe::app {

namespace {

using gguf::human_bytes;

struct InfoOptions {
  std::string model = default_model_path();
  bool metadata = false;
};

// After printing what the file holds: what would stop `run` or `generate` from loading it is
// an error (non-zero exit), not a listing that looks fine.
void check_loadable(const std::string& path, const TensorSource& tensors, const LlamaHParams& h) {
  const auto problems = model_tensor_problems(tensors, h);
  if (problems.empty()) return;
  std::string list;
  for (size_t i = 0; i < problems.size() && i < 8; ++i) list += "\n  " + problems[i];
  if (problems.size() > 8) list += cat("\n  ... and ", problems.size() - 8, " more");
  fail(path, ": the model cannot be loaded (", problems.size(), " problem",
       problems.size() == 1 ? "" : "s", "):", list);
}

// A Hugging Face directory: hyper-parameters and the tensors as the model sees them (GGUF names).
void run_info_hf(const InfoOptions& o) {
  const ModelSource m = open_model(o.model);
  std::printf("directory:     %s\n", m.path.c_str());
  std::printf("format:        Hugging Face (%s)\n", m.tensors->origin().c_str());
  std::printf("hyper-parameters:\n%s", m.hparams.summary().c_str());
  std::printf("tensors:\n  %-32s %-6s %-18s %12s\n", "name", "type", "shape", "bytes");
  uint64_t total = 0;
  const auto tensors = m.tensors->list();
  for (const auto& t : tensors) {
    std::printf("  %-32s %-6s %-18s %12lu\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                t.shape_string().c_str(), static_cast<unsigned long>(t.bytes));
    total += t.bytes;
  }
  std::printf("total: %zu tensors, %s (%lu bytes)\n", tensors.size(), human_bytes(total).c_str(),
              static_cast<unsigned long>(total));
  check_loadable(m.path, *m.tensors, m.hparams);
}

// The declared type (general.file_type, llama.cpp's llama_ftype) and the actual mix of types;
// a declared type that no matrix has is a warning on stderr (the tensors' own types are read).
void print_file_type(const gguf::Reader& f) {
  if (const auto id = f.get_int("general.file_type"))
    std::printf("file type:     %ld (%s)\n", static_cast<long>(*id),
                std::string(gguf::file_type_name(*id).value_or("not a llama_ftype")).c_str());
  else
    std::printf("file type:     not declared (no general.file_type)\n");
  std::printf("mix:           %s\n", gguf::format_mix(gguf::tensor_mix(f.tensors())).c_str());
  if (const auto w = gguf::file_type_mismatch(f))
    std::fprintf(stderr, "warning: %s: %s\n", f.path().c_str(), w->c_str());
}

void run_info(const InfoOptions& o) {
  if (std::filesystem::is_regular_file(std::filesystem::path(o.model) / "config.json"))
    return run_info_hf(o);
  const auto file = std::make_shared<const gguf::Reader>(gguf::Reader::open(o.model));
  const gguf::Reader& f = *file;
  std::printf("file:          %s\n", f.path().c_str());
  std::printf("format:        GGUF v%u, %zu metadata keys, %zu tensors, alignment %lu\n",
              f.version(), f.metadata().size(), f.tensors().size(),
              static_cast<unsigned long>(f.alignment()));
  std::printf("architecture:  %s\n", f.get_string("general.architecture").value_or("?").c_str());
  std::printf("name:          %s\n", f.get_string("general.name").value_or("?").c_str());
  print_file_type(f);
  const LlamaHParams h = hparams_from_gguf(f);
  std::printf("hyper-parameters:\n%s", h.summary().c_str());
  if (o.metadata) {
    std::printf("metadata:\n");
    for (const auto& kv : f.metadata())
      std::printf("  %-40s %s\n", kv.key.c_str(), kv.value.to_string().c_str());
  }
  std::printf("tensors:\n  %-32s %-6s %-18s %12s\n", "name", "type", "shape", "bytes");
  uint64_t total = 0;
  for (const auto& t : f.tensors()) {
    std::printf("  %-32s %-6s %-18s %12lu\n", t.name.c_str(),
                std::string(dtype_name(t.dtype)).c_str(), t.shape_string().c_str(),
                static_cast<unsigned long>(t.bytes));
    total += t.bytes;
  }
  std::printf("total: %zu tensors, %s (%lu bytes)\n", f.tensors().size(), human_bytes(total).c_str(),
              static_cast<unsigned long>(total));
  check_loadable(f.path(), GgufTensorSource(file), h);
}

}  // namespace

void register_info(CLI::App& app) {
  auto o = std::make_shared<InfoOptions>();
  auto* cmd = app.add_subcommand("info", "Show a model's architecture, hyper-parameters and tensors");
  cmd->add_option("-m,--model", o->model, "GGUF model file or Hugging Face model directory")->capture_default_str();
  cmd->add_flag("--metadata", o->metadata, "Also list every metadata key and value");
  cmd->callback([o] { run_info(*o); });
}

}  // namespace llmpipe::app
