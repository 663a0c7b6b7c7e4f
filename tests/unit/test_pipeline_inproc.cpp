// The pipeline's real stage runtime and scheduler with its ranks as threads, over the in-process
// transport: greedy completions equal llama.cpp's reference for any number of stages, batch
// size and micro-batch count; configuration errors end every rank without a hang; an abort
// wakes ranks blocked on a receive. (The same properties are tested across processes with
// mpirun in tests/integration.)
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <exception>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "pipeline/messages.h"
#include "pipeline/pipeline_run.h"
#include "test_helpers.h"
#include "tiny_model.h"
#include "transport/inproc_transport.h"

namespace llmpipe {
namespace {

using nlohmann::json;

struct WorldResult {
  std::vector<int> codes;           // run_pipeline's return value per rank (-1: threw)
  std::vector<std::string> errors;  // what each rank threw, if anything
};

WorldResult run_world(int ranks, const RunConfig& config) {
  InProcWorld world(ranks);
  WorldResult r{std::vector<int>(size_t(ranks), -1), std::vector<std::string>(size_t(ranks))};
  std::vector<std::thread> threads;
  for (int rank = 0; rank < ranks; ++rank)
    threads.emplace_back([&, rank] {
      try {
        r.codes[size_t(rank)] = run_pipeline(*world.transport(rank), config);
      } catch (const std::exception& e) {
        r.errors[size_t(rank)] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  return r;
}

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream f(path);
  std::vector<json> out;
  for (std::string line; std::getline(f, line);) out.push_back(json::parse(line));
  return out;
}

// The reference prompts as a prompts file; returns the expected greedy texts by id.
std::vector<std::string> write_reference_prompts(const std::string& path) {
  std::ofstream f(path);
  std::vector<std::string> texts;
  for (const auto& ref : read_jsonl(test::data_path("stories260K-greedy.jsonl"))) {
    f << json{{"id", texts.size()}, {"prompt", ref["prompt"]}}.dump() << "\n";
    texts.push_back(ref["greedy_text"]);
  }
  return texts;
}

RunConfig base_config(const test::TempDir& dir, const std::string& prompts) {
  RunConfig c;
  c.model_path = test::model_path();
  c.prompt_path = prompts;
  c.output_dir = dir.file("out");
  c.max_new_tokens = 128;
  c.threads = 1;
  return c;
}

TEST(PipelineInProc, GreedyMatchesReferenceForAnyStagesAndSchedule) {
  test::TempDir dir;
  const auto expected = write_reference_prompts(dir.file("prompts.jsonl"));
  struct Case { int ranks; int64_t batch, micro; };
  for (const Case k : {Case{1, 1, 1}, Case{2, 1, 1}, Case{2, 3, 2}, Case{3, 3, 3}, Case{5, 3, 1},
                       Case{5, 2, 2}}) {
    RunConfig c = base_config(dir, dir.file("prompts.jsonl"));
    c.batch_size = k.batch;
    c.micro_batches = k.micro;
    c.prefill_chunk = 3;  // prompts span several chunks, mixed with other sequences' decoding
    c.output_dir = dir.file("out_" + std::to_string(k.ranks) + "_" + std::to_string(k.batch) +
                            "_" + std::to_string(k.micro));
    const auto r = run_world(k.ranks, c);
    for (int rank = 0; rank < k.ranks; ++rank)
      ASSERT_EQ(r.codes[size_t(rank)], 0) << "rank " << rank << ": " << r.errors[size_t(rank)];
    const auto done = read_jsonl(c.output_dir + "/completions.jsonl");
    ASSERT_EQ(done.size(), expected.size());
    for (const auto& d : done)
      EXPECT_EQ(d["completion"].get<std::string>(), expected[d["id"].get<size_t>()])
          << "P=" << k.ranks << " batch " << k.batch << " micro-batches " << k.micro;
    const json m = json::parse(std::ifstream(c.output_dir + "/metrics.json"));
    EXPECT_EQ(m["world_size"], k.ranks);
    EXPECT_EQ(m["stages"].size(), size_t(k.ranks));
  }
}

TEST(PipelineInProc, ConfigErrorsEndEveryRankWithoutLoading) {
  test::TempDir dir;
  write_reference_prompts(dir.file("prompts.jsonl"));
  RunConfig c = base_config(dir, dir.file("prompts.jsonl"));
  c.pipeline_parallel_size = 3;  // but the world has 2 ranks
  auto r = run_world(2, c);
  EXPECT_EQ(r.codes, (std::vector<int>{1, 1}));
  c.pipeline_parallel_size.reset();
  c.micro_batches = 4;  // more micro-batches than sequences
  r = run_world(2, c);
  EXPECT_EQ(r.codes, (std::vector<int>{1, 1}));
  EXPECT_FALSE(std::filesystem::exists(c.output_dir + "/rank_0.log"));

  // 8-bit hops need a hidden size in whole blocks of 32: refused at start, not at the first send.
  c.micro_batches = 0;
  c.model_path = dir.file("embd48.gguf");
  test::TinyLlamaOptions narrow;
  narrow.n_embd = 48;
  test::write_tiny_llama(c.model_path, narrow);
  c.hop_type = DType::Q8_0;
  testing::internal::CaptureStderr();
  r = run_world(2, c);
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_EQ(r.codes, (std::vector<int>{1, 1}));
  EXPECT_NE(err.find("--hop-type q8_0 needs a hidden size that is a multiple of 32"),
            std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(c.output_dir + "/rank_0.log"));
}

TEST(PipelineInProc, AbortWakesBlockedRanks) {
  InProcWorld world(3);
  auto t0 = world.transport(0), t1 = world.transport(1), t2 = world.transport(2);
  std::string woke1, woke2;
  std::thread a([&] {
    test::expect_error([&] { t1->recv(0, Channel::Activations); }, {"aborted", "rank 2"});
    woke1 = "yes";
  });
  std::thread b([&] {
    test::expect_error([&] { t0->barrier(); }, {"aborted"});
    woke2 = "yes";
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  test::expect_error([&] { t2->abort(1); }, {"rank 2 aborted"});
  a.join();
  b.join();
  EXPECT_EQ(woke1, "yes");
  EXPECT_EQ(woke2, "yes");
}

TEST(PipelineMessages, BatchRoundTripsWithEveryHopType) {
  BatchMessage m;
  m.batch_id = 42;
  m.positions = {0, 1, 7};
  m.slots = {0, 0, 2};
  m.logit_rows = {1, 2};
  m.samples = {SampleSpec{0, 1, 0.5f, 0.9f, 40, 0, 7, 3}, SampleSpec{2, 0, 0, 1, 0, 0, 0, 1}};
  m.hidden = {1.0f, -2.5f, 3.14159f, 1e-3f, 65504.0f, -0.0f};
  for (DType hop : {DType::F32, DType::F16, DType::BF16}) {
    const BatchMessage d = decode_batch(encode_batch(m, hop));
    EXPECT_EQ(d.batch_id, 42u);
    EXPECT_EQ(d.positions, m.positions);
    EXPECT_EQ(d.slots, m.slots);
    EXPECT_EQ(d.logit_rows, m.logit_rows);
    ASSERT_EQ(d.samples.size(), 2u);
    EXPECT_EQ(d.samples[0].top_k, 40);
    EXPECT_EQ(d.samples[1].stream, 1u);
    ASSERT_EQ(d.hidden.size(), m.hidden.size());
    // F16 keeps 11 significant bits, BF16 8: relative error at most 2^-11 and 2^-8.
    const float tol = hop == DType::F32 ? 0.0f : hop == DType::F16 ? 1.0f / 2048 : 1.0f / 256;
    for (size_t i = 0; i < m.hidden.size(); ++i)
      EXPECT_LE(std::fabs(d.hidden[i] - m.hidden[i]), tol * std::fabs(m.hidden[i])) << dtype_name(hop);
  }
}

TEST(PipelineMessages, Q8_0HopsRoundWithinTheBlockScale) {
  BatchMessage m;
  m.positions = {0, 1};
  m.slots = {0, 0};
  m.hidden.resize(64);
  for (size_t i = 0; i < m.hidden.size(); ++i) m.hidden[i] = std::sin(float(i) * 0.7f) * float(i + 1);
  const BatchMessage d = decode_batch(encode_batch(m, DType::Q8_0));
  ASSERT_EQ(d.hidden.size(), m.hidden.size());
  // Each value is rounded to a multiple of its block's scale d = max|x| / 127 (stored in F16):
  // error at most d / 2, plus the F16 rounding of d times the code (<= 127 * d * 2^-11).
  for (size_t b = 0; b < m.hidden.size(); b += 32) {
    float amax = 0;
    for (size_t i = b; i < b + 32; ++i) amax = std::max(amax, std::fabs(m.hidden[i]));
    const float scale = amax / 127;
    for (size_t i = b; i < b + 32; ++i)
      EXPECT_LE(std::fabs(d.hidden[i] - m.hidden[i]), scale / 2 + 127 * scale / 2048) << i;
  }
  EXPECT_LT(encode_batch(m, DType::Q8_0).size(), encode_batch(m, DType::F16).size());
  m.hidden.resize(40);
  test::expect_error([&] { encode_batch(m, DType::Q8_0); },
                     {"multiple of 32 values", "--hop-type f16"});

  // A payload whose value count does not match its bytes is refused, not read past.
  m.hidden.resize(64);
  Bytes bytes = encode_batch(m, DType::Q8_0);
  const size_t count_at = bytes.size() - dtype_row_bytes(DType::Q8_0, 64) - 2 * sizeof(uint64_t);
  const uint64_t wrong = 96;
  std::memcpy(bytes.data() + count_at, &wrong, sizeof(wrong));
  test::expect_error([&] { decode_batch(bytes); }, {"malformed batch message", "q8_0"});
}

TEST(PipelineMessages, MalformedBytesAreErrorsNotOverreads) {
  BatchMessage m;
  m.batch_id = 1;
  m.positions = {0};
  m.slots = {0};
  m.hidden = {1, 2, 3, 4};
  const Bytes good = encode_batch(m);
  for (size_t cut = 0; cut < good.size(); ++cut) {
    const Bytes truncated(good.begin(), good.begin() + std::ptrdiff_t(cut));
    EXPECT_THROW(
        {
          if (message_kind(truncated) == MessageKind::Batch) decode_batch(truncated);
          else throw Error("not a batch");
        },
        Error)
        << "cut at " << cut;
  }
  Bytes bad_kind = good;
  bad_kind[0] = std::byte{99};
  test::expect_error([&] { message_kind(bad_kind); }, {"unknown kind 99"});
}

}  // namespace
}  // namespace llmpipe
