// cuBLAS loaded at run time and its handles (see gpu_blas.h).
#include "gpu/blas.h"

#include <dlfcn.h>

#include <climits>
#include <cstdlib>
#include <mutex>
#include <string>
#include <utility>

#include "gpu/blas_choice.h"

namespace tfrnn {
namespace gpu {
namespace {

// cuBLAS's own declarations, for the entry points used (cublas_api.h).
using Handle = void*;
constexpr int kOpN = 0, kOpT = 1;
using CreateFn = int (*)(Handle*);
using DestroyFn = int (*)(Handle);
using SetStreamFn = int (*)(Handle, cudaStream_t);
template <typename T>
using GemmFn = int (*)(Handle, int, int, int, int, int, const T*, const T*,
                       int, const T*, int, const T*, T*, int);

struct Library {
  CreateFn create = nullptr;
  DestroyFn destroy = nullptr;
  SetStreamFn set_stream = nullptr;
  GemmFn<float> sgemm = nullptr;
  GemmFn<double> dgemm = nullptr;
};

int RuntimeMajor() {
  int version = 0;
  cudaRuntimeGetVersion(&version);
  return version / 1000;
}

// The folder of a library already loaded in the process, or "".
std::string LoadedFolder(const char* soname) {
  void* so = dlopen(soname, RTLD_LAZY | RTLD_NOLOAD);
  if (so == nullptr) return "";
  char origin[PATH_MAX] = "";
  const bool found = dlinfo(so, RTLD_DI_ORIGIN, origin) == 0;
  dlclose(so);
  return found ? origin : "";
}

// The library at `name` when it has the entry points and makes a handle
// on the current device, else null.
const Library* TryLibrary(const std::string& name, Library* lib) {
  const bool loaded_only = name[0] == '?';
  void* so = dlopen(name.c_str() + (loaded_only ? 1 : 0),
                    RTLD_NOW | RTLD_GLOBAL | (loaded_only ? RTLD_NOLOAD : 0));
  if (so == nullptr) return nullptr;
  lib->create = reinterpret_cast<CreateFn>(dlsym(so, "cublasCreate_v2"));
  lib->destroy = reinterpret_cast<DestroyFn>(dlsym(so, "cublasDestroy_v2"));
  lib->set_stream =
      reinterpret_cast<SetStreamFn>(dlsym(so, "cublasSetStream_v2"));
  lib->sgemm = reinterpret_cast<GemmFn<float>>(dlsym(so, "cublasSgemm_v2"));
  lib->dgemm = reinterpret_cast<GemmFn<double>>(dlsym(so, "cublasDgemm_v2"));
  Handle probe = nullptr;
  if (lib->create && lib->destroy && lib->set_stream && lib->sgemm &&
      lib->dgemm && lib->create(&probe) == 0) {
    lib->destroy(probe);
    return lib;
  }
  dlclose(so);
  return nullptr;
}

const Library* LoadLibrary() {
  static const Library* library = [] () -> const Library* {
    static Library lib;
    for (const std::string& name : CublasCandidates(
             std::getenv("TFRNN_CUBLAS"), RuntimeMajor(),
             LoadedFolder("libtensorflow_framework.so.2"),
             LoadedFolder("libtorch_cuda.so"))) {
      if (TryLibrary(name, &lib) != nullptr) return &lib;
    }
    return nullptr;
  }();
  return library;
}

// The handle for the current device and `stream`, bound to the stream:
// one per (device, stream), at most kMaxHandles (a process that runs on
// many streams in turn gets its least recently used handle released, on
// its own device: cuBLAS waits for the device's work first).
constexpr size_t kMaxHandles = 32;

Status HandleFor(const Library& lib, cudaStream_t stream, Handle* out) {
  using Key = std::pair<int, cudaStream_t>;
  static std::mutex mutex;
  static auto* handles = new LruHandles<Key, Handle>(kMaxHandles);  // kept
  int device = 0;
  const cudaError_t e = cudaGetDevice(&device);
  if (e != cudaSuccess) return {static_cast<int>(e), cudaGetErrorString(e)};
  const auto create = [&](const Key& key, Handle* handle) {
    int rc = lib.create(handle);
    if (rc == 0) rc = lib.set_stream(*handle, key.second);
    if (rc != 0 && *handle != nullptr) lib.destroy(*handle);
    return rc;
  };
  const auto release = [&](const Key& key, Handle handle) {
    if (key.first != device) cudaSetDevice(key.first);
    lib.destroy(handle);
    if (key.first != device) cudaSetDevice(device);
  };
  std::lock_guard<std::mutex> lock(mutex);
  const int rc = handles->For({device, stream}, create, release, out);
  if (rc != 0) return {kBlasError + rc, "cuBLAS could not make a handle"};
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
          "no libcublas (.so.12 or .so.13) could be loaded or make a "
          "handle; set TFRNN_CUBLAS to its path"};
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
