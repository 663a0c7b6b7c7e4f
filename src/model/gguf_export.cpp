#include "model/gguf_export.h"

#include <cstdio>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <span>

#include "convert/llama_metadata.h"
#include "core/error.h"
#include "formats/gguf_writer.h"

namespace llmpipe {

namespace {
// The type most matrix weights have (by element count): what general.file_type declares.
DType matrix_type(const std::vector<TensorDesc>& tensors) {
  std::map<DType, int64_t> elements;
  for (const auto& t : tensors)
    if (t.shape.size() >= 2)
      elements[t.dtype] += std::accumulate(t.shape.begin(), t.shape.end(), int64_t(1),
                                           std::multiplies<>());
  DType best = DType::F32;
  int64_t most = -1;
  for (const auto& [type, n] : elements)
    if (n > most) best = type, most = n;
  return best;
}
}  // namespace

void write_model_gguf(const ModelSource& m,
                      const std::string& out_path,
                      const std::function<void(size_t, size_t, const TensorDesc&)>& progress) {
  const LlamaHParams& h = m.hparams;
  const Vocab v = m.load_vocab();
  const std::vector<TensorDesc> tensors = m.tensors->list();
  if (tensors.empty()) fail(m.tensors->origin(), ": no tensors to write");
  gguf::Writer w;
  // The same metadata writer as synth and quantize; general.file_type from the matrices' type.
  set_llama_metadata(w, h, m.name, matrix_type(tensors));
  write_vocab_gguf(w, v);  // SentencePiece or byte-level BPE (merges, pre-tokenizer)

  for (const auto& t : tensors) w.add_tensor(t.name, t.dtype, t.shape);
  const std::string partial = out_path + ".partial";
  try {
    w.begin(partial);
    for (size_t i = 0; i < tensors.size(); ++i) {
      if (progress) progress(i, tensors.size(), tensors[i]);
      const HostTensor t = m.tensors->load(tensors[i].name);
      if (t.desc.bytes != tensors[i].bytes || t.desc.dtype != tensors[i].dtype)
        fail(m.tensors->origin(), ": tensor ", t.desc.name, " loaded as ", t.desc.bytes,
             " bytes of ", dtype_name(t.desc.dtype), ", listed as ", tensors[i].bytes, " of ",
             dtype_name(tensors[i].dtype));
      w.write_tensor_data(std::span(static_cast<const uint8_t*>(t.data), size_t(t.desc.bytes)));
    }
    w.finish();
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(partial, ec);
    throw;
  }
  std::error_code ec;
  std::filesystem::rename(partial, out_path, ec);
  if (ec) fail("cannot rename ", partial, " to ", out_path, ": ", ec.message());
}

}  // namespace llmpipe
