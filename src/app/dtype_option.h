// A --type option naming a storage type (f32, f16, bf16, q8_0, q4_0), shared by the commands
// that write models.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "core/dtype.h"

namespace llmpipe::app {

inline CLI::Option* add_dtype_option(CLI::App* cmd, const std::string& name, std::string& value,
                                     const std::string& help) {
  return cmd->add_option(name, value, help + " (f32, f16, bf16, q8_0, q4_0)")
      ->check(CLI::IsMember({"f32", "f16", "bf16", "q8_0", "q4_0"}));
}

// --dtype of the commands that load a model: keep, or a type to convert the matrices to at load.
// `help_suffix` names a config key (run). Values: model/converting_tensor_source.h.
inline CLI::Option* add_load_dtype_option(CLI::App* cmd, std::string& value,
                                          const std::string& help_suffix = "") {
  return cmd
      ->add_option("--dtype", value,
                   "Weights at load: keep (as stored), f32, f16, bf16, q8_0 or q4_0 (matrices; "
                   "norms stay f32)" + help_suffix)
      ->check(CLI::IsMember({"keep", "f32", "f16", "bf16", "q8_0", "q4_0"}));
}

inline DType parse_dtype(const std::string& name) { return *dtype_from_name(name); }

}  // namespace llmpipe::app
