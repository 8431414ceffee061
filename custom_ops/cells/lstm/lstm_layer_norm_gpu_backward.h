// The LSTM's layer norm on the GPU core, backward (the forward and the
// kernels both use: lstm_layer_norm_gpu_forward.h). Per step: the gradient
// to LN(c_t) (LayerNormOutputBackward), the row means its norm's gradient
// needs (LayerNormCellMeans), the gates' (LayerNormGateBackward), both
// sides through their norms (LayerNormRowsBackward), then
// d_recurrent . U^T (GEMM); under the projection the plain walk's
// projection pieces (gpu/walk.h) do the h side first. The gains' gradients
// are summed over every step as deterministically as the bias's.
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_LAYER_NORM_GPU_BACKWARD_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_LAYER_NORM_GPU_BACKWARD_H_

#include <cmath>
#include <cstdint>

#include "cells/lstm/lstm_layer_norm_gpu_forward.h"

namespace tfrnn {
namespace gpu {

// Backward, per step: folds in step `pending`'s product (as BackwardStep),
// then from the gradients reaching the carried h_t, c_t: dh's share past U
// (to dh, under zoneout_h), the gradient reaching LN(c_t) (times gain_c:
// d_normed; d_out keeps it for gain_c's and shift_c's sums), dc's shares
// (dc_share reaching c_t, dc_kept c_{t-1}) and do_ (to dz's o); n = B*H.
// Under a projection ProjectionBackwardStep has done the h side: dm is the
// gradient reaching m_t (nothing to fold), m_seen records m_t.
template <typename T>
struct LayerNormOutputBackward {
  lstm::Attrs attrs;
  int64_t batch, time, units, t, pending;
  bool reverse;
  const int32_t* lengths;
  const T* mask;
  ElementAt<T> options;
  const T* h0;
  const T* c0;
  const T* output;    // [B,T,H]
  const T* cell;      // [B,T,H]
  const T* saved;     // [T,B,W]
  const T* d_output;  // [B,T,H]
  const T* dhu;       // [B,H]
  const T* gain_c;
  const T* shift_c;
  T* dh;        // [B,H]
  const T* dc;  // [B,H]
  T* d_normed;  // [B,H]
  T* dc_share;  // [B,H]
  T* dc_kept;   // [B,H]
  T* dz;        // [B,T,4H]
  T* d_out;     // [B,T,H]
  T* h_seen;    // [B,T,H]
  const T* dm;  // [B,H] under a projection, else null
  T* m_seen;    // [B,T,H] under a projection, else null

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    using Act = ScalarActivations<T>;
    const int64_t H = units, b = i / H, u = i % H;
    const int64_t len = Length(lengths, b, time);
    const bool bypass = options.zoneout_h.values != nullptr;
    if (dm == nullptr) {
      FoldRecurrent(pending, time, lengths, mask, dhu, bypass, dh, b, i);
    }
    if (t >= len) return;
    const int64_t at = SeqAt(b, t, time, H) + u;
    const T* row = SavedRow(saved, t, b, batch, H);
    const lstm::Gates<T> a = GatesAt(row, u, H);
    const T tanh_out = Act::Tanh(row[LayerNormRow::kCell * H + u] *
                                     gain_c[u] + shift_c[u]);
    const lstm::OutputGrads<T> r = lstm::OutputBackward(
        a, tanh_out, dm != nullptr ? dm[i] : dh[i] + d_output[at], dc[i],
        lstm::GpuCell::OptionsAt(attrs, options.At(b * time + t, u)));
    d_normed[i] = r.d_out * gain_c[u];
    dc_share[i] = r.dc;
    dc_kept[i] = r.dc_kept;
    dz[SeqAt(b, t, time, 4 * H) + 3 * H + u] = r.do_;
    d_out[at] = r.d_out;
    if (dm != nullptr) {
      m_seen[at] = lstm::HiddenState(a.o, tanh_out);
      return;
    }
    const int64_t prev = PreviousStep(reverse, t, len);
    const T h_prev = prev < 0 ? h0[i] : output[SeqAt(b, prev, time, H) + u];
    h_seen[at] = MaskedValue(h_prev, mask, i);
    if (bypass) dh[i] = r.dh_prev;
  }
};

// Row b's means of d_normed and d_normed * LN(c_t) (to means[2b], [2b+1]),
// for LN(c_t)'s gradient; n = B.
template <typename T>
struct LayerNormCellMeans {
  int64_t batch, time, units, t;
  const int32_t* lengths;
  const T* saved;
  const T* d_normed;
  T* means;

