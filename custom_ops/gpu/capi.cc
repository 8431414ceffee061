// A C ABI over the GPU core, for callers without TensorFlow: ctypes on
// torch tensors' data pointers (benchmarks/gpu_check.py on a GPU machine)
// or, in the host build, on numpy arrays (tests/gpu/test_gpu_core.py).
//
// cell: a name a cell registered (gpu/capi_cells.h): "lstm", "gru",
// "rnn_tanh" or "rnn_relu"; dtype_bytes: 4 (float32) or 8 (float64).
// Pointers follow shared/recurrent_args.h (null where a cell has no such
// tensor, lengths null for full rows, mask null for none); max_len is the
// largest length (or T); options: the cell's (the LSTM's TfrnnLstmOptions,
// cells/lstm/lstm_capi.h), or null for none, and d_options their
// gradients. Under the LSTM's projection h0, h_n, output and their
// gradients are P wide. Each call returns 0, or a code whose text
// tfrnn_gpu_last_error gives (per thread).
#include <cstdint>

#include "gpu/capi_cells.h"
#include "gpu/launch.h"
#include "gpu/recurrence.h"

#define TFRNN_C_API extern "C" __attribute__((visibility("default")))

namespace tfrnn {
namespace gpu {
namespace {

thread_local const char* last_error = "";

int Report(const Status& s) {
  last_error = s.message;
  return s.code;
}

// The registered cell of that name, or null with the error reported.
const CapiCell* Named(const char* cell) {
  const CapiCell* found = FindCapiCell(cell);
  if (found == nullptr) {
    Report({kBadArgument, "cell must be lstm, gru, rnn_tanh, rnn_relu"});
  }
  return found;
}

// What a forward and a backward call share: the walk (h is as wide as
// the cell's options say), the inputs, the options and where to run.
CallArgs SharedArgs(const CapiCell& cell, int reverse, int64_t batch,
                    int64_t time, int64_t input, int64_t units,
                    int64_t max_len, const void* x, const void* h0,
                    const void* c0, const void* kernel,
                    const void* recurrent_kernel, const int32_t* lengths,
                    const void* recurrent_mask, const void* options,
                    void* workspace, void* stream) {
  CallArgs a{};
  a.walk = {{batch, time, input, units, cell.hidden_units(options, units)},
            reverse != 0,
            max_len};
  a.x = x, a.h0 = h0, a.c0 = c0, a.kernel = kernel;
  a.recurrent_kernel = recurrent_kernel;
  a.lengths = lengths, a.recurrent_mask = recurrent_mask;
  a.options = options, a.workspace = workspace, a.stream = stream;
  return a;
}

}  // namespace
}  // namespace gpu
}  // namespace tfrnn

using tfrnn::gpu::CallArgs;
using tfrnn::gpu::CapiCell;
using tfrnn::gpu::Named;
using tfrnn::gpu::Report;

TFRNN_C_API const char* tfrnn_gpu_last_error() {
  return tfrnn::gpu::last_error;
}

TFRNN_C_API int tfrnn_gpu_is_cuda_build() {
  return tfrnn::gpu::IsCudaBuild() ? 1 : 0;
}

// The CUDA runtime version linked (e.g. 12090), 0 in the host build.
TFRNN_C_API int tfrnn_gpu_runtime_version() {
  return tfrnn::gpu::RuntimeVersion();
}

// Bytes of workspace for a forward (backward = 0) or backward call, with
// the LSTM's layer norm when layer_norm is nonzero and its projection to
// projection_units when that is nonzero; 0 for a bad cell or dtype.
TFRNN_C_API size_t tfrnn_gpu_workspace_bytes(const char* cell,
                                             int dtype_bytes, int backward,
                                             int64_t batch, int64_t time,
                                             int64_t input, int64_t units,
                                             int layer_norm,
                                             int64_t projection_units) {
  const CapiCell* found = Named(cell);
  if (found == nullptr) return 0;
  const bool projected = projection_units != 0;
  const tfrnn::Dims d{batch, time, input, units,
                      projected ? projection_units : units};
  size_t bytes = 0;
  if (Report(found->workspace_bytes(dtype_bytes, backward != 0, d,
                                    layer_norm != 0, projected, &bytes))) {
    return 0;
  }
  return bytes;
}

