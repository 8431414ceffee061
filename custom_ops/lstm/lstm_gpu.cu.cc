// The fused LSTM on the GPU: the shared GPU walks instantiated for its
// cell, with its layer norm's.
#include "common/gpu_entries.h"
#include "lstm/lstm_cell_gpu.h"
#include "lstm/lstm_layer_norm_gpu.h"

TFRNN_INSTANTIATE_GPU_CELL(::tfrnn::lstm::GpuCell)

namespace tfrnn {
namespace gpu {
template size_t LayerNormForwardBytes<float>(const Dims&, bool);
template size_t LayerNormForwardBytes<double>(const Dims&, bool);
template size_t LayerNormBackwardBytes<float>(const Dims&, bool);
template size_t LayerNormBackwardBytes<double>(const Dims&, bool);
}  // namespace gpu
}  // namespace tfrnn
