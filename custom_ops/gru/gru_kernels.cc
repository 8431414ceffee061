// The fused GRU's CPU kernels: the shared OpKernels on the CPU engine.
#define EIGEN_USE_THREADS

#include "common/cpu_engine.h"
#include "common/recurrent_kernels.h"
#include "gru/gru_cell_cpu.h"

namespace tfrnn {
namespace gru {

TFRNN_REGISTER_RECURRENT_KERNELS("Gru", ::tensorflow::DEVICE_CPU, float,
                                 cpu::Engine<CpuCell<float>>);
TFRNN_REGISTER_RECURRENT_KERNELS("Gru", ::tensorflow::DEVICE_CPU, double,
                                 cpu::Engine<CpuCell<double>>);

}  // namespace gru
}  // namespace tfrnn
