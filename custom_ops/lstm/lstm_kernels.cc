// The fused LSTM's CPU kernels: the shared OpKernels on the CPU engine.
#define EIGEN_USE_THREADS

#include "common/cpu_engine.h"
#include "common/recurrent_kernels.h"
#include "lstm/lstm_cell_cpu.h"

namespace tfrnn {
namespace lstm {

TFRNN_REGISTER_RECURRENT_KERNELS("Lstm", ::tensorflow::DEVICE_CPU, float,
                                 cpu::Engine<CpuCell<float>>);
TFRNN_REGISTER_RECURRENT_KERNELS("Lstm", ::tensorflow::DEVICE_CPU, double,
                                 cpu::Engine<CpuCell<double>>);

}  // namespace lstm
}  // namespace tfrnn
