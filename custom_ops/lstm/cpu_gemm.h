// Row-major GEMM on the CPU, split across TensorFlow's intra-op thread pool.
//
//   C[m,n] = op(A)[m,k] * op(B)[k,n] + (accumulate ? C : 0)
//
// Leading dimensions allow strided views (e.g. the rows of one time step in a
// [B,T,4H] tensor). Each shard is an Eigen product on a slice of C, so small
// problems run inline and large ones use every pool thread without spawning
// threads of our own.
#ifndef TFRNN_CUSTOM_OPS_LSTM_CPU_GEMM_H_
#define TFRNN_CUSTOM_OPS_LSTM_CPU_GEMM_H_

#include <algorithm>
#include <cstdint>

#include "Eigen/Core"
#include "tensorflow/core/platform/threadpool.h"

namespace tfrnn {
namespace cpu {

// Lets the pool pick shard sizes from an estimated cost (cycles) per unit.
inline tensorflow::thread::ThreadPool::SchedulingParams Adaptive(
    int64_t cost_per_unit) {
  return tensorflow::thread::ThreadPool::SchedulingParams::Adaptive(
      cost_per_unit);
}

template <typename T>
using RowMajor =
    Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using ConstMatrixMap =
    Eigen::Map<const RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;
template <typename T>
using MatrixMap =
    Eigen::Map<RowMajor<T>, Eigen::Unaligned, Eigen::OuterStride<>>;

// One product on already-sliced operands; op(A) is m x k, op(B) is k x n.
template <typename T>
void GemmSlice(bool trans_a, bool trans_b, int64_t m, int64_t n, int64_t k,
               const T* a, int64_t lda, const T* b, int64_t ldb,
               bool accumulate, T* c, int64_t ldc) {
  MatrixMap<T> cm(c, m, n, Eigen::OuterStride<>(ldc));
  if (k == 0) {
    if (!accumulate) cm.setZero();
    return;
  }
  ConstMatrixMap<T> am(a, trans_a ? k : m, trans_a ? m : k,
                       Eigen::OuterStride<>(lda));
  ConstMatrixMap<T> bm(b, trans_b ? n : k, trans_b ? k : n,
                       Eigen::OuterStride<>(ldb));
  // Four spelled-out cases keep every product a lazy-free GEMM call.
  if (!trans_a && !trans_b) {
    if (accumulate) cm.noalias() += am * bm; else cm.noalias() = am * bm;
  } else if (!trans_a && trans_b) {
    if (accumulate) cm.noalias() += am * bm.transpose();
    else cm.noalias() = am * bm.transpose();
  } else if (trans_a && !trans_b) {
    if (accumulate) cm.noalias() += am.transpose() * bm;
    else cm.noalias() = am.transpose() * bm;
  } else {
    if (accumulate) cm.noalias() += am.transpose() * bm.transpose();
    else cm.noalias() = am.transpose() * bm.transpose();
  }
}

// Splits C into row blocks (or column blocks when it is wide and short) and
// runs the blocks on the pool.
template <typename T>
void Gemm(tensorflow::thread::ThreadPool* pool, bool trans_a, bool trans_b,
          int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
          int64_t ldb, bool accumulate, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  constexpr int64_t kBlock = 16;  // rows or columns per unit of work
  const bool split_rows = m >= n || m >= 4 * kBlock;
  const int64_t extent = split_rows ? m : n;
  const int64_t units = (extent + kBlock - 1) / kBlock;
  const int64_t cost = 2 * kBlock * (split_rows ? n : m) * std::max<int64_t>(k, 1);
  auto run = [&](int64_t first, int64_t last) {
    const int64_t lo = first * kBlock;
    const int64_t hi = std::min(extent, last * kBlock);
    if (hi <= lo) return;
    if (split_rows) {
      const T* a_rows = trans_a ? a + lo : a + lo * lda;
      GemmSlice<T>(trans_a, trans_b, hi - lo, n, k, a_rows, lda, b, ldb,
                   accumulate, c + lo * ldc, ldc);
    } else {
      const T* b_cols = trans_b ? b + lo * ldb : b + lo;
      GemmSlice<T>(trans_a, trans_b, m, hi - lo, k, a, lda, b_cols, ldb,
                   accumulate, c + lo, ldc);
    }
  };
  if (pool == nullptr || units == 1) {
    run(0, units);
  } else {
    pool->ParallelFor(units, Adaptive(cost), run);
  }
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_CPU_GEMM_H_
