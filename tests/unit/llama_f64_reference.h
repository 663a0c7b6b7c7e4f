// An independent float64 LLaMA forward pass for tests: written from the model's equations,
// sharing no kernel code with the engine (only the GGUF reader to get F32 weights). Slow and
// simple on purpose; used on the tiny bundled model to check logits.
#pragma once

#include <cmath>
#include <cstring>
#include <vector>

#include "formats/gguf_reader.h"
#include "model/llama_hparams.h"

namespace llmpipe::test {

class LlamaF64 {
 public:
  explicit LlamaF64(const gguf::Reader& f) : f_(f), h_(hparams_from_gguf(f)) {}

  // Logits after the last token of `tokens` (positions 0..n-1), as doubles.
  std::vector<double> last_logits(const std::vector<int32_t>& tokens) {
    const int64_t n = int64_t(tokens.size()), d = h_.n_embd, hd = h_.head_dim();
    const int64_t kvd = h_.kv_dim(), group = h_.n_head / h_.n_head_kv;
    std::vector<std::vector<double>> x{size_t(n)};
    const auto emb = get("token_embd.weight");
    for (int64_t t = 0; t < n; ++t)
      x[size_t(t)].assign(emb.begin() + tokens[size_t(t)] * d, emb.begin() + (tokens[size_t(t)] + 1) * d);
    for (int64_t l = 0; l < h_.n_layer; ++l) {
      const std::string p = "blk." + std::to_string(l) + ".";
      std::vector<std::vector<double>> q{size_t(n)}, k{size_t(n)}, v{size_t(n)};
      for (int64_t t = 0; t < n; ++t) {
        const auto hn = norm(x[size_t(t)], get(p + "attn_norm.weight"));
        q[size_t(t)] = rope(matvec(get(p + "attn_q.weight"), hn, d), t, hd);
        k[size_t(t)] = rope(matvec(get(p + "attn_k.weight"), hn, kvd), t, hd);
        v[size_t(t)] = matvec(get(p + "attn_v.weight"), hn, kvd);
      }
      for (int64_t t = 0; t < n; ++t) {
        std::vector<double> att(size_t(d), 0.0);
        for (int64_t hh = 0; hh < h_.n_head; ++hh) {
          const int64_t kvh = hh / group;
          std::vector<double> s(size_t(t + 1));
          double mx = -INFINITY, sum = 0;
          for (int64_t j = 0; j <= t; ++j) {
            double dot = 0;
            for (int64_t e = 0; e < hd; ++e) dot += q[size_t(t)][size_t(hh * hd + e)] * k[size_t(j)][size_t(kvh * hd + e)];
            s[size_t(j)] = dot / std::sqrt(double(hd));
            mx = std::max(mx, s[size_t(j)]);
          }
          for (auto& e : s) sum += (e = std::exp(e - mx));
          for (int64_t j = 0; j <= t; ++j)
            for (int64_t e = 0; e < hd; ++e)
              att[size_t(hh * hd + e)] += s[size_t(j)] / sum * v[size_t(j)][size_t(kvh * hd + e)];
        }
        add(x[size_t(t)], matvec(get(p + "attn_output.weight"), att, d));
      }
      for (int64_t t = 0; t < n; ++t) {
        const auto hn = norm(x[size_t(t)], get(p + "ffn_norm.weight"));
        auto g = matvec(get(p + "ffn_gate.weight"), hn, h_.n_ff);
        const auto u = matvec(get(p + "ffn_up.weight"), hn, h_.n_ff);
        for (size_t i = 0; i < g.size(); ++i) g[i] = g[i] / (1 + std::exp(-g[i])) * u[i];
        add(x[size_t(t)], matvec(get(p + "ffn_down.weight"), g, d));
      }
    }
    const auto out_name = f_.find_tensor("output.weight") ? "output.weight" : "token_embd.weight";
    return matvec(get(out_name), norm(x.back(), get("output_norm.weight")), h_.n_vocab);
  }

 private:
  std::vector<double> get(const std::string& name) {
    const auto* t = f_.find_tensor(name);
    const auto region = f_.map_tensor(*t);
    std::vector<float> tmp(size_t(t->n_elements()));
    std::memcpy(tmp.data(), region.data(), tmp.size() * sizeof(float));  // F32 model only
    return {tmp.begin(), tmp.end()};
  }
  static std::vector<double> matvec(const std::vector<double>& w, const std::vector<double>& x, int64_t rows) {
    std::vector<double> y(size_t(rows), 0.0);
    for (size_t r = 0; r < y.size(); ++r)
      for (size_t c = 0; c < x.size(); ++c) y[r] += w[r * x.size() + c] * x[c];
    return y;
  }
  std::vector<double> norm(const std::vector<double>& x, const std::vector<double>& w) const {
    double ss = 0;
    for (double e : x) ss += e * e;
    const double s = 1 / std::sqrt(ss / double(x.size()) + double(h_.rms_eps));
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = x[i] * s * w[i];
    return y;
  }
  std::vector<double> rope(std::vector<double> x, int64_t pos, int64_t hd) const {
    for (size_t h0 = 0; h0 < x.size(); h0 += size_t(hd))
      for (int64_t i = 0; i < hd / 2; ++i) {
        const double th = double(pos) * std::pow(double(h_.rope_freq_base), -2.0 * double(i) / double(hd));
        const double a = x[h0 + size_t(2 * i)], b = x[h0 + size_t(2 * i + 1)];
        x[h0 + size_t(2 * i)] = a * std::cos(th) - b * std::sin(th);
        x[h0 + size_t(2 * i + 1)] = a * std::sin(th) + b * std::cos(th);
      }
    return x;
  }
  static void add(std::vector<double>& x, const std::vector<double>& y) {
    for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
  }

  const gguf::Reader& f_;
  LlamaHParams h_;
};

}  // namespace llmpipe::test
