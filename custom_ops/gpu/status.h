// How the framework-free GPU core reports failure: a code (a cudaError_t,
// a cublasStatus_t offset by kBlasError, or one of ours) and a static text.
#ifndef TFRNN_CUSTOM_OPS_GPU_STATUS_H_
#define TFRNN_CUSTOM_OPS_GPU_STATUS_H_

namespace tfrnn {
namespace gpu {

struct Status {
  int code = 0;
  const char* message = "";
  bool ok() const { return code == 0; }
};

constexpr int kBlasError = 1000;      // + the cublasStatus_t
constexpr int kNoBlasLibrary = 2000;  // libcublas could not be loaded

#define TFRNN_GPU_RETURN_IF_ERROR(expr)       \
  do {                                        \
    const ::tfrnn::gpu::Status _s = (expr);   \
    if (!_s.ok()) return _s;                  \
  } while (0)

}  // namespace gpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GPU_STATUS_H_
