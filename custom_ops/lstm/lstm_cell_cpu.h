// The LSTM cell's math on the packets of the CPU engine (common/cpu_cell.h):
// what it reads and saves per step, around the formulas of lstm_cell.h.
#ifndef TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_CPU_H_
#define TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_CPU_H_

#include <cstdint>

#include "common/cpu_cell.h"
#include "common/simd.h"
#include "lstm/lstm_cell.h"

namespace tfrnn {
namespace lstm {

template <typename T>
class CpuCell : public Cell {
 public:
  using Scalar = T;
  using S = cpu::Simd<T>;
  using Packet = typename S::Packet;
  using Act = cpu::PacketActivations<T>;

  CpuCell(const Attrs&, const T* /*bias*/, int64_t units) : H_(units) {}

  // saved: x.W + b of the step's i, f, g, o, replaced by the activated gates.
  cpu::StepState<Packet> Forward(const Packet* hu, T* saved, const T*,
                                 const T* c_prev, int64_t u,
                                 int64_t width) const {
    Packet pre[kGates];
    for (int j = 0; j < kGates; ++j) {
      pre[j] = Eigen::internal::padd(hu[j], S::Load(saved + j * H_ + u, width));
    }
    const Gates<Packet> a = Activate<Act>(pre[0], pre[1], pre[2], pre[3]);
    S::Store(saved + u, a.i, width);
    S::Store(saved + H_ + u, a.f, width);
    S::Store(saved + 2 * H_ + u, a.g, width);
    S::Store(saved + 3 * H_ + u, a.o, width);
    cpu::StepState<Packet> next;
    next.c = CellState(a, S::Load(c_prev + u, width));
    next.h = HiddenState(a.o, Act::Tanh(next.c));
    return next;
  }

  cpu::StepGrads<Packet, kGates> Backward(const cpu::BackwardView<T>& v,
                                          int64_t u, int64_t width,
                                          Packet dh, Packet dc) const {
    const auto at = [u, width](const T* p) { return S::Load(p + u, width); };
    const T* g = v.saved;
    const Gates<Packet> a{at(g), at(g + H_), at(g + 2 * H_), at(g + 3 * H_)};
    const StepGrads<Packet> r =
        CellBackward(a, Act::Tanh(at(v.c)), at(v.c_prev), dh, dc);
    return ToEngine<cpu::StepGrads<Packet, kGates>>(r);
  }

 private:
  int64_t H_;
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_CPU_H_
