// The NCCL implementation of DeviceLink (device_link.h). NCCL is loaded at run time (dlopen),
// not linked: a CUDA build still starts where NCCL is not installed, and only a hop that needs
// it says so. In a build without CUDA nothing loads and make_nccl_link is never reached.
#pragma once

#include <memory>

#include "kernels/backend.h"
#include "transport/device_link.h"
#include "transport/transport.h"

namespace llmpipe {

enum class NcclRole { Sender, Receiver };  // the upstream and the downstream end of a hop

// Whether this process can use NCCL: a CUDA build, and the library loads (checked once).
bool nccl_available();
// The library loaded (or looked for), and why it did not load if it did not.
const char* nccl_library_name();

// The link with `peer` (the next rank for a Sender, the previous for a Receiver) over a
// two-rank communicator: the Sender creates its id and sends it over Channel::Setup, both ends
// initialise on `backend`'s device and later queue on its stream. Both ranks call it together.
// Throws when NCCL is unavailable or the communicator cannot be created.
std::unique_ptr<DeviceLink> make_nccl_link(Transport& transport, int peer, NcclRole role,
                                           Backend& backend);

}  // namespace llmpipe
