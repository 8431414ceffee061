// The LSTM cell: its traits for the engines and its per-unit math, shared by
// the CPU (on SIMD packets) and the GPU (per element).
//
// Gate order is Keras's: i, f, c (the candidate, "g"), o.
//   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
// and the op's options (Options below), each off unless given:
//   peepholes (Gers & Schmidhuber 2000, TF's BlockLSTM): p_i * c_{t-1} and
//     p_f * c_{t-1} join i's and f's pre-activations, p_o * c_t o's;
//   cell clip: c_t clipped to [-clip, clip] before o and h see it;
//   zoneout (Krueger et al. 2016): the carried h_t, c_t are
//     z * previous + (1 - z) * new, per unit and step (a training mask of
//     0s and 1s, or inference's expectation z = rate).
// The formulas are templates over a value type V (a scalar or a packet) and
// an activation policy Act (common/host_device.h).
#ifndef TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_
#define TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_

#include "common/host_device.h"

namespace tfrnn {
namespace lstm {

// The op's attributes: cell_clip, negative for none.
struct Attrs {
  double cell_clip = -1;
};

// See common/recurrent_kernels.h for what each trait means.
struct Cell {
  static constexpr int kGates = 4;
  static constexpr int kSaved = 4;  // the activated i, f, g, o
  static constexpr int kBiasRows = 0;
  static constexpr bool kCellState = true;
  static constexpr bool kRecurrentGradsDiffer = false;
  static constexpr bool kHiddenBypass = false;  // zoneout_h's is per call
  static constexpr bool kVariants = true;
  static constexpr int kPanelPackets = 4;  // a packet of units a panel
  static constexpr const char* kSavedName = "gates";
  using Attrs = lstm::Attrs;
};

// A unit's options at one step: which are on, and their values there.
template <typename V>
struct Options {
  bool peephole = false, clip = false, zoneout_h = false, zoneout_c = false;
  V p_i, p_f, p_o;  // the peephole weights
  V limit;          // the cell clip
  V z_h, z_c;       // the share of h_{t-1}, c_{t-1} the step keeps
};

template <typename V>
struct Gates {
  V i, f, g, o;
};

// New cell state from activated gates (before any clip or zoneout).
template <typename V>
TFRNN_HOST_DEVICE inline V CellState(const Gates<V>& a, V c_prev) {
  return a.f * c_prev + a.i * a.g;
}

// c under the cell clip (when it is on).
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline V ClipIf(V c, const Options<V>& opt) {
  return opt.clip ? Act::Clip(c, opt.limit) : c;
}

// Hidden state from the output gate and tanh of the new cell state.
template <typename V>
TFRNN_HOST_DEVICE inline V HiddenState(V o, V tanh_c) {
  return o * tanh_c;
}

// The carried state under zoneout: z of the previous, 1 - z of the new
// (exactly one of them when z is 0 or 1).
template <typename V>
TFRNN_HOST_DEVICE inline V Zoneout(V z, V previous, V next) {
  return z * previous + (1 - z) * next;
}

template <typename V>
struct State {
  V h, c;
};

// One step of a unit from its gates' pre-activations (x.W + b + h.U);
// writes the activated gates to *a and returns the carried h_t, c_t.
// h_prev is read only under zoneout_h.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline State<V> Step(V pre_i, V pre_f, V pre_g, V pre_o,
                                       V h_prev, V c_prev,
                                       const Options<V>& opt, Gates<V>* a) {
  if (opt.peephole) {
    pre_i = pre_i + opt.p_i * c_prev;
    pre_f = pre_f + opt.p_f * c_prev;
  }
  a->i = Act::Logistic(pre_i);
  a->f = Act::Logistic(pre_f);
  a->g = Act::Tanh(pre_g);
  const V c = ClipIf<Act>(CellState(*a, c_prev), opt);
  if (opt.peephole) pre_o = pre_o + opt.p_o * c;
  a->o = Act::Logistic(pre_o);
  State<V> next{HiddenState(a->o, Act::Tanh(c)), c};
  if (opt.zoneout_h) next.h = Zoneout(opt.z_h, h_prev, next.h);
  if (opt.zoneout_c) next.c = Zoneout(opt.z_c, c_prev, next.c);
  return next;
}

// Gradients of one step, per unit: of the four gate pre-activations, of
// c_{t-1} and of h_{t-1} past U (zoneout_h), of the peepholes.
template <typename V>
struct StepGrads {
  V di, df, dg, do_, dc_prev, dh_prev, dp_i, dp_f, dp_o;
};

// a: the step's activated gates; c_prev: the carried c_{t-1}; c_saved: the
// carried c_t (the new cell state unless clipped or zoned out, which the
// backward then recomputes); dh, dc_next: the gradients reaching the
// carried h_t (from the output and the next step) and c_t.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline StepGrads<V> CellBackward(const Gates<V>& a,
                                                   V c_prev, V c_saved, V dh,
                                                   V dc_next,
                                                   const Options<V>& opt) {
  // "1 - x" rather than "V(1) - x": V may be a SIMD vector type, where 1
  // broadcasts.
  StepGrads<V> r{};
  V raw = c_saved, c = c_saved, dc_kept = dc_next;
  if (opt.clip || opt.zoneout_c) {
    raw = CellState(a, c_prev);
    c = ClipIf<Act>(raw, opt);
  }
  if (opt.zoneout_h) {
    r.dh_prev = opt.z_h * dh;
    dh = (1 - opt.z_h) * dh;
  }
  if (opt.zoneout_c) {
    dc_kept = opt.z_c * dc_next;
    dc_next = (1 - opt.z_c) * dc_next;
  }
  const V tanh_c = Act::Tanh(c);
  V dc = dc_next + dh * a.o * (1 - tanh_c * tanh_c);
  r.do_ = dh * tanh_c * a.o * (1 - a.o);
  if (opt.peephole) dc = dc + r.do_ * opt.p_o;
  if (opt.clip) dc = Act::WhereWithin(raw, opt.limit, dc);
  r.di = dc * a.g * a.i * (1 - a.i);
  r.df = dc * c_prev * a.f * (1 - a.f);
  r.dg = dc * a.i * (1 - a.g * a.g);
  r.dc_prev = dc * a.f;
  if (opt.zoneout_c) r.dc_prev = r.dc_prev + dc_kept;
  if (opt.peephole) {
    r.dc_prev = r.dc_prev + r.di * opt.p_i + r.df * opt.p_f;
    r.dp_i = r.di * c_prev;
    r.dp_f = r.df * c_prev;
    r.dp_o = r.do_ * c;
  }
  return r;
}

// r in an engine's per-gate gradient struct (the CPU's cpu::StepGrads, the
// GPU's gpu::ElementGrads): the gates' pre-activation gradients feed both
// GEMMs, dc_prev (and dh_prev, dp_*: read only when their option is on)
// the previous step and the peephole sums.
template <typename Out, typename V>
TFRNN_HOST_DEVICE inline Out ToEngine(const StepGrads<V>& r) {
  Out out;  // the fields a cell does not use are never read
  out.input[0] = r.di;
  out.input[1] = r.df;
  out.input[2] = r.dg;
  out.input[3] = r.do_;
  out.c_prev = r.dc_prev;
  out.h_prev = r.dh_prev;
  out.peephole[0] = r.dp_i;
  out.peephole[1] = r.dp_f;
  out.peephole[2] = r.dp_o;
  return out;
}

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_
