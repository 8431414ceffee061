// The entry points of the framework-free GPU core: what the TensorFlow
// OpKernels (common/gpu_engine.h) and the C ABI (common/gpu_capi.cc) call.
// Plain C++: no CUDA or TensorFlow header, so either side can include it.
//
// Every pointer is device memory (host memory in the host build, see
// common/gpu_backend.h) with the shapes of common/recurrent_args.h; lengths
// too (UploadLengths copies host lengths); `stream` is a cudaStream_t
// (null: the default stream). `workspace` holds at least
// Forward/BackwardWorkspaceBytes (common/gpu_workspace.h) bytes and lives
// until the stream has run the call. Calls only queue work; a Status that
// is not ok says what failed to queue.
#ifndef TFRNN_CUSTOM_OPS_COMMON_GPU_RECURRENCE_H_
#define TFRNN_CUSTOM_OPS_COMMON_GPU_RECURRENCE_H_

#include <cstdint>

#include "common/gpu_status.h"
#include "common/recurrent_args.h"

namespace tfrnn {
namespace gpu {

// Instantiated per cell (a GpuCell, e.g. lstm/lstm_cell_gpu.h) in its
// <cell>_gpu.cu.cc for float and double.
template <typename Cell, typename T>
Status Forward(const typename Cell::Attrs& attrs, const Walk& walk,
               const SequenceInputs<T>& in, const ForwardOutputs<T>& out,
               void* workspace, void* stream);

template <typename Cell, typename T>
Status Backward(const typename Cell::Attrs& attrs, const Walk& walk,
                const SequenceInputs<T>& in, const SavedForward<T>& fwd,
                const Gradients<T>& grads, void* workspace, void* stream);

// Copies n lengths from host memory to `device` on the stream; the host
// buffer may be freed when this returns.
Status UploadLengths(const int32_t* host, int64_t n, int32_t* device,
                     void* stream);

// True in the CUDA build, false in the host build.
bool IsCudaBuild();

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_COMMON_GPU_RECURRENCE_H_
