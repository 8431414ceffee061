// Scalar GRU gate math shared by the CPU and GPU kernels.
//
// Keras's GRU with reset_after=True (the cuDNN variant), gates z, r, h:
//   z = sigmoid(x.Wz + bz + h.Uz + rz),  r = sigmoid(x.Wr + br + h.Ur + rr)
//   n = tanh(x.Wh + bh + r * (h.Uh + rh)),  h' = z * h + (1 - z) * n
// (b: input bias, r*: recurrent bias). The CPU kernel evaluates sigmoid/tanh
// with Eigen's vectorised array functions and calls the arithmetic below.
#ifndef TFRNN_CUSTOM_OPS_GRU_GRU_CELL_H_
#define TFRNN_CUSTOM_OPS_GRU_GRU_CELL_H_

#include "lstm/lstm_cell.h"  // TFRNN_HOST_DEVICE, Sigmoid, Tanh

namespace tfrnn {
namespace gru {

// New hidden state from the update gate, the old state and the candidate.
template <typename T>
TFRNN_HOST_DEVICE inline T HiddenState(T z, T h_prev, T candidate) {
  return z * h_prev + (T(1) - z) * candidate;
}

// Gradients of one step, per unit: of the z and r pre-activations, of the
// candidate's input pre-activation (x.Wh + bh), of its recurrent part
// (h.Uh + rh), and the part of dh_prev that bypasses the recurrent GEMM.
template <typename T>
struct StepGrads {
  T dz, dr, dn_input, dn_recurrent, dh_prev;
};

// z, r, n: activated gates; rec_n: h.Uh + rh as the forward computed it.
template <typename T>
TFRNN_HOST_DEVICE inline StepGrads<T> CellBackward(T z, T r, T n, T rec_n,
                                                   T h_prev, T dh) {
  StepGrads<T> g;
  const T dn_pre = dh * (T(1) - z) * (T(1) - n * n);
  g.dz = dh * (h_prev - n) * z * (T(1) - z);
  g.dr = dn_pre * rec_n * r * (T(1) - r);
  g.dn_input = dn_pre;
  g.dn_recurrent = dn_pre * r;
  g.dh_prev = dh * z;
  return g;
}

}  // namespace gru
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GRU_GRU_CELL_H_
