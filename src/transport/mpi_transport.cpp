#include "transport/mpi_transport.h"

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "core/error.h"

// Every MPI call goes through this check: an error names the call, file and line. (MPI's default
// handler aborts the job on most errors anyway; this catches the rest with context.)
#define LLMPIPE_MPI(call)                                                  \
  do {                                                                     \
    const int rc_ = (call);                                                \
    if (rc_ != MPI_SUCCESS) {                                              \
      char msg_[MPI_MAX_ERROR_STRING];                                     \
      int len_ = 0;                                                        \
      MPI_Error_string(rc_, msg_, &len_);                                  \
      ::llmpipe::fail(#call, " failed at ", __FILE__, ":", __LINE__, ": ", \
                      std::string(msg_, size_t(len_)));                    \
    }                                                                      \
  } while (0)

namespace llmpipe {

struct MpiTransport::PendingSend {
  Bytes bytes;
  MPI_Request request = MPI_REQUEST_NULL;
};

MpiTransport::MpiTransport(int* argc, char*** argv) {
  int provided = 0;
  LLMPIPE_MPI(MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided));
  LLMPIPE_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  LLMPIPE_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  LLMPIPE_MPI(MPI_Get_processor_name(name, &len));
  host_.assign(name, size_t(len));
}

MpiTransport::~MpiTransport() {
  try {
    reap_sends(true);
  } catch (...) {
  }
  MPI_Finalize();
}

void MpiTransport::send(int dst, Channel ch, Bytes bytes) {
  reap_sends(false);
  if (bytes.size() > size_t(INT32_MAX)) fail("message of ", bytes.size(), " bytes is too large");
  auto p = std::make_unique<PendingSend>();
  p->bytes = std::move(bytes);
  LLMPIPE_MPI(MPI_Isend(p->bytes.data(), int(p->bytes.size()), MPI_BYTE, dst, int(ch),
                        MPI_COMM_WORLD, &p->request));
  pending_.push_back(std::move(p));
}

namespace {
double seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}
const char* channel_name(Channel ch) {
  switch (ch) {
    case Channel::Activations:
      return "activations";
    case Channel::Tokens:
      return "sampled tokens";
    case Channel::Stats:
      return "end-of-run statistics";
    case Channel::Setup:
      return "hop setup";
    case Channel::Heartbeat:
      return "heartbeats";
  }
  return "messages";
}
}  // namespace