  TFRNN_HOST_DEVICE void operator()(int64_t b) const {
    const int64_t H = units;
    if (t >= Length(lengths, b, time)) return;
    const T* normed =
        SavedRow(saved, t, b, batch, H) + LayerNormRow::kCell * H;
    T mean_dy = T(0), mean_dy_normed = T(0);
    for (int64_t u = 0; u < H; ++u) {
      mean_dy += d_normed[b * H + u];
      mean_dy_normed += d_normed[b * H + u] * normed[u];
    }
    means[2 * b] = mean_dy / T(H);
    means[2 * b + 1] = mean_dy_normed / T(H);
  }
};

// Through LN(c_t) to c_t, then the gates: their pre-activations' gradients
// (to dz) and c_{t-1}'s (to dc); n = B*H.
template <typename T>
struct LayerNormGateBackward {
  lstm::Attrs attrs;
  int64_t batch, time, units, t;
  bool reverse;
  const int32_t* lengths;
  ElementAt<T> options;
  const T* c0;
  const T* cell;
  const T* saved;
  const T* d_normed;
  const T* dc_share;
  const T* dc_kept;
  const T* means;
  T* dz;
  T* dc;

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    using Act = ScalarActivations<T>;
    const int64_t H = units, b = i / H, u = i % H;
    const int64_t len = Length(lengths, b, time);
    if (t >= len) return;
    const int64_t prev = PreviousStep(reverse, t, len);
    const T c_prev = prev < 0 ? c0[i] : cell[SeqAt(b, prev, time, H) + u];
    const T* row = SavedRow(saved, t, b, batch, H);
    const T* stats = row + LayerNormRow::kStats * H;
    const lstm::Gates<T> a = GatesAt(row, u, H);
    const lstm::Options<T> opt =
        lstm::GpuCell::OptionsAt(attrs, options.At(b * time + t, u));
    T* dz_row = dz + SeqAt(b, t, time, 4 * H);
    lstm::OutputGrads<T> out{};
    out.do_ = dz_row[3 * H + u];
    out.dc_kept = dc_kept[i];
    const T dc_t =
        dc_share[i] +
        lstm::LayerNormBackward(d_normed[i], row[LayerNormRow::kCell * H + u],
                                means[2 * b], means[2 * b + 1],
                                stats[LayerNormRow::kCellStats]);
    const lstm::StepGrads<T> r = lstm::GateBackward<Act>(
        a, c_prev,
        lstm::NewCell<Act>(a, c_prev, cell[SeqAt(b, t, time, H) + u], opt),
        dc_t, out, opt);
    dz_row[u] = r.di;
    dz_row[H + u] = r.df;
    dz_row[2 * H + u] = r.dg;
    dz_row[3 * H + u] = r.do_;
    dc[i] = r.dc_prev;
  }
};

// dz of gate g through the norm of one side (side 0: x.W, to d_input; 1:
// h.U, to d_recurrent); element i = (b * 4 + g) * 2 + side; n = B*8.
template <typename T>
struct LayerNormRowsBackward {
  int64_t batch, time, units, t;
  const int32_t* lengths;
  const T* saved;
  const T* gain_x;
  const T* gain_h;
  const T* dz;
  T* d_input;
  T* d_recurrent;

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t H = units, side = i % 2, g = i / 2 % 4, b = i / 8;
    if (t >= Length(lengths, b, time)) return;
    const T* row = SavedRow(saved, t, b, batch, H);
    const T* normed = row + (side ? LayerNormRow::kRecurrent
                                  : LayerNormRow::kInput) * H + g * H;
    const T rstd = row[LayerNormRow::kStats * H +
                       (side ? LayerNormRow::kRecurrentStats
                             : LayerNormRow::kInputStats) + g];
    const T* gain = (side ? gain_h : gain_x) + g * H;
    const int64_t at = SeqAt(b, t, time, 4 * H) + g * H;
    const T* d = dz + at;
    T mean_dy = T(0), mean_dy_normed = T(0);
    for (int64_t u = 0; u < H; ++u) {
      mean_dy += d[u] * gain[u];
      mean_dy_normed += d[u] * gain[u] * normed[u];
    }
    mean_dy /= T(H);
    mean_dy_normed /= T(H);
    T* dst = (side ? d_recurrent : d_input) + at;
    for (int64_t u = 0; u < H; ++u) {
      dst[u] = lstm::LayerNormBackward(d[u] * gain[u], normed[u], mean_dy,
                                       mean_dy_normed, rstd);
    }
  }
};

