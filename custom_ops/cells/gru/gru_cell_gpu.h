// The GRU cell's math on one unit for the GPU kernels (gpu/cell.h),
// around the formulas of gru_cell.h.
#ifndef TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_GPU_H_
#define TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_GPU_H_

#include "gpu/cell.h"
#include "cells/gru/gru_cell.h"

namespace tfrnn {
namespace gru {

struct GpuCell : Cell {
  // rec already holds the recurrent bias (bias row 1); saved: z, r, n and
  // h.Uh + rh.
  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementState<T> Forward(
      const Attrs&, const gpu::ElementAt<T>&, const T* pre, const T* rec,
      T h_prev, T, T* saved) {
    const Activated<T> a = Activate<ScalarActivations<T>>(
        pre[0] + rec[0], pre[1] + rec[1], pre[2], rec[2]);
    saved[0] = a.z;
    saved[1] = a.r;
    saved[2] = a.n;
    saved[3] = rec[2];
    gpu::ElementState<T> next{};
    next.h = HiddenState(a.z, h_prev, a.n);
    return next;
  }

  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementGrads<T, kGates> Backward(
      const Attrs&, const gpu::ElementAt<T>&, const T* saved, T, T h_prev,
      T, T, T dh, T) {
    return ToEngine<gpu::ElementGrads<T, kGates>>(CellBackward(
        Activated<T>{saved[0], saved[1], saved[2]}, saved[3], h_prev, dh));
  }
};

}  // namespace gru
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_GPU_H_
