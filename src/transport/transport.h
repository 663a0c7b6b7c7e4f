// Moving bytes between pipeline ranks. The runtime sends whole messages (a batch's activations,
// sampled tokens, statistics) tagged by channel; a transport delivers them in order per
// (source, tag). Implementations: MPI (processes, nodes) and in-process (unit tests).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace llmpipe {

enum class Channel : int {
  Activations = 1,  // stage s -> s+1: batches and control (shutdown)
  Tokens = 2,       // last stage -> stage 0: sampled tokens
  Stats = 3,        // every rank -> rank 0 at the end: timings for metrics.json
  Setup = 4,        // neighbours, once at start: how their hop carries activations (device_link.h)
  Heartbeat = 5,    // every rank -> every rank while waiting: "still here" (stall detection)
};

using Bytes = std::vector<std::byte>;

class Transport {
 public:
  virtual ~Transport() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string host() const = 0;

  // Starts sending; returns at once. The transport owns `bytes` until delivered.
  virtual void send(int dst, Channel ch, Bytes bytes) = 0;
  // Blocks until the next message on `ch` from `src` arrives; yields the CPU while waiting,
  // so that oversubscribed ranks do not steal each other's cores.
  virtual Bytes recv(int src, Channel ch) = 0;
  // Returns once every rank has called it (yielding the CPU while waiting).
  virtual void barrier() = 0;
  // Waits until every message this rank sent has left (before shutting down).
  virtual void flush() = 0;
  // Ends every rank of the job after an error on this one: no rank is left waiting.
  [[noreturn]] virtual void abort(int code) = 0;

  // Stall detection (the MPI transport; others ignore it). From now on recv() fails with an
  // Error naming the silent rank(s) when it has waited longer than the deadline: the larger of
  // `floor_s` and 10x the longest compute step this rank has taken between two receives (so a
  // slow model is not mistaken for a stall). While waiting, ranks tell each other they are
  // alive (Channel::Heartbeat); a rank silent for the deadline is stalled (SIGSTOP, a hung
  // node, a dead NIC) or computing for longer than its deadline allows. 0 disarms.
  virtual void set_stall_deadline(double /*floor_s*/) {}
  // Seconds since a message (data or heartbeat) last arrived from `rank`; -1 if never or
  // unknown. For the rank log's heartbeat lines.
  virtual double seconds_since_heard(int /*rank*/) const { return -1; }
};

}  // namespace llmpipe
