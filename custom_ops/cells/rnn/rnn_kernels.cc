// The fused Elman RNN's kernels: the shared OpKernels on the CPU engine
// and, in a CUDA build, on the GPU engine.
#define EIGEN_USE_THREADS

#include <string>

#include "cpu/engine.h"
#include "binding/op_kernels.h"
#if GOOGLE_CUDA
#include "binding/gpu_engine.h"
#include "cells/rnn/rnn_cell_gpu.h"
#endif
#include "cells/rnn/rnn_cell_cpu.h"

namespace tfrnn {
namespace rnn {

// Found by argument-dependent lookup from the shared kernels.
absl::Status ReadCellAttrs(tensorflow::OpKernelConstruction* ctx,
                           Attrs* attrs) {
  std::string nonlinearity;
  TF_RETURN_IF_ERROR(ctx->GetAttr("nonlinearity", &nonlinearity));
  attrs->relu = nonlinearity == "relu";  // the op's attr admits tanh, relu
  return absl::OkStatus();
}

TFRNN_REGISTER_RECURRENT_KERNELS("Rnn", ::tensorflow::DEVICE_CPU, float,
                                 cpu::Engine<CpuCell<float>>, NoOptionInputs);
TFRNN_REGISTER_RECURRENT_KERNELS("Rnn", ::tensorflow::DEVICE_CPU, double,
                                 cpu::Engine<CpuCell<double>>, NoOptionInputs);

#if GOOGLE_CUDA
TFRNN_REGISTER_RECURRENT_GPU_KERNELS("Rnn", GpuCell, NoOptionInputs);
#endif  // GOOGLE_CUDA

}  // namespace rnn
}  // namespace tfrnn
