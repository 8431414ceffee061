// The Elman RNN cell's math on the packets of the CPU engine
// (cpu/cell.h), around the formulas of rnn_cell.h.
#ifndef TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_CPU_H_
#define TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_CPU_H_

#include <cstdint>

#include "cpu/cell.h"
#include "shared/recurrent_args.h"
#include "cpu/simd.h"
#include "cells/rnn/rnn_cell.h"

namespace tfrnn {
namespace rnn {

template <typename T>
class CpuCell : public Cell {
 public:
  using Scalar = T;
  using S = cpu::Simd<T>;
  using Packet = typename S::Packet;
  using Act = cpu::PacketActivations<T>;

  CpuCell(const Attrs& attrs, const SequenceInputs<T>&, const Dims& /*d*/)
      : relu_(attrs.relu) {}

  bool HiddenBypass() const { return false; }

  // pre: x.W + b of the step (nothing is saved).
  cpu::StepState<Packet> Forward(const Packet* hu, T* pre, const T*,
                                 const T*, int64_t, int64_t u,
                                 int64_t width) const {
    cpu::StepState<Packet> next;
    next.h = Activate<Act>(Eigen::internal::padd(hu[0], S::Load(pre + u, width)),
                           relu_);
    return next;
  }

  cpu::StepGrads<Packet, kGates> Backward(const cpu::BackwardView<T>& v,
                                          int64_t u, int64_t width,
                                          Packet dh, Packet) const {
    cpu::StepGrads<Packet, kGates> out;
    out.input[0] = PreActivationGrad<Act>(S::Load(v.h + u, width), dh, relu_);
    return out;
  }

 private:
  bool relu_;
};

}  // namespace rnn
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_CPU_H_
