// A host stand-in for the CUDA backend (gpu/walk.h's interface): the
// GPU walks, their element kernels and their index math run on the CPU,
// one element after another, so the host tests check all of the GPU path
// but the launches and cuBLAS. Pointers are host memory; the "stream" is
// ignored.
#ifndef TFRNN_CUSTOM_OPS_GPU_BACKEND_HOST_H_
#define TFRNN_CUSTOM_OPS_GPU_BACKEND_HOST_H_

#include <cstdint>
#include <cstring>

#include "gpu/status.h"

namespace tfrnn {
namespace gpu {

class HostBackend {
 public:
  explicit HostBackend(void* /*stream*/) {}

  // C[m,n] = op(A) . op(B), row-major, summed in double.
  template <typename T>
  Status Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a,
              int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double sum = 0;
        for (int64_t p = 0; p < k; ++p) {
          sum += static_cast<double>(ta ? a[p * lda + i] : a[i * lda + p]) *
                 (tb ? b[j * ldb + p] : b[p * ldb + j]);
        }
        c[i * ldc + j] = static_cast<T>(sum);
      }
    }
    return {};
  }

  template <typename F>
  Status Each(int64_t n, const F& f) {
    for (int64_t i = 0; i < n; ++i) f(i);
    return {};
  }

  Status Copy(void* dst, const void* src, size_t bytes) {
    if (bytes > 0) std::memcpy(dst, src, bytes);
    return {};
  }

  Status Zero(void* dst, size_t bytes) {
    if (bytes > 0) std::memset(dst, 0, bytes);
    return {};
  }

  Status ToHost(void* host, const void* src, size_t bytes) {
    return Copy(host, src, bytes);
  }
};

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_BACKEND_HOST_H_
