// The recurrent product of one step, h[B,K] . U[K,N], straight from the
// weights, without a per-step copy.
//
// A library GEMM packs (copies into its blocked layout) the weight operand on
// every call; for a step of a recurrence that copy costs about as much as the
// product itself and is repeated T times. Here the micro-kernel reads panels
// of four SIMD packets of columns: either in place, where each packet of a
// panel's row is a contiguous run of the matrix (the LSTM forward's U and W,
// whose panels hold the i, f, c and o columns of the same units, so one
// panel's result holds all four gates of those units and the gate math runs
// on it while it is hot), or from a copy packed once per call (PackedPanels:
// U^T for the backward, and the forward when H is not a whole number of
// packets).
//
// The micro-kernel keeps a block of up to kMaxRows rows x 4 packets of sums in
// registers (6 x 4 with AVX-512's 32 registers, 2 x 4 with 16) and streams
// the panel once per block.
#ifndef TFRNN_CUSTOM_OPS_COMMON_CPU_PACKED_GEMM_H_
#define TFRNN_CUSTOM_OPS_COMMON_CPU_PACKED_GEMM_H_

#include <algorithm>
#include <cstdint>

#include "Eigen/Core"
#include "common/cpu_gemm.h"
#include "common/simd.h"

namespace tfrnn {
namespace cpu {

// Panel shape and register blocking for T.
template <typename T>
struct Panel {
  static constexpr int kPackets = 4;
  static constexpr int kWidth = Simd<T>::kSize * kPackets;
  static constexpr int kMaxRows =
      sizeof(typename Simd<T>::Packet) >= 64 ? 6 : 2;
};

// Where a panel lies: the four packets of its row k start at
// base + k * row_stride + j * packet_stride, j = 0..3.
template <typename T>
struct PanelView {
  const T* base;
  int64_t row_stride;
  int64_t packet_stride;
};

// A K x N matrix as panels of Panel<T>::kWidth columns each, copied.
template <typename T>
class PackedPanels {
 public:
  static constexpr int kWidth = Panel<T>::kWidth;

  PackedPanels(int64_t panels, int64_t depth)
      : panels_(panels), depth_(depth), data_(panels * depth * kWidth) {}

  int64_t panels() const { return panels_; }
  int64_t depth() const { return depth_; }
  const T* panel(int64_t p) const { return data_.data() + p * depth_ * kWidth; }
  PanelView<T> view(int64_t p) const {
    return {panel(p), kWidth, Simd<T>::kSize};
  }

  // Fills panel p: slot j (0 <= j < kWidth) holds column column(p, j) of the
  // matrix, read as element(k, column); a negative column is zeros.
  template <typename ColumnFn, typename ElementFn>
  void Pack(int64_t p, ColumnFn column, ElementFn element) {
    T* out = data_.data() + p * depth_ * kWidth;
    int64_t columns[kWidth];
    for (int j = 0; j < kWidth; ++j) columns[j] = column(p, j);
    for (int64_t k = 0; k < depth_; ++k) {
      for (int j = 0; j < kWidth; ++j) {
        out[k * kWidth + j] = columns[j] < 0 ? T(0) : element(k, columns[j]);
      }
    }
  }

 private:
  int64_t panels_;
  int64_t depth_;
  Scratch<T> data_;  // every value is written by Pack
};

// tile[r, :] = rows[r][0:depth] . panel for r < kRows; tile rows are
// Panel<T>::kWidth apart (and 64-byte aligned).
template <typename T, int kRows>
inline void MultiplyPanel(int64_t depth, const T* const* rows,
                          const PanelView<T>& panel, T* tile) {
  using Packet = typename Simd<T>::Packet;
  using Eigen::internal::ploadu;
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  constexpr int kSize = Simd<T>::kSize;
  const int64_t step = panel.packet_stride;
  const T* a[kRows];
  Packet sum[kRows][4];
  for (int r = 0; r < kRows; ++r) {
    a[r] = rows[r];
    for (int j = 0; j < 4; ++j) sum[r][j] = pset1<Packet>(T(0));
  }
  for (int64_t k = 0; k < depth; ++k) {
    const T* b = panel.base + k * panel.row_stride;
    const Packet b0 = ploadu<Packet>(b);
    const Packet b1 = ploadu<Packet>(b + step);
    const Packet b2 = ploadu<Packet>(b + 2 * step);
    const Packet b3 = ploadu<Packet>(b + 3 * step);
    for (int r = 0; r < kRows; ++r) {
      const Packet ar = pset1<Packet>(a[r][k]);
      sum[r][0] = pmadd(ar, b0, sum[r][0]);
      sum[r][1] = pmadd(ar, b1, sum[r][1]);
      sum[r][2] = pmadd(ar, b2, sum[r][2]);
      sum[r][3] = pmadd(ar, b3, sum[r][3]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < 4; ++j) {
      Eigen::internal::pstore(tile + r * Panel<T>::kWidth + j * kSize,
                              sum[r][j]);
    }
  }
}

// MultiplyPanel for a runtime row count 1..kMaxRows.
template <typename T, int kRows = Panel<T>::kMaxRows>
inline void MultiplyPanelRows(int64_t count, int64_t depth,
                              const T* const* rows, const PanelView<T>& panel,
                              T* tile) {
  if constexpr (kRows > 1) {
    if (count < kRows) {
      MultiplyPanelRows<T, kRows - 1>(count, depth, rows, panel, tile);
      return;
    }
  }
  MultiplyPanel<T, kRows>(depth, rows, panel, tile);
}

// The rows of A are row(0) .. row(count-1) (pointers to `depth` values
// each; any layout); panel_of(p) is the PanelView of panel p. For panels
// [first, last) and blocks of up to kMaxRows rows: tile = A[block] . panel,
// then epilogue(first_row, block_rows, panel, tile) consumes it (tile row r
// is row first_row + r).
template <typename T, typename PanelFn, typename RowFn, typename Epilogue>
void MultiplyPanels(int64_t depth, PanelFn panel_of, int64_t first,
                    int64_t last, int64_t count, RowFn row,
                    Epilogue epilogue) {
  constexpr int kMaxRows = Panel<T>::kMaxRows;
  alignas(64) T tile[kMaxRows * Panel<T>::kWidth];
  const T* rows[kMaxRows];
  // Blocks of near-equal size (32 rows: 6,5,5,5,5,6 rather than 6 x 5 + 2):
  // a block of few rows uses few of the registers.
  const int64_t blocks = (count + kMaxRows - 1) / kMaxRows;
  for (int64_t p = first; p < last; ++p) {
    const PanelView<T> panel = panel_of(p);
    for (int64_t k = 0; k < blocks; ++k) {
      const int64_t r = count * k / blocks;
      const int64_t block = count * (k + 1) / blocks - r;
      for (int64_t i = 0; i < block; ++i) rows[i] = row(r + i);
      MultiplyPanelRows<T>(block, depth, rows, panel, tile);
      epilogue(r, block, p, tile);
    }
  }
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_COMMON_CPU_PACKED_GEMM_H_
