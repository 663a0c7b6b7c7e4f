// Graceful stop on SIGUSR1, prompt exit on SIGTERM. Slurm sends SIGUSR1 ahead of the time limit
// (sbatch --signal, forwarded by the batch script) and SIGTERM on scancel, at the limit, and to
// the other ranks when one fails. SIGUSR1 only sets a flag that rank 0's scheduler checks between
// batches: it stops admitting work, records the prompts it did not finish in errors.jsonl, shuts
// the pipeline down and writes metrics.json, so every output on disk is whole; a second SIGUSR1
// exits at once. SIGTERM exits at once with a message (completion lines are written whole as
// each prompt finishes, so nothing on disk is torn).
#pragma once

namespace llmpipe {

// Installs the handlers for SIGUSR1 and SIGTERM; `rank` only labels the messages.
void install_stop_handlers(int rank);

// The signal that asked for a stop, or 0.
int stop_requested();

// "SIGUSR1", "SIGTERM", or "signal N".
const char* stop_signal_name(int sig);

// Exit status of a run stopped early, with completed records on disk: EX_TEMPFAIL (75),
// "try again later", distinct from errors (1) and signals (128 + n).
inline constexpr int kStoppedExitCode = 75;

}  // namespace llmpipe
