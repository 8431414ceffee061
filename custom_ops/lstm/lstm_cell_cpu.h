// The LSTM cell's math on the packets of the CPU engine (common/cpu_cell.h):
// what it reads and saves per step, around the formulas of lstm_cell.h.
#ifndef TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_CPU_H_
#define TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_CPU_H_

#include <cstdint>

#include "common/cpu_cell.h"
#include "common/recurrent_args.h"
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

  // in: the options' inputs (peephole, zoneout_h, zoneout_c; null: off).
  CpuCell(const Attrs& attrs, const SequenceInputs<T>& in, int64_t units)
      : H_(units), clip_(static_cast<T>(attrs.cell_clip)),
        peephole_(in.peephole), zoneout_h_(in.zoneout_h),
        zoneout_c_(in.zoneout_c) {}

  // Under zoneout_h, z * dh_t reaches h_{t-1} past U.
  bool HiddenBypass() const { return zoneout_h_.values != nullptr; }

  // saved: x.W + b of the step's i, f, g, o, replaced by the activated gates.
  cpu::StepState<Packet> Forward(const Packet* hu, T* saved, const T* h_prev,
                                 const T* c_prev, int64_t row, int64_t u,
                                 int64_t width) const {
    const auto at = [u, width](const T* p) { return S::Load(p + u, width); };
    Packet pre[kGates];
    for (int j = 0; j < kGates; ++j) {
      pre[j] = Eigen::internal::padd(hu[j], at(saved + j * H_));
    }
    const Options<Packet> opt = OptionsAt(row, u, width);
    const Packet h = opt.zoneout_h ? at(h_prev)
                                   : Eigen::internal::pset1<Packet>(T(0));
    Gates<Packet> a;
    const State<Packet> s =
        Step<Act>(pre[0], pre[1], pre[2], pre[3], h, at(c_prev), opt, &a);
    S::Store(saved + u, a.i, width);
    S::Store(saved + H_ + u, a.f, width);
    S::Store(saved + 2 * H_ + u, a.g, width);
    S::Store(saved + 3 * H_ + u, a.o, width);
    return {s.h, s.c};
  }

  cpu::StepGrads<Packet, kGates> Backward(const cpu::BackwardView<T>& v,
                                          int64_t u, int64_t width,
                                          Packet dh, Packet dc) const {
    const auto at = [u, width](const T* p) { return S::Load(p + u, width); };
    const T* g = v.saved;
    const Gates<Packet> a{at(g), at(g + H_), at(g + 2 * H_), at(g + 3 * H_)};
    const StepGrads<Packet> r = CellBackward<Act>(
        a, at(v.c_prev), at(v.c), dh, dc, OptionsAt(v.row, u, width));
    return ToEngine<cpu::StepGrads<Packet, kGates>>(r);
  }

 private:
  // The options of units u.. at row b * T + t of the sequence.
  Options<Packet> OptionsAt(int64_t row, int64_t u, int64_t width) const {
    Options<Packet> opt{};
    if (peephole_ != nullptr) {
      opt.peephole = true;
      opt.p_i = S::Load(peephole_ + u, width);
      opt.p_f = S::Load(peephole_ + H_ + u, width);
      opt.p_o = S::Load(peephole_ + 2 * H_ + u, width);
    }
    if (clip_ >= T(0)) {
      opt.clip = true;
      opt.limit = Eigen::internal::pset1<Packet>(clip_);
    }
    if (zoneout_h_.values != nullptr) {
      opt.zoneout_h = true;
      opt.z_h = WeightAt(zoneout_h_, row, u, width);
    }
    if (zoneout_c_.values != nullptr) {
      opt.zoneout_c = true;
      opt.z_c = WeightAt(zoneout_c_, row, u, width);
    }
    return opt;
  }

  Packet WeightAt(const StepWeights<T>& w, int64_t row, int64_t u,
                  int64_t width) const {
    if (!w.per_step) return Eigen::internal::pset1<Packet>(w.values[0]);
    return S::Load(w.values + row * H_ + u, width);
  }

  int64_t H_;
  T clip_;
  const T* peephole_;
  StepWeights<T> zoneout_h_, zoneout_c_;
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_CPU_H_
