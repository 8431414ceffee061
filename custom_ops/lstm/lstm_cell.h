// Scalar LSTM gate math shared by the CPU and GPU kernels.
//
// Gate order is Keras's: i, f, c (the candidate, "g"), o.
//   c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
// The CPU kernel evaluates sigmoid/tanh with Eigen's vectorised functions and
// calls the arithmetic helpers below on whole SIMD packets (GCC/Clang vector
// types); a GPU kernel calls all of them per element. Keeping the formulas
// here keeps both devices identical.
#ifndef TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_
#define TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_

#include <cmath>

#if defined(__CUDACC__) || defined(__HIPCC__)
#define TFRNN_HOST_DEVICE __host__ __device__
#else
#define TFRNN_HOST_DEVICE
#endif

namespace tfrnn {
namespace lstm {

template <typename T>
TFRNN_HOST_DEVICE inline T Sigmoid(T x) {
  return T(1) / (T(1) + exp(-x));
}

template <typename T>
TFRNN_HOST_DEVICE inline T Tanh(T x) {
  return tanh(x);
}

// New cell state from activated gates.
template <typename T>
TFRNN_HOST_DEVICE inline T CellState(T i, T f, T g, T c_prev) {
  return f * c_prev + i * g;
}

// Hidden state from the output gate and tanh of the new cell state.
template <typename T>
TFRNN_HOST_DEVICE inline T HiddenState(T o, T tanh_c) {
  return o * tanh_c;
}

// Gradients of one step, per unit. Inputs are the activated gates of the step,
// tanh(c_t), c_{t-1}, the gradient reaching h_t (from the output and from the
// next step) and the gradient reaching c_t from the next step.
// Outputs are the gradients of the four gate pre-activations and of c_{t-1}.
template <typename T>
struct StepGrads {
  T di, df, dg, do_, dc_prev;
};

template <typename T>
TFRNN_HOST_DEVICE inline StepGrads<T> CellBackward(T i, T f, T g, T o,
                                                   T tanh_c, T c_prev, T dh,
                                                   T dc_next) {
  // "1 - x" rather than "T(1) - x": T may also be a SIMD vector type (the
  // CPU kernel runs this on whole packets), where 1 broadcasts.
  StepGrads<T> r;
  const T dc = dc_next + dh * o * (1 - tanh_c * tanh_c);
  r.do_ = dh * tanh_c * o * (1 - o);
  r.di = dc * g * i * (1 - i);
  r.df = dc * c_prev * f * (1 - f);
  r.dg = dc * i * (1 - g * g);
  r.dc_prev = dc * f;
  return r;
}

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_LSTM_LSTM_CELL_H_
