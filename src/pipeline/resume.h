// Resuming a run (--resume): what an earlier, interrupted run of the same job already wrote.
// Its completions.jsonl is kept; a torn last line (a rank killed mid-write, a full disk) is cut
// away and reported; the prompts whose ids have a completion are skipped, the rest run and are
// appended. Ids must then be unique in the prompts file (otherwise "done" is ambiguous).
#pragma once

#include <cstdint>
#include <string>
#include <unordered_set>
#include <vector>

#include "pipeline/run_io.h"

namespace llmpipe {

struct ResumeState {
  std::unordered_set<std::string> done_ids;          // each completion's "id", as JSON text
  int64_t completions = 0;                           // whole lines kept
  int64_t prompt_tokens = 0, completion_tokens = 0;  // summed over those lines
  int64_t torn_bytes = 0;  // bytes of an incomplete last line cut from the file (0: none)
};

// Reads (and, for a torn last line, truncates) `completions_path`; a missing file is a fresh
// start. A malformed line that is not the last one is an Error naming it (the file was edited
// or belongs to another job).
ResumeState load_resume_state(const std::string& completions_path);

// Fails naming the lines of the first ids that appear more than once; `why` says what needs
// them unique ("--resume", "an OpenAI batch file").
void check_unique_ids(const std::vector<PromptRequest>& prompts, const std::string& why);

// The prompts without a completion yet, in file order, each keeping its `index` (its sampling
// stream), so a resumed seeded run samples as an uninterrupted one would.
std::vector<PromptRequest> pending_prompts(std::vector<PromptRequest> prompts,
                                           const ResumeState& state);

}  // namespace llmpipe
