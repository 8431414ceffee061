// The fused Elman RNN on the GPU: the shared GPU walks instantiated for
// its cell.
#include "common/gpu_entries.h"
#include "rnn/rnn_cell_gpu.h"

TFRNN_INSTANTIATE_GPU_CELL(::tfrnn::rnn::GpuCell)
