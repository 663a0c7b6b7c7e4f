// The backend factory in every build: CPU always; CUDA only when built with it, with a clear
// error otherwise; "auto" falls back to the CPU without a GPU; --gpu-layers only with CUDA.
#include <gtest/gtest.h>

#include "kernels/backend_factory.h"
#include "pipeline/run_config.h"
#include "test_helpers.h"
#include "transport/device_link.h"

namespace llmpipe {
namespace {

TEST(BackendFactory, CpuAlwaysWorks) {
  const auto b = make_backend({.kind = "cpu", .threads = 1});
  EXPECT_NE(b->name().find("cpu"), std::string::npos);
  EXPECT_FALSE(device_memory(*b).has_value());  // no device memory plan for the CPU
}

TEST(BackendFactory, CudaNeedsTheBuildAndAGpu) {
  if (!built_with_cuda()) {
    test::expect_error([] { make_backend({.kind = "cuda"}); },
                       {"llmpipe was built without CUDA (-DLLMPIPE_CUDA=ON)"});
    test::expect_error([] { resolve_backend_kind("cuda"); }, {"built without CUDA"});
    EXPECT_EQ(resolve_backend_kind("auto"), "cpu");
  } else {
    const std::string kind = resolve_backend_kind("auto");
    EXPECT_TRUE(kind == "cpu" || kind == "cuda");
    if (kind == "cpu")  // no GPU here: asking for one says so
      test::expect_error([] { make_backend({.kind = "cuda"}); }, {"--backend cuda"});
  }
}

TEST(BackendFactory, UnknownNamesAndGpuLayersAreErrors) {
  test::expect_error([] { resolve_backend_kind("tpu"); }, {"unknown backend 'tpu'", "cpu, cuda or auto"});
  RunConfig c;
  c.model_path = "m.gguf";
  c.prompt_path = "p.jsonl";
  c.backend = "metal";
  test::expect_error([&] { validate_run_config(c, 1); }, {"unknown backend 'metal'"});
  c.backend = "cpu";
  c.gpu_layers = 3;
  test::expect_error([&] { validate_run_config(c, 1); }, {"--gpu-layers needs the CUDA backend"});
  c.gpu_layers = -2;
  test::expect_error([&] { validate_run_config(c, 1); }, {"gpu_layers must be >= 0"});
  c.gpu_layers = -1;
  c.gpu_memory = uint64_t(1) << 30;
  test::expect_error([&] { validate_run_config(c, 1); }, {"--gpu-memory needs the CUDA backend"});
  c.gpu_memory = 0;
  EXPECT_NO_THROW(validate_run_config(c, 1));
  EXPECT_EQ(c.to_json()["backend"], "cpu");
}

// Option names <-> values, from one table per setting (core/enum_names.h): every name round-
// trips, an unknown one is an error listing the accepted names.
TEST(BackendFactory, SettingNamesRoundTripAndUnknownOnesAreErrors) {
  for (const char* name : {"mmap", "copy", "packed"})
    EXPECT_STREQ(weight_placement_name(weight_placement_from_name(name)), name);
  for (const char* name : {"auto", "mpi", "nccl"})
    EXPECT_STREQ(hop_transport_name(hop_transport_from_name(name)), name);
  test::expect_error([] { weight_placement_from_name("huge"); },
                     {"unknown weight placement 'huge': use mmap, copy or packed"});
  test::expect_error([] { hop_transport_from_name("ib"); },
                     {"unknown hop transport 'ib': use auto, mpi or nccl"});
}

}  // namespace
}  // namespace llmpipe
