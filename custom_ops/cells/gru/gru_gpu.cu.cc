// The fused GRU on the GPU: the shared GPU walks instantiated for its
// cell, entered in the C ABI as gru.
#include "cells/gru/gru_cell_gpu.h"
#include "gpu/capi_cells.h"
#include "gpu/entries.h"

TFRNN_INSTANTIATE_GPU_CELL(::tfrnn::gru::GpuCell)

namespace tfrnn {
namespace gru {
namespace {

constexpr const char* kNames[] = {"gru"};
const bool registered =
    gpu::RegisterCapiCell<gpu::NoOptions<GpuCell>>(kNames);

}  // namespace
}  // namespace gru
}  // namespace tfrnn
