// The subcommands of the llmpipe CLI. Each registers its options and its action on the app.
#pragma once

#include <CLI/CLI.hpp>

namespace llmpipe::app {

void register_generate(CLI::App& app);
void register_info(CLI::App& app);

// The model used when -m is not given: the bundled stories260K (overridable with LLMPIPE_MODEL).
std::string default_model_path();

}  // namespace llmpipe::app
