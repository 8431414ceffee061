// The LSTM cell's math on one unit for the GPU kernels (common/gpu_cell.h),
// around the formulas of lstm_cell.h.
#ifndef TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_GPU_H_
#define TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_GPU_H_

#include "common/gpu_cell.h"
#include "lstm/lstm_cell.h"

namespace tfrnn {
namespace lstm {

struct GpuCell : Cell {
  // saved: the activated i, f, g, o.
  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementState<T> Forward(
      const Attrs&, const T* pre, const T* rec, T, T c_prev, T* saved) {
    using Act = ScalarActivations<T>;
    const Gates<T> a = Activate<Act>(pre[0] + rec[0], pre[1] + rec[1],
                                     pre[2] + rec[2], pre[3] + rec[3]);
    saved[0] = a.i;
    saved[1] = a.f;
    saved[2] = a.g;
    saved[3] = a.o;
    gpu::ElementState<T> next;
    next.c = CellState(a, c_prev);
    next.h = HiddenState(a.o, Act::Tanh(next.c));
    return next;
  }

  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementGrads<T, kGates> Backward(
      const Attrs&, const T* saved, T, T, T c, T c_prev, T dh, T dc) {
    const Gates<T> a{saved[0], saved[1], saved[2], saved[3]};
    return ToEngine<gpu::ElementGrads<T, kGates>>(
        CellBackward(a, ScalarActivations<T>::Tanh(c), c_prev, dh, dc));
  }
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_GPU_H_
