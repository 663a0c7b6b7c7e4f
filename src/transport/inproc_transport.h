// An in-process transport: the ranks of a pipeline as threads of one process, exchanging byte
// messages through shared queues. It follows the Transport contract exactly (messages in order
// per (source, channel), owned sends, blocking receives), so unit tests can run the real stage
// runtime and scheduler with several stages without launching MPI.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>

#include "transport/transport.h"

namespace llmpipe {

// What the ranks of one in-process world share. Create one, then a transport per rank.
class InProcWorld {
 public:
  explicit InProcWorld(int size);
  int size() const { return size_; }
  std::unique_ptr<Transport> transport(int rank);

 private:
  friend class InProcTransport;
  using Key = std::tuple<int, int, Channel>;  // (destination, source, channel)
  void push(Key key, Bytes bytes);
  Bytes pop(Key key);
  void barrier();
  [[noreturn]] void abort(int rank, int code);

  int size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<Key, std::deque<Bytes>> queues_;
  int barrier_waiting_ = 0;
  uint64_t barrier_generation_ = 0;
  bool aborted_ = false;
  std::string abort_reason_;
};

}  // namespace llmpipe
