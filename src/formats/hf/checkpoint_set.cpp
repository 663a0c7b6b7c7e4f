#include "formats/hf/checkpoint_set.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "formats/hf/safetensors.h"
#include "formats/hf/torch_checkpoint.h"

namespace llmpipe::hf {

namespace fs = std::filesystem;

std::string_view checkpoint_format_name(CheckpointFormat f) {
  return f == CheckpointFormat::Safetensors ? "safetensors" : "PyTorch";
}

std::map<std::string, std::string, std::less<>> read_weight_index(const std::string& path) {
  std::ifstream f(path);
  if (!f) fail("cannot open ", path);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(f);
  } catch (const nlohmann::json::exception& e) {
    fail(path, ": not valid JSON: ", e.what());
  }
  if (!j.is_object() || !j.contains("weight_map") || !j["weight_map"].is_object())
    fail(path, ": missing field weight_map (an object {tensor: shard file})");
  const fs::path dir = fs::path(path).parent_path();
  std::map<std::string, std::string, std::less<>> map;
  std::set<std::string> checked;
  for (const auto& [tensor, shard] : j["weight_map"].items()) {
    if (!shard.is_string()) fail(path, ": weight_map entry of ", tensor, " is not a file name");
    const std::string name = shard.get<std::string>();
    const fs::path rel(name);
    if (name.empty() || rel.is_absolute() ||
        std::any_of(rel.begin(), rel.end(), [](const fs::path& p) { return p == ".."; }))
      fail(path, ": weight_map entry of ", tensor, " names '", name,
           "', not a file inside the model directory");
    const std::string full = (dir / rel).string();
    if (checked.insert(full).second) {
      std::error_code ec;
      if (!fs::is_regular_file(full, ec))
        fail(path, ": missing shard ", name, " (the index maps tensor ", tensor, " to it)");
    }
    map[tensor] = full;
  }
  if (map.empty()) fail(path, ": weight_map is empty");
  return map;
}

CheckpointSet CheckpointSet::open(const std::string& dir) {
  CheckpointSet s;
  const fs::path d(dir);
  std::error_code ec;
  auto has = [&](const char* name) { return fs::is_regular_file(d / name, ec); };
  if (has("model.safetensors.index.json")) {
    s.origin_ = (d / "model.safetensors.index.json").string();
    s.weight_map_ = read_weight_index(s.origin_);
  } else if (has("model.safetensors")) {
    s.origin_ = s.single_file_ = (d / "model.safetensors").string();
  } else if (has("pytorch_model.bin.index.json")) {
    s.format_ = CheckpointFormat::Torch;
    s.origin_ = (d / "pytorch_model.bin.index.json").string();
    s.weight_map_ = read_weight_index(s.origin_);
  } else if (has("pytorch_model.bin")) {
    s.format_ = CheckpointFormat::Torch;
    s.origin_ = s.single_file_ = (d / "pytorch_model.bin").string();
  } else {
    fail("model directory ", dir, " holds no weights: expected model.safetensors, "
         "model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json");
  }
  return s;
}

std::vector<std::string> CheckpointSet::shard_files() const {
  if (!single_file_.empty()) return {single_file_};
  std::set<std::string> files;
  for (const auto& [t, f] : weight_map_) files.insert(f);
  return {files.begin(), files.end()};
}

const CheckpointSet::Shard& CheckpointSet::shard(const std::string& file) const {
  std::lock_guard lock(*mutex_);
  if (auto it = opened_.find(file); it != opened_.end()) return *it->second;
  auto sh = std::make_unique<Shard>();
  std::vector<CheckpointTensor> tensors = format_ == CheckpointFormat::Safetensors
                                              ? read_safetensors(file).tensors
                                              : read_torch_checkpoint(file);
  for (auto& t : tensors) {
    const std::string name = t.name;
    if (!sh->emplace(name, std::move(t)).second) fail(file, ": tensor ", name, " appears twice");
  }
  // Every tensor the index places in this shard must be there.
  for (const auto& [tensor, f] : weight_map_)
    if (f == file && !sh->count(tensor))
      fail(origin_, " maps tensor ", tensor, " to ", fs::path(file).filename().string(),
           ", which does not hold it");
  return *opened_.emplace(file, std::move(sh)).first->second;
}

const CheckpointTensor* CheckpointSet::find(std::string_view name) const {
  std::string file = single_file_;
  if (file.empty()) {
    const auto it = weight_map_.find(name);
    if (it == weight_map_.end()) return nullptr;
    file = it->second;
  }
  const Shard& sh = shard(file);
  const auto it = sh.find(name);
  return it == sh.end() ? nullptr : &it->second;
}

std::vector<std::string> CheckpointSet::names() const {
  std::vector<std::string> out;
  if (single_file_.empty()) {
    for (const auto& [t, f] : weight_map_) out.push_back(t);
  } else {
    for (const auto& [t, info] : shard(single_file_)) out.push_back(t);
  }
  return out;
}

std::vector<std::string> CheckpointSet::opened_files() const {
  std::lock_guard lock(*mutex_);
  std::vector<std::string> out;
  for (const auto& [file, shard] : opened_) out.push_back(file);
  return out;
}

size_t CheckpointSet::shards_opened() const {
  std::lock_guard lock(*mutex_);
  return opened_.size();
}

}  // namespace llmpipe::hf
