// Helpers for the synth/quantize/bench tests: greedy generation on a model file.
#pragma once

#include <string>
#include <vector>

#include "kernels/cpu/cpu_backend.h"
#include "model/model_source.h"
#include "runtime/generator.h"

namespace llmpipe::test {

struct GreedyRun {
  std::vector<int32_t> tokens;
  std::vector<float> first_logits;
};

inline GreedyRun greedy(const std::string& path, const std::vector<int32_t>& prompt, int64_t n_new,
                        int64_t n_ctx = 128) {
  const ModelSource model = open_model(path);
  const LlamaHParams& h = model.hparams;
  CpuBackend backend({.threads = 2});
  const StageSpec spec{{0, h.n_layer}, true, true};
  LlamaStage stage(h, spec, load_stage_weights(*model.tensors, h, spec, backend), backend,
                   {h.n_layer, 1, n_ctx, h.kv_dim()}, 64, 1);
  Generator gen(stage);
  Sampler sampler({});
  const auto r = gen.generate(prompt, {-1, n_new, n_ctx}, sampler);
  return {r.tokens, r.first_step_logits};
}

}  // namespace llmpipe::test
