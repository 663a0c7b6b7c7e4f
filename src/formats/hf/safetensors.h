// safetensors (https://github.com/huggingface/safetensors): an 8-byte little-endian header
// length N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__":
// {str: str}}, then the data region; offsets are relative to its start. Only the header is read
// here; tensors are mapped one by one later. Every inconsistency is an Error naming the file and
// the tensor: header length vs file size, offsets outside the data region, sizes that disagree
// with dtype x shape, overlapping tensors or holes (the spec forbids both).
#pragma once

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "formats/hf/checkpoint_tensor.h"

namespace llmpipe::hf {

struct SafetensorsHeader {
  std::vector<CheckpointTensor> tensors;  // in data order
  std::map<std::string, std::string> metadata;
};

// The spec's limit on the JSON header (100 MB).
inline constexpr uint64_t kMaxSafetensorsHeader = 100'000'000;

// Parses a header: `json` is the N header bytes, `data_size` the bytes that follow it and
// `data_start` (= 8 + N) their absolute offset in `file`. Pure function of its inputs (fuzzed).
SafetensorsHeader parse_safetensors_header(std::span<const uint8_t> json, uint64_t data_start,
                                           uint64_t data_size, const std::string& file);

// Reads and parses the header of a .safetensors file (8 + N bytes are read, nothing more).
SafetensorsHeader read_safetensors(const std::string& path);

}  // namespace llmpipe::hf
