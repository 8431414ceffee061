// The LSTM's layer norm on the GPU core, forward: the walk of gpu/walk.h
// with each normalisation a row kernel between the element kernels. Per
// step: h.U (GEMM); its gates normalised per row (LayerNormRows); the gates
// and c_t (LayerNormGates); c_t normalised (LayerNormRows); the carried
// state (LayerNormCarry). x.W is normalised once for every step. Row
// kernels run a thread per row and gate, looping over its units: simple,
// and correct on any H (a warp per row would be the next step for speed).
// Under the projection LayerNormCarry writes m_t and the plain walk's
// projection pieces (gpu/walk.h) take h from there. The saved row is the
// CPU's (lstm_cell.h's LayerNormRow), so the two devices' saved values
// agree; nothing uses atomics. The backward: lstm_layer_norm_gpu_backward.h.
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_LAYER_NORM_GPU_FORWARD_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_LAYER_NORM_GPU_FORWARD_H_

#include <cmath>
#include <cstdint>

#include "cells/lstm/lstm_cell.h"
#include "cells/lstm/lstm_cell_gpu.h"
#include "gpu/elements.h"
#include "gpu/status.h"
#include "gpu/walk.h"
#include "gpu/workspace.h"
#include "shared/recurrent_args.h"
#include "shared/steps.h"

namespace tfrnn {
namespace gpu {

using lstm::LayerNormRow;

// Where element (b, t) of a sequence is: (b * T + t) * width.
TFRNN_HOST_DEVICE inline int64_t SeqAt(int64_t b, int64_t t, int64_t time,
                                       int64_t width) {
  return (b * time + t) * width;
}

// Row b's saved row of step t, saved [T,B,LayerNormRow::Width(H)].
template <typename T>
TFRNN_HOST_DEVICE inline const T* SavedRow(const T* saved, int64_t t,
                                           int64_t b, int64_t batch,
                                           int64_t units) {
  return saved + (t * batch + b) * LayerNormRow::Width(units);
}

// Unit u's activated gates in a row that starts with them, H apart.
template <typename T>
TFRNN_HOST_DEVICE inline lstm::Gates<T> GatesAt(const T* row, int64_t u,
                                                int64_t units) {
  return {row[u], row[units + u], row[2 * units + u], row[3 * units + u]};
}

// Normalises group g of row r (element i = r * groups + g; n = rows *
// groups) over its H values: out = LN(values) * gain (+ shift). Keeps the
// normalised values (at normed_at) and rsqrt(variance + epsilon) (at
// stats_at + g) in the row's saved row when saved is not null. Rows are
// step `step`'s batch rows b (step >= 0) or every step's b * T + t
// (step < 0); rows past their length are skipped.
template <typename T>
struct LayerNormRows {
  int64_t batch, time, units, groups, step;
  const int32_t* lengths;
  T epsilon;
  const T* values;  // row r's group g at values + r * stride + g * H
  int64_t stride;
  const T* gain;   // [groups * H]
  const T* shift;  // [groups * H], or null
  T* out;          // laid out as values (may be values)
  T* saved;        // [T,B,saved_width], or null
  int64_t saved_width, normed_at, stats_at;

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    using std::sqrt;
    const int64_t H = units, r = i / groups, g = i % groups;
    const int64_t b = step >= 0 ? r : r / time;
    const int64_t t = step >= 0 ? step : r % time;
    if (t >= Length(lengths, b, time)) return;
    const T* v = values + r * stride + g * H;
    T* o = out + r * stride + g * H;
    T mean = T(0), variance = T(0);
    for (int64_t u = 0; u < H; ++u) mean += v[u];
    mean /= T(H);
    for (int64_t u = 0; u < H; ++u) variance += (v[u] - mean) * (v[u] - mean);
    const T rstd = T(1) / sqrt(variance / T(H) + epsilon);
    T* kept = saved == nullptr ? nullptr
                               : saved + (t * batch + b) * saved_width;
    for (int64_t u = 0; u < H; ++u) {
      const T normed = (v[u] - mean) * rstd;
      if (kept != nullptr) kept[normed_at + g * H + u] = normed;
      o[u] = normed * gain[g * H + u] + (shift ? shift[g * H + u] : T(0));
    }
    if (kept != nullptr) kept[stats_at + g] = rstd;
  }
};

// Step t's gates (to their row: gates + b * gates_stride) and clipped c_t
// (to c_new) from the normalised x.W and h.U; n = B*H.
template <typename T>
struct LayerNormGates {
  lstm::Attrs attrs;
  int64_t time, units, t;
  const int32_t* lengths;
  ElementAt<T> options;
  const T* xw;    // [B,T,4H] LN(x.W) * gain_x
  const T* bias;  // [4H]
  const T* hu;    // [B,4H] LN(h_{t-1}.U) * gain_h
  const T* c;     // [B,H] c_{t-1}
  T* gates;       // the step's saved rows, or a [B,4H] scratch
  int64_t gates_stride;
  T* c_new;  // [B,H]

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t H = units, b = i / H, u = i % H;
    if (t >= Length(lengths, b, time)) return;
    T pre[4];
    for (int g = 0; g < 4; ++g) {
      pre[g] = xw[SeqAt(b, t, time, 4 * H) + g * H + u] + bias[g * H + u] +
               hu[b * 4 * H + g * H + u];
    }
    lstm::Gates<T> a;
    c_new[i] = lstm::GatesAndCell<ScalarActivations<T>>(
        pre[0], pre[1], pre[2], pre[3], c[i],
        lstm::GpuCell::OptionsAt(attrs, options.At(b * time + t, u)), &a);
    T* row = gates + b * gates_stride;
    row[u] = a.i;
    row[H + u] = a.f;
    row[2 * H + u] = a.g;
    row[3 * H + u] = a.o;
  }
};

