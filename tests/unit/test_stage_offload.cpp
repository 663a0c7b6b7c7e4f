// Partial offload (--gpu-layers): a stage split over two backends, hidden states handed over
// through host memory, computes exactly what the unsplit stage computes. Two CPU backends stand
// in for the GPU and the CPU, so the mechanism is tested in every build; the CUDA kernels
// themselves are tested in tests/cuda.
#include <gtest/gtest.h>

#include "formats/gguf_reader.h"
#include "formats/gguf_tensor_source.h"
#include "kernels/cpu/cpu_backend.h"
#include "model/stage_offload.h"
#include "pipeline/device_memory_plan.h"
#include "runtime/generator.h"
#include "test_helpers.h"

namespace llmpipe {
namespace {

TEST(StageOffload, SplitsTheLayerRange) {
  const StageSpec spec{{2, 7}, false, true};
  auto s = split_for_offload(spec, -1);
  EXPECT_TRUE(s.device && !s.host);
  s = split_for_offload(spec, 5);
  EXPECT_TRUE(s.device && !s.host);
  s = split_for_offload(spec, 0);
  EXPECT_TRUE(!s.device && s.host);
  s = split_for_offload(spec, 2);
  ASSERT_TRUE(s.device && s.host);
  EXPECT_EQ(s.device->layers.first, 2);
  EXPECT_EQ(s.device->layers.last, 4);
  EXPECT_FALSE(s.device->is_first);
  EXPECT_FALSE(s.device->is_last);
  EXPECT_EQ(s.host->layers.first, 4);
  EXPECT_EQ(s.host->layers.last, 7);
  EXPECT_TRUE(s.host->is_last);
}

// The default --gpu-layers (all that fit): the most layers whose plan fits, 0 when none.
TEST(StageOffload, MostLayersThatFit) {
  auto fits_under = [](int64_t budget) {
    return [budget](int64_t n) { return 50 + 100 * n <= budget; };  // workspace + per layer
  };
  EXPECT_EQ(most_layers_that_fit(5, fits_under(420)), 3);
  EXPECT_EQ(most_layers_that_fit(5, fits_under(160)), 1);
  EXPECT_EQ(most_layers_that_fit(5, fits_under(149)), 0);    // not even one layer
  EXPECT_EQ(most_layers_that_fit(5, fits_under(10000)), 4);  // all 5 is the caller's case
  EXPECT_EQ(most_layers_that_fit(1, fits_under(10000)), 0);
}

// The plan's limit (--gpu-memory) counts everything the stage uses, reserved scratch included;
// free memory counts what is still to allocate.
TEST(StageOffload, DeviceMemoryPlanLimit) {
  DeviceMemoryPlan p;
  p.weights = 100;
  p.kv_cache = 50;
  p.workspace = 40;
  p.reserved = 30;
  p.free = 160;
  EXPECT_EQ(p.use(), 190u);
  EXPECT_EQ(p.need(), 160u);
  EXPECT_TRUE(p.fits());
  p.limit = 189;
  EXPECT_FALSE(p.fits());
  test::expect_error(
      [&] { check_device_memory(p, "stage 0"); },
      {"stage 0 needs 1 MiB of device memory but --gpu-memory allows 1 MiB", "--gpu-layers"});
  p.limit = 0;
  p.free = 159;
  EXPECT_FALSE(p.fits());
  test::expect_error([&] { check_device_memory(p, "stage 0"); }, {"more device memory"});
}

// stories260K as one whole-model stage: its tensors, hyperparameters, spec and a KV shape.
struct WholeModel {
  std::shared_ptr<const gguf::Reader> file =
      std::make_shared<const gguf::Reader>(gguf::Reader::open(test::model_path()));
  GgufTensorSource source{file};
  LlamaHParams h = hparams_from_gguf(*file);
  StageSpec spec{{0, h.n_layer}, true, true};
  KvCacheShape kv{h.n_layer, 1, 128, h.kv_dim(), DType::F32};
};

// On a CPU backend nothing is placed: the requested split comes back, without a plan.
TEST(StageOffload, PlacementOnTheCpuKeepsTheRequest) {
  const WholeModel model;
  CpuBackend cpu({});
  for (const int64_t requested : {int64_t(-1), int64_t(2)}) {
    const DevicePlacement p = place_on_device(cpu, model.source, model.h, model.spec, model.kv, 8,
                                              1, requested, 0, "test");
    EXPECT_EQ(p.gpu_layers, requested);
    EXPECT_FALSE(p.plan);
    EXPECT_TRUE(p.note.empty());
  }
}

// Greedy generation and first-step logits are bit-identical for every split of the model.
TEST(StageOffload, EverySplitMatchesTheWholeStage) {
  const WholeModel model;
  const auto& [file, source, h, spec, kv] = model;
  const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 280, 204, 217};
  const StopRule stop{2, 24, 128};

