// llmpipe: pipeline-parallel LLM inference. Entry point; the commands live in cmd_*.cpp.
#include <cstdio>
#include <cstdlib>

#include "app/commands.h"
#include "core/error.h"

int main(int argc, char** argv) {
  CLI::App app{"llmpipe: run LLaMA-family models across processes and nodes by pipeline parallelism"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "llmpipe 0.1.0");
  llmpipe::app::register_convert(app);
  llmpipe::app::register_generate(app);
  llmpipe::app::register_info(app);
  llmpipe::app::register_synth(app);
  llmpipe::app::register_quantize(app);
  llmpipe::app::register_bench(app);
  llmpipe::app::register_perplexity(app);
  llmpipe::app::register_tokenize(app);
  llmpipe::app::register_run(app, &argc, &argv);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Error& e) {
    return app.exit(e);
  } catch (const llmpipe::Error& e) {
    std::fprintf(stderr, "llmpipe: error: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "llmpipe: internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
