// The recurrent product of one step, h[B,K] . U[K,N], on weights packed once
// per call.
//
// A library GEMM packs (copies into its blocked layout) the weight operand on
// every call; for a step of a recurrence that copy costs about as much as the
// product itself and is repeated T times. Here the recurrent weights are
// packed once into panels of kPanelWidth columns (four SIMD packets), laid
// out in the order the micro-kernel reads them, and every step multiplies
// straight from the panels. A panel's columns are chosen by the caller: the
// LSTM forward packs the i, f, c and o columns of the same units side by
// side, so one panel's result holds all four gates of those units and the
// gate math runs on it while it is hot.
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

// A K x N matrix as panels of Panel<T>::kWidth columns each.
template <typename T>
class PackedPanels {
 public:
  static constexpr int kWidth = Panel<T>::kWidth;

  PackedPanels(int64_t panels, int64_t depth)
      : panels_(panels), depth_(depth), data_(panels * depth * kWidth) {}

  int64_t panels() const { return panels_; }
  int64_t depth() const { return depth_; }
  const T* panel(int64_t p) const { return data_.data() + p * depth_ * kWidth; }

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
inline void MultiplyPanel(int64_t depth, const T* const* rows, const T* panel,
                          T* tile) {
  using Packet = typename Simd<T>::Packet;
  using Eigen::internal::pload;
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  constexpr int kSize = Simd<T>::kSize;
  const T* a[kRows];
  Packet sum[kRows][4];
  for (int r = 0; r < kRows; ++r) {
    a[r] = rows[r];
    for (int j = 0; j < 4; ++j) sum[r][j] = pset1<Packet>(T(0));
  }
  for (int64_t k = 0; k < depth; ++k) {
    const T* b = panel + k * Panel<T>::kWidth;
    const Packet b0 = pload<Packet>(b);
    const Packet b1 = pload<Packet>(b + kSize);
    const Packet b2 = pload<Packet>(b + 2 * kSize);
    const Packet b3 = pload<Packet>(b + 3 * kSize);
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
                              const T* const* rows, const T* panel, T* tile) {
  if constexpr (kRows > 1) {
    if (count < kRows) {
      MultiplyPanelRows<T, kRows - 1>(count, depth, rows, panel, tile);
      return;
    }
  }
  MultiplyPanel<T, kRows>(depth, rows, panel, tile);
}

// The rows of A are row(0) .. row(count-1) (pointers to `depth` values
// each; any layout). For blocks of up to kMaxRows rows and panels
// [first, last): tile = A[block] . panel, then epilogue(first_row,
// block_rows, panel, tile) consumes it (tile row r is row first_row + r).
template <typename T, typename RowFn, typename Epilogue>
void MultiplyPanels(const PackedPanels<T>& b, int64_t first, int64_t last,
                    int64_t count, RowFn row, Epilogue epilogue) {
  constexpr int kMaxRows = Panel<T>::kMaxRows;
  alignas(64) T tile[kMaxRows * Panel<T>::kWidth];
  const T* rows[kMaxRows];
  // Blocks of near-equal size (32 rows: 6,5,5,5,5,6 rather than 6 x 5 + 2):
  // a block of few rows uses few of the registers.
  const int64_t blocks = (count + kMaxRows - 1) / kMaxRows;
  for (int64_t p = first; p < last; ++p) {
    for (int64_t k = 0; k < blocks; ++k) {
      const int64_t r = count * k / blocks;
      const int64_t block = count * (k + 1) / blocks - r;
      for (int64_t i = 0; i < block; ++i) rows[i] = row(r + i);
      MultiplyPanelRows<T>(block, b.depth(), rows, b.panel(p), tile);
      epilogue(r, block, p, tile);
    }
  }
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_COMMON_CPU_PACKED_GEMM_H_
