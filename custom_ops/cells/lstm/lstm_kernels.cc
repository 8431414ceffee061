// The fused LSTM's kernels: the shared OpKernels on the CPU engine and, in a
// CUDA build, on the GPU engine.
#define EIGEN_USE_THREADS

#include "cpu/engine.h"
#include "binding/op_kernels.h"
#if GOOGLE_CUDA
#include "binding/gpu_engine.h"
#include "cells/lstm/lstm_cell_gpu.h"
#endif
#include "cells/lstm/lstm_cell_cpu.h"
#include "cells/lstm/lstm_option_inputs.h"

namespace tfrnn {
namespace lstm {

// Found by argument-dependent lookup from the shared kernels.
absl::Status ReadCellAttrs(tensorflow::OpKernelConstruction* ctx,
                           Attrs* attrs) {
  float cell_clip;
  TF_RETURN_IF_ERROR(ctx->GetAttr("cell_clip", &cell_clip));
  attrs->cell_clip = cell_clip;
  float epsilon;
  TF_RETURN_IF_ERROR(ctx->GetAttr("layer_norm_epsilon", &epsilon));
  if (!(epsilon > 0)) {
    return absl::InvalidArgumentError(
        "layer_norm_epsilon must be positive, got " + std::to_string(epsilon));
  }
  attrs->layer_norm_epsilon = epsilon;
  return absl::OkStatus();
}

TFRNN_REGISTER_RECURRENT_KERNELS("Lstm", ::tensorflow::DEVICE_CPU, float,
                                 cpu::Engine<CpuCell<float>>, OptionInputs);
TFRNN_REGISTER_RECURRENT_KERNELS("Lstm", ::tensorflow::DEVICE_CPU, double,
                                 cpu::Engine<CpuCell<double>>, OptionInputs);

#if GOOGLE_CUDA
TFRNN_REGISTER_RECURRENT_GPU_KERNELS("Lstm", GpuCell, OptionInputs);
#endif  // GOOGLE_CUDA

}  // namespace lstm
}  // namespace tfrnn
