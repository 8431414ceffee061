// The fused LSTM on the GPU: the shared GPU walks instantiated for its
// cell.
#include "common/gpu_entries.h"
#include "lstm/lstm_cell_gpu.h"

TFRNN_INSTANTIATE_GPU_CELL(::tfrnn::lstm::GpuCell)
