// Runs a model (a Hugging Face directory or a GGUF file) on the token-id prompts of a
// reference.json written by make_hf_arch_fixtures.py (transformers' outputs) and compares:
// the last prompt position's logits (max |difference| against the tolerance) and 16 greedy
// tokens (identical). The model is split into two in-process stages at layer --split S (the
// pipeline's stage weights and hand-over: first stage embeds, the last holds lm_head, tied or
// not) or run as one stage (--split 0). F32 KV cache: the reference computes in float32.
//   check_hf_arch MODEL REFERENCE.json [--split S] [--tol T] [--no-window] [--texts]
// --texts: instead, print one JSON line per prompt {"prompt_tokens", "completion"}: the greedy
// tokens up to EOS decoded as `llmpipe run` writes them, for checking a pipeline run.
// --no-window: ignore the model's sliding window (to see the window test fail).
// Exit 0: all within tolerance and identical; 1: a difference; 2: usage or load error.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "kernels/cpu/cpu_backend.h"
#include "model/llama_stage.h"
#include "model/model_source.h"
#include "tokenizer/tokenizer.h"

namespace {

using namespace llmpipe;
using nlohmann::json;

constexpr int64_t kCtx = 64;

// One stage, or two chained in-process (hidden states through host memory, as between ranks).
class Chain {
 public:
  Chain(const ModelSource& m, int64_t split, Backend& backend) : h_(m.hparams) {
    std::vector<LayerRange> ranges;
    if (split <= 0 || split >= h_.n_layer)
      ranges = {{0, h_.n_layer}};
    else
      ranges = {{0, split}, {split, h_.n_layer}};
    for (size_t i = 0; i < ranges.size(); ++i) {
      const StageSpec spec{ranges[i], i == 0, i + 1 == ranges.size()};
      const KvCacheShape kv{ranges[i].size(), 1, kCtx, h_.kv_dim(), DType::F32};
      stages_.push_back(std::make_unique<LlamaStage>(
          h_, spec, load_stage_weights(*m.tensors, h_, spec, backend), backend, kv, kCtx, 1));
    }
  }

  // Logits of the last token of `tokens` at positions [pos0, pos0 + n).
  std::vector<float> forward(const std::vector<int32_t>& tokens, int32_t pos0) {
    std::vector<int32_t> pos(tokens.size()), slots(tokens.size(), 0);
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = pos0 + int32_t(i);
    const BatchLayout batch{pos, slots, ++generation_};
    const int32_t last[] = {int32_t(tokens.size()) - 1};
    std::vector<float> hop, logits(size_t(h_.n_vocab));
    TensorView out;
    for (size_t s = 0; s < stages_.size(); ++s) {
      if (s > 0) {
        stages_[s]->backend().from_host(stages_[s]->input(int64_t(tokens.size())), hop);
      }
      out = stages_[s]->forward(batch, tokens, last);
      if (s + 1 < stages_.size()) {
        hop.resize(size_t(out.rows * out.cols));
        stages_[s]->backend().to_host(hop, out);
      }
    }
    stages_.back()->backend().to_host(logits, out);
    return logits;
  }

 private:
  LlamaHParams h_;
  std::vector<std::unique_ptr<LlamaStage>> stages_;
  uint64_t generation_ = 0;
};

int32_t argmax(const std::vector<float>& v) {
  return int32_t(std::max_element(v.begin(), v.end()) - v.begin());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: check_hf_arch MODEL REFERENCE.json [--split S] [--tol T] [--no-window] "
                 "[--texts]\n";
    return 2;
  }
  int64_t split = 0;
  double tol = 1e-4;
  bool texts = false, no_window = false;
  for (int i = 3; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--split" && i + 1 < argc)
      split = std::stoll(argv[++i]);
    else if (a == "--tol" && i + 1 < argc)
      tol = std::stod(argv[++i]);
    else if (a == "--texts")
      texts = true;
    else if (a == "--no-window")
      no_window = true;
    else {
      std::cerr << "unknown argument " << a << "\n";
      return 2;
    }
  }
  try {
    ModelSource m = open_model(argv[1]);
    if (no_window) m.hparams.sliding_window = 0;
    std::ifstream f(argv[2]);
    if (!f) fail("cannot open ", argv[2]);
    const json ref = json::parse(f);
    const Tokenizer tokenizer(m.load_vocab());
    CpuBackend backend({.threads = 2});
    Chain chain(m, split, backend);
    double worst = 0;
    int failures = 0;
    for (const auto& p : ref.at("prompts")) {
      const auto prompt = p.at("prompt_tokens").get<std::vector<int32_t>>();
      const auto want_logits = p.at("last_logits").get<std::vector<float>>();
      const auto want_greedy = p.at("greedy_tokens").get<std::vector<int32_t>>();
      std::vector<float> logits = chain.forward(prompt, 0);
      double diff = 0;
      for (size_t i = 0; i < logits.size() && i < want_logits.size(); ++i)
        diff = std::max(diff, std::fabs(double(logits[i]) - double(want_logits[i])));
      if (logits.size() != want_logits.size()) diff = INFINITY;
      std::vector<int32_t> greedy;
      for (size_t i = 0; i < want_greedy.size(); ++i) {
        greedy.push_back(argmax(logits));
        if (i + 1 < want_greedy.size())
          logits = chain.forward({greedy.back()}, int32_t(prompt.size() + i));
      }
      if (texts) {
        std::vector<int32_t> upto_eos;
        for (int32_t t : greedy) {
          if (t == tokenizer.eos_id()) break;
          upto_eos.push_back(t);
        }
        StreamDecoder decoder(tokenizer, /*at_text_start=*/false);
        std::string text;
        for (int32_t t : upto_eos) text += decoder.push(t);
        text += decoder.flush();
        // As run_io writes completions: invalid UTF-8 (a byte piece cut mid-character) replaced.
        std::cout << json{{"prompt_tokens", prompt}, {"completion", text}}.dump(
                         -1, ' ', false, json::error_handler_t::replace)
                  << "\n";
        continue;
      }
      const bool same = greedy == want_greedy;
      worst = std::max(worst, diff);
      failures += !same || !(diff <= tol);
      std::printf("%s: %zu-token prompt: max |logit - transformers| = %.3g, greedy %s\n",
                  ref.value("model", "?").c_str(), prompt.size(), diff,
                  same ? "identical" : "DIFFERS");
      if (!same) {
        std::printf("  got      ");
        for (int32_t t : greedy) std::printf(" %d", t);
        std::printf("\n  expected ");
        for (int32_t t : want_greedy) std::printf(" %d", t);
        std::printf("\n");
      }
    }
    if (!texts)
      std::printf("%s (split %lld): max |logit difference| %.3g (tolerance %.3g): %s\n",
                  ref.value("model", "?").c_str(), static_cast<long long>(split), worst, tol,
                  failures ? "FAIL" : "ok");
    return failures ? 1 : 0;
  } catch (const std::exception& e) {
    std::cerr << "check_hf_arch: " << e.what() << "\n";
    return 2;
  }
}
