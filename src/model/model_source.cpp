#include "model/model_source.h"

#include <filesystem>

#include "core/error.h"
#include "formats/gguf_reader.h"
#include "formats/gguf_tensor_source.h"

namespace llmpipe {

namespace fs = std::filesystem;

namespace {
std::string resolve_model_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) fail("model path ", path, " does not exist");
  if (!fs::is_directory(path, ec)) return path;
  std::vector<std::string> ggufs;
  for (const auto& e : fs::directory_iterator(path, ec))
    if (e.is_regular_file() && e.path().extension() == ".gguf") ggufs.push_back(e.path().string());
  if (ggufs.size() == 1) return ggufs[0];
  if (ggufs.empty())
    fail("model directory ", path, " holds no .gguf file (Hugging Face directories are not "
         "supported yet: convert to GGUF first)");
  fail("model directory ", path, " holds ", ggufs.size(), " .gguf files: name one of them");
}
}  // namespace

ModelSource open_model(const std::string& path) {
  ModelSource m;
  m.path = resolve_model_file(path);
  auto reader = std::make_shared<const gguf::Reader>(gguf::Reader::open(m.path));
  m.hparams = hparams_from_gguf(*reader);
  m.name = reader->get_string("general.name").value_or(fs::path(m.path).stem().string());
  m.tensors = std::make_shared<GgufTensorSource>(reader);
  m.load_vocab = [reader] { return vocab_from_gguf(*reader); };
  return m;
}

}  // namespace llmpipe
