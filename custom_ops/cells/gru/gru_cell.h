// The GRU cell: its traits for the engines and its per-unit math, shared by
// the CPU (on SIMD packets) and the GPU (per element).
//
// Keras's GRU with reset_after=True (the cuDNN variant), gates z, r, h:
//   z = sigmoid(x.Wz + bz + h.Uz + rz),  r = sigmoid(x.Wr + br + h.Ur + rr)
//   n = tanh(x.Wh + bh + r * (h.Uh + rh)),  h' = z * h + (1 - z) * n
// (b: input bias, r*: recurrent bias, bias [2, 3H]).
#ifndef TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_H_
#define TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_H_

#include "shared/host_device.h"

namespace tfrnn {
namespace gru {

// See binding/op_kernels.h for what each trait means.
struct Cell {
  static constexpr int kGates = 3;
  static constexpr int kSaved = 4;  // z, r, n and h.Uh + rh
  static constexpr int kBiasRows = 2;
  static constexpr bool kCellState = false;
  static constexpr bool kRecurrentGradsDiffer = true;
  static constexpr bool kHiddenBypass = true;
  static constexpr bool kVariants = false;
  static constexpr int kPanelPackets = 3;  // a packet of units a panel
  static constexpr const char* kSavedName = "reserve";
  using Attrs = NoAttrs;
};

template <typename V>
struct Activated {
  V z, r, n;
};

// pre_z, pre_r: the full pre-activations of z and r; x_n: x.Wh + bh;
// rec_n: h.Uh + rh.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline Activated<V> Activate(V pre_z, V pre_r, V x_n,
                                               V rec_n) {
  Activated<V> a;
  a.z = Act::Logistic(pre_z);
  a.r = Act::Logistic(pre_r);
  a.n = Act::Tanh(x_n + a.r * rec_n);
  return a;
}

// New hidden state from the update gate, the old state and the candidate.
template <typename V>
TFRNN_HOST_DEVICE inline V HiddenState(V z, V h_prev, V n) {
  return z * h_prev + (1 - z) * n;
}

// Gradients of one step, per unit: of the z and r pre-activations, of the
// candidate's input pre-activation (x.Wh + bh), of its recurrent part
// (h.Uh + rh), and the part of dh_prev that bypasses the recurrent GEMM.
template <typename V>
struct StepGrads {
  V dz, dr, dn_input, dn_recurrent, dh_prev;
};

// a: the step's activated gates; rec_n: h.Uh + rh as the forward computed
// it; dh: the gradient reaching h_t.
template <typename V>
TFRNN_HOST_DEVICE inline StepGrads<V> CellBackward(const Activated<V>& a,
                                                   V rec_n, V h_prev, V dh) {
  StepGrads<V> g;
  const V dn_pre = dh * (1 - a.z) * (1 - a.n * a.n);
  g.dz = dh * (h_prev - a.n) * a.z * (1 - a.z);
  g.dr = dn_pre * rec_n * a.r * (1 - a.r);
  g.dn_input = dn_pre;
  g.dn_recurrent = dn_pre * a.r;
  g.dh_prev = dh * a.z;
  return g;
}

// g in an engine's per-gate gradient struct (the CPU's cpu::StepGrads, the
// GPU's gpu::ElementGrads): z and r enter both GEMMs alike, the candidate's
// input and recurrent parts differ (r scales the latter).
template <typename Out, typename V>
TFRNN_HOST_DEVICE inline Out ToEngine(const StepGrads<V>& g) {
  Out out;  // the fields a cell does not use are never read
  out.input[0] = out.recurrent[0] = g.dz;
  out.input[1] = out.recurrent[1] = g.dr;
  out.input[2] = g.dn_input;
  out.recurrent[2] = g.dn_recurrent;
  out.h_prev = g.dh_prev;
  return out;
}

}  // namespace gru
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_GRU_GRU_CELL_H_
