#include "core/nvtx_range.h"

#ifdef LLMPIPE_HAVE_NVTX
#include <nvtx3/nvToolsExt.h>  // header-only: a no-op unless a profiler injects itself
#endif

namespace llmpipe {

#ifdef LLMPIPE_HAVE_NVTX
NvtxRange::NvtxRange(const char* name) { nvtxRangePushA(name); }
NvtxRange::~NvtxRange() { nvtxRangePop(); }
#else
NvtxRange::NvtxRange(const char*) {}
NvtxRange::~NvtxRange() {}
#endif

}  // namespace llmpipe
