// A whole pipeline run on one rank: validate, map this rank's layers, then rank 0 schedules
// prompts and writes the outputs while other ranks serve batches; at the end every rank's
// timings are gathered into metrics.json. The same code runs for P = 1 (no messages at all).
#pragma once

#include "pipeline/run_config.h"
#include "transport/transport.h"

namespace llmpipe {

// Checks that all ranks agree on are done before any weight is loaded; an error there is the
// same on every rank. Returns the process exit code.
int run_pipeline(Transport& transport, RunConfig config);

}  // namespace llmpipe
