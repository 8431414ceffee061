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
//     0s and 1s, or inference's expectation z = rate);
//   layer norm (Ba et al. 2016): each gate's x.W and h.U normalised over
//     its H units (times gains gain_x, gain_h; then + b), and tanh reads
//     LN(c_t) * gain_c + shift_c instead of c_t (the carried c_t is not
//     normalised). Its row-wide statistics live in the engines; the
//     per-unit pieces are here (LayerNormBackward, GatesAndCell, Carry,
//     OutputBackward, GateBackward).
// The formulas are templates over a value type V (a scalar or a packet) and
// an activation policy Act (shared/host_device.h).
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_H_

#include "shared/host_device.h"

namespace tfrnn {
namespace lstm {

// The op's attributes: cell_clip, negative for none; the layer norm's
// epsilon (its variance + epsilon is rooted).
struct Attrs {
  double cell_clip = -1;
  double layer_norm_epsilon = 1e-3;
};

// Under layer norm a step's saved row holds, after the activated gates
// [0, 4H): the normalised x.W [4H, 8H) and h.U [8H, 12H) of the gates, the
// normalised c_t [12H, 13H), then the reciprocal standard deviations
// (rsqrt(variance + epsilon)) of the 4 x.W gates, the 4 h.U gates and c_t.
struct LayerNormRow {
  static constexpr int64_t kInput = 4, kRecurrent = 8, kCell = 12,
                           kStats = 13;  // offsets, in units of H
  static constexpr int64_t kInputStats = 0, kRecurrentStats = 4,
                           kCellStats = 8;  // offsets past kStats * H
  static constexpr int64_t Width(int64_t units) {
    return kStats * units + 9;
  }
};

// The layer norm's per-step gradient terms (CPU, summed over steps and
// rows): offsets in rows of H of dbias [4H], dgain_x [4H], dgain_h [4H],
// dgain_c [H], dshift_c [H].
struct LayerNormTerm {
  static constexpr int64_t kBias = 0, kGainX = 4, kGainH = 8, kGainC = 12,
                           kShiftC = 13, kRows = 14;
};

// See binding/op_kernels.h for what each trait means.
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
  static constexpr int64_t LayerNormSavedWidth(int64_t units) {
    return LayerNormRow::Width(units);
  }
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

// The activated gates (to *a) and the new cell state c_t, clipped, before
// zoneout, from the gates' pre-activations (x.W + b + h.U, or their layer
// norms); o's peephole reads c_t.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline V GatesAndCell(V pre_i, V pre_f, V pre_g, V pre_o,
                                        V c_prev, const Options<V>& opt,
                                        Gates<V>* a) {
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
  return c;
}

// The carried h_t, c_t from the gates, c_t and what tanh reads (c_t, or
// its layer norm). h_prev is read only under zoneout_h.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline State<V> Carry(const Gates<V>& a, V c, V c_out,
                                        V h_prev, V c_prev,
                                        const Options<V>& opt) {
  State<V> next{HiddenState(a.o, Act::Tanh(c_out)), c};
  if (opt.zoneout_h) next.h = Zoneout(opt.z_h, h_prev, next.h);
  if (opt.zoneout_c) next.c = Zoneout(opt.z_c, c_prev, next.c);
  return next;
}

// One step of a unit without layer norm: writes the activated gates to *a
// and returns the carried h_t, c_t.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline State<V> Step(V pre_i, V pre_f, V pre_g, V pre_o,
                                       V h_prev, V c_prev,
                                       const Options<V>& opt, Gates<V>* a) {
  const V c = GatesAndCell<Act>(pre_i, pre_f, pre_g, pre_o, c_prev, opt, a);
  return Carry<Act>(*a, c, c, h_prev, c_prev, opt);
}

// Gradients of one step, per unit: of the four gate pre-activations, of
// c_{t-1} and of h_{t-1} past U (zoneout_h), of the peepholes.
template <typename V>
struct StepGrads {
  V di, df, dg, do_, dc_prev, dh_prev, dp_i, dp_f, dp_o;
};

// The new cell state before the clip (raw) and after it (c), from the
// saved gates, c_{t-1} and the carried c_t: recomputed when the clip or
// zoneout_c made the carried one differ.
template <typename V>
struct CellValues {
  V raw, c;
};

