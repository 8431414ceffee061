// The GPU engine of the fused recurrent ops, for binding/op_kernels.h:
// binds a cell's GPU core (gpu/recurrence.h, built by nvcc) to the
// OpKernels. It runs on the op's stream, takes the core's workspace from
// allocate_temp, and copies the lengths (validated in host memory) to the
// device; nothing here waits for the GPU but the zoneout check.
#ifndef TFRNN_CUSTOM_OPS_BINDING_GPU_ENGINE_H_
#define TFRNN_CUSTOM_OPS_BINDING_GPU_ENGINE_H_

#include <cstdint>
#include <string>

#include "gpu/recurrence.h"
#include "gpu/workspace.h"
#include "shared/recurrent_args.h"
#include "binding/validation.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "xla/stream_executor/stream.h"

namespace tfrnn {
namespace gpu {

// The op's CUDA stream.
inline void* OpStream(tensorflow::OpKernelContext* ctx) {
  return ctx->op_device_context()->stream()->platform_specific_handle().stream;
}

inline bool Ok(tensorflow::OpKernelContext* ctx, const Status& s) {
  if (s.ok()) return true;
  ctx->SetStatus(absl::InternalError(std::string("tfrnn GPU kernel: ") +
                                     s.message + " (code " +
                                     std::to_string(s.code) + ")"));
  return false;
}

// `bytes` of device scratch and, when there are host lengths, their device
// copy; false (status set) when an allocation or the copy fails.
inline bool Prepare(tensorflow::OpKernelContext* ctx, size_t bytes,
                    const Dims& d, const int32_t** lengths,
                    tensorflow::Tensor* work, tensorflow::Tensor* lengths_t,
                    void** workspace) {
  absl::Status s = ctx->allocate_temp(
      tensorflow::DT_INT8,
      tensorflow::TensorShape({static_cast<int64_t>(bytes)}), work);
  if (!s.ok()) {
    ctx->SetStatus(s);
    return false;
  }
  *workspace = work->flat<int8_t>().data();
  if (*lengths == nullptr) return true;
  s = ctx->allocate_temp(tensorflow::DT_INT32,
                         tensorflow::TensorShape({d.batch}), lengths_t);
  if (!s.ok()) {
    ctx->SetStatus(s);
    return false;
  }
  int32_t* device = lengths_t->flat<int32_t>().data();
  if (!Ok(ctx, UploadLengths(*lengths, d.batch, device, OpStream(ctx)))) {
    return false;
  }
  *lengths = device;
  return true;
}

// A zoneout input's values in [0, 1], the InvalidArgument CheckZoneout
// gives on the CPU (validation.h); a scalar is one value, else [B, T,
// width]. Only calls with zoneout pay: one small kernel and one wait for
// the stream, before the walk is queued. False (status set) when not.
template <typename T>
bool CheckZoneoutValues(tensorflow::OpKernelContext* ctx,
                        const StepWeights<T>& zoneout, const char* name,
                        const Dims& d, int64_t width) {
  if (zoneout.values == nullptr) return true;
  tensorflow::Tensor scratch;
  absl::Status s = ctx->allocate_temp(tensorflow::DT_INT64,
                                      tensorflow::TensorShape({1}), &scratch);
  if (!s.ok()) {
    ctx->SetStatus(s);
    return false;
  }
  const int64_t n = zoneout.per_step ? d.batch * d.time * width : 1;
  int64_t index = -1;
  double value = 0;
  if (!Ok(ctx, FindOutsideUnitInterval(zoneout.values, n,
                                       scratch.flat<int64_t>().data(),
                                       OpStream(ctx), &index, &value))) {
    return false;
  }
  if (index < 0) return true;
  ctx->SetStatus(ZoneoutOutOfRange(name, value, index));
  return false;
}

template <typename T>
bool CheckZoneouts(tensorflow::OpKernelContext* ctx,
                   const SequenceInputs<T>& in, const Dims& d) {
  return CheckZoneoutValues(ctx, in.zoneout_h, "zoneout_h", d, d.hidden) &&
         CheckZoneoutValues(ctx, in.zoneout_c, "zoneout_c", d, d.units);
}

template <typename CellMath, typename Scalar>
struct Engine {
  using Cell = CellMath;
  using T = Scalar;
  // The kernels leave the values of device inputs unread on the host
  // (the zoneout values are checked here, CheckZoneouts).
  static constexpr bool kInputsOnHost = false;

