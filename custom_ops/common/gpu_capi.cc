// A C ABI over the GPU core, for callers without TensorFlow: ctypes on
// torch tensors' data pointers (benchmarks/gpu_check.py on a GPU machine)
// or, in the host build, on numpy arrays (tests/gpu/test_gpu_core.py).
//
// cell: "lstm", "gru", "rnn_tanh" or "rnn_relu"; dtype_bytes: 4 (float32)
// or 8 (float64). Pointers follow common/recurrent_args.h (null where a
// cell has no such tensor, lengths null for full rows, mask null for none);
// max_len is the largest length (or T); options (lstm only, or null for
// none) are the op's peephole, zoneout, cell_clip, layer norm and
// projection (their gradients: d_options, 5 pointers dgain_x, dgain_h,
// dgain_c, dshift_c, dprojection, each null where off, or d_options null).
// Under a projection h0, h_n, output and their gradients are P wide.
// Each call returns 0, or a code whose text tfrnn_gpu_last_error gives
// (per thread).
#include <cstdint>
#include <cstring>

#include "common/gpu_launch.h"
#include "common/gpu_recurrence.h"
#include "common/gpu_workspace.h"
#include "gru/gru_cell_gpu.h"
#include "lstm/lstm_cell_gpu.h"
#include "rnn/rnn_cell_gpu.h"

#define TFRNN_C_API extern "C" __attribute__((visibility("default")))

// The LSTM's options (lstm/lstm_cell.h): each pointer null when off; a
// zoneout is one value, or [B,T,H] when its per_step is nonzero;
// cell_clip negative for none; layer norm: gain_x [4H], gain_h [4H],
// gain_c [H], shift_c [H] (all or none) and its epsilon; projection [H,P]
// (zoneout_h then [B,T,P] per step) and P.
struct TfrnnLstmOptions {
  const void* peephole;
  const void* zoneout_h;
  const void* zoneout_c;
  int zoneout_h_per_step;
  int zoneout_c_per_step;
  double cell_clip;
  const void* layer_norm[4];
  double layer_norm_epsilon;
  const void* projection;
  int64_t projection_units;
};

