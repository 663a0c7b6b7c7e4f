// Perplexity as a pipeline (pipeline/perplexity_run.h) with its ranks as threads over the
// in-process transport: for any number of stages, split and forward-pass size, the running
// estimates and the final estimate are the one-stage run's, bit for bit (== on doubles), since
// every stage runs the same per-layer code on F32 activations that hop unchanged, each row's
// logits do not depend on the other rows of its pass, and rank 0 adds the NLLs in token order.
// Also: scoring batches round-trip through the wire format, a bad input fails every rank alike.
// (tests/integration/test_perplexity_pipeline.sh runs the same with mpirun.)
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "pipeline/messages.h"
#include "pipeline/perplexity_run.h"
#include "test_helpers.h"
#include "transport/inproc_transport.h"

namespace llmpipe {
namespace {

std::vector<PerplexityResult> run_world(int ranks, const PerplexityConfig& c) {
  InProcWorld world(ranks);
  PerplexityResult threw;
  threw.code = -1;
  std::vector<PerplexityResult> r(size_t(ranks), threw);
  std::vector<std::thread> threads;
  for (int rank = 0; rank < ranks; ++rank)
    threads.emplace_back([&, rank] {
      try {
        r[size_t(rank)] = run_perplexity(*world.transport(rank), c, nullptr);
      } catch (const std::exception& e) {
        ADD_FAILURE() << "rank " << rank << ": " << e.what();
      }
    });
  for (auto& t : threads) t.join();
  return r;
}

PerplexityConfig story_config(const test::TempDir& dir, int repeats) {
  std::ofstream f(dir.file("story.txt"));
  for (int i = 0; i < repeats; ++i)
    f << "Once upon a time, there was a little girl named Lily. She loved to play outside in the "
         "park with her friends. One day, she saw a big red ball under a tree.\n";
  PerplexityConfig c;
  c.model_path = test::model_path();
  c.text_path = dir.file("story.txt");
  c.ctx_size = 32;
  c.threads = 1;
  return c;
}

TEST(PerplexityPipeline, EveryStageCountAndPieceSizeGivesTheOneStageBits) {
  test::TempDir dir;
  PerplexityConfig c = story_config(dir, 6);
  const PerplexityResult one = run_world(1, c)[0];
  ASSERT_EQ(one.code, 0);
  ASSERT_GE(one.running.size(), 3u);
  ASSERT_GT(one.estimate.count, 0);
  struct Case {
    int ranks;
    int64_t batch;
    std::vector<int64_t> split;
  };
  // batch 32: a chunk per pass; 5 and 7: pieces without scored rows, pieces that straddle the
  // chunk's middle, several pieces in flight.
  for (const Case& k : {Case{2, 32, {}}, Case{3, 5, {}}, Case{5, 7, {}}, Case{2, 7, {1, 4}},
                        Case{1, 5, {}}}) {
    PerplexityConfig ck = c;
    ck.batch = k.batch;
    ck.layer_split = k.split;
    const auto r = run_world(k.ranks, ck);
    for (const auto& rank : r) EXPECT_EQ(rank.code, 0);
    EXPECT_EQ(r[0].running, one.running) << k.ranks << " ranks, batch " << k.batch;
    EXPECT_EQ(r[0].estimate.ppl, one.estimate.ppl);
    EXPECT_EQ(r[0].estimate.error, one.estimate.error);
    EXPECT_EQ(r[0].estimate.count, one.estimate.count);
  }
}

TEST(PerplexityPipeline, BadInputFailsEveryRankAlike) {
  test::TempDir dir;
  PerplexityConfig c = story_config(dir, 1);
  c.ctx_size = 512;  // longer than the text
  testing::internal::CaptureStderr();
  auto r = run_world(3, c);
  std::string err = testing::internal::GetCapturedStderr();
  for (const auto& rank : r) EXPECT_EQ(rank.code, 1);
  EXPECT_NE(err.find("one chunk of context 512 needs 512"), std::string::npos) << err;

  c = story_config(dir, 6);
  testing::internal::CaptureStderr();
  r = run_world(6, c);  // stories260K has 5 layers
  err = testing::internal::GetCapturedStderr();
  for (const auto& rank : r) EXPECT_EQ(rank.code, 1);
  EXPECT_NE(err.find("pipeline size 6 exceeds the model's 5 layers"), std::string::npos) << err;
}

TEST(PerplexityPipeline, ScoringBatchesRoundTrip) {
  BatchMessage m;
  m.batch_id = 7;
  m.positions = {4, 5, 6};
  m.slots = {0, 0, 0};
  m.logit_rows = {1, 2};
  m.targets = {11, 12};
  m.hidden = {1.0f, 2.0f, 3.0f};
  const BatchMessage d = decode_batch(encode_batch(m));
  EXPECT_EQ(d.targets, m.targets);
  EXPECT_TRUE(d.samples.empty());
  m.samples.resize(2);  // a row both sampled and scored is malformed
  test::expect_error([&] { decode_batch(encode_batch(m)); }, {"inconsistent sizes"});

  const TokensMessage t{7, {}, {0.25, 1e-300}};
  const TokensMessage u = decode_tokens(encode_tokens(t));
  EXPECT_EQ(u.batch_id, 7u);
  EXPECT_EQ(u.nll, t.nll);

  const PerplexityPlan plan{10, 1, 5};
  EXPECT_EQ(scored_rows(plan, 0, 4), std::vector<int32_t>{});
  EXPECT_EQ(scored_rows(plan, 4, 4), (std::vector<int32_t>{1, 2, 3}));
  EXPECT_EQ(scored_rows(plan, 8, 2), (std::vector<int32_t>{0}));  // row 9 has no next token
}

}  // namespace
}  // namespace llmpipe
