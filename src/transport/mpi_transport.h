// The MPI transport. MPI is the distributed engine: shared memory within a node, the fabric
// (InfiniBand/UCX, TCP) across nodes, and launch by mpirun or by Slurm's srun (PMIx).
// MpiTransport initializes MPI on construction and finalizes it on destruction (RAII); a plain
// process without a launcher is a world of one.
#pragma once

#include <list>
#include <memory>

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

 private:
  struct PendingSend;
  void reap_sends(bool wait_all);

  int rank_ = 0, size_ = 1;
  std::string host_;
  std::list<std::unique_ptr<PendingSend>> pending_;
};

}  // namespace llmpipe
