// Row-major GEMMs on a CUDA stream through cuBLAS, which is loaded at run
// time (dlopen) rather than linked: the same library then runs with the
// cuBLAS 12 of TensorFlow's pip CUDA and the cuBLAS 13 of PyTorch's, and
// builds where no cuBLAS is installed (CI). The five entry points used have
// one ABI in both. The library taken is the first that loads and makes a
// handle of: TFRNN_CUBLAS; a cuBLAS already loaded in the process (the
// runtime's major version first); the runtime's major version by soname;
// pip's wheel beside TensorFlow's or torch's libraries; the other major
// version. One handle per (device, stream), made on first use; at most 32
// are kept, the least recently used released first. Both decisions live in
// gpu/blas_choice.h, which the host tests check.
#ifndef TFRNN_CUSTOM_OPS_GPU_BLAS_H_
#define TFRNN_CUSTOM_OPS_GPU_BLAS_H_

#include <cuda_runtime.h>

#include <cstdint>

#include "gpu/status.h"

namespace tfrnn {
namespace gpu {

// C[m,n] = op(A) . op(B) (beta 0), row-major; m, n or k 0 allowed.
Status BlasGemm(cudaStream_t stream, bool ta, bool tb, int64_t m, int64_t n,
                int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float* c, int64_t ldc);
Status BlasGemm(cudaStream_t stream, bool ta, bool tb, int64_t m, int64_t n,
                int64_t k, const double* a, int64_t lda, const double* b,
                int64_t ldb, double* c, int64_t ldc);

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_BLAS_H_