namespace tfrnn {
namespace gpu {
namespace {

thread_local const char* last_error = "";

int Report(const Status& s) {
  last_error = s.message;
  return s.code;
}

constexpr int kBadArgument = 3000;

// Calls fn.template Run<Cell, T>(attrs) for the named cell and dtype; a
// bad name or dtype is kBadArgument, options for another cell than the
// LSTM too.
template <typename Fn>
int WithCell(const char* cell, int dtype_bytes, const Fn& fn,
             const TfrnnLstmOptions* options = nullptr) {
  if (dtype_bytes != 4 && dtype_bytes != 8) {
    return Report({kBadArgument, "dtype_bytes must be 4 or 8"});
  }
  const auto run = [&](auto cell_type, auto attrs) {
    using Cell = decltype(cell_type);
    if (dtype_bytes == 4) return fn.template Run<Cell, float>(attrs);
    return fn.template Run<Cell, double>(attrs);
  };
  if (std::strcmp(cell, "lstm") == 0) {
    lstm::Attrs attrs;
    if (options != nullptr) {
      attrs.cell_clip = options->cell_clip;
      attrs.layer_norm_epsilon = options->layer_norm_epsilon;
    }
    return run(lstm::GpuCell{}, attrs);
  }
  if (options != nullptr) {
    return Report({kBadArgument, "options are the LSTM's only"});
  }
  if (std::strcmp(cell, "gru") == 0) return run(gru::GpuCell{}, NoAttrs{});
  rnn::Attrs rnn_attrs;
  rnn_attrs.relu = std::strcmp(cell, "rnn_relu") == 0;
  if (rnn_attrs.relu || std::strcmp(cell, "rnn_tanh") == 0) {
    return run(rnn::GpuCell{}, rnn_attrs);
  }
  return Report({kBadArgument, "cell must be lstm, gru, rnn_tanh, rnn_relu"});
}


struct WorkspaceCall {
  Dims d;
  bool backward, layer_norm, projection;
  size_t* bytes;
  template <typename Cell, typename T, typename Attrs>
  int Run(const Attrs&) const {
    *bytes = backward
                 ? BackwardWorkspaceBytes<Cell, T>(d, layer_norm, projection)
                 : ForwardWorkspaceBytes<Cell, T>(d, layer_norm, projection);
    return 0;
  }
};

// A call's sizes: h is P wide under a projection.
Dims DimsOf(int64_t batch, int64_t time, int64_t input, int64_t units,
            const TfrnnLstmOptions* options) {
  const bool projected = options != nullptr && options->projection != nullptr;
  return {batch, time, input, units,
          projected ? options->projection_units : units};
}

template <typename T>
const T* In(const void* p) {
  return static_cast<const T*>(p);
}
template <typename T>
T* Out(void* p) {
  return static_cast<T*>(p);
}

// in with the options' inputs (none when null).
template <typename T>
SequenceInputs<T> WithOptions(SequenceInputs<T> in,
                              const TfrnnLstmOptions* options) {
  if (options == nullptr) return in;
  in.peephole = In<T>(options->peephole);
  in.zoneout_h = {In<T>(options->zoneout_h), options->zoneout_h_per_step != 0};
  in.zoneout_c = {In<T>(options->zoneout_c), options->zoneout_c_per_step != 0};
  in.layer_norm = {In<T>(options->layer_norm[0]), In<T>(options->layer_norm[1]),
                   In<T>(options->layer_norm[2]), In<T>(options->layer_norm[3])};
  in.projection = In<T>(options->projection);
  return in;
}

// The C ABI's arguments of a forward call, typed once the dtype is known.
struct ForwardCall {
  Walk walk;
  const void *x, *h0, *c0, *kernel, *recurrent_kernel, *bias;
  const int32_t* lengths;
  const void* recurrent_mask;
  void *output, *h_n, *c_n, *saved, *cell, *workspace, *stream;
  const TfrnnLstmOptions* options;
  template <typename Cell, typename T, typename Attrs>
  int Run(const Attrs& attrs) const {
    const SequenceInputs<T> in = WithOptions<T>(
        {In<T>(x), In<T>(h0), In<T>(c0), In<T>(kernel),
         In<T>(recurrent_kernel), In<T>(bias), lengths,
         In<T>(recurrent_mask)},
        options);
    const ForwardOutputs<T> out{Out<T>(output), Out<T>(h_n), Out<T>(c_n),
                                Out<T>(saved), Out<T>(cell)};
    return Report(Forward<Cell, T>(attrs, walk, in, out, workspace, stream));
  }
};

struct BackwardCall {
  Walk walk;
  const void *x, *h0, *c0, *kernel, *recurrent_kernel;
  const int32_t* lengths;
  const void *recurrent_mask, *output, *saved, *cell, *d_output, *d_h_n,
      *d_c_n;
  void *dx, *dh0, *dc0, *dkernel, *drecurrent_kernel, *dbias, *dpeephole,
      *workspace, *stream;
  void* const* d_options;
  const TfrnnLstmOptions* options;
  template <typename Cell, typename T, typename Attrs>
  int Run(const Attrs& attrs) const {
    const SequenceInputs<T> in = WithOptions<T>(
        {In<T>(x), In<T>(h0), In<T>(c0), In<T>(kernel),
         In<T>(recurrent_kernel), nullptr, lengths, In<T>(recurrent_mask)},
        options);
    const SavedForward<T> fwd{In<T>(output),   In<T>(saved),
                              In<T>(cell),     In<T>(d_output),
                              In<T>(d_h_n),    In<T>(d_c_n)};
    Gradients<T> grads{Out<T>(dx),      Out<T>(dh0),
                       Out<T>(dc0),     Out<T>(dkernel),
                       Out<T>(drecurrent_kernel), Out<T>(dbias),
                       Out<T>(dpeephole)};
    if (d_options != nullptr) {
      grads.dgain_x = Out<T>(d_options[0]);
      grads.dgain_h = Out<T>(d_options[1]);
      grads.dgain_c = Out<T>(d_options[2]);
      grads.dshift_c = Out<T>(d_options[3]);
      grads.dprojection = Out<T>(d_options[4]);
    }
    return Report(
        Backward<Cell, T>(attrs, walk, in, fwd, grads, workspace, stream));
  }
};

}  // namespace
}  // namespace gpu
}  // namespace tfrnn

