// The LSTM cell: its traits for the engines and its per-unit math, shared by
// the CPU (on SIMD packets) and the GPU (per element).
//
// Gate order is Keras's: i, f, c (the candidate, "g"), o.
//   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
// The formulas are templates over a value type V (a scalar or a packet) and
// an activation policy Act (common/host_device.h).
#ifndef TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_
#define TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_

#include "common/host_device.h"

namespace tfrnn {
namespace lstm {

// See common/recurrent_kernels.h for what each trait means.
struct Cell {
  static constexpr int kGates = 4;
  static constexpr int kSaved = 4;  // the activated i, f, g, o
  static constexpr int kBiasRows = 0;
  static constexpr bool kCellState = true;
  static constexpr bool kRecurrentGradsDiffer = false;
  static constexpr bool kHiddenBypass = false;
  static constexpr int kPanelPackets = 4;  // a packet of units a panel
  static constexpr const char* kSavedName = "gates";
  using Attrs = NoAttrs;
};

template <typename V>
struct Gates {
  V i, f, g, o;
};

// The activated gates from their pre-activations.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline Gates<V> Activate(V i, V f, V g, V o) {
  return {Act::Logistic(i), Act::Logistic(f), Act::Tanh(g),
          Act::Logistic(o)};
}

// New cell state from activated gates.
template <typename V>
TFRNN_HOST_DEVICE inline V CellState(const Gates<V>& a, V c_prev) {
  return a.f * c_prev + a.i * a.g;
}

// Hidden state from the output gate and tanh of the new cell state.
template <typename V>
TFRNN_HOST_DEVICE inline V HiddenState(V o, V tanh_c) {
  return o * tanh_c;
}

// Gradients of one step, per unit: of the four gate pre-activations and of
// c_{t-1}.
template <typename V>
struct StepGrads {
  V di, df, dg, do_, dc_prev;
};

// a: the step's activated gates; tanh_c: tanh(c_t); dh: the gradient
// reaching h_t (from the output and from the next step); dc_next: the one
// reaching c_t from the next step.
template <typename V>
TFRNN_HOST_DEVICE inline StepGrads<V> CellBackward(const Gates<V>& a,
                                                   V tanh_c, V c_prev, V dh,
                                                   V dc_next) {
  // "1 - x" rather than "V(1) - x": V may be a SIMD vector type, where 1
  // broadcasts.
  StepGrads<V> r;
  const V dc = dc_next + dh * a.o * (1 - tanh_c * tanh_c);
  r.do_ = dh * tanh_c * a.o * (1 - a.o);
  r.di = dc * a.g * a.i * (1 - a.i);
  r.df = dc * c_prev * a.f * (1 - a.f);
  r.dg = dc * a.i * (1 - a.g * a.g);
  r.dc_prev = dc * a.f;
  return r;
}

// r in an engine's per-gate gradient struct (the CPU's cpu::StepGrads, the
// GPU's gpu::ElementGrads): the gates' pre-activation gradients feed both
// GEMMs, dc_prev the previous step.
template <typename Out, typename V>
TFRNN_HOST_DEVICE inline Out ToEngine(const StepGrads<V>& r) {
  Out out;  // the fields a cell does not use are never read
  out.input[0] = r.di;
  out.input[1] = r.df;
  out.input[2] = r.dg;
  out.input[3] = r.do_;
  out.c_prev = r.dc_prev;
  return out;
}

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_
