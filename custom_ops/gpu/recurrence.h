// The entry points of the framework-free GPU core: what the TensorFlow
// OpKernels (binding/gpu_engine.h) and the C ABI (gpu/capi.cc) call.
// Plain C++: no CUDA or TensorFlow header, so either side can include it.
//
// Every pointer is device memory (host memory in the host build, see
// gpu/backend.h) with the shapes of shared/recurrent_args.h; lengths
// too (UploadLengths copies host lengths); `stream` is a cudaStream_t
// (null: the default stream). `workspace` holds at least
// Forward/BackwardWorkspaceBytes (gpu/workspace.h) bytes and lives
// until the stream has run the call. Calls only queue work; a Status that
// is not ok says what failed to queue.
#ifndef TFRNN_CUSTOM_OPS_GPU_RECURRENCE_H_
#define TFRNN_CUSTOM_OPS_GPU_RECURRENCE_H_

#include <cstdint>

#include "gpu/status.h"
#include "shared/recurrent_args.h"

namespace tfrnn {
namespace gpu {

// Instantiated per cell (a GpuCell, e.g. cells/lstm/lstm_cell_gpu.h) in its
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

// The first flat index i < n whose values[i] lies outside [0, 1] (NaN
// included) in *index, and that value in *value; *index = -1 when there is
// none. A zoneout input's check (validation.h's CheckZoneout reads host
// tensors itself; these are device memory). Unlike the walks this waits
// for the stream, to read the answer. `scratch`: 8 bytes of device memory.
template <typename T>
Status FindOutsideUnitInterval(const T* values, int64_t n, int64_t* scratch,
                               void* stream, int64_t* index, double* value);

// True in the CUDA build, false in the host build.
bool IsCudaBuild();

// The CUDA runtime's version the build links (12090 for 12.9), 0 in the
// host build: the driver must be at least of that major version.
int RuntimeVersion();

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_RECURRENCE_H_
