#include "transport/nccl_link.h"

#include "core/error.h"

#ifdef LLMPIPE_HAVE_CUDA
#include <dlfcn.h>

#include <cstring>
#include <string>

#include <nccl.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/cuda_backend.h"
#endif

namespace llmpipe {

#ifndef LLMPIPE_HAVE_CUDA

bool nccl_available() {
  return false;
}
const char* nccl_library_name() {
  return "none: llmpipe was built without CUDA";
}
std::unique_ptr<DeviceLink> make_nccl_link(Transport&, int, NcclRole, Backend&) {
  fail("NCCL hops need a CUDA build of llmpipe (-DLLMPIPE_CUDA=ON)");
}

#else

namespace {

constexpr const char* kLibrary = "libnccl.so.2";

// The NCCL entry points used here, resolved from the library once per process.
struct NcclApi {
  decltype(&ncclGetUniqueId) get_unique_id = nullptr;
  decltype(&ncclCommInitRank) comm_init_rank = nullptr;
  decltype(&ncclCommDestroy) comm_destroy = nullptr;
  decltype(&ncclSend) send = nullptr;
  decltype(&ncclRecv) recv = nullptr;
  decltype(&ncclGetErrorString) error_string = nullptr;
  std::string load_error;  // empty: loaded

  NcclApi() {
    void* lib = dlopen(kLibrary, RTLD_NOW | RTLD_LOCAL);  // kept open for the process
    if (!lib) {
      const char* e = dlerror();
      load_error = e ? e : "dlopen failed";
      return;
    }
    bool ok = true;
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn) {
        ok = false;
        load_error = cat(kLibrary, " has no ", name, " (NCCL older than 2.7?)");
      }
    };
    sym(get_unique_id, "ncclGetUniqueId");
    sym(comm_init_rank, "ncclCommInitRank");
    sym(comm_destroy, "ncclCommDestroy");
    sym(send, "ncclSend");
    sym(recv, "ncclRecv");
    sym(error_string, "ncclGetErrorString");
    if (!ok) get_unique_id = nullptr;
  }
  bool loaded() const { return load_error.empty(); }
};

const NcclApi& nccl() {
  static const NcclApi api;
  return api;
}

}  // namespace

// NCCL's counterpart of CUDA_CHECK (kernels/cuda/check.h): the call, NCCL's message (from the
// loaded library), file and line.
#define NCCL_CHECK(call)                                                                 \
  do {                                                                                   \
    const ncclResult_t llmpipe_nr_ = (call);                                             \
    if (llmpipe_nr_ != ncclSuccess)                                                      \
      ::llmpipe::cuda::throw_cuda_error(#call, "NCCL", nccl().error_string(llmpipe_nr_), \
                                        int(llmpipe_nr_), __FILE__, __LINE__);           \
  } while (0)

namespace {

class NcclLink final : public DeviceLink {
 public:
  NcclLink(Transport& t, int peer, NcclRole role, Backend& backend) {
    const auto device = cuda_backend_device(backend);
    stream_ = static_cast<cudaStream_t>(cuda_backend_stream(backend));
    if (!device || !stream_) fail("an NCCL link needs a CUDA backend, not ", backend.name());
    device_ = *device;
    const NcclApi& api = nccl();
    if (!api.loaded()) fail("cannot load NCCL: ", api.load_error);
    ncclUniqueId id;
    if (role == NcclRole::Sender) {
      NCCL_CHECK(api.get_unique_id(&id));
      const auto* b = reinterpret_cast<const std::byte*>(&id);
      t.send(peer, Channel::Setup, Bytes(b, b + sizeof id));
    } else {
      const Bytes b = t.recv(peer, Channel::Setup);
      if (b.size() != sizeof id)
        fail("NCCL setup: ", b.size(), " bytes of communicator id from rank ", peer, ", expected ",
             sizeof id, " (the ranks run different NCCL versions?)");
      std::memcpy(&id, b.data(), sizeof id);
    }
    // In the two-rank communicator the sender is rank 0 and the receiver rank 1.
    peer_ = role == NcclRole::Sender ? 1 : 0;
    CUDA_CHECK(cudaSetDevice(device_));
    NCCL_CHECK(api.comm_init_rank(&comm_, 2, id, 1 - peer_));
  }
  ~NcclLink() override {
    if (comm_) nccl().comm_destroy(comm_);
  }
  NcclLink(const NcclLink&) = delete;
  NcclLink& operator=(const NcclLink&) = delete;

  void send(TensorView src) override {
    check_f32(src, "send");
    CUDA_CHECK(cudaSetDevice(device_));
    NCCL_CHECK(
        nccl().send(src.data, size_t(src.rows * src.cols), ncclFloat32, peer_, comm_, stream_));
  }
  void recv(TensorView dst) override {
    check_f32(dst, "receive");
    CUDA_CHECK(cudaSetDevice(device_));
    NCCL_CHECK(
        nccl().recv(dst.data, size_t(dst.rows * dst.cols), ncclFloat32, peer_, comm_, stream_));
  }

 private:
  static void check_f32(TensorView t, const char* what) {
    if (t.dtype != DType::F32)
      fail("NCCL ", what, ": activations must be f32, not ", dtype_name(t.dtype));
  }
  ncclComm_t comm_ = nullptr;
  cudaStream_t stream_ = nullptr;
  int device_ = 0;
  int peer_ = 0;
};

}  // namespace

bool nccl_available() {
  return nccl().loaded();
}
const char* nccl_library_name() {
  return kLibrary;
}

std::unique_ptr<DeviceLink> make_nccl_link(Transport& transport, int peer, NcclRole role,
                                           Backend& backend) {
  return std::make_unique<NcclLink>(transport, peer, role, backend);
}

#endif  // LLMPIPE_HAVE_CUDA

}  // namespace llmpipe
