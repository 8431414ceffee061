// The fused GRU's kernels: the shared OpKernels on the CPU engine and, in a
// CUDA build, on the GPU engine.
#define EIGEN_USE_THREADS

#include "cpu/engine.h"
#include "binding/op_kernels.h"
#if GOOGLE_CUDA
#include "binding/gpu_engine.h"
#include "cells/gru/gru_cell_gpu.h"
#endif
#include "cells/gru/gru_cell_cpu.h"

namespace tfrnn {
namespace gru {

TFRNN_REGISTER_RECURRENT_KERNELS("Gru", ::tensorflow::DEVICE_CPU, float,
                                 cpu::Engine<CpuCell<float>>, NoOptionInputs);
TFRNN_REGISTER_RECURRENT_KERNELS("Gru", ::tensorflow::DEVICE_CPU, double,
                                 cpu::Engine<CpuCell<double>>, NoOptionInputs);

#if GOOGLE_CUDA
TFRNN_REGISTER_RECURRENT_GPU_KERNELS("Gru", GpuCell, NoOptionInputs);
#endif  // GOOGLE_CUDA

}  // namespace gru
}  // namespace tfrnn
