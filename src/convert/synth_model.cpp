#include "convert/synth_model.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "convert/llama_metadata.h"
#include "convert/output_file.h"
#include "convert/progress.h"
#include "convert/row_writer.h"
#include "convert/synth_init.h"
#include "convert/synth_vocab.h"
#include "core/error.h"
#include "core/mapped_file.h"
#include "model/llama_arch.h"

namespace llmpipe {

namespace {

struct PlannedTensor {
  TensorRole role;
  int64_t layer;
  std::string name;
  std::vector<int64_t> shape;
  DType dtype;
};

// llama.cpp's order: token_embd, the layers, output_norm, output.
std::vector<PlannedTensor> plan(const LlamaHParams& h, DType type) {
  std::vector<std::pair<TensorRole, int64_t>> roles{{TensorRole::TokenEmbd, -1}};
  for (int64_t l = 0; l < h.n_layer; ++l)
    for (TensorRole r : kLayerRoles)
      if (role_in_model(r, h)) roles.emplace_back(r, l);
  roles.emplace_back(TensorRole::OutputNorm, -1);
  roles.emplace_back(TensorRole::Output, -1);
  if (role_in_model(TensorRole::RopeFreqs, h)) roles.emplace_back(TensorRole::RopeFreqs, -1);
  std::vector<PlannedTensor> out;
  for (const auto& [role, layer] : roles) {
    auto shape = expected_shape(role, h);
    const DType dtype = role_requires_f32(role) ? DType::F32 : type;
    if (shape[0] % dtype_block_size(dtype) != 0)
      fail("cannot store ", tensor_name(role, layer), " as ", dtype_name(dtype), ": rows of ",
           shape[0], " elements are not a multiple of its block size ", dtype_block_size(dtype));
    out.push_back({role, layer, tensor_name(role, layer), std::move(shape), dtype});
  }
  return out;
}

}  // namespace

SynthSummary synthesize_model(const ModelShape& shape, const SynthOptions& o,
                              const std::string& path) {
  const LlamaHParams& h = shape.hparams;
  h.validate(std::string("shape ") + std::string(shape.name));
  const auto tensors = plan(h, o.type);

  gguf::Writer w;
  set_llama_metadata(w, h, "synthetic " + std::string(shape.name), o.type);
  w.set_string("llmpipe.synth.shape", std::string(shape.name));
  w.set_string("llmpipe.synth.seed", std::to_string(o.seed));  // u64 as text: exact
  write_vocab_gguf(w, synthetic_vocab(int32_t(h.n_vocab)));

  SynthSummary s;
  s.n_tensors = tensors.size();
  for (const auto& t : tensors) {
    w.add_tensor(t.name, t.dtype, t.shape);
    const int64_t rows = t.shape.size() > 1 ? t.shape[1] : 1;
    s.n_params += t.shape[0] * rows;
    s.tensor_bytes += dtype_row_bytes(t.dtype, t.shape[0]) * uint64_t(rows);
  }

  OutputFile out(path);
  ThreadPool pool(o.threads);
  WriteProgress progress("synth " + std::string(shape.name), tensors.size(), s.tensor_bytes,
                         o.progress);
  w.begin(out.temp_path());
  for (size_t i = 0; i < tensors.size(); ++i) {
    const auto& t = tensors[i];
    progress.start_tensor(i, t.name);
    const WeightInit init = weight_init(t.role, h);
    const int64_t cols = t.shape[0];
    const int64_t rows = t.shape.size() > 1 ? t.shape[1] : 1;
    // rope_freqs is not a weight: the divisors of the shape's llama3 rope scaling.
    const std::vector<float> freqs =
        t.role == TensorRole::RopeFreqs
            ? llama3_rope_freq_factors(*h.rope_scaling, h.head_dim(), h.rope_freq_base)
            : std::vector<float>();
    write_tensor_rows(
        w, t.dtype, rows, cols, pool,
        [&](int64_t first, std::span<float> dst) {
          if (!freqs.empty()) {
            std::copy(freqs.begin(), freqs.end(), dst.begin());
            return;
          }
          for (size_t r = 0; r * size_t(cols) < dst.size(); ++r)
            fill_random_row(o.seed, i, first + int64_t(r), init,
                            dst.subspan(r * size_t(cols), size_t(cols)));
        },
        [&](uint64_t bytes) { progress.add_bytes(bytes); });
  }
  w.finish();
  out.commit();
  progress.done();
  s.file_bytes = file_size_of(path);
  return s;
}

}  // namespace llmpipe
