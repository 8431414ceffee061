// The CUDA backend of the GPU walks (gpu/walk.h's interface): cuBLAS
// GEMMs and grid-stride element kernels, all queued on one stream; only
// ToHost waits for the GPU. Compiled by nvcc only.
#ifndef TFRNN_CUSTOM_OPS_GPU_BACKEND_CUDA_H_
#define TFRNN_CUSTOM_OPS_GPU_BACKEND_CUDA_H_

#include <cuda_runtime.h>

#include <cstdint>

#include "gpu/blas.h"
#include "gpu/launch.h"
#include "gpu/status.h"

namespace tfrnn {
namespace gpu {

// f(i) for every i in [0, n): the functor travels by value as the
// kernel's argument.
template <typename F>
__global__ void EachElement(int64_t n, F f) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x +
                   threadIdx.x;
       i < n; i += stride) {
    f(i);
  }
}

inline Status FromCuda(cudaError_t e) {
  if (e == cudaSuccess) return {};
  return {static_cast<int>(e), cudaGetErrorString(e)};
}

class CudaBackend {
 public:
  explicit CudaBackend(void* stream)
      : stream_(static_cast<cudaStream_t>(stream)) {}

  template <typename T>
  Status Gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, const T* a,
              int64_t lda, const T* b, int64_t ldb, T* c, int64_t ldc) {
    return BlasGemm(stream_, ta, tb, m, n, k, a, lda, b, ldb, c, ldc);
  }

  template <typename F>
  Status Each(int64_t n, const F& f) {
    if (n <= 0) return {};
    const LaunchShape shape = ShapeFor(n);
    EachElement<F><<<static_cast<unsigned>(shape.blocks),
                     static_cast<unsigned>(shape.threads), 0, stream_>>>(n,
                                                                        f);
    return FromCuda(cudaGetLastError());
  }

  Status Copy(void* dst, const void* src, size_t bytes) {
    if (bytes == 0) return {};
    return FromCuda(cudaMemcpyAsync(dst, src, bytes,
                                    cudaMemcpyDeviceToDevice, stream_));
  }

  Status Zero(void* dst, size_t bytes) {
    if (bytes == 0) return {};
    return FromCuda(cudaMemsetAsync(dst, 0, bytes, stream_));
  }

  // Copies device memory to the host and waits for the stream: the one
  // call here that waits (the zoneout check reads its answer).
  Status ToHost(void* host, const void* src, size_t bytes) {
    if (bytes == 0) return {};
    TFRNN_GPU_RETURN_IF_ERROR(FromCuda(cudaMemcpyAsync(
        host, src, bytes, cudaMemcpyDeviceToHost, stream_)));
    return FromCuda(cudaStreamSynchronize(stream_));
  }

 private:
  cudaStream_t stream_;
};

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_BACKEND_CUDA_H_
