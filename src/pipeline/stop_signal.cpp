#include "pipeline/stop_signal.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>

namespace llmpipe {

namespace {

std::atomic<int> g_stop{0};
int g_rank = 0;

// Only async-signal-safe calls in here: snprintf into a stack buffer (no allocation for these
// formats in glibc) and write(2).
void on_signal(int sig) {
  char msg[200];
  // SIGTERM ends the rank now: Slurm sends it on scancel, at the time limit and to the survivors
  // when a rank dies (--kill-on-bad-exit), when a peer may be gone and waiting would only delay
  // the job's end. Completion lines are already on disk, each written whole.
  if (sig == SIGTERM) {
    const int n = std::snprintf(msg, sizeof msg,
                                "llmpipe run: rank %d: received SIGTERM: exiting now (completed "
                                "records are on disk)\n",
                                g_rank);
    if (n > 0) (void)!::write(STDERR_FILENO, msg, size_t(n));
    ::_exit(128 + sig);
  }
  if (g_stop.exchange(sig) == 0) {
    const int n = std::snprintf(msg, sizeof msg,
                                "llmpipe run: rank %d: received %s: finishing the batch in flight, "
                                "then stopping (signal again to exit at once)\n",
                                g_rank, stop_signal_name(sig));
    if (n > 0) (void)!::write(STDERR_FILENO, msg, size_t(n));
    return;
  }
  const int n =
      std::snprintf(msg, sizeof msg, "llmpipe run: rank %d: received %s again: exiting now\n",
                    g_rank, stop_signal_name(sig));
  if (n > 0) (void)!::write(STDERR_FILENO, msg, size_t(n));
  ::_exit(128 + sig);
}

}  // namespace

void install_stop_handlers(int rank) {
  g_rank = rank;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // MPI and file I/O carry on; the flag is polled between batches
  sigaction(SIGUSR1, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

int stop_requested() {
  return g_stop.load();
}

const char* stop_signal_name(int sig) {
  switch (sig) {
    case SIGUSR1:
      return "SIGUSR1";
    case SIGTERM:
      return "SIGTERM";
    case SIGINT:
      return "SIGINT";
    default:
      return "a signal";
  }
}

}  // namespace llmpipe
