// Device-templated functors behind the fused LSTM kernels.
//
// The OpKernels (lstm_kernels.cc) validate inputs and allocate outputs; the
// functors do the math. A functor is specialised per device: CPU in
// lstm_cpu.cc, GPU in a .cu.cc file. All tensors are row-major, batch-major.
#ifndef TFRNN_CUSTOM_OPS_LSTM_LSTM_KERNELS_H_
#define TFRNN_CUSTOM_OPS_LSTM_LSTM_KERNELS_H_

#include <cstdint>

#include "common/dims.h"

namespace tensorflow {
class OpKernelContext;
}

namespace tfrnn {
namespace lstm {

using ::tfrnn::Dims;

// Step t of row b is active when t < lengths[b] (every step when lengths is
// null). Steps are visited 0..max_len-1, or max_len-1..0 when reverse.
template <typename Device, typename T>
struct Forward {
  // gates: [T,B,4H] (time-major), filled with the activated gates for the
  // gradient, or null (inference).
  // output: [B,T,H] or null; cell: [B,T,H] or null (only kept for training).
  // h_n, c_n: [B,H], the final state. recurrent_mask: [B,H] multiplying
  // h_{t-1} in the recurrent product, or null.
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& dims,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* c0, const T* kernel, const T* recurrent_kernel,
                  const T* bias, const int32_t* lengths,
                  const T* recurrent_mask, T* output, T* h_n, T* c_n,
                  T* gates, T* cell);
};

template <typename Device, typename T>
struct Backward {
  // d_output may be null (no gradient reaches the outputs). recurrent_mask
  // [B,H] or null, as in Forward.
  void operator()(tensorflow::OpKernelContext* ctx, const Dims& dims,
                  bool reverse, int64_t max_len, const T* x, const T* h0,
                  const T* c0, const T* kernel, const T* recurrent_kernel,
                  const int32_t* lengths, const T* output, const T* gates,
                  const T* cell, const T* d_output, const T* d_h_n,
                  const T* d_c_n, const T* recurrent_mask, T* dx, T* dh0,
                  T* dc0, T* dkernel, T* drecurrent_kernel, T* dbias);
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_LSTM_KERNELS_H_