Bytes MpiTransport::recv(int src, Channel ch) {
  // Poll in three phases instead of MPI's busy wait. Messages in a busy pipeline arrive within
  // microseconds, so poll hot at first; then yield the core on each poll (ranks may outnumber
  // cores, and a waiting rank must not starve a computing one); after a few milliseconds sleep
  // between polls, with a growing pause, so an idle rank costs next to nothing.
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  if (floor_s_ > 0 && recv_returned_ != Clock::time_point{})
    longest_step_s_ = std::max(longest_step_s_, seconds(t0 - recv_returned_));
  MPI_Status status;
  int ready = 0;
  auto pause = std::chrono::microseconds(20);
  Clock::time_point wait_from = t0, last_poll{};
  for (;;) {
    LLMPIPE_MPI(MPI_Iprobe(src, int(ch), MPI_COMM_WORLD, &ready, &status));
    if (ready) break;
    const auto waited = clock::now() - t0;
    if (waited < std::chrono::microseconds(50)) continue;
    reap_sends(false);
    if (floor_s_ > 0) {  // stall detection: say we are alive, note who else is, check the clock
      const auto now = clock::now();
      // A gap between two polls far beyond their 1 ms pause means this process itself was not
      // running (stopped, swapped out, starved): the silence it sees is its own, so count the
      // others' silence and this wait afresh instead of blaming them.
      if (last_poll != Clock::time_point{} && seconds(now - last_poll) > 1.0) {
        heard_.assign(size_t(size_), now);
        wait_from = now;
      }
      last_poll = now;
      drain_heartbeats();
      beat_if_due(now);
      if (seconds(now - wait_from) > deadline_s()) fail_stalled(src, ch, seconds(now - wait_from));
    }
    if (waited < std::chrono::milliseconds(5)) {
      std::this_thread::yield();
      continue;
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
  int count = 0;
  LLMPIPE_MPI(MPI_Get_count(&status, MPI_BYTE, &count));
  Bytes bytes(static_cast<size_t>(count));
  LLMPIPE_MPI(
      MPI_Recv(bytes.data(), count, MPI_BYTE, src, int(ch), MPI_COMM_WORLD, MPI_STATUS_IGNORE));
  if (floor_s_ > 0) {
    recv_returned_ = clock::now();
    heard_[size_t(src)] = recv_returned_;
  }
  return bytes;
}

void MpiTransport::set_stall_deadline(double floor_s) {
  floor_s_ = floor_s > 0 ? floor_s : 0;
  const auto now = Clock::now();
  heard_.assign(size_t(size_), now);  // silence is counted from arming
  recv_returned_ = {};
  last_beat_ = {};
  longest_step_s_ = 0;
}

double MpiTransport::deadline_s() const {
  return std::max(floor_s_, 10 * longest_step_s_);
}

double MpiTransport::seconds_since_heard(int rank) const {
  if (floor_s_ <= 0 || rank < 0 || rank >= size_ || rank == rank_) return -1;
  return seconds(Clock::now() - heard_[size_t(rank)]);
}

void MpiTransport::drain_heartbeats() {
  for (;;) {
    int ready = 0;
    MPI_Status status;
    LLMPIPE_MPI(
        MPI_Iprobe(MPI_ANY_SOURCE, int(Channel::Heartbeat), MPI_COMM_WORLD, &ready, &status));
    if (!ready) return;
    std::byte beat{};
    LLMPIPE_MPI(MPI_Recv(&beat, 1, MPI_BYTE, status.MPI_SOURCE, int(Channel::Heartbeat),
                         MPI_COMM_WORLD, MPI_STATUS_IGNORE));
    heard_[size_t(status.MPI_SOURCE)] = Clock::now();
  }
}

// A waiting rank tells every other one it is alive, a few times per deadline (at most once a
// second): one byte each, so the cost is nil next to the activations.
void MpiTransport::beat_if_due(Clock::time_point now) {
  const double interval = std::min(1.0, deadline_s() / 4);
  if (last_beat_ != Clock::time_point{} && seconds(now - last_beat_) < interval) return;
  last_beat_ = now;
  for (int r = 0; r < size_; ++r)
    if (r != rank_) send(r, Channel::Heartbeat, Bytes(1));
}

void MpiTransport::fail_stalled(int src, Channel ch, double waited_s) {
  const auto now = Clock::now();
  const double deadline = deadline_s();
  std::string silent;
  for (int r = 0; r < size_; ++r) {
    if (r == rank_ || seconds(now - heard_[size_t(r)]) <= deadline) continue;
    silent += cat(silent.empty() ? "" : ", ", "rank ", r, " (silent ",
                  int64_t(seconds(now - heard_[size_t(r)])), " s)");
  }
  const std::string waited = cat(
      "rank ", rank_, " waited ", int64_t(waited_s), " s for ", channel_name(ch), " from rank ",
      src, " (deadline ", int64_t(deadline), " s: --hop-timeout, or 10x this rank's longest step)");
  if (!silent.empty())
    fail("stalled: ", silent, " of ", size_, " stopped answering (a stopped or hung process, ",
         "a lost node or network), or computes far longer than any step so far; ", waited,
         ". Raise --hop-timeout if this model's steps really take that long.");
  fail("stalled: every rank is alive but none sent what rank ", rank_, " waits for (", waited,
       "): the ranks disagree on the schedule; this is a bug, please report it");
}

void MpiTransport::reap_sends(bool wait_all) {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    if (wait_all) {
      LLMPIPE_MPI(MPI_Wait(&(*it)->request, MPI_STATUS_IGNORE));
      done = 1;
    } else {
      LLMPIPE_MPI(MPI_Test(&(*it)->request, &done, MPI_STATUS_IGNORE));
    }
    it = done ? pending_.erase(it) : std::next(it);
  }
}

void MpiTransport::barrier() {
  MPI_Request request = MPI_REQUEST_NULL;
  LLMPIPE_MPI(MPI_Ibarrier(MPI_COMM_WORLD, &request));
  int done = 0;
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    LLMPIPE_MPI(MPI_Test(&request, &done, MPI_STATUS_IGNORE));
    if (done) return;
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(1000));
  }
}

void MpiTransport::flush() {
  reap_sends(true);
}

void MpiTransport::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; keep the compiler and readers sure of it
}

}  // namespace llmpipe
