// The backend the GPU core is built with: CUDA under nvcc; the host
// stand-in when the same sources are compiled as C++ (the host tests'
// library, see custom_ops/gpu_build.py), where "device" pointers are host
// memory.
#ifndef TFRNN_CUSTOM_OPS_COMMON_GPU_BACKEND_H_
#define TFRNN_CUSTOM_OPS_COMMON_GPU_BACKEND_H_

#ifdef __CUDACC__
#include "common/gpu_backend_cuda.h"
#else
#include "common/gpu_backend_host.h"
#endif

namespace tfrnn {
namespace gpu {

#ifdef __CUDACC__
using Backend = CudaBackend;
#else
using Backend = HostBackend;
#endif

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_COMMON_GPU_BACKEND_H_
