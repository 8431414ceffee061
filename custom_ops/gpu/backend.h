// The backend the GPU core is built with: CUDA under nvcc; the host
// stand-in when the same sources are compiled as C++ (the host tests'
// library, see custom_ops/gpu_build.py), where "device" pointers are host
// memory.
#ifndef TFRNN_CUSTOM_OPS_GPU_BACKEND_H_
#define TFRNN_CUSTOM_OPS_GPU_BACKEND_H_

#ifdef __CUDACC__
#include "gpu/backend_cuda.h"
#else
#include "gpu/backend_host.h"
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

#endif  // TFRNN_CUSTOM_OPS_GPU_BACKEND_H_
