// The LSTM cell's math on one unit for the GPU kernels (gpu/cell.h),
// around the formulas of lstm_cell.h, every option included.
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_GPU_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_GPU_H_

#include "gpu/cell.h"
#include "cells/lstm/lstm_cell.h"

namespace tfrnn {
namespace lstm {

struct GpuCell : Cell {
  template <typename T>
  using Act = ScalarActivations<T>;

  // saved: the activated i, f, g, o.
  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementState<T> Forward(
      const Attrs& attrs, const gpu::ElementAt<T>& at, const T* pre,
      const T* rec, T h_prev, T c_prev, T* saved) {
    Gates<T> a;
    const State<T> s = Step<Act<T>>(pre[0] + rec[0], pre[1] + rec[1],
                                    pre[2] + rec[2], pre[3] + rec[3], h_prev,
                                    c_prev, OptionsAt(attrs, at), &a);
    saved[0] = a.i;
    saved[1] = a.f;
    saved[2] = a.g;
    saved[3] = a.o;
    return {s.h, s.c};
  }

  template <typename T>
  TFRNN_HOST_DEVICE static gpu::ElementGrads<T, kGates> Backward(
      const Attrs& attrs, const gpu::ElementAt<T>& at, const T* saved, T, T,
      T c, T c_prev, T dh, T dc) {
    const Gates<T> a{saved[0], saved[1], saved[2], saved[3]};
    return ToEngine<gpu::ElementGrads<T, kGates>>(CellBackward<Act<T>>(
        a, c_prev, c, dh, dc, OptionsAt(attrs, at)));
  }

  // The new cell state o's peephole saw (before zoneout, clipped), from
  // the saved gates and the carried c_{t-1}; c_saved: the carried c_t.
  template <typename T>
  TFRNN_HOST_DEVICE static T PeepholeCell(const Attrs& attrs,
                                          const gpu::ElementAt<T>& at,
                                          const T* saved, T c_saved,
                                          T c_prev) {
    if (at.zoneout_c.values == nullptr) return c_saved;
    const Gates<T> a{saved[0], saved[1], saved[2], saved[3]};
    return ClipIf<Act<T>>(CellState(a, c_prev), OptionsAt(attrs, at));
  }

  // m_t = o * tanh(c_t) with c_t as tanh read it (PeepholeCell's): what
  // the projection multiplied, for its weight's gradient.
  template <typename T>
  TFRNN_HOST_DEVICE static T CellOutput(const Attrs& attrs,
                                        const gpu::ElementAt<T>& at,
                                        const T* saved, T c_saved, T c_prev) {
    return HiddenState(saved[3], Act<T>::Tanh(PeepholeCell(
                                     attrs, at, saved, c_saved, c_prev)));
  }

  template <typename T>
  TFRNN_HOST_DEVICE static Options<T> OptionsAt(const Attrs& attrs,
                                                const gpu::ElementAt<T>& at) {
    Options<T> opt{};
    const int64_t H = at.units, u = at.u;
    if (at.peephole != nullptr) {
      opt.peephole = true;
      opt.p_i = at.peephole[u];
      opt.p_f = at.peephole[H + u];
      opt.p_o = at.peephole[2 * H + u];
    }
    opt.clip = attrs.cell_clip >= 0;
    opt.limit = static_cast<T>(attrs.cell_clip);
    opt.zoneout_h = at.zoneout_h.values != nullptr;
    if (opt.zoneout_h) opt.z_h = WeightAt(at.zoneout_h, at);
    opt.zoneout_c = at.zoneout_c.values != nullptr;
    if (opt.zoneout_c) opt.z_c = WeightAt(at.zoneout_c, at);
    return opt;
  }

  template <typename T>
  TFRNN_HOST_DEVICE static T WeightAt(const StepWeights<T>& w,
                                      const gpu::ElementAt<T>& at) {
    return w.per_step ? w.values[at.row * at.units + at.u] : w.values[0];
  }
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_GPU_H_
