#include "convert/quantize_model.h"

#include "convert/llama_metadata.h"
#include "convert/output_file.h"
#include "convert/progress.h"
#include "convert/row_writer.h"
#include "core/error.h"
#include "formats/gguf_reader.h"
#include "kernels/cpu/quantize.h"

namespace llmpipe {

namespace {
bool fits(const gguf::TensorInfo& t, DType type) { return t.cols() % dtype_block_size(type) == 0; }

// Matrices become `type` (or the fallback where rows do not fit its blocks), vectors F32.
DType target_type(const std::string& path, const gguf::TensorInfo& t, const QuantizeOptions& o) {
  if (t.shape.size() < 2) return DType::F32;
  if (fits(t, o.type)) return o.type;
  if (o.fallback && fits(t, *o.fallback)) return *o.fallback;
  fail(path, ": cannot convert tensor ", t.name, " ", t.shape_string(), " to ", dtype_name(o.type),
       ": its rows of ", t.cols(), " elements are not a multiple of the ", dtype_name(o.type),
       " block size ", dtype_block_size(o.type),
       o.fallback ? cat(" (nor of the fallback ", dtype_name(*o.fallback), "'s)")
                  : std::string(" (give a fallback type, e.g. --fallback f16, for such tensors)"));
}
// Every tensor's output type: the preset's (tensors it leaves alone keep their type, vectors
// become F32), or `type` for each matrix.
std::vector<DType> plan_types(const gguf::Reader& in, const QuantizeOptions& o) {
  std::vector<DType> types;
  if (!o.preset) {
    for (const auto& t : in.tensors()) types.push_back(target_type(in.path(), t, o));
    return types;
  }
  std::vector<std::optional<DType>> planned;
  try {
    planned = preset_tensor_types(*o.preset, in.tensors(), preset_model_from_gguf(in));
  } catch (const Error& e) {
    fail(in.path(), ": ", e.what());
  }
  for (size_t i = 0; i < planned.size(); ++i) {
    const auto& t = in.tensors()[i];
    types.push_back(planned[i] ? *planned[i] : t.shape.size() < 2 ? DType::F32 : t.dtype);
  }
  return types;
}
}  // namespace

QuantizeSummary quantize_model(const std::string& in_path, const std::string& out_path,
                               const QuantizeOptions& o) {
  check_distinct_files(in_path, out_path);
  const auto in = gguf::Reader::open(in_path);

  gguf::Writer w;
  for (const auto& kv : in.metadata())
    if (kv.key != "general.alignment") w.set(kv.key, kv.value);  // the writer's own alignment
  w.set_u32("general.file_type", o.preset ? o.preset->ftype : gguf_file_type(o.type));
  if (o.preset || dtype_is_quantized(o.type)) w.set_u32("general.quantization_version", 2);

  QuantizeSummary s;
  s.types = plan_types(in, o);
  uint64_t total = 0;
  for (size_t i = 0; i < in.tensors().size(); ++i) {
    const auto& t = in.tensors()[i];
    const DType type = s.types[i];
    if (!o.preset && t.shape.size() >= 2 && type != o.type) s.fallback_tensors.push_back(t.name);
    w.add_tensor(t.name, type, t.shape);
    total += dtype_row_bytes(type, t.cols()) * uint64_t(t.rows());
    s.n_converted += type != t.dtype;
    s.in_bytes += t.bytes;
  }
  s.n_tensors = in.tensors().size();
  s.out_bytes = total;

  OutputFile out(out_path);
  ThreadPool pool(o.threads);
  const std::string target(o.preset ? o.preset->name : dtype_name(o.type));
  WriteProgress progress("quantize to " + target, s.n_tensors, total, o.progress);
  w.begin(out.temp_path());
  for (size_t i = 0; i < in.tensors().size(); ++i) {
    const auto& t = in.tensors()[i];
    progress.start_tensor(i, t.name);
    const MappedRegion src = in.map_tensor(t);  // released after this tensor
    const size_t in_row = dtype_row_bytes(t.dtype, t.cols());
    const DType type = s.types[i];
    if (type == t.dtype) {  // unchanged: copy the bytes
      w.write_tensor_data(src.bytes());
      progress.add_bytes(src.size());
      continue;
    }
    write_tensor_rows(
        w, type, t.rows(), t.cols(), pool,
        [&](int64_t first, std::span<float> dst) {
          for (size_t r = 0; r * size_t(t.cols()) < dst.size(); ++r)
            cpu::dequantize_row_f32(t.dtype, src.data() + (size_t(first) + r) * in_row,
                                    dst.data() + r * size_t(t.cols()), t.cols());
        },
        [&](uint64_t bytes) { progress.add_bytes(bytes); });
  }
  w.finish();
  out.commit();
  progress.done();
  return s;
}

}  // namespace llmpipe
