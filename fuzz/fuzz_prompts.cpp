// libFuzzer: a prompts file, in llmpipe's form or the OpenAI Batch API's (read_prompts decides
// per file), then the batch output for it with a made-up completion for every other request
// and an error for the rest: the parser and the output writer must never read out of bounds or
// throw anything but Error.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "core/error.h"
#include "pipeline/openai_batch.h"
#include "pipeline/run_io.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(data), size));
  try {
    const llmpipe::PromptFile f = llmpipe::parse_prompts(in);
    std::vector<nlohmann::json> done, failed;
    for (const auto& p : f.prompts) {
      if (p.index % 2 == 0)
        done.push_back({{"id", p.id}, {"completion", p.prompt}, {"prompt_tokens", 3},
                        {"completion_tokens", 2}, {"finish_reason", "stop"}});
      else
        failed.push_back({{"line", p.line}, {"id", p.id}, {"error", "too long"}});
    }
    const auto lines = llmpipe::batch_output_lines(f, done, failed, "model");
    for (const auto& l : lines) (void)l.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } catch (const llmpipe::Error&) {
  }
  return 0;
}