using tfrnn::Walk;
using tfrnn::gpu::WithCell;

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
  size_t bytes = 0;
  const bool projected = projection_units != 0;
  WithCell(cell, dtype_bytes,
           tfrnn::gpu::WorkspaceCall{
               {batch, time, input, units,
                projected ? projection_units : units},
               backward != 0, layer_norm != 0, projected, &bytes});
  return bytes;
}

TFRNN_C_API int tfrnn_gpu_forward(
    const char* cell, int dtype_bytes, int reverse, int64_t batch,
    int64_t time, int64_t input, int64_t units, int64_t max_len,
    const void* x, const void* h0, const void* c0, const void* kernel,
    const void* recurrent_kernel, const void* bias, const int32_t* lengths,
    const void* recurrent_mask, void* output, void* h_n, void* c_n,
    void* saved, void* cell_out, void* workspace, void* stream,
    const TfrnnLstmOptions* options) {
  const Walk walk{tfrnn::gpu::DimsOf(batch, time, input, units, options),
                  reverse != 0, max_len};
  return WithCell(cell, dtype_bytes,
                  tfrnn::gpu::ForwardCall{
                      walk, x, h0, c0, kernel, recurrent_kernel, bias,
                      lengths, recurrent_mask, output, h_n, c_n, saved,
                      cell_out, workspace, stream, options},
                  options);
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
    void* stream, const TfrnnLstmOptions* options,
    void* const* d_options) {
  const Walk walk{tfrnn::gpu::DimsOf(batch, time, input, units, options),
                  reverse != 0, max_len};
  return WithCell(cell, dtype_bytes,
                  tfrnn::gpu::BackwardCall{
                      walk, x, h0, c0, kernel, recurrent_kernel, lengths,
                      recurrent_mask, output, saved, cell_states, d_output,
                      d_h_n, d_c_n, dx, dh0, dc0, dkernel,
                      drecurrent_kernel, dbias, dpeephole, workspace, stream,
                      d_options, options},
                  options);
}

// The first of n values (dtype_bytes 4 or 8) outside [0, 1] (NaN too):
// its flat index in *index, -1 when none, and its value in *value; waits
// for the stream. scratch: 8 bytes of device memory.
TFRNN_C_API int tfrnn_gpu_find_outside_unit_interval(
    int dtype_bytes, const void* values, int64_t n, void* scratch,
    void* stream, int64_t* index, double* value) {
  using tfrnn::gpu::FindOutsideUnitInterval;
  int64_t* scratch_i = static_cast<int64_t*>(scratch);
  if (dtype_bytes == 4) {
    return tfrnn::gpu::Report(FindOutsideUnitInterval(
        static_cast<const float*>(values), n, scratch_i, stream, index,
        value));
  }
  if (dtype_bytes == 8) {
    return tfrnn::gpu::Report(FindOutsideUnitInterval(
        static_cast<const double*>(values), n, scratch_i, stream, index,
        value));
  }
  return tfrnn::gpu::Report(
      {tfrnn::gpu::kBadArgument, "dtype_bytes must be 4 or 8"});
}

// The launch shape of an element-wise kernel over n elements.
TFRNN_C_API void tfrnn_gpu_launch_shape(int64_t n, int64_t* blocks,
                                        int64_t* threads) {
  const tfrnn::gpu::LaunchShape shape = tfrnn::gpu::ShapeFor(n);
  *blocks = shape.blocks;
  *threads = shape.threads;
}