  static void Forward(tensorflow::OpKernelContext* ctx,
                      const typename Cell::Attrs& attrs, const Walk& walk,
                      const SequenceInputs<T>& in,
                      const ForwardOutputs<T>& out) {
    if (!CheckZoneouts(ctx, in, walk.dims)) return;
    SequenceInputs<T> on_device = in;
    tensorflow::Tensor work, lengths;
    void* workspace;
    const size_t bytes =
        ForwardWorkspaceBytes<Cell, T>(walk.dims, in.layer_norm.on(),
                                       in.projection != nullptr);
    if (!Prepare(ctx, bytes, walk.dims, &on_device.lengths, &work, &lengths,
                 &workspace)) {
      return;
    }
    Ok(ctx, gpu::Forward<Cell, T>(attrs, walk, on_device, out, workspace,
                                  OpStream(ctx)));
  }

  static void Backward(tensorflow::OpKernelContext* ctx,
                       const typename Cell::Attrs& attrs, const Walk& walk,
                       const SequenceInputs<T>& in,
                       const SavedForward<T>& fwd,
                       const Gradients<T>& grads) {
    if (!CheckZoneouts(ctx, in, walk.dims)) return;
    SequenceInputs<T> on_device = in;
    tensorflow::Tensor work, lengths;
    void* workspace;
    const size_t bytes =
        BackwardWorkspaceBytes<Cell, T>(walk.dims, in.layer_norm.on(),
                                        in.projection != nullptr);
    if (!Prepare(ctx, bytes, walk.dims, &on_device.lengths, &work, &lengths,
                 &workspace)) {
      return;
    }
    Ok(ctx, gpu::Backward<Cell, T>(attrs, walk, on_device, fwd, grads,
                                   workspace, OpStream(ctx)));
  }
};

}  // namespace gpu
}  // namespace tfrnn

// The GPU kernels of Tfrnn<name>, Tfrnn<name>Grad and Tfrnn<name>Step of
// one dtype; sequence_length stays in host memory, where it is validated.
#define TFRNN_REGISTER_GPU_KERNELS_FOR(name, cell, T, options)                \
  REGISTER_KERNEL_BUILDER(                                                 \
      Name("Tfrnn" name)                                                   \
          .Device(::tensorflow::DEVICE_GPU)                                \
          .TypeConstraint<T>("T")                                          \
          .HostMemory("sequence_length"),                                  \
      ::tfrnn::SequenceOp<::tfrnn::gpu::Engine<cell, T>, options>);           \
  REGISTER_KERNEL_BUILDER(                                                 \
      Name("Tfrnn" name "Grad")                                            \
          .Device(::tensorflow::DEVICE_GPU)                                \
          .TypeConstraint<T>("T")                                          \
          .HostMemory("sequence_length"),                                  \
      ::tfrnn::SequenceGradOp<::tfrnn::gpu::Engine<cell, T>, options>);       \
  REGISTER_KERNEL_BUILDER(                                                 \
      Name("Tfrnn" name "Step")                                            \
          .Device(::tensorflow::DEVICE_GPU)                                \
          .TypeConstraint<T>("T"),                                         \
      ::tfrnn::StepOp<::tfrnn::gpu::Engine<cell, T>, options>)

// The GPU kernels of a cell's three ops, float and double, with the cell's
// Options (binding/op_kernels.h).
#define TFRNN_REGISTER_RECURRENT_GPU_KERNELS(name, cell, options) \
  TFRNN_REGISTER_GPU_KERNELS_FOR(name, cell, float, options);     \
  TFRNN_REGISTER_GPU_KERNELS_FOR(name, cell, double, options)

#endif  // TFRNN_CUSTOM_OPS_BINDING_GPU_ENGINE_H_
