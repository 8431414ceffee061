// The element-wise kernels of the GPU walks (gpu/walk.h), as
// functors: operator()(i) does element i of n. A backend runs one over
// [0, n): a CUDA grid (gpu/backend_cuda.h) or, for the host tests,
// a loop (gpu/backend_host.h). Elements of a batch-row kernel are
// i = b * H + u, so consecutive threads touch consecutive units.
#ifndef TFRNN_CUSTOM_OPS_GPU_ELEMENTS_H_
#define TFRNN_CUSTOM_OPS_GPU_ELEMENTS_H_

#include <cstdint>

#include "gpu/cell.h"
#include "gpu/workspace.h"
#include "shared/host_device.h"
#include "shared/steps.h"

namespace tfrnn {
namespace gpu {

template <typename T>
TFRNN_HOST_DEVICE inline T MaskedValue(T v, const T* mask, int64_t i) {
  return mask == nullptr ? v : v * mask[i];
}

// dst = src (times the mask, when there is one), n values.
template <typename T>
struct CopyMasked {
  const T* src;
  const T* mask;
  T* dst;
  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    dst[i] = MaskedValue(src[i], mask, i);
  }
};

// Zeros the outputs [B,T,H] at steps t >= lengths[b]; n = B*T*H.
template <typename T>
struct ZeroPastLengths {
  const int32_t* lengths;
  int64_t time, units;
  T* output;
  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t b = i / (time * units);
    const int64_t t = i / units % time;
    if (t >= Length(lengths, b, time)) output[i] = T(0);
  }
};

// Up to kMax lengths travel by value as the kernel's argument: the upload
// is ordered on the stream and reads no host memory after the launch.
struct LengthsChunk {
  static constexpr int kMax = 960;  // keeps the argument under 4 KiB
  int32_t values[kMax];
  int32_t* dst;
  TFRNN_HOST_DEVICE void operator()(int64_t i) const { dst[i] = values[i]; }
};

// Step t of a forward walk for every row and unit; n = B*H.
template <typename Cell, typename T>
struct ForwardStep {
  static constexpr int G = Cell::kGates;
  typename Cell::Attrs attrs;
  int64_t time, units, t;
  const int32_t* lengths;  // [B] or null
  const T* xw;             // [B,T,G*H] x.W
  const T* bias;           // [G*H], or [2,G*H] (input, recurrent)
  const T* hu;             // [B,G*H] h_{t-1}.U of this step
  const T* mask;           // [B,H] recurrent mask, or null
  ElementAt<T> options;    // the call's option inputs (row, u: per element)
  const T* h_read;         // [B,H] the masked h_{t-1} (for rows that skip)
  T* h_write;              // [B,H] the masked h_t, the next product's
  T* h;                    // [B,H] the running h: h_{t-1} in, h_t out
  T* c;                    // [B,H] the running c, or null
  T* output;               // [B,T,H] or null
  T* cell;                 // [B,T,H] or null
  T* saved;                // this step's [B,kSaved*H], or null
  // Under the LSTM's projection: [B,H] the step's m_t = o * tanh(c_t), 0
  // for rows not running; h, h_write, output are ProjectStep's then.
  T* m;

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t H = units, b = i / H, u = i % H;
    if (t >= Length(lengths, b, time)) {  // not running: h carries over
      if (m != nullptr) {
        m[i] = T(0);
      } else {
        h_write[i] = h_read[i];
      }
      return;
    }
    T pre[G], rec[G], values[AtLeastOne(Cell::kSaved)];
    const T* xw_row = xw + (b * time + t) * G * H;
    for (int g = 0; g < G; ++g) {
      pre[g] = xw_row[g * H + u] + bias[g * H + u];
      rec[g] = hu[b * G * H + g * H + u];
      if (Cell::kBiasRows == 2) rec[g] = rec[g] + bias[(G + g) * H + u];
    }
    const ElementAt<T> at = options.At(b * time + t, u);
    // A projected h is P wide: its zoneout is ProjectStep's, off here.
    const T h_prev = m != nullptr ? T(0) : h[i];
    const ElementState<T> next = Cell::Forward(
        attrs, at, pre, rec, h_prev, Cell::kCellState ? c[i] : T(0), values);
    if (saved != nullptr) {
      for (int j = 0; j < Cell::kSaved; ++j) {
        saved[b * Cell::kSaved * H + j * H + u] = values[j];
      }
    }
    const int64_t row = (b * time + t) * H + u;
    if (Cell::kCellState) {
      c[i] = next.c;
      if (cell != nullptr) cell[row] = next.c;
    }
    if (m != nullptr) {
      m[i] = next.h;
      return;
    }
    h[i] = next.h;
    if (output != nullptr) output[row] = next.h;
    h_write[i] = MaskedValue(next.h, mask, i);
  }
};

