#include "transport/mpi_transport.h"

#include <mpi.h>

#include <chrono>
#include <thread>

#include "core/error.h"

// Every MPI call goes through this check: an error names the call, file and line. (MPI's default
// handler aborts the job on most errors anyway; this catches the rest with context.)
#define LLMPIPE_MPI(call)                                                                    \
  do {                                                                                       \
    const int rc_ = (call);                                                                  \
    if (rc_ != MPI_SUCCESS) {                                                                \
      char msg_[MPI_MAX_ERROR_STRING];                                                       \
      int len_ = 0;                                                                          \
      MPI_Error_string(rc_, msg_, &len_);                                                    \
      ::llmpipe::fail(#call, " failed at ", __FILE__, ":", __LINE__, ": ", std::string(msg_, size_t(len_))); \
    }                                                                                        \
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

Bytes MpiTransport::recv(int src, Channel ch) {
  // Poll in three phases instead of MPI's busy wait. Messages in a busy pipeline arrive within
  // microseconds, so poll hot at first; then yield the core on each poll (ranks may outnumber
  // cores, and a waiting rank must not starve a computing one); after a few milliseconds sleep
  // between polls, with a growing pause, so an idle rank costs next to nothing.
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  MPI_Status status;
  int ready = 0;
  auto pause = std::chrono::microseconds(20);
  for (;;) {
    LLMPIPE_MPI(MPI_Iprobe(src, int(ch), MPI_COMM_WORLD, &ready, &status));
    if (ready) break;
    const auto waited = clock::now() - t0;
    if (waited < std::chrono::microseconds(50)) continue;
    reap_sends(false);
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
  LLMPIPE_MPI(MPI_Recv(bytes.data(), count, MPI_BYTE, src, int(ch), MPI_COMM_WORLD,
                       MPI_STATUS_IGNORE));
  return bytes;
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

void MpiTransport::flush() { reap_sends(true); }

void MpiTransport::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);  // MPI_Abort does not return; keep the compiler and readers sure of it
}

}  // namespace llmpipe
