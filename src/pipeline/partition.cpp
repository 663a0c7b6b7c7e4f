#include "pipeline/partition.h"

#include <sstream>

#include "core/error.h"

namespace llmpipe {

std::vector<LayerRange> balanced_split(int64_t n_layers, int n_stages) {
  if (n_stages < 1) fail("pipeline size must be at least 1, got ", n_stages);
  if (n_stages > n_layers)
    fail("pipeline size ", n_stages, " exceeds the model's ", n_layers,
         " layers: every stage needs at least one layer");
  std::vector<int64_t> counts(size_t(n_stages), n_layers / n_stages);
  for (int64_t i = 0; i < n_layers % n_stages; ++i) ++counts[size_t(i)];
  return split_from_counts(counts, n_layers, n_stages);
}

std::vector<LayerRange> split_from_counts(const std::vector<int64_t>& counts, int64_t n_layers,
                                          int n_stages) {
  if (int(counts.size()) != n_stages)
    fail("layer split has ", counts.size(), " entries for a pipeline of ", n_stages, " stages");
  std::vector<LayerRange> ranges;
  int64_t first = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] < 1) fail("layer split entry ", i, " is ", counts[i], ": each stage needs >= 1 layer");
    ranges.push_back({first, first + counts[i]});
    first += counts[i];
  }
  if (first != n_layers)
    fail("layer split sums to ", first, " layers but the model has ", n_layers);
  return ranges;
}

std::vector<int64_t> parse_layer_counts(const std::string& text) {
  std::vector<int64_t> counts;
  std::stringstream ss(text);
  for (std::string item; std::getline(ss, item, ',');) {
    size_t used = 0;
    int64_t v = 0;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != item.size())
      fail("layer split '", text, "': '", item, "' is not a whole number");
    counts.push_back(v);
  }
  if (counts.empty()) fail("layer split is empty");
  return counts;
}

StageSpec stage_spec(const std::vector<LayerRange>& split, int stage) {
  return {split.at(size_t(stage)), stage == 0, stage + 1 == int(split.size())};
}

}  // namespace llmpipe
