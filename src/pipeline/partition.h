// How the layers [0, L) are split into P contiguous pipeline stages.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/stage_weights.h"

namespace llmpipe {

// Balanced: every stage gets floor(L/P) or ceil(L/P) layers, the larger ones first.
// Errors when P < 1 or P > L.
std::vector<LayerRange> balanced_split(int64_t n_layers, int n_stages);

// From explicit layer counts ("6,7,7,6"): there must be P counts, each >= 1, summing to L.
std::vector<LayerRange> split_from_counts(const std::vector<int64_t>& counts, int64_t n_layers,
                                          int n_stages);

// Parses "6,7,7,6"; errors name the bad element.
std::vector<int64_t> parse_layer_counts(const std::string& text);

StageSpec stage_spec(const std::vector<LayerRange>& split, int stage);

}  // namespace llmpipe
