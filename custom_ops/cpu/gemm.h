// Row-major GEMM on the CPU, split across TensorFlow's intra-op thread pool.
//
//   C[m,n] = op(A)[m,k] * op(B)[k,n] + (accumulate ? C : 0)
//
// Leading dimensions allow strided views (e.g. the rows of one time step in a
// [B,T,4H] tensor). Each part is an Eigen product on a slice, so small
// problems run inline and large ones use every pool thread without spawning
// threads of our own.
#ifndef TFRNN_CUSTOM_OPS_CPU_GEMM_H_
#define TFRNN_CUSTOM_OPS_CPU_GEMM_H_

#include <algorithm>
#include <cstdint>
#include <vector>

#include "Eigen/Core"
#include "tensorflow/core/platform/threadpool.h"

namespace tfrnn {
namespace cpu {

// An aligned buffer left uninitialised (the k-split GEMM's partial
// products, written in full before they are read).
template <typename T>
class Scratch {
 public:
  explicit Scratch(int64_t n)
      : data_(static_cast<T*>(Eigen::internal::aligned_malloc(
            std::max<int64_t>(n, 1) * sizeof(T)))) {}
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { Eigen::internal::aligned_free(data_); }
  T* data() const { return data_; }

 private:
  T* data_;
};

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

// Work below this many flops runs on the calling thread: a pool dispatch
// costs microseconds.
constexpr int64_t kMinFlopsPerPart = int64_t{1} << 20;

// Runs fn(part) for part in [0, parts) on the pool, one part per thread.
template <typename Fn>
void RunParts(tensorflow::thread::ThreadPool* pool, int64_t parts, Fn fn) {
  if (parts <= 1) {
    fn(0);
    return;
  }
  pool->ParallelFor(
      parts, tensorflow::thread::ThreadPool::SchedulingParams::Fixed(1),
      [&](int64_t first, int64_t last) {
        for (int64_t part = first; part < last; ++part) fn(part);
      });
}

// How many threads a job of `flops` is worth (at most one per pool thread).
inline int64_t PartsFor(tensorflow::thread::ThreadPool* pool, double flops,
                        int64_t max_parts) {
  const int64_t threads = pool == nullptr ? 1 : pool->NumThreads();
  const int64_t by_work = static_cast<int64_t>(flops / kMinFlopsPerPart);
  return std::max<int64_t>(1, std::min({threads, by_work, max_parts}));
}

// The GEMM, one contiguous slice per thread. Reduction-shaped products
// (k much larger than m and n, e.g. dW = x^T dG) split k and add the partial
// products, so each thread streams its own rows of both operands; others
// split the larger of m and n.
template <typename T>
void Gemm(tensorflow::thread::ThreadPool* pool, bool trans_a, bool trans_b,
          int64_t m, int64_t n, int64_t k, const T* a, int64_t lda, const T* b,
          int64_t ldb, bool accumulate, T* c, int64_t ldc) {
  if (m == 0 || n == 0) return;
  const double flops = 2.0 * m * n * k;
  if (k >= 2 * std::max(m, n)) {
    const int64_t parts = PartsFor(pool, flops, k / 64);
    Scratch<T> partial((parts - 1) * m * n);
    RunParts(pool, parts, [&](int64_t p) {
      const int64_t lo = k * p / parts, hi = k * (p + 1) / parts;
      const T* a_part = trans_a ? a + lo * lda : a + lo;
      const T* b_part = trans_b ? b + lo : b + lo * ldb;
      if (p == 0) {
        GemmSlice<T>(trans_a, trans_b, m, n, hi - lo, a_part, lda, b_part, ldb,
                     accumulate, c, ldc);
      } else {
        GemmSlice<T>(trans_a, trans_b, m, n, hi - lo, a_part, lda, b_part, ldb,
                     false, partial.data() + (p - 1) * m * n, n);
      }
    });
    for (int64_t p = 1; p < parts; ++p) {
      MatrixMap<T>(c, m, n, Eigen::OuterStride<>(ldc)) +=
          MatrixMap<T>(partial.data() + (p - 1) * m * n, m, n,
                       Eigen::OuterStride<>(n));
    }
    return;
  }
  const bool split_rows = m >= n;
  const int64_t extent = split_rows ? m : n;
  const int64_t parts = PartsFor(pool, flops, extent / 8);
  RunParts(pool, parts, [&](int64_t p) {
    const int64_t lo = extent * p / parts, hi = extent * (p + 1) / parts;
    if (split_rows) {
      const T* a_rows = trans_a ? a + lo : a + lo * lda;
      GemmSlice<T>(trans_a, trans_b, hi - lo, n, k, a_rows, lda, b, ldb,
                   accumulate, c + lo * ldc, ldc);
    } else {
      const T* b_cols = trans_b ? b + lo * ldb : b + lo;
      GemmSlice<T>(trans_a, trans_b, m, hi - lo, k, a, lda, b_cols, ldb,
                   accumulate, c + lo, ldc);
    }
  });
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_GEMM_H_
