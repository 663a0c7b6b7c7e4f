// libFuzzer: a data.pkl stream for the safe unpickler.
#include <cstddef>
#include <cstdint>

#include "core/error.h"
#include "formats/hf/pickle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    llmpipe::hf::unpickle({data, size}, "fuzz");
  } catch (const llmpipe::Error&) {
  }
  return 0;
}
