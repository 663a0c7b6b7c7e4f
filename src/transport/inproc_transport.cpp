#include "transport/inproc_transport.h"

#include "core/error.h"

namespace llmpipe {

class InProcTransport final : public Transport {
 public:
  InProcTransport(InProcWorld& world, int rank) : world_(world), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return world_.size(); }
  std::string host() const override { return "inproc"; }
  void send(int dst, Channel ch, Bytes bytes) override {
    if (dst < 0 || dst >= size()) fail("send to rank ", dst, " of a world of ", size());
    world_.push({dst, rank_, ch}, std::move(bytes));
  }
  Bytes recv(int src, Channel ch) override {
    if (src < 0 || src >= size()) fail("receive from rank ", src, " of a world of ", size());
    return world_.pop({rank_, src, ch});
  }
  void barrier() override { world_.barrier(); }
  void flush() override {}  // sends are delivered at once
  [[noreturn]] void abort(int code) override { world_.abort(rank_, code); }

 private:
  InProcWorld& world_;
  int rank_;
};

InProcWorld::InProcWorld(int size) : size_(size) {
  if (size < 1) fail("an in-process world needs at least one rank, got ", size);
}

std::unique_ptr<Transport> InProcWorld::transport(int rank) {
  if (rank < 0 || rank >= size_) fail("rank ", rank, " outside a world of ", size_);
  return std::make_unique<InProcTransport>(*this, rank);
}

void InProcWorld::push(Key key, Bytes bytes) {
  {
    std::lock_guard lock(mutex_);
    queues_[key].push_back(std::move(bytes));
  }
  changed_.notify_all();
}

Bytes InProcWorld::pop(Key key) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return aborted_ || !queues_[key].empty(); });
  if (aborted_) fail("the in-process world was aborted: ", abort_reason_);
  Bytes b = std::move(queues_[key].front());
  queues_[key].pop_front();
  return b;
}

void InProcWorld::barrier() {
  std::unique_lock lock(mutex_);
  const uint64_t generation = barrier_generation_;
  if (++barrier_waiting_ == size_) {
    barrier_waiting_ = 0;
    ++barrier_generation_;
    changed_.notify_all();
    return;
  }
  changed_.wait(lock, [&] { return aborted_ || barrier_generation_ != generation; });
  if (aborted_) fail("the in-process world was aborted: ", abort_reason_);
}

// Like MPI_Abort for threads: every rank blocked in the world wakes with an error, and so does
// the caller (it cannot end the process: the test that owns it must see what happened).
void InProcWorld::abort(int rank, int code) {
  {
    std::lock_guard lock(mutex_);
    if (!aborted_) abort_reason_ = cat("rank ", rank, " aborted with code ", code);
    aborted_ = true;
  }
  changed_.notify_all();
  fail("rank ", rank, " aborted the in-process world (code ", code, ")");
}

}  // namespace llmpipe
