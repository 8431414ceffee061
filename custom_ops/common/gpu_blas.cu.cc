// cuBLAS loaded at run time and its handles (see gpu_blas.h).
#include "common/gpu_blas.h"

#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <map>
#include <mutex>
#include <utility>

namespace tfrnn {
namespace gpu {
namespace {

// cuBLAS's own declarations, for the entry points used (cublas_api.h).
using Handle = void*;
constexpr int kOpN = 0, kOpT = 1;
using CreateFn = int (*)(Handle*);
using SetStreamFn = int (*)(Handle, cudaStream_t);
template <typename T>
using GemmFn = int (*)(Handle, int, int, int, int, int, const T*, const T*,
                       int, const T*, int, const T*, T*, int);

struct Library {
  CreateFn create = nullptr;
  SetStreamFn set_stream = nullptr;
  GemmFn<float> sgemm = nullptr;
  GemmFn<double> dgemm = nullptr;
};

const Library* LoadLibrary() {
  static const Library* library = [] () -> const Library* {
    const char* names[] = {std::getenv("TFRNN_CUBLAS"), "libcublas.so.13",
                           "libcublas.so.12", "libcublas.so"};
    for (const char* name : names) {
      if (name == nullptr || *name == '\0') continue;
      void* so = dlopen(name, RTLD_NOW | RTLD_GLOBAL);
      if (so == nullptr) continue;
      static Library lib;
      lib.create = reinterpret_cast<CreateFn>(dlsym(so, "cublasCreate_v2"));
      lib.set_stream =
          reinterpret_cast<SetStreamFn>(dlsym(so, "cublasSetStream_v2"));
      lib.sgemm = reinterpret_cast<GemmFn<float>>(dlsym(so, "cublasSgemm_v2"));
      lib.dgemm =
          reinterpret_cast<GemmFn<double>>(dlsym(so, "cublasDgemm_v2"));
      if (lib.create && lib.set_stream && lib.sgemm && lib.dgemm) return &lib;
    }
    return nullptr;
  }();
  return library;
}

// The handle for the current device and `stream`, bound to the stream.
Status HandleFor(const Library& lib, cudaStream_t stream, Handle* out) {
  static std::mutex mutex;
  static std::map<std::pair<int, cudaStream_t>, Handle> handles;
  int device = 0;
  const cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return {static_cast<int>(e), cudaGetErrorString(e)};
  std::lock_guard<std::mutex> lock(mutex);
  Handle& handle = handles[{device, stream}];
  if (handle == nullptr) {
    int rc = lib.create(&handle);
    if (rc == 0) rc = lib.set_stream(handle, stream);
    if (rc != 0) {
      handle = nullptr;
      return {kBlasError + rc, "cuBLAS could not make a handle"};
    }
  }
  *out = handle;
  return {};
}

template <typename T>
Status RowMajorGemm(GemmFn<T> fn, const Library& lib, cudaStream_t stream,
                    bool ta, bool tb, int64_t m, int64_t n, int64_t k,
                    const T* a, int64_t lda, const T* b, int64_t ldb, T* c,
                    int64_t ldc) {
  if (m == 0 || n == 0) return {};
  if (k == 0) {  // C = 0 (cuBLAS would leave C to beta * C)
    const cudaError_t e = cudaMemset2DAsync(c, ldc * sizeof(T), 0,
                                            n * sizeof(T), m, stream);
    if (e != cudaSuccess) return {static_cast<int>(e), cudaGetErrorString(e)};
    return {};
  }
  for (int64_t v : {m, n, k, lda, ldb, ldc}) {
    if (v > INT_MAX) return {kBlasError + 7, "a GEMM dimension exceeds 2^31"};
  }
  Handle handle;
  TFRNN_GPU_RETURN_IF_ERROR(HandleFor(lib, stream, &handle));
  // Row-major C = op(A) op(B) is column-major C^T = op(B)^T op(A)^T.
  const T one = 1, zero = 0;
  const int rc = fn(handle, tb ? kOpT : kOpN, ta ? kOpT : kOpN,
                    static_cast<int>(n), static_cast<int>(m),
                    static_cast<int>(k), &one, b, static_cast<int>(ldb), a,
                    static_cast<int>(lda), &zero, c, static_cast<int>(ldc));
  if (rc != 0) return {kBlasError + rc, "a cuBLAS GEMM failed"};
  return {};
}

Status NoLibrary() {
  return {kNoBlasLibrary,
          "libcublas (.so.13 or .so.12) could not be loaded; set "
          "TFRNN_CUBLAS to its path"};
}

}  // namespace

Status BlasGemm(cudaStream_t stream, bool ta, bool tb, int64_t m, int64_t n,
                int64_t k, const float* a, int64_t lda, const float* b,
                int64_t ldb, float* c, int64_t ldc) {
  const Library* lib = LoadLibrary();
  if (lib == nullptr) return NoLibrary();
  return RowMajorGemm(lib->sgemm, *lib, stream, ta, tb, m, n, k, a, lda, b,
                      ldb, c, ldc);
}

Status BlasGemm(cudaStream_t stream, bool ta, bool tb, int64_t m, int64_t n,
                int64_t k, const double* a, int64_t lda, const double* b,
                int64_t ldb, double* c, int64_t ldc) {
  const Library* lib = LoadLibrary();
  if (lib == nullptr) return NoLibrary();
  return RowMajorGemm(lib->dgemm, *lib, stream, ta, tb, m, n, k, a, lda, b,
                      ldb, c, ldc);
}

}  // namespace gpu
}  // namespace tfrnn