template <typename Act, typename V>
TFRNN_HOST_DEVICE inline CellValues<V> NewCell(const Gates<V>& a, V c_prev,
                                               V c_saved,
                                               const Options<V>& opt) {
  if (!opt.clip && !opt.zoneout_c) return {c_saved, c_saved};
  const V raw = CellState(a, c_prev);
  return {raw, ClipIf<Act>(raw, opt)};
}

// The first half of a step's backward, up to what tanh read: from the
// gradients reaching the carried h_t (dh) and c_t (dc_next), do_, the
// gradient of tanh's input (d_out), dc_next's share reaching the new c_t
// (dc) and c_{t-1} past it (dc_kept), and dh's share reaching h_{t-1} past
// U (dh_prev). tanh_out: tanh of what tanh read.
template <typename V>
struct OutputGrads {
  V do_, d_out, dc, dc_kept, dh_prev;
};

template <typename V>
TFRNN_HOST_DEVICE inline OutputGrads<V> OutputBackward(const Gates<V>& a,
                                                       V tanh_out, V dh,
                                                       V dc_next,
                                                       const Options<V>& opt) {
  // "1 - x" rather than "V(1) - x": V may be a SIMD vector type, where 1
  // broadcasts.
  OutputGrads<V> r{};
  if (opt.zoneout_h) {
    r.dh_prev = opt.z_h * dh;
    dh = (1 - opt.z_h) * dh;
  }
  r.dc = dc_next;
  if (opt.zoneout_c) {
    r.dc_kept = opt.z_c * dc_next;
    r.dc = (1 - opt.z_c) * dc_next;
  }
  r.d_out = dh * a.o * (1 - tanh_out * tanh_out);
  r.do_ = dh * tanh_out * a.o * (1 - a.o);
  return r;
}

// The second half: from dc, the whole gradient reaching the clipped c_t
// (out.dc plus its path through tanh), to the gates' pre-activations,
// c_{t-1} and the peepholes.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline StepGrads<V> GateBackward(const Gates<V>& a,
                                                   V c_prev,
                                                   const CellValues<V>& cv,
                                                   V dc,
                                                   const OutputGrads<V>& out,
                                                   const Options<V>& opt) {
  StepGrads<V> r{};
  r.do_ = out.do_;
  r.dh_prev = out.dh_prev;
  if (opt.peephole) dc = dc + r.do_ * opt.p_o;
  if (opt.clip) dc = Act::WhereWithin(cv.raw, opt.limit, dc);
  r.di = dc * a.g * a.i * (1 - a.i);
  r.df = dc * c_prev * a.f * (1 - a.f);
  r.dg = dc * a.i * (1 - a.g * a.g);
  r.dc_prev = dc * a.f;
  if (opt.zoneout_c) r.dc_prev = r.dc_prev + out.dc_kept;
  if (opt.peephole) {
    r.dc_prev = r.dc_prev + r.di * opt.p_i + r.df * opt.p_f;
    r.dp_i = r.di * c_prev;
    r.dp_f = r.df * c_prev;
    r.dp_o = r.do_ * cv.c;
  }
  return r;
}

// A unit's whole backward without layer norm. a: the step's activated
// gates; c_prev: the carried c_{t-1}; c_saved: the carried c_t; dh,
// dc_next: the gradients reaching the carried h_t and c_t.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline StepGrads<V> CellBackward(const Gates<V>& a,
                                                   V c_prev, V c_saved, V dh,
                                                   V dc_next,
                                                   const Options<V>& opt) {
  const CellValues<V> cv = NewCell<Act>(a, c_prev, c_saved, opt);
  const OutputGrads<V> out =
      OutputBackward(a, Act::Tanh(cv.c), dh, dc_next, opt);
  return GateBackward<Act>(a, c_prev, cv, out.dc + out.d_out, out, opt);
}

// Layer norm's gradient at one unit of a normalised row: dy, the gradient
// reaching its normalised value (after the gain); normed, that value;
// mean_dy, mean_dy_normed: the row's means of dy and dy * normed; rstd:
// the row's rsqrt(variance + epsilon).
template <typename V>
TFRNN_HOST_DEVICE inline V LayerNormBackward(V dy, V normed, V mean_dy,
                                             V mean_dy_normed, V rstd) {
  return rstd * (dy - mean_dy - normed * mean_dy_normed);
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

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_CELL_H_
