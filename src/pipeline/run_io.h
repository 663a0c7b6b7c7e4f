// The files of a run: prompts in (JSONL), completions, errors and metrics out. Completion and
// error lines are written whole with one write() each and flushed as each prompt finishes, so a
// run that dies leaves only complete lines.
#pragma once

#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace llmpipe {

struct PromptRequest {
  int64_t line = 0;    // 1-based line in the prompts file
  int64_t index = 0;   // 0-based among valid prompts (the sampling stream)
  nlohmann::json id;   // "id" if given, else the line number
  std::string prompt;  // the text, or for `messages` the rendered chat (scheduler's admit)
  // "messages": an OpenAI-style conversation [{role, content}, ...], rendered with the model's
  // chat template (add_generation_prompt) instead of `prompt`.
  std::optional<nlohmann::ordered_json> messages;
  std::vector<std::string> stop;  // "stop": a string or a list; the text ends before one
  std::optional<int64_t> max_new_tokens;
  std::optional<float> temperature, top_p;
  // From an OpenAI batch file (openai_batch.h): the request's url and body.model.
  std::string batch_url, batch_model;
};

struct PromptFile {
  std::vector<PromptRequest> prompts;
  std::vector<nlohmann::json> errors;  // {"line", "error"} for each malformed line
  bool openai_batch = false;  // the lines are OpenAI Batch API requests (decided by the first)
};

// Reads every line; blank lines are skipped, malformed ones become error records. A file is
// either llmpipe's prompts form or an OpenAI batch file, decided by its first line.
PromptFile read_prompts(const std::string& path);
PromptFile parse_prompts(std::istream& in);  // the same, from a stream

// Fills `p` from one request in llmpipe's prompts form ({"prompt" | "messages", "id", "stop",
// "max_new_tokens", "temperature", "top_p"}); returns why it is unusable, or "" when fine.
// `messages`, when given, is the same list parsed with its keys in order (for templates).
std::string prompt_from_json(const nlohmann::json& j, const nlohmann::ordered_json* messages,
                             PromptRequest& p);

// Appends whole JSON lines to a file, flushing each (O_APPEND, one write per line).
class JsonlWriter {
 public:
  enum class Mode { Truncate, Append };  // Append: keep what is there (--resume)
  explicit JsonlWriter(const std::string& path, Mode mode = Mode::Truncate);
  ~JsonlWriter();
  JsonlWriter(const JsonlWriter&) = delete;
  JsonlWriter& operator=(const JsonlWriter&) = delete;
  void write(const nlohmann::json& record);
  int64_t lines() const { return lines_; }

 private:
  std::string path_;
  int fd_ = -1;
  int64_t lines_ = 0;
};

// Writes `value` to path atomically (temporary file + rename).
void write_json_file(const std::string& path, const nlohmann::json& value);
// Writes one line per record to path atomically (temporary file + rename).
void write_jsonl_file(const std::string& path, const std::vector<nlohmann::json>& records);

// Seconds since the Unix epoch (completion records' "created", as OpenAI's objects have it).
int64_t unix_seconds();

}  // namespace llmpipe