// Step t's carried h_t, c_t from the gates, c_t and tanh's input c_out
// (LN(c_t) * gain_c + shift_c), to the running state and the outputs; a
// row past its length carries its masked h over; n = B*H. Under a
// projection h is m_t, to m (0 for rows not running), the rest
// ProjectStep's.
template <typename T>
struct LayerNormCarry {
  lstm::Attrs attrs;
  int64_t time, units, t;
  const int32_t* lengths;
  const T* mask;  // [B,H] recurrent mask, or null
  ElementAt<T> options;
  const T* gates;  // as LayerNormGates wrote them
  int64_t gates_stride;
  const T* c_new;   // [B,H]
  const T* c_out;   // [B,H]
  const T* h_read;  // [B,H]
  T* h_write;       // [B,H]
  T* h;             // [B,H] the running h
  T* c;             // [B,H] the running c
  T* output;        // [B,T,H] or null
  T* cell;          // [B,T,H] or null
  T* m;             // [B,H] under a projection, else null

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t H = units, b = i / H, u = i % H;
    if (t >= Length(lengths, b, time)) {
      if (m != nullptr) {
        m[i] = T(0);
      } else {
        h_write[i] = h_read[i];
      }
      return;
    }
    const lstm::Gates<T> a = GatesAt(gates + b * gates_stride, u, H);
    const lstm::State<T> next = lstm::Carry<ScalarActivations<T>>(
        a, c_new[i], c_out[i], m != nullptr ? T(0) : h[i], c[i],
        lstm::GpuCell::OptionsAt(attrs, options.At(b * time + t, u)));
    const int64_t at = SeqAt(b, t, time, H) + u;
    c[i] = next.c;
    if (cell != nullptr) cell[at] = next.c;
    if (m != nullptr) {
      m[i] = next.h;
      return;
    }
    h[i] = next.h;
    if (output != nullptr) output[at] = next.h;
    h_write[i] = MaskedValue(next.h, mask, i);
  }
};

