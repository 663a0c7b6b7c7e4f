// The MPI transport. MPI is the distributed engine: shared memory within a node, the fabric
// (InfiniBand/UCX, TCP) across nodes, and launch by mpirun or by Slurm's srun (PMIx).
// MpiTransport initializes MPI on construction and finalizes it on destruction (RAII); a plain
// process without a launcher is a world of one.
#pragma once

#include <chrono>
#include <list>
#include <memory>
#include <vector>

#include "transport/transport.h"

namespace llmpipe {

class MpiTransport final : public Transport {
 public:
  MpiTransport(int* argc, char*** argv);
  ~MpiTransport() override;
  MpiTransport(const MpiTransport&) = delete;
  MpiTransport& operator=(const MpiTransport&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string host() const override { return host_; }
  void send(int dst, Channel ch, Bytes bytes) override;
  Bytes recv(int src, Channel ch) override;
  void barrier() override;
  void flush() override;
  [[noreturn]] void abort(int code) override;
  void set_stall_deadline(double floor_s) override;
  double seconds_since_heard(int rank) const override;

 private:
  using Clock = std::chrono::steady_clock;
  struct PendingSend;
  void reap_sends(bool wait_all);
  void drain_heartbeats();
  void beat_if_due(Clock::time_point now);
  double deadline_s() const;
  [[noreturn]] void fail_stalled(int src, Channel ch, double waited_s);

  int rank_ = 0, size_ = 1;
  std::string host_;
  std::list<std::unique_ptr<PendingSend>> pending_;
  // Stall detection: armed when floor_s_ > 0.
  double floor_s_ = 0;
  double longest_step_s_ = 0;             // longest gap between a recv returning and the next
  Clock::time_point recv_returned_{};     // when the last recv returned
  Clock::time_point last_beat_{};         // when this rank last sent heartbeats
  std::vector<Clock::time_point> heard_;  // [size_] last message from each rank
};

}  // namespace llmpipe