// The layer norm's weight gradients, as ColumnPartialSums: partials[k, j]
// sums rows k*kBiasChunkRows.. (b * T + t, the steps that ran) of column j
// of its terms: kind 0, dgain_x: dz * LN(x.W); 1, dgain_h: dz * LN(h.U);
// 2, dgain_c: d_out * LN(c_t); 3, dshift_c: d_out. n = chunks * width
// (4H for kinds 0, 1; H for 2, 3). BiasTotals adds the chunks.
template <typename T>
struct LayerNormPartialSums {
  int64_t batch, time, units, kind;
  const int32_t* lengths;
  const T* saved;
  const T* dz;     // [B,T,4H]
  const T* d_out;  // [B,T,H]
  double* partials;

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t H = units, width = kind < 2 ? 4 * H : H;
    const int64_t chunk = i / width, j = i % width;
    const int64_t normed_at = kind == 0   ? LayerNormRow::kInput * H
                              : kind == 1 ? LayerNormRow::kRecurrent * H
                                          : LayerNormRow::kCell * H;
    const RowRange range = ChunkRows(chunk, batch * time);
    double sum = 0;
    for (int64_t r = range.first; r < range.end; ++r) {
      const int64_t b = r / time, t = r % time;
      if (t >= Length(lengths, b, time)) continue;
      const T d = kind < 2 ? dz[r * 4 * H + j] : d_out[r * H + j];
      const T normed =
          kind == 3 ? T(1) : SavedRow(saved, t, b, batch, H)[normed_at + j];
      sum += static_cast<double>(d * normed);
    }
    partials[i] = sum;
  }
};

// The backward's scratch under layer norm: the two sides' gate gradients
// and the gates' own (dz, the bias's) [B,T,4H]; d_out [B,T,H] and h_seen
// [B,T,Hh]; per step dhu [B,Hh], d_normed, dc_share, dc_kept [B,H] and the
// means [B,2]; partials [chunks, 4H] in double for every sum; under a
// projection BackwardScratch's m_seen, d_projected and dm.
template <typename T>
struct LayerNormBackwardScratch {
  LayerNormBackwardScratch(WorkspacePlan& plan, const Dims& d,
                           bool projection) {
    const int64_t BT = d.batch * d.time, H = d.units, BH = d.batch * H;
    d_input = plan.Take<T>(BT * 4 * H);
    d_recurrent = plan.Take<T>(BT * 4 * H);
    dz = plan.Take<T>(BT * 4 * H);
    d_out = plan.Take<T>(BT * H);
    h_seen = plan.Take<T>(BT * d.hidden);
    dhu = plan.Take<T>(d.batch * d.hidden);
    d_normed = plan.Take<T>(BH);
    dc_share = plan.Take<T>(BH);
    dc_kept = plan.Take<T>(BH);
    means = plan.Take<T>(2 * d.batch);
    partials = plan.Take<double>(BiasChunks(d) * 4 * H);
    if (!projection) return;
    m_seen = plan.Take<T>(BT * H);
    d_projected = plan.Take<T>(BT * d.hidden);
    dm = plan.Take<T>(BH);
  }
  T *d_input, *d_recurrent, *dz, *d_out, *h_seen, *dhu, *d_normed, *dc_share,
      *dc_kept, *means;
  double* partials;
  T* m_seen = nullptr;
  T* d_projected = nullptr;
  T* dm = nullptr;
};

template <typename T>
size_t LayerNormForwardBytes(const Dims& d, bool projection) {
  WorkspacePlan plan(nullptr);
  LayerNormForwardScratch<T>(plan, d, projection);
  return plan.bytes();
}

template <typename T>
size_t LayerNormBackwardBytes(const Dims& d, bool projection) {
  WorkspacePlan plan(nullptr);
  LayerNormBackwardScratch<T>(plan, d, projection);
  return plan.bytes();
}

// The layer norm's four weight gradients from the terms of every step.
template <typename T, typename Backend>
Status LayerNormWeightGradients(Backend& be, const Dims& d,
                                const SequenceInputs<T>& in,
                                const SavedForward<T>& fwd,
                                const LayerNormBackwardScratch<T>& s,
                                const Gradients<T>& grads) {
  T* outputs[] = {grads.dgain_x, grads.dgain_h, grads.dgain_c,
                  grads.dshift_c};
  const int64_t chunks = BiasChunks(d);
  for (int64_t kind = 0; kind < 4; ++kind) {
    const int64_t width = (kind < 2 ? 4 : 1) * d.units;
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        chunks * width,
        LayerNormPartialSums<T>{d.batch, d.time, d.units, kind, in.lengths,
                                fwd.saved, s.dz, s.d_out, s.partials}));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        width, BiasTotals<T>{chunks, width, s.partials, outputs[kind]}));
  }
  return {};
}

