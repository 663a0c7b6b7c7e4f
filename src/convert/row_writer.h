// Streams one tensor into a GGUF writer in chunks of rows: rows are produced as F32 by a callback
// (on several threads), converted to the stored type and written, so memory stays at one chunk
// (a few MiB) however large the tensor.
#pragma once

#include <cstdint>
#include <functional>
#include <span>

#include "core/dtype.h"
#include "core/thread_pool.h"
#include "formats/gguf_writer.h"

namespace llmpipe {

// fill(first_row, dst): dst holds dst.size() / cols consecutive rows starting at first_row.
// Called concurrently from the pool's threads on disjoint rows.
using RowFill = std::function<void(int64_t first_row, std::span<float> dst)>;

// Writes the writer's current tensor, [rows, cols] of `type`; on_chunk(bytes) after each chunk.
void write_tensor_rows(gguf::Writer& writer, DType type, int64_t rows, int64_t cols,
                       ThreadPool& pool, const RowFill& fill,
                       const std::function<void(uint64_t)>& on_chunk = nullptr);

}  // namespace llmpipe