  auto generate = [&](Backend& device, Backend* host, int64_t gpu_layers) {
    auto stage = make_offloaded_stage(source, h, spec, device, host, gpu_layers, kv, 4, 1);
    EXPECT_EQ(stage->spec().layers.first, 0);
    EXPECT_EQ(stage->spec().layers.last, h.n_layer);
    EXPECT_TRUE(stage->spec().is_first && stage->spec().is_last);
    Generator gen(*stage);
    Sampler greedy({});
    return gen.generate(prompt, stop, greedy);
  };
  CpuBackend device({.threads = 1}), host({.threads = 1});
  const auto expect = generate(device, nullptr, -1);
  ASSERT_FALSE(expect.tokens.empty());
  for (int64_t n = 0; n <= h.n_layer; ++n) {
    const auto got = generate(device, &host, n);
    EXPECT_EQ(got.tokens, expect.tokens) << "gpu_layers " << n;
    EXPECT_EQ(got.first_step_logits, expect.first_step_logits) << "gpu_layers " << n;
  }
}

// The CPU backend, counting the graph hooks a stage calls (Backend::begin_graph): the CUDA
// backend records what lies between them as one CUDA graph, so a pass must open one scope,
// close it before anything reads results on the host, and drop it when an op fails.
class GraphCountingBackend : public CpuBackend {
 public:
  GraphCountingBackend() : CpuBackend({.threads = 1}) {}
  void begin_graph(int64_t n_tokens) override {
    EXPECT_FALSE(open) << "nested graph";
    EXPECT_GE(n_tokens, 1);
    open = true;
    ++begins;
  }
  void submit_graph() override {
    EXPECT_TRUE(open);
    open = false;
    ++submits;
  }
  void abort_graph() noexcept override {
    open = false;
    ++aborts;
  }
  void to_host(std::span<float> dst, TensorView src) override {
    EXPECT_FALSE(open) << "results read on the host inside a graph";
    CpuBackend::to_host(dst, src);
  }
  bool open = false;
  int begins = 0, submits = 0, aborts = 0;
};

TEST(StageOffload, EveryForwardPassIsOneGraphScope) {
  const WholeModel model;
  const auto& [file, source, h, spec, kv] = model;
  for (const int64_t gpu_layers : {int64_t(-1), int64_t(1)}) {  // whole stage; head + host tail
    GraphCountingBackend device, host;
    auto stage = make_offloaded_stage(source, h, spec, device, gpu_layers < 0 ? nullptr : &host,
                                      gpu_layers, kv, 8, 1);
    Generator gen(*stage);
    const std::vector<int32_t> prompt = {1, 403, 407, 261, 378, 280};
    gen.step(prompt, 0);
    const int32_t next = 204;
    gen.step(std::span(&next, 1), 6);
    EXPECT_EQ(device.begins, 2) << "gpu_layers " << gpu_layers;
    EXPECT_EQ(device.submits, 2);
    EXPECT_EQ(device.aborts, 0);
    EXPECT_FALSE(device.open);
    if (gpu_layers >= 0) {
      EXPECT_EQ(host.begins, host.submits);
    }

    // A failing op inside the pass drops the recording and leaves the backend usable.
    const int32_t bad = int32_t(h.n_vocab) + 5;
    EXPECT_THROW(gen.step(std::span(&bad, 1), 7), Error);
    EXPECT_EQ(device.aborts, 1);
    EXPECT_FALSE(device.open);
    gen.step(std::span(&next, 1), 7);
    EXPECT_EQ(device.submits, 3);
  }
}

}  // namespace
}  // namespace llmpipe
