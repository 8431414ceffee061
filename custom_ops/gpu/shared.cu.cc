// The GPU core's entry points that belong to no cell (gpu_recurrence.h).
#include "gpu/backend.h"
#include "shared/host_device.h"
#include "gpu/recurrence.h"
#include "gpu/walk.h"

namespace tfrnn {
namespace gpu {

Status UploadLengths(const int32_t* host, int64_t n, int32_t* device,
                     void* stream) {
  Backend backend(stream);
  return UploadLengthsWith(backend, host, n, device);
}

namespace {

// scratch = the smallest index of a value outside [0, 1], started at n.
template <typename T>
struct LowestOutsideUnitInterval {
  const T* values;
  int64_t* scratch;
  TFRNN_HOST_DEVICE void operator()(int64_t i) const {
    const T v = values[i];
    if (v >= T(0) && v <= T(1)) return;  // NaN fails both
#ifdef __CUDA_ARCH__
    atomicMin(reinterpret_cast<long long*>(scratch),
              static_cast<long long>(i));
#else
    if (i < *scratch) *scratch = i;
#endif
  }
};

struct SetScratch {
  int64_t* scratch;
  int64_t to;
  TFRNN_HOST_DEVICE void operator()(int64_t) const { *scratch = to; }
};

}  // namespace

template <typename T>
Status FindOutsideUnitInterval(const T* values, int64_t n, int64_t* scratch,
                               void* stream, int64_t* index, double* value) {
  *index = -1;
  if (n <= 0) return {};
  Backend backend(stream);
  TFRNN_GPU_RETURN_IF_ERROR(backend.Each(1, SetScratch{scratch, n}));
  TFRNN_GPU_RETURN_IF_ERROR(
      backend.Each(n, LowestOutsideUnitInterval<T>{values, scratch}));
  int64_t lowest = n;
  TFRNN_GPU_RETURN_IF_ERROR(backend.ToHost(&lowest, scratch, sizeof lowest));
  if (lowest == n) return {};
  T found;
  TFRNN_GPU_RETURN_IF_ERROR(
      backend.ToHost(&found, values + lowest, sizeof found));
  *index = lowest;
  *value = static_cast<double>(found);
  return {};
}

template Status FindOutsideUnitInterval<float>(const float*, int64_t,
                                               int64_t*, void*, int64_t*,
                                               double*);
template Status FindOutsideUnitInterval<double>(const double*, int64_t,
                                                int64_t*, void*, int64_t*,
                                                double*);

bool IsCudaBuild() {
#ifdef __CUDACC__
  return true;
#else
  return false;
#endif
}

int RuntimeVersion() {
#ifdef __CUDACC__
  int version = 0;
  return cudaRuntimeGetVersion(&version) == cudaSuccess ? version : -1;
#else
  return 0;
#endif
}

}  // namespace gpu
}  // namespace tfrnn
