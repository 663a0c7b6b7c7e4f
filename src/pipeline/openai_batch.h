// OpenAI Batch API files (as `vllm run-batch` reads and writes them), beside our own prompts
// format. An input line is
//   {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions" | "/v1/completions",
//    "body": {"model": ..., "messages": [...] | "prompt": "...", "max_tokens": N, ...}}
// and becomes a PromptRequest whose id is the custom_id. After the run, batch_output.jsonl holds
// one line per input line, in input order, in the Batch API's output form: the response (a
// chat.completion or text_completion object) or the error of that request.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pipeline/run_io.h"

namespace llmpipe {

// True when a parsed prompts line is a Batch API request (it has "custom_id").
bool is_batch_request(const nlohmann::json& line);

// Fills `p` from a Batch API request line; returns why the line is unusable, or "" when fine.
// Body fields without an equivalent here (n > 1, stream, logprobs, tools, ...) are refused by
// name, not ignored: the output would not be what the request asked for. `ordered`, when given,
// is the same line parsed with its keys in order (templates' tojson writes them so).
std::string parse_batch_request(const nlohmann::json& line, PromptRequest& p,
                                const nlohmann::ordered_json* ordered = nullptr);

// The Batch API output lines for every request of `prompts` (input order): a completion record
// (completions.jsonl's form, keyed by id) becomes a 200 response; an error record (errors.jsonl's
// form, with "line") an error. `model` names the model where a request gave none.
std::vector<nlohmann::json> batch_output_lines(const PromptFile& prompts,
                                               const std::vector<nlohmann::json>& completions,
                                               const std::vector<nlohmann::json>& errors,
                                               const std::string& model);

// Reads completions.jsonl and errors.jsonl of `output_dir` and writes its batch_output.jsonl
// (atomically: temporary file + rename).
void write_batch_output(const std::string& output_dir, const PromptFile& prompts,
                        const std::string& model);

}  // namespace llmpipe
