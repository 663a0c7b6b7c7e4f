// libFuzzer: a zip archive's central directory (torch.save checkpoints).
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "core/error.h"
#include "formats/hf/zip_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    for (const auto& e : llmpipe::hf::parse_zip_directory({data, size}, "fuzz"))
      if (e.data_offset > size || e.compressed_size > size - e.data_offset) std::abort();
  } catch (const llmpipe::Error&) {
  }
  return 0;
}