// After the prologue of RunBackward (dh0, dc0 and the empty call).
template <typename Cell, typename T, typename Backend>
Status RunLayerNormBackward(Backend& be, const typename Cell::Attrs& attrs,
                            const Walk& walk, const SequenceInputs<T>& in,
                            const SavedForward<T>& fwd,
                            const Gradients<T>& grads, void* workspace) {
  const Dims& d = walk.dims;
  const int64_t B = d.batch, time = d.time, H = d.units, G = 4 * H;
  const int64_t BH = B * H, Hh = d.hidden;
  const bool projected = in.projection != nullptr;
  WorkspacePlan plan(workspace);
  const LayerNormBackwardScratch<T> s(plan, d, projected);
  const size_t seq_g = B * time * G * sizeof(T);
  const size_t seq_h = B * time * H * sizeof(T);
  T* const gate_gradients[] = {s.d_input, s.d_recurrent, s.dz};
  for (T* p : gate_gradients) TFRNN_GPU_RETURN_IF_ERROR(be.Zero(p, seq_g));
  TFRNN_GPU_RETURN_IF_ERROR(be.Zero(s.d_out, seq_h));
  TFRNN_GPU_RETURN_IF_ERROR(ZeroHiddenScratch(be, d, in, s));
  const ElementAt<T> options = OptionsOf(in, H);
  const LayerNormWeights<T>& ln = in.layer_norm;
  int64_t pending = -1;
  for (int64_t step = 0; step < walk.max_len; ++step) {
    const int64_t t = StepTime(!walk.reverse, step, walk.max_len);
    if (projected) {
      TFRNN_GPU_RETURN_IF_ERROR(ProjectionBackward(be, walk, t, pending, in,
                                                   fwd, s, grads.dh0));
    }
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        BH, LayerNormOutputBackward<T>{
                attrs, B, time, H, t, pending, walk.reverse, in.lengths,
                in.recurrent_mask, options, in.h0, in.c0, fwd.output,
                fwd.cell, fwd.saved, fwd.d_output, s.dhu, ln.gain_c,
                ln.shift_c, grads.dh0, grads.dc0, s.d_normed, s.dc_share,
                s.dc_kept, s.dz, s.d_out, s.h_seen, s.dm, s.m_seen}));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        B, LayerNormCellMeans<T>{B, time, H, t, in.lengths, fwd.saved,
                                 s.d_normed, s.means}));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        BH, LayerNormGateBackward<T>{
                attrs, B, time, H, t, walk.reverse, in.lengths, options,
                in.c0, fwd.cell, fwd.saved, s.d_normed, s.dc_share,
                s.dc_kept, s.means, s.dz, grads.dc0}));
    TFRNN_GPU_RETURN_IF_ERROR(be.Each(
        B * 8, LayerNormRowsBackward<T>{B, time, H, t, in.lengths, fwd.saved,
                                        ln.gain_x, ln.gain_h, s.dz,
                                        s.d_input, s.d_recurrent}));
    TFRNN_GPU_RETURN_IF_ERROR(
        RecurrentProduct(be, d, G, t, s.d_recurrent, in, s.dhu));
    pending = t;
  }
  TFRNN_GPU_RETURN_IF_ERROR(be.Each(
      B * Hh, FinishRecurrent<T>{pending, time, Hh, in.lengths,
                                 in.recurrent_mask, s.dhu,
                                 in.zoneout_h.values != nullptr, grads.dh0}));
  TFRNN_GPU_RETURN_IF_ERROR(DenseGradients(
      be, d, G, in, s.d_input, s.d_recurrent, s.h_seen, grads));
  TFRNN_GPU_RETURN_IF_ERROR(ProjectionGradient(be, d, in, s, grads));
  TFRNN_GPU_RETURN_IF_ERROR(
      ColumnSums(be, B * time, G, s.dz, s.partials, grads.dbias));
  TFRNN_GPU_RETURN_IF_ERROR(PeepholeSums<Cell>(
      be, attrs, walk, in, fwd, s.dz, LayerNormRow::Width(H), s.partials,
      grads));
  return LayerNormWeightGradients(be, d, in, fwd, s, grads);
}

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_LAYER_NORM_GPU_BACKWARD_H_
