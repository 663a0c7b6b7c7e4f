#include "transport/device_link.h"

#include <optional>
#include <sstream>

#include "core/enum_names.h"
#include "core/error.h"
#include "kernels/backend_factory.h"
#include "transport/nccl_link.h"

namespace llmpipe {

namespace {

// An endpoint on the wire: "<gpu> <nccl> <uuid or ->" (UUIDs are hex and dashes).
Bytes encode_endpoint(const HopEndpoint& e) {
  const std::string s =
      cat(e.gpu ? 1 : 0, " ", e.nccl ? 1 : 0, " ", e.device_uuid.empty() ? "-" : e.device_uuid);
  const auto* b = reinterpret_cast<const std::byte*>(s.data());
  return Bytes(b, b + s.size());
}

HopEndpoint decode_endpoint(const Bytes& bytes, int from) {
  std::istringstream in(std::string(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  int gpu = -1, nccl = -1;
  std::string uuid;
  if (!(in >> gpu >> nccl >> uuid) || gpu < 0 || gpu > 1 || nccl < 0 || nccl > 1)
    fail("malformed hop setup message from rank ", from,
         ": the ranks run different llmpipe builds?");
  return {gpu == 1, nccl == 1, uuid == "-" ? std::string() : uuid};
}

std::string hop_name(int from) {
  return cat("hop ", from, " -> ", from + 1);
}

constexpr EnumName<HopTransport> kHopTransports[] = {
    {HopTransport::Auto, "auto"}, {HopTransport::Mpi, "mpi"}, {HopTransport::Nccl, "nccl"}};

}  // namespace

HopTransport hop_transport_from_name(const std::string& name) {
  return enum_from_name<HopTransport>(kHopTransports, name, "hop transport");
}

const char* hop_transport_name(HopTransport mode) {
  return enum_name<HopTransport>(kHopTransports, mode);
}

HopEndpoint hop_endpoint(Backend& backend) {
  HopEndpoint e;
  if (auto uuid = gpu_uuid(backend)) {
    e.gpu = true;
    e.device_uuid = *uuid;
    e.nccl = nccl_available();
  }
  return e;
}

HopDecision decide_hop(HopTransport mode, int from, const HopEndpoint& up, const HopEndpoint& down,
                       DType hop_type) {
  if (mode == HopTransport::Mpi) return {false, "MPI through host memory (--hop-transport mpi)"};
  std::string why_not;
  if (!up.gpu || !down.gpu)
    why_not = cat("rank ", up.gpu ? from + 1 : from, " keeps its activations in host memory",
                  " (NCCL needs both ends on a GPU)");
  else if (up.device_uuid == down.device_uuid)
    why_not = cat("both ranks use ", up.device_uuid,
                  " (NCCL needs distinct GPUs: give each rank its own)");
  else if (!up.nccl || !down.nccl)
    why_not = cat("rank ", up.nccl ? from + 1 : from, " cannot load the NCCL library (",
                  nccl_library_name(), ")");
  else if (hop_type != DType::F32)
    why_not = cat("--hop-type ", dtype_name(hop_type), " converts activations on the host");
  if (why_not.empty()) return {true, cat("NCCL, ", up.device_uuid, " -> ", down.device_uuid)};
  if (mode == HopTransport::Nccl)
    fail("--hop-transport nccl: ", hop_name(from), " cannot use NCCL: ", why_not,
         "; use --hop-transport auto (NCCL where possible) or mpi");
  return {false, cat("MPI through host memory: ", why_not)};
}

StageLinks connect_stage_links(Transport& t, HopTransport mode, DType hop_type,
                               Backend& input_backend, Backend& output_backend) {
  StageLinks links;
  if (mode == HopTransport::Mpi || t.size() == 1) {
    if (t.size() > 1)
      links.describe = "activation hops: MPI through host memory (--hop-transport mpi)";
    return links;
  }
  const int r = t.rank();
  const bool has_prev = r > 0, has_next = r + 1 < t.size();
  const HopEndpoint in = hop_endpoint(input_backend), out = hop_endpoint(output_backend);
  if (has_prev) t.send(r - 1, Channel::Setup, encode_endpoint(in));
  if (has_next) t.send(r + 1, Channel::Setup, encode_endpoint(out));
  std::optional<HopDecision> from_prev, to_next;
  // Decide both hops before creating either link, so that a refused hop fails on both of its
  // ranks before any rank waits in a link's setup.
  if (has_prev)
    from_prev = decide_hop(mode, r - 1, decode_endpoint(t.recv(r - 1, Channel::Setup), r - 1), in,
                           hop_type);
  if (has_next)
    to_next =
        decide_hop(mode, r, out, decode_endpoint(t.recv(r + 1, Channel::Setup), r + 1), hop_type);
  // Pipeline order: the link with the previous rank first. Rank 0 sets up hop 0 -> 1 while rank
  // 1 does the same, then rank 1 goes on to hop 1 -> 2 with rank 2, and so on.
  if (from_prev) {
    if (from_prev->nccl) links.prev = make_nccl_link(t, r - 1, NcclRole::Receiver, input_backend);
    links.describe += cat(hop_name(r - 1), ": ", from_prev->reason);
  }
  if (to_next) {
    if (to_next->nccl) links.next = make_nccl_link(t, r + 1, NcclRole::Sender, output_backend);
    links.describe += cat(links.describe.empty() ? "" : "; ", hop_name(r), ": ", to_next->reason);
  }
  return links;
}

}  // namespace llmpipe
