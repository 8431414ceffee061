// The GPU core's entry points that belong to no cell (gpu_recurrence.h).
#include "common/gpu_backend.h"
#include "common/gpu_recurrence.h"
#include "common/gpu_walk.h"

namespace tfrnn {
namespace gpu {

Status UploadLengths(const int32_t* host, int64_t n, int32_t* device,
                     void* stream) {
  Backend backend(stream);
  return UploadLengthsWith(backend, host, n, device);
}

bool IsCudaBuild() {
#ifdef __CUDACC__
  return true;
#else
  return false;
#endif
}

}  // namespace gpu
}  // namespace tfrnn
