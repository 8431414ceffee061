// Device-templated functors behind the fused GRU kernels (see lstm_kernels.h
// for the pattern). Weights as Keras: kernel [I,3H], recurrent_kernel [H,3H],
// bias [2,3H] (input bias, recurrent bias), gates z, r, h.
#ifndef TFRNN_CUSTOM_OPS_GRU_GRU_KERNELS_H_
#define TFRNN_CUSTOM_OPS_GRU_GRU_KERNELS_H_

#include <cstdint>

#include "common/dims.h"

namespace tensorflow {
class OpKernelContext;
}

namespace tfrnn {
namespace gru {

using ::tfrnn::Dims;

// The saved activations per step: z, r, n and h.Uh + rh.
constexpr int kReserveGates = 4;

template <typename Device, typename T>
struct Forward {
  // reserve: [B,T,4H] when training, else null (a per-row scratch is used).
  // output: [B,T,H] or null. recurrent_mask: [B,H] multiplying h_{t-1} in
  // the recurrent product only, or null.
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& dims,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* kernel, const T* recurrent_kernel, const T* bias,
                  const int32_t* lengths, const T* recurrent_mask, T* output,
                  T* h_n, T* reserve);
};

template <typename Device, typename T>
struct Backward {
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& dims,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* kernel, const T* recurrent_kernel,
                  const int32_t* lengths, const T* output, const T* reserve,
                  const T* d_output, const T* d_h_n, const T* recurrent_mask,
                  T* dx, T* dh0, T* dkernel, T* drecurrent_kernel, T* dbias);
};

}  // namespace gru
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_GRU_GRU_KERNELS_H_