// Whether part of dh_{t-1} bypasses U in a call: always for some cells (the
// GRU's), under zoneout_h for the LSTM.
template <typename Cell, typename T>
TFRNN_HOST_DEVICE inline bool HiddenBypass(const ElementAt<T>& options) {
  return Cell::kHiddenBypass || options.zoneout_h.values != nullptr;
}

// dh (+)= the recurrent product of step `pending` (dhu, not yet masked)
// for the rows that ran it: the gradient reaching h_{t-1} through U (added
// to what bypassed U, when something did). Runs at the start of the next
// step's elements and once after the last.
template <typename T>
TFRNN_HOST_DEVICE inline void FoldRecurrent(int64_t pending, int64_t time,
                                            const int32_t* lengths,
                                            const T* mask, const T* dhu,
                                            bool bypass, T* dh, int64_t b,
                                            int64_t i) {
  if (pending < 0 || pending >= Length(lengths, b, time)) return;
  const T through_u = MaskedValue(dhu[i], mask, i);
  dh[i] = bypass ? dh[i] + through_u : through_u;
}

template <typename T>
struct FinishRecurrent {
  int64_t pending, time, units;
  const int32_t* lengths;
  const T* mask;
  const T* dhu;
  bool bypass;
  T* dh;
  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    FoldRecurrent(pending, time, lengths, mask, dhu, bypass, dh, i / units,
                  i);
  }
};

// Step t of a backward walk for every row and unit; n = B*H. First folds
// in the product of the step visited before (`pending`), then turns the
// gradients reaching h_t and c_t into the step's gate gradients. Under the
// LSTM's projection ProjectionBackwardStep has done the h side: dm is the
// gradient reaching m_t (nothing to fold, output and h_seen unused).
template <typename Cell, typename T>
struct BackwardStep {
  static constexpr int G = Cell::kGates;
  typename Cell::Attrs attrs;
  int64_t batch, time, units, t, pending;
  bool reverse;
  const int32_t* lengths;  // [B] or null
  const T* mask;           // [B,H] or null
  ElementAt<T> options;    // the call's option inputs (row, u: per element)
  const T* h0;             // [B,H]
  const T* c0;             // [B,H] or null
  const T* output;         // [B,T,H] the forward's h_t
  const T* cell;           // [B,T,H] the forward's c_t, or null
  const T* saved;          // [T,B,kSaved*H], or null
  const T* d_output;       // [B,T,H]
  const T* dhu;            // [B,H] step `pending`'s d_recurrent . U^T
  T* dh;                   // [B,H] the gradient reaching h_t, then h_{t-1}
  T* dc;                   // [B,H] the same for c, or null
  T* d_input;              // [B,T,G*H]
  T* d_recurrent;          // [B,T,G*H] (d_input when the sides agree)
  T* h_seen;               // [B,T,H]
  const T* dm;             // [B,H] under a projection, else null
  T* m_seen;               // [B,T,H] m_t under a projection, else null

  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t H = units, b = i / H, u = i % H;
    const int64_t len = Length(lengths, b, time);
    const bool bypass = HiddenBypass<Cell>(options);
    if (dm == nullptr) {
      FoldRecurrent(pending, time, lengths, mask, dhu, bypass, dh, b, i);
    }
    if (t >= len) return;
    const int64_t prev = PreviousStep(reverse, t, len);
    const int64_t row = (b * time + t) * H + u;
    const int64_t prev_row = (b * time + prev) * H + u;
    const T h_prev =
        dm != nullptr ? T(0) : prev < 0 ? h0[i] : output[prev_row];
    T c_now = T(0), c_prev = T(0), values[AtLeastOne(Cell::kSaved)] = {};
    if (Cell::kCellState) {
      c_now = cell[row];
      c_prev = prev < 0 ? c0[i] : cell[prev_row];
    }
    for (int j = 0; j < Cell::kSaved; ++j) {
      values[j] = saved[((t * batch + b) * Cell::kSaved + j) * H + u];
    }
    const ElementAt<T> at = options.At(b * time + t, u);
    const ElementGrads<T, G> r = Cell::Backward(
        attrs, at, values, dm != nullptr ? T(0) : output[row], h_prev, c_now,
        c_prev, dm != nullptr ? dm[i] : dh[i] + d_output[row],
        Cell::kCellState ? dc[i] : T(0));
    T* d_in = d_input + (b * time + t) * G * H;
    T* d_rec = d_recurrent + (b * time + t) * G * H;
    for (int g = 0; g < G; ++g) {
      d_in[g * H + u] = r.input[g];
      if (Cell::kRecurrentGradsDiffer) d_rec[g * H + u] = r.recurrent[g];
    }
    if (Cell::kCellState) dc[i] = r.c_prev;
    if constexpr (Cell::kVariants) {
      if (dm != nullptr) {
        m_seen[row] = Cell::CellOutput(attrs, at, values, c_now, c_prev);
        return;
      }
    }
    h_seen[row] = MaskedValue(h_prev, mask, i);
    if (bypass) dh[i] = r.h_prev;
  }
};

