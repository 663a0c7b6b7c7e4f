#include "pipeline/resume.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"

namespace llmpipe {

using nlohmann::json;

ResumeState load_resume_state(const std::string& path) {
  ResumeState s;
  std::ifstream in(path, std::ios::binary);
  if (!in) return s;  // nothing written yet: a fresh start
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string data = buf.str();
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < data.size()) {
    const size_t nl = data.find('\n', pos);
    ++line_no;
    const bool last = nl == std::string::npos || nl + 1 == data.size();
    const std::string line =
        data.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    json r;
    bool ok = nl != std::string::npos;  // a line without its newline was not finished
    if (ok) {
      try {
        r = json::parse(line);
        ok = r.is_object() && r.contains("id");
      } catch (const json::exception&) {
        ok = false;
      }
    }
    if (!ok) {
      if (!last)
        fail(path, " line ", line_no, " is not a completion record (JSON with an \"id\"): ",
             "the file was edited or is another job's; move it away to start afresh");
      s.torn_bytes = int64_t(data.size() - pos);
      if (::truncate(path.c_str(), off_t(pos)) != 0)
        fail("cannot cut the torn last line of ", path, ": ", std::strerror(errno));
      break;
    }
    if (!s.done_ids.insert(r["id"].dump()).second)
      fail(path, " line ", line_no, " repeats id ", r["id"].dump(),
           ": each prompt must have one completion");
    ++s.completions;
    s.prompt_tokens += r.value("prompt_tokens", int64_t(0));
    s.completion_tokens += r.value("completion_tokens", int64_t(0));
    pos = nl + 1;
  }
  return s;
}

void check_unique_ids(const std::vector<PromptRequest>& prompts, const std::string& why) {
  std::map<std::string, std::vector<int64_t>> lines;
  for (const auto& p : prompts) lines[p.id.dump()].push_back(p.line);
  std::string dups;
  int shown = 0;
  for (const auto& [id, at] : lines) {
    if (at.size() < 2) continue;
    if (++shown > 5) {
      dups += ", ...";
      break;
    }
    std::string where;
    for (const int64_t l : at) where += cat(where.empty() ? "" : ", ", l);
    dups += cat(dups.empty() ? "" : "; ", "id ", id, " on lines ", where);
  }
  if (!dups.empty())
    fail(why, " needs a unique id per prompt (\"id\", or a batch request's \"custom_id\": ",
         "completions are matched to prompts by it), but ", dups, ": give those prompts distinct ids");
}

std::vector<PromptRequest> pending_prompts(std::vector<PromptRequest> prompts,
                                           const ResumeState& state) {
  std::vector<PromptRequest> out;
  out.reserve(prompts.size());
  for (auto& p : prompts)
    if (!state.done_ids.count(p.id.dump())) out.push_back(std::move(p));
  return out;
}

}  // namespace llmpipe
