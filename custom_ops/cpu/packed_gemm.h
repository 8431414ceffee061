// The recurrent product of one step, h[B,K] . U[K,N], straight from the
// weights, without a per-step copy.
//
// A library GEMM packs (copies into its blocked layout) the weight operand on
// every call; for a step of a recurrence that copy costs about as much as the
// product itself and is repeated T times. Here the micro-kernel reads panels
// of a few SIMD packets of columns: either in place, where each packet of a
// panel's row is a contiguous run of the matrix (the forward's U and W,
// whose panels hold every gate's columns of the same units, so one panel's
// result holds all the gates of those units and the cell's math runs on it
// while it is hot), or from a copy packed once per call (PackedPanels: U^T
// for the backward, and the forward when H does not fill whole panels).
//
// The micro-kernel keeps a block of up to kMaxRows rows x kPackets packets of
// sums in registers (6 x 4 with AVX-512's 32 registers, 2 x 4 with 16) and
// streams the panel once per block.
#ifndef TFRNN_CUSTOM_OPS_CPU_PACKED_GEMM_H_
#define TFRNN_CUSTOM_OPS_CPU_PACKED_GEMM_H_

#include <algorithm>
#include <cstdint>

#include "Eigen/Core"
#include "cpu/gemm.h"
#include "cpu/simd.h"

namespace tfrnn {
namespace cpu {

// Panel shape and register blocking for T: a panel is kPackets SIMD packets
// of columns wide (4 for most products; the GRU's gate panels hold 3).
template <typename T, int kPackets_ = 4>
struct Panel {
  static constexpr int kPackets = kPackets_;
  static constexpr int kWidth = Simd<T>::kSize * kPackets;
  // Sums of kMaxRows x kPackets packets, the panel's packets and a broadcast
  // fit in the registers: 32 with AVX-512, 16 otherwise.
  static constexpr int kMaxRows =
      sizeof(typename Simd<T>::Packet) >= 64 ? 6 : (kPackets <= 3 ? 3 : 2);
};

// Where a panel lies: packet j of its row k starts at
// base + k * row_stride + offset[j].
template <typename T, int kPackets = 4>
struct PanelView {
  const T* base;
  int64_t row_stride;
  int64_t offset[kPackets];
};

// A K x N matrix as panels of Panel<T, kPackets>::kWidth columns each,
// copied into storage the caller binds (from the kernel's allocator:
// Values() of them, 64-byte aligned).
template <typename T, int kPackets = 4>
class PackedPanels {
 public:
  static constexpr int kWidth = Panel<T, kPackets>::kWidth;

  PackedPanels(int64_t panels, int64_t depth)
      : panels_(panels), depth_(depth) {}

  int64_t panels() const { return panels_; }
  int64_t depth() const { return depth_; }
  int64_t Values() const { return panels_ * depth_ * kWidth; }
  void Bind(T* storage) { data_ = storage; }
  const T* panel(int64_t p) const { return data_ + p * depth_ * kWidth; }
  PanelView<T, kPackets> view(int64_t p) const {
    PanelView<T, kPackets> v{panel(p), kWidth, {}};
    for (int j = 0; j < kPackets; ++j) v.offset[j] = j * Simd<T>::kSize;
    return v;
  }

  // Fills panel p: slot j (0 <= j < kWidth) holds column column(p, j) of the
  // matrix, read as element(k, column); a negative column is zeros.
  template <typename ColumnFn, typename ElementFn>
  void Pack(int64_t p, ColumnFn column, ElementFn element) {
    T* out = data_ + p * depth_ * kWidth;
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
  T* data_ = nullptr;  // every value is written by Pack
};

// tile[r, :] = rows[r][0:depth] . panel for r < kRows; tile rows are
// Panel<T, kPackets>::kWidth apart (and 64-byte aligned).
template <typename T, int kRows, int kPackets>
inline void MultiplyPanel(int64_t depth, const T* const* rows,
                          const PanelView<T, kPackets>& panel, T* tile) {
  using Packet = typename Simd<T>::Packet;
  using Eigen::internal::ploadu;
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  constexpr int kSize = Simd<T>::kSize;
  const T* a[kRows];
  Packet sum[kRows][kPackets];
  for (int r = 0; r < kRows; ++r) {
    a[r] = rows[r];
    for (int j = 0; j < kPackets; ++j) sum[r][j] = pset1<Packet>(T(0));
  }
  for (int64_t k = 0; k < depth; ++k) {
    const T* row = panel.base + k * panel.row_stride;
    Packet b[kPackets];
    for (int j = 0; j < kPackets; ++j) b[j] = ploadu<Packet>(row + panel.offset[j]);
    for (int r = 0; r < kRows; ++r) {
      const Packet ar = pset1<Packet>(a[r][k]);
      for (int j = 0; j < kPackets; ++j) sum[r][j] = pmadd(ar, b[j], sum[r][j]);
    }
  }
  for (int r = 0; r < kRows; ++r) {
    for (int j = 0; j < kPackets; ++j) {
      Eigen::internal::pstore(
          tile + r * Panel<T, kPackets>::kWidth + j * kSize, sum[r][j]);
    }
  }
}

// MultiplyPanel for a runtime row count 1..kRows.
template <typename T, int kPackets, int kRows = Panel<T, kPackets>::kMaxRows>
inline void MultiplyPanelRows(int64_t count, int64_t depth,
                              const T* const* rows,
                              const PanelView<T, kPackets>& panel, T* tile) {
  if constexpr (kRows > 1) {
    if (count < kRows) {
      MultiplyPanelRows<T, kPackets, kRows - 1>(count, depth, rows, panel,
                                                tile);
      return;
    }
  }
  MultiplyPanel<T, kRows, kPackets>(depth, rows, panel, tile);
}

// The rows of A are row(0) .. row(count-1) (pointers to `depth` values
// each; any layout); panel_of(p) is the PanelView<T, kPackets> of panel p.
// For panels [first, last) and blocks of up to kMaxRows rows:
// tile = A[block] . panel, then epilogue(first_row, block_rows, panel, tile)
// consumes it (tile row r is row first_row + r).
template <typename T, int kPackets = 4, typename PanelFn, typename RowFn,
          typename Epilogue>
void MultiplyPanels(int64_t depth, PanelFn panel_of, int64_t first,
                    int64_t last, int64_t count, RowFn row,
                    Epilogue epilogue) {
  using Shape = Panel<T, kPackets>;
  constexpr int kMaxRows = Shape::kMaxRows;
  alignas(64) T tile[kMaxRows * Shape::kWidth];
  const T* rows[kMaxRows];
  // Blocks of near-equal size (32 rows: 6,5,5,5,5,6 rather than 6 x 5 + 2):
  // a block of few rows uses few of the registers.
  const int64_t blocks = (count + kMaxRows - 1) / kMaxRows;
  for (int64_t p = first; p < last; ++p) {
    const PanelView<T, kPackets> panel = panel_of(p);
    for (int64_t k = 0; k < blocks; ++k) {
      const int64_t r = count * k / blocks;
      const int64_t block = count * (k + 1) / blocks - r;
      for (int64_t i = 0; i < block; ++i) rows[i] = row(r + i);
      MultiplyPanelRows<T, kPackets>(block, depth, rows, panel, tile);
      epilogue(r, block, p, tile);
    }
  }
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_PACKED_GEMM_H_
