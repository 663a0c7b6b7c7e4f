// The subcommands of the llmpipe CLI. Each registers its options and its action on the app.
#pragma once

#include <CLI/CLI.hpp>

namespace llmpipe::app {

void register_convert(CLI::App& app);
void register_generate(CLI::App& app);
void register_info(CLI::App& app);
void register_synth(CLI::App& app);
void register_quantize(CLI::App& app);
void register_bench(CLI::App& app);
void register_perplexity(CLI::App& app);
void register_tokenize(CLI::App& app);
// MPI is initialized (from argc/argv) only when `run` actually runs, after parsing and --help.
void register_run(CLI::App& app, int* argc, char*** argv);

// The model used when -m is not given: the bundled stories260K (overridable with LLMPIPE_MODEL).
std::string default_model_path();

}  // namespace llmpipe::app