TFRNN_C_API int tfrnn_gpu_forward(
    const char* cell, int dtype_bytes, int reverse, int64_t batch,
    int64_t time, int64_t input, int64_t units, int64_t max_len,
    const void* x, const void* h0, const void* c0, const void* kernel,
    const void* recurrent_kernel, const void* bias, const int32_t* lengths,
    const void* recurrent_mask, void* output, void* h_n, void* c_n,
    void* saved, void* cell_out, void* workspace, void* stream,
    const void* options) {
  const CapiCell* found = Named(cell);
  if (found == nullptr) return tfrnn::gpu::kBadArgument;
  CallArgs a = tfrnn::gpu::SharedArgs(
      *found, reverse, batch, time, input, units, max_len, x, h0, c0, kernel,
      recurrent_kernel, lengths, recurrent_mask, options, workspace, stream);
  a.bias = bias;
  a.output = output, a.h_n = h_n, a.c_n = c_n, a.saved = saved;
  a.cell = cell_out;
  return Report(found->forward(cell, dtype_bytes, a));
}

TFRNN_C_API int tfrnn_gpu_backward(
    const char* cell, int dtype_bytes, int reverse, int64_t batch,
    int64_t time, int64_t input, int64_t units, int64_t max_len,
    const void* x, const void* h0, const void* c0, const void* kernel,
    const void* recurrent_kernel, const int32_t* lengths,
    const void* recurrent_mask, const void* output, const void* saved,
    const void* cell_states, const void* d_output, const void* d_h_n,
    const void* d_c_n, void* dx, void* dh0, void* dc0, void* dkernel,
    void* drecurrent_kernel, void* dbias, void* dpeephole, void* workspace,
    void* stream, const void* options, void* const* d_options) {
  const CapiCell* found = Named(cell);
  if (found == nullptr) return tfrnn::gpu::kBadArgument;
  CallArgs a = tfrnn::gpu::SharedArgs(
      *found, reverse, batch, time, input, units, max_len, x, h0, c0, kernel,
      recurrent_kernel, lengths, recurrent_mask, options, workspace, stream);
  a.saved_output = output, a.saved_gates = saved, a.saved_cell = cell_states;
  a.d_output = d_output, a.d_h_n = d_h_n, a.d_c_n = d_c_n;
  a.dx = dx, a.dh0 = dh0, a.dc0 = dc0, a.dkernel = dkernel;
  a.drecurrent_kernel = drecurrent_kernel, a.dbias = dbias;
  a.dpeephole = dpeephole, a.d_options = d_options;
  return Report(found->backward(cell, dtype_bytes, a));
}

// The first of n values (dtype_bytes 4 or 8) outside [0, 1] (NaN too):
// its flat index in *index, -1 when none, and its value in *value; waits
// for the stream. scratch: 8 bytes of device memory.
TFRNN_C_API int tfrnn_gpu_find_outside_unit_interval(
    int dtype_bytes, const void* values, int64_t n, void* scratch,
    void* stream, int64_t* index, double* value) {
  return Report(tfrnn::gpu::ForDtype(dtype_bytes, [&](auto zero) {
    using T = decltype(zero);
    return tfrnn::gpu::FindOutsideUnitInterval(
        static_cast<const T*>(values), n, static_cast<int64_t*>(scratch),
        stream, index, value);
  }));
}

// The launch shape of an element-wise kernel over n elements.
TFRNN_C_API void tfrnn_gpu_launch_shape(int64_t n, int64_t* blocks,
                                        int64_t* threads) {
  const tfrnn::gpu::LaunchShape shape = tfrnn::gpu::ShapeFor(n);
  *blocks = shape.blocks;
  *threads = shape.threads;
}
