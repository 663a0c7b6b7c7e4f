// Activations between two GPU stages straight from device memory to device memory (NCCL
// send/receive on the stages' CUDA streams), instead of device -> host -> MPI -> host -> device.
// Only the activations take this path: the batch header (positions, slots, sampling), tokens,
// statistics and shutdown stay on the Transport, which also carries the links' setup.
//
// Each hop s -> s+1 is decided on its own, identically by both of its ranks, from what each end
// offers (HopEndpoint): NCCL when both ends keep activations on a GPU, on distinct GPUs (NCCL
// refuses two ranks of one communicator on one device), with F32 hops and an NCCL library that
// loads; otherwise the host path. `--hop-transport` overrides: `mpi` never uses NCCL, `nccl`
// fails at start, on both ranks, naming the reason a hop cannot use it. Every hop has its own
// two-rank communicator, so ranks that share a GPU do not keep the other hops off NCCL.
#pragma once

#include <memory>
#include <string>

#include "core/dtype.h"
#include "kernels/backend.h"
#include "transport/transport.h"

namespace llmpipe {

enum class HopTransport { Auto, Mpi, Nccl };

// "auto", "mpi" or "nccl"; anything else fails naming the accepted ones.
HopTransport hop_transport_from_name(const std::string& name);
const char* hop_transport_name(HopTransport mode);

// One end of a hop: where its activations live.
struct HopEndpoint {
  bool gpu = false;   // the stage's input (downstream end) or output (upstream end) is on a GPU
  bool nccl = false;  // the NCCL library loaded in this process
  std::string device_uuid;  // that GPU's UUID ("GPU-..."); "" when !gpu
};

// The endpoint of `backend` in this process (its device when it is a GPU backend).
HopEndpoint hop_endpoint(Backend& backend);

struct HopDecision {
  bool nccl = false;
  std::string reason;  // why this path: printed in the rank logs
};

// The path of the hop from rank `from` (endpoint `up`) to rank from + 1 (`down`). Both ranks of
// a hop call it with the same arguments and get the same answer. Throws, for mode Nccl, when
// the hop cannot use NCCL, saying why and what to change.
HopDecision decide_hop(HopTransport mode, int from, const HopEndpoint& up, const HopEndpoint& down,
                       DType hop_type);

// One established device-to-device link (one end of it).
class DeviceLink {
 public:
  virtual ~DeviceLink() = default;
  // Upstream end: queues `src` (F32, in device memory) for the peer on the backend's stream;
  // returns at once. The stream runs nothing after it until the peer has received it.
  virtual void send(TensorView src) = 0;
  // Downstream end: queues the receive into `dst` (F32, device memory, the shape sent) on the
  // backend's stream; work queued after it on that stream sees the data.
  virtual void recv(TensorView dst) = 0;
};

// This rank's links: to the previous stage (this rank receives) and to the next (it sends);
// null where that hop takes the host path (or there is no such neighbour).
struct StageLinks {
  std::unique_ptr<DeviceLink> prev, next;
  std::string describe;  // one line per hop this rank is an end of, for the rank log
};

// Collective over the pipeline: every rank calls it once at start, before the first batch,
// with its stage's input and output backends (they differ when layers are offloaded).
// Exchanges endpoints with the neighbours on Channel::Setup, decides each hop, then creates
// the NCCL links in pipeline order (so that no two ranks wait on each other).
StageLinks connect_stage_links(Transport& transport, HopTransport mode, DType hop_type,
                               Backend& input_backend, Backend& output_backend);

}  // namespace llmpipe
