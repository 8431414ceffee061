// The Elman RNN cell's math on one unit for the GPU kernels
// (gpu/cell.h), around the formulas of rnn_cell.h.
#ifndef TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_GPU_H_
#define TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_GPU_H_

#include "gpu/cell.h"
#include "cells/rnn/rnn_cell.h"

namespace tfrnn {
namespace rnn {

struct GpuCell : Cell {
  // Nothing is saved: the backward reads h_t.
  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementState<T> Forward(
      const Attrs& attrs, const gpu::ElementAt<T>&, const T* pre,
      const T* rec, T, T, T*) {
    gpu::ElementState<T> next{};
    next.h = Activate<ScalarActivations<T>>(pre[0] + rec[0], attrs.relu);
    return next;
  }

  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementGrads<T, kGates> Backward(
      const Attrs& attrs, const gpu::ElementAt<T>&, const T*, T h, T, T, T,
      T dh, T) {
    gpu::ElementGrads<T, kGates> out{};
    out.input[0] =
        PreActivationGrad<ScalarActivations<T>>(h, dh, attrs.relu);
    return out;
  }
};

}  // namespace rnn
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_GPU_H_
