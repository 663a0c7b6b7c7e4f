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

inline DType parse_dtype(const std::string& name) { return *dtype_from_name(name); }

}  // namespace llmpipe::app
