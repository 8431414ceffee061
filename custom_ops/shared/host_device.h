// What the CPU and GPU kernels share per element: the host/device marker and
// the scalar activations a GPU kernel (and a host test of the cell math)
// evaluates the cells' formulas with.
//
// Each cell writes its formulas once, as templates over a value type V (a
// scalar, or a SIMD packet on the CPU) and an activation policy Act (the
// scalar one here, cpu::PacketActivations in cpu/simd.h).
#ifndef TFRNN_CUSTOM_OPS_SHARED_HOST_DEVICE_H_
#define TFRNN_CUSTOM_OPS_SHARED_HOST_DEVICE_H_

#include <cmath>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define TFRNN_HOST_DEVICE __host__ __device__
#else
#define TFRNN_HOST_DEVICE
#endif

namespace tfrnn {

// The attributes of a cell that has none.
struct NoAttrs {};

// `using std::exp`: the float overloads, on the host as on the device
// (unqualified exp of a float could be the C library's double one).
template <typename T>
struct ScalarActivations {
  TFRNN_HOST_DEVICE static T Logistic(T x) {
    using std::exp;
    return T(1) / (T(1) + exp(-x));
  }
  TFRNN_HOST_DEVICE static T Tanh(T x) {
    using std::tanh;
    return tanh(x);
  }
  TFRNN_HOST_DEVICE static T Relu(T x) { return x > T(0) ? x : T(0); }
  // dy where y = relu(x) is positive, else 0 (relu's gradient from its
  // output; 0 at 0, as TensorFlow's).
  TFRNN_HOST_DEVICE static T WherePositive(T y, T dy) {
    return y > T(0) ? dy : T(0);
  }
  // x clipped to [-limit, limit], and dy where x lies in it (else 0: the
  // gradient of the clip, as tf.clip_by_value's).
  TFRNN_HOST_DEVICE static T Clip(T x, T limit) {
    return x < -limit ? -limit : (x > limit ? limit : x);
  }
  TFRNN_HOST_DEVICE static T WhereWithin(T x, T limit, T dy) {
    return x >= -limit && x <= limit ? dy : T(0);
  }
};

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_SHARED_HOST_DEVICE_H_