// The rows [first, end) of chunk k of `rows`: kBiasChunkRows a chunk.
struct RowRange {
  int64_t first, end;
};

TFRNN_HOST_DEVICE inline RowRange ChunkRows(int64_t chunk, int64_t rows) {
  const int64_t first = chunk * kBiasChunkRows;
  return {first, first + kBiasChunkRows < rows ? first + kBiasChunkRows
                                               : rows};
}

// Column sums, deterministically (no atomics: the bias's and the other
// weights' gradients summed over every step and row), in double, in two
// passes of a fixed order. First: partials[k, c] sums rows
// k*kBiasChunkRows.. of column c of columns [rows, width]; n = chunks *
// width.
template <typename T>
struct ColumnPartialSums {
  int64_t rows, width;
  const T* columns;
  double* partials;
  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t chunk = i / width, c = i % width;
    const RowRange range = ChunkRows(chunk, rows);
    double sum = 0;
    for (int64_t r = range.first; r < range.end; ++r) {
      sum += columns[r * width + c];
    }
    partials[i] = sum;
  }
};

// The peephole gradient (cells with kVariants), as deterministically:
// partials[k, j] sums rows k*kBiasChunkRows.. (row b * T + t, the steps
// that ran) of column j = g * H + u of its terms di * c_{t-1} (g = 0),
// df * c_{t-1} (1) and do * c (2; c: Cell::PeepholeCell), from the gate
// gradients d_input [B,T,4H]; n = chunks * 3H. BiasTotals adds the chunks.
template <typename Cell, typename T>
struct PeepholePartialSums {
  typename Cell::Attrs attrs;
  ElementAt<T> options;
  int64_t batch, time, units;
  bool reverse;
  const int32_t* lengths;  // [B] or null
  const T* c0;             // [B,H]
  const T* cell;           // [B,T,H] the carried c_t
  const T* saved;          // [T,B,saved_width], the gates first
  int64_t saved_width;
  const T* d_input;        // [B,T,4H] the gates' pre-activation gradients
  double* partials;
  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const int64_t H = units, chunk = i / (3 * H), g = i % (3 * H) / H;
    const int64_t u = i % H, gate = g == 2 ? 3 : g;  // i, f, o
    const RowRange range = ChunkRows(chunk, batch * time);
    double sum = 0;
    for (int64_t r = range.first; r < range.end; ++r) {
      const int64_t b = r / time, t = r % time;
      const int64_t len = Length(lengths, b, time);
      if (t >= len) continue;
      const int64_t prev = PreviousStep(reverse, t, len);
      T c = prev < 0 ? c0[b * H + u] : cell[(b * time + prev) * H + u];
      if (g == 2) {
        T values[AtLeastOne(Cell::kSaved)];
        for (int k = 0; k < Cell::kSaved; ++k) {
          values[k] = saved[(t * batch + b) * saved_width + k * H + u];
        }
        c = Cell::PeepholeCell(attrs, options.At(r, u), values,
                               cell[r * H + u], c);
      }
      sum += static_cast<double>(d_input[r * 4 * H + gate * H + u] * c);
    }
    partials[i] = sum;
  }
};

// Second: out[c] sums the chunks' partials of column c; n = width.
template <typename T>
struct BiasTotals {
  int64_t chunks, width;
  const double* partials;
  T* dbias;
  TFRNN_HOST_DEVICE void operator()(int64_t c) const {
    double sum = 0;
    for (int64_t k = 0; k < chunks; ++k) sum += partials[k * width + c];
    dbias[c] = static_cast<T>(sum);
  }
};

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_ELEMENTS_H_
