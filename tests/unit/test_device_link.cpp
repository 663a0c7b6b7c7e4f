// Device-to-device activation hops (transport/device_link.h): how each hop's path is decided
// from its two ends, that both ranks of a hop agree (and both fail, without a hang, when
// --hop-transport nccl cannot be honoured), and the batch header that stands in for the
// activations when they go over NCCL. The NCCL path itself needs GPUs: tests/cuda.
#include <gtest/gtest.h>

#include <thread>

#include "kernels/backend_factory.h"
#include "pipeline/messages.h"
#include "test_helpers.h"
#include "transport/device_link.h"
#include "transport/inproc_transport.h"
#include "transport/nccl_link.h"

namespace llmpipe {
namespace {

HopEndpoint gpu(const std::string& uuid) {
  return {true, true, uuid};
}
const HopEndpoint kHost{};

TEST(DeviceLink, HopTransportNames) {
  for (auto mode : {HopTransport::Auto, HopTransport::Mpi, HopTransport::Nccl})
    EXPECT_EQ(hop_transport_from_name(hop_transport_name(mode)), mode);
  test::expect_error([] { hop_transport_from_name("gloo"); }, {"'gloo'", "auto, mpi or nccl"});
}

TEST(DeviceLink, NcclOnlyBetweenDistinctGpusWithF32Hops) {
  const auto a = gpu("GPU-a"), b = gpu("GPU-b");
  const HopDecision yes = decide_hop(HopTransport::Auto, 0, a, b, DType::F32);
  EXPECT_TRUE(yes.nccl);
  EXPECT_NE(yes.reason.find("GPU-a -> GPU-b"), std::string::npos) << yes.reason;

  struct Case {
    HopEndpoint up, down;
    DType hop;
    std::string why;
  };
  HopEndpoint no_lib = b;
  no_lib.nccl = false;
  const Case cases[] = {
      {kHost, b, DType::F32, "rank 3 keeps its activations in host memory"},
      {a, kHost, DType::F32, "rank 4 keeps its activations in host memory"},
      {a, gpu("GPU-a"), DType::F32, "both ranks use GPU-a"},
      {a, no_lib, DType::F32, "rank 4 cannot load the NCCL library"},
      {a, b, DType::F16, "--hop-type f16 converts activations on the host"},
  };
  for (const auto& c : cases) {
    const HopDecision d = decide_hop(HopTransport::Auto, 3, c.up, c.down, c.hop);
    EXPECT_FALSE(d.nccl) << c.why;
    EXPECT_NE(d.reason.find("MPI through host memory"), std::string::npos) << d.reason;
    EXPECT_NE(d.reason.find(c.why), std::string::npos) << d.reason;
    // Asked for NCCL: an error naming the hop, the reason and the way out.
    test::expect_error(
        [&] { decide_hop(HopTransport::Nccl, 3, c.up, c.down, c.hop); },
        {"--hop-transport nccl: hop 3 -> 4 cannot use NCCL", c.why, "use --hop-transport auto"});
  }
  // mpi: never NCCL, even where it would work.
  EXPECT_FALSE(decide_hop(HopTransport::Mpi, 0, a, b, DType::F32).nccl);
  EXPECT_TRUE(decide_hop(HopTransport::Nccl, 0, a, b, DType::F32).nccl);
}

// Runs connect_stage_links on every rank of an in-process world of CPU backends.
std::vector<std::string> connect_world(int ranks, HopTransport mode,
                                       std::vector<std::string>* describe) {
  InProcWorld world(ranks);
  std::vector<std::string> errors{size_t(ranks), std::string()};
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r)
    threads.emplace_back([&, r] {
      auto t = world.transport(r);
      auto be = make_backend({.kind = "cpu"});
      try {
        StageLinks links = connect_stage_links(*t, mode, DType::F32, *be, *be);
        EXPECT_FALSE(links.prev);
        EXPECT_FALSE(links.next);
        if (describe) (*describe)[size_t(r)] = links.describe;
      } catch (const Error& e) {
        errors[size_t(r)] = e.what();
      }
    });
  for (auto& th : threads) th.join();
  return errors;
}

TEST(DeviceLink, CpuStagesTakeTheHostPathAndSayWhy) {
  std::vector<std::string> describe(3);
  const auto errors = connect_world(3, HopTransport::Auto, &describe);
  for (const auto& e : errors) EXPECT_EQ(e, "");
  EXPECT_NE(describe[0].find("hop 0 -> 1: MPI through host memory: rank 0 keeps"),
            std::string::npos)
      << describe[0];
  EXPECT_NE(describe[1].find("hop 0 -> 1"), std::string::npos) << describe[1];
  EXPECT_NE(describe[1].find("hop 1 -> 2"), std::string::npos) << describe[1];
  EXPECT_EQ(describe[2].find("hop 0 -> 1"), std::string::npos) << describe[2];
}

TEST(DeviceLink, RefusedNcclFailsBothEndsOfEveryHopWithoutHanging) {
  const auto errors = connect_world(3, HopTransport::Nccl, nullptr);
  EXPECT_NE(errors[0].find("hop 0 -> 1 cannot use NCCL"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("hop 0 -> 1 cannot use NCCL"), std::string::npos) << errors[1];
  EXPECT_NE(errors[2].find("hop 1 -> 2 cannot use NCCL"), std::string::npos) << errors[2];
}

TEST(DeviceLink, CpuBackendOffersHostMemory) {
  auto be = make_backend({.kind = "cpu"});
  const HopEndpoint e = hop_endpoint(*be);
  EXPECT_FALSE(e.gpu);
  EXPECT_EQ(e.device_uuid, "");
  if (!built_with_cuda()) {
    EXPECT_FALSE(nccl_available());
    InProcWorld world(2);
    auto t = world.transport(0);
    test::expect_error([&] { make_nccl_link(*t, 1, NcclRole::Sender, *be); },
                       {"NCCL hops need a CUDA build"});
  }
}

TEST(DeviceLink, BatchHeaderWithoutActivations) {
  BatchMessage m;
  m.batch_id = 9;
  m.positions = {4, 5};
  m.slots = {1, 1};
  m.logit_rows = {1};
  m.samples = {SampleSpec{}};
  m.hidden_on_device = true;
  const Bytes bytes = encode_batch(m, DType::F16);  // the hop type does not apply
  const BatchMessage d = decode_batch(bytes);
  EXPECT_TRUE(d.hidden_on_device);
  EXPECT_TRUE(d.hidden.empty());
  EXPECT_EQ(d.positions, m.positions);
  EXPECT_FALSE(
      decode_batch(encode_batch(BatchMessage{
                       m.batch_id, m.positions, m.slots, m.logit_rows, m.samples, {1.0f, 2.0f}}))
          .hidden_on_device);
  m.hidden = {1.0f};  // both at once is a bug in the sender
  test::expect_error([&] { encode_batch(m); }, {"device activations", "host activations"});
}

}  // namespace
}  // namespace llmpipe
