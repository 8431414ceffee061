// The GRU cell's math on the packets of the CPU engine (cpu/cell.h):
// what it reads and saves per step, around the formulas of gru_cell.h.
#ifndef TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_CPU_H_
#define TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_CPU_H_

#include <cstdint>

#include "cpu/cell.h"
#include "shared/recurrent_args.h"
#include "cpu/simd.h"
#include "cells/gru/gru_cell.h"

namespace tfrnn {
namespace gru {

template <typename T>
class CpuCell : public Cell {
 public:
  using Scalar = T;
  using S = cpu::Simd<T>;
  using Packet = typename S::Packet;
  using Act = cpu::PacketActivations<T>;

  // in.bias [2, 3H]: the engine adds the input bias (row 0) to x.W; the
  // recurrent bias (row 1) is added here. Null in the backward.
  CpuCell(const Attrs&, const SequenceInputs<T>& in, const Dims& d)
      : recurrent_bias_(in.bias == nullptr ? nullptr
                                           : in.bias + kGates * d.units),
        H_(d.units) {}

  bool HiddenBypass() const { return true; }  // z * dh_t

  // saved: x.W + b of z, r, h; replaced by z, r, n and h.Uh + rh.
  cpu::StepState<Packet> Forward(const Packet* hu, T* saved,
                                 const T* h_prev, const T*, int64_t,
                                 int64_t u, int64_t width) const {
    using Eigen::internal::padd;
    const auto at = [u, width](const T* p) { return S::Load(p + u, width); };
    const T* rb = recurrent_bias_;
    const Packet rec_n = padd(hu[2], at(rb + 2 * H_));
    const Activated<Packet> a = Activate<Act>(
        padd(at(saved), padd(hu[0], at(rb))),
        padd(at(saved + H_), padd(hu[1], at(rb + H_))), at(saved + 2 * H_),
        rec_n);
    S::Store(saved + u, a.z, width);
    S::Store(saved + H_ + u, a.r, width);
    S::Store(saved + 2 * H_ + u, a.n, width);
    S::Store(saved + 3 * H_ + u, rec_n, width);
    cpu::StepState<Packet> next;
    next.h = HiddenState(a.z, at(h_prev), a.n);
    return next;
  }

  cpu::StepGrads<Packet, kGates> Backward(const cpu::BackwardView<T>& v,
                                          int64_t u, int64_t width,
                                          Packet dh, Packet) const {
    const auto at = [u, width](const T* p) { return S::Load(p + u, width); };
    const T* s = v.saved;
    return ToEngine<cpu::StepGrads<Packet, kGates>>(
        CellBackward(Activated<Packet>{at(s), at(s + H_), at(s + 2 * H_)},
                     at(s + 3 * H_), at(v.h_prev), dh));
  }

 private:
  const T* recurrent_bias_;
  int64_t H_;
};

}  // namespace gru
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_CPU_H_
