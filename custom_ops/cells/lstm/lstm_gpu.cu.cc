// The fused LSTM on the GPU: the shared GPU walks instantiated for its
// cell, with its layer norm's, entered in the C ABI as lstm.
#include "cells/lstm/lstm_capi.h"
#include "cells/lstm/lstm_cell_gpu.h"
#include "cells/lstm/lstm_layer_norm_gpu_backward.h"
#include "gpu/entries.h"

TFRNN_INSTANTIATE_GPU_CELL(::tfrnn::lstm::GpuCell)

namespace tfrnn {
namespace gpu {
template size_t LayerNormForwardBytes<float>(const Dims&, bool);
template size_t LayerNormForwardBytes<double>(const Dims&, bool);
template size_t LayerNormBackwardBytes<float>(const Dims&, bool);
template size_t LayerNormBackwardBytes<double>(const Dims&, bool);
}  // namespace gpu

namespace lstm {
namespace {

constexpr const char* kNames[] = {"lstm"};
const bool registered = gpu::RegisterCapiCell<CapiAdapter>(kNames);

}  // namespace
}  // namespace lstm
}  // namespace tfrnn
