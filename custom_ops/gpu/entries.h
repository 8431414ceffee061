// The definitions of gpu_recurrence.h's Forward and Backward on the build's
// backend, and the macro a cell's <cell>_gpu.cu.cc instantiates them with.
#ifndef TFRNN_CUSTOM_OPS_GPU_ENTRIES_H_
#define TFRNN_CUSTOM_OPS_GPU_ENTRIES_H_

#include "gpu/backend.h"
#include "gpu/recurrence.h"
#include "gpu/walk.h"

namespace tfrnn {
namespace gpu {

template <typename Cell, typename T>
Status Forward(const typename Cell::Attrs& attrs, const Walk& walk,
               const SequenceInputs<T>& in, const ForwardOutputs<T>& out,
               void* workspace, void* stream) {
  Backend backend(stream);
  return RunForward<Cell, T>(backend, attrs, walk, in, out, workspace);
}

template <typename Cell, typename T>
Status Backward(const typename Cell::Attrs& attrs, const Walk& walk,
                const SequenceInputs<T>& in, const SavedForward<T>& fwd,
                const Gradients<T>& grads, void* workspace, void* stream) {
  Backend backend(stream);
  return RunBackward<Cell, T>(backend, attrs, walk, in, fwd, grads,
                              workspace);
}

}  // namespace gpu
}  // namespace tfrnn

// Used at global scope, with Cell named from there.
#define TFRNN_INSTANTIATE_GPU_CELL_FOR(Cell, T)                           \
  template Status Forward<Cell, T>(                                       \
      const typename Cell::Attrs&, const Walk&, const SequenceInputs<T>&, \
      const ForwardOutputs<T>&, void*, void*);                            \
  template Status Backward<Cell, T>(                                      \
      const typename Cell::Attrs&, const Walk&, const SequenceInputs<T>&, \
      const SavedForward<T>&, const Gradients<T>&, void*, void*)

#define TFRNN_INSTANTIATE_GPU_CELL(Cell)          \
  namespace tfrnn {                               \
  namespace gpu {                                 \
  TFRNN_INSTANTIATE_GPU_CELL_FOR(Cell, float);    \
  TFRNN_INSTANTIATE_GPU_CELL_FOR(Cell, double);   \
  }                                               \
  }

#endif  // TFRNN_CUSTOM_OPS_GPU_ENTRIES_H_
