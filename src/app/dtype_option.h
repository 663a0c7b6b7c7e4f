// Options naming a storage type (f32, f16, bf16, q8_0, q4_0, q4_1, ..., iq4_xs: every DType),
// shared by the commands that write or load models.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace llmpipe::app {

inline std::vector<std::string> dtype_names() {
  std::vector<std::string> names;
  for (int i = 0; i < kDTypeCount; ++i) names.emplace_back(dtype_name(static_cast<DType>(i)));
  return names;
}

inline std::string joined(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

inline CLI::Option* add_dtype_option(CLI::App* cmd, const std::string& name, std::string& value,
                                     const std::string& help) {
  return cmd->add_option(name, value, help + " (" + joined(dtype_names()) + ")")
      ->check(CLI::IsMember(dtype_names()));
}

// --dtype of the commands that load a model: keep, or a type to convert the matrices to at load
// (with the row quantizers of `llmpipe quantize`; a matrix whose rows are not whole blocks of
// the type stays as stored). `help_suffix` names a config key (run).
// Values: model/converting_tensor_source.h.
inline std::vector<std::string> load_dtype_names() {
  auto names = dtype_names();
  names.insert(names.begin(), "keep");
  return names;
}
inline std::string load_dtype_help(const std::string& help_suffix = "") {
  return "Weights at load: keep (as stored) or a type for the matrices, " + joined(dtype_names()) +
         " (norms stay f32; matrices whose rows are not whole blocks of the type stay as stored)" +
         help_suffix;
}
inline CLI::Option* add_load_dtype_option(CLI::App* cmd, std::string& value,
                                          const std::string& help_suffix = "") {
  return cmd->add_option("--dtype", value, load_dtype_help(help_suffix))
      ->check(CLI::IsMember(load_dtype_names()));
}

inline DType parse_dtype(const std::string& name) { return *dtype_from_name(name); }

}  // namespace llmpipe::app