// The forward's scratch under layer norm: ForwardScratch's (with the
// projection's when there is one), and per step
// c_new, c_out [B,H] and (inference, where nothing is saved) the gates
// [B,4H].
template <typename T>
struct LayerNormForwardScratch {
  LayerNormForwardScratch(WorkspacePlan& plan, const Dims& d, bool projection)
      : base(plan, d, projection) {
    c_new = plan.Take<T>(d.batch * d.units);
    c_out = plan.Take<T>(d.batch * d.units);
    gates = plan.Take<T>(d.batch * 4 * d.units);
  }
  ForwardScratch<lstm::GpuCell, T> base;
  T* c_new;
  T* c_out;
  T* gates;
};

template <typename Cell, typename T, typename Backend>
Status RunLayerNormForward(Backend& be, const typename Cell::Attrs& attrs,
                           const Walk& walk, const SequenceInputs<T>& in,
                           const ForwardOutputs<T>& out, void* workspace) {
  const Dims& d = walk.dims;
  const int64_t B = d.batch, time = d.time, H = d.units, G = 4 * H;
  const int64_t Hh = d.hidden, W = LayerNormRow::Width(H), BH = B * H;
  const int64_t stats = LayerNormRow::kStats * H;
  const LayerNormWeights<T>& ln = in.layer_norm;
  const T eps = static_cast<T>(attrs.layer_norm_epsilon);
  WorkspacePlan plan(workspace);
  const LayerNormForwardScratch<T> s(plan, d, in.projection != nullptr);
  TFRNN_GPU_RETURN_IF_ERROR(be.Gemm(false, false, B * time, G, d.input, in.x,
                                    d.input, in.kernel, G, s.base.xw, G));
  TFRNN_GPU_RETURN_IF_ERROR(be.Each(
      B * time * 4,
      LayerNormRows<T>{B, time, H, 4, -1, in.lengths, eps, s.base.xw, G,
                       ln.gain_x, nullptr, s.base.xw, out.saved, W,
                       LayerNormRow::kInput * H,
                       stats + LayerNormRow::kInputStats}));
  TFRNN_GPU_RETURN_IF_ERROR(
      be.Each(B * Hh, CopyMasked<T>{in.h0, in.recurrent_mask, s.base.h_in}));
  const ElementAt<T> options = OptionsOf(in, H);
  for (int64_t step = 0; step < walk.max_len; ++step) {
    const int64_t t = StepTime(walk.reverse, step, walk.max_len);
    const T* h_read = s.base.h_in + (step % 2) * B * Hh;
    T* h_write = s.base.h_in + ((step + 1) % 2) * B * Hh;
    T* gates = out.saved == nullptr ? s.gates : out.saved + t * B * W;
    const int64_t gates_stride = out.saved == nullptr ? G : W;
    TFRNN_GPU_RETURN_IF_ERROR(be.Gemm(false, false, B, G, Hh, h_read, Hh,
                                      in.recurrent_kernel, G, s.base.hu, G));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        B * 4, LayerNormRows<T>{B, time, H, 4, t, in.lengths, eps, s.base.hu,
                                G, ln.gain_h, nullptr, s.base.hu, out.saved,
                                W, LayerNormRow::kRecurrent * H,
                                stats + LayerNormRow::kRecurrentStats}));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        BH, LayerNormGates<T>{attrs, time, H, t, in.lengths, options,
                              s.base.xw, in.bias, s.base.hu, out.c_n, gates,
                              gates_stride, s.c_new}));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        B, LayerNormRows<T>{B, time, H, 1, t, in.lengths, eps, s.c_new, H,
                            ln.gain_c, ln.shift_c, s.c_out, out.saved, W,
                            LayerNormRow::kCell * H,
                            stats + LayerNormRow::kCellStats}));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        BH, LayerNormCarry<T>{attrs, time, H, t, in.lengths,
                              in.recurrent_mask, options, gates, gates_stride,
                              s.c_new, s.c_out, h_read, h_write, out.h_n,
                              out.c_n, out.output, out.cell, s.base.m}));
    if (in.projection != nullptr) {
      TFRNN_GPU_RETURN_IF_ERROR(ProjectForward(be, walk, t, in, out,
                                               s.base.m, s.base.projected,
                                               h_read, h_write));
    }
  }
  return {};
}

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_LAYER_NORM_GPU_FORWARD_H_
