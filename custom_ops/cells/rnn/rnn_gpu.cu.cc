// The fused Elman RNN on the GPU: the shared GPU walks instantiated for
// its cell, entered in the C ABI as rnn_tanh and rnn_relu.
#include <cstring>

#include "cells/rnn/rnn_cell_gpu.h"
#include "gpu/capi_cells.h"
#include "gpu/entries.h"

TFRNN_INSTANTIATE_GPU_CELL(::tfrnn::rnn::GpuCell)

namespace tfrnn {
namespace rnn {
namespace {

// The nonlinearity is the C ABI name's.
struct CapiAdapter : gpu::NoOptions<GpuCell> {
  static gpu::Status AttrsFor(const char* name, const void* options,
                              Attrs* attrs) {
    TFRNN_GPU_RETURN_IF_ERROR(NoOptions::AttrsFor(name, options, attrs));
    attrs->relu = std::strcmp(name, "rnn_relu") == 0;
    return {};
  }
};

constexpr const char* kNames[] = {"rnn_tanh", "rnn_relu"};
const bool registered = gpu::RegisterCapiCell<CapiAdapter>(kNames);

}  // namespace
}  // namespace rnn
}  // namespace tfrnn
