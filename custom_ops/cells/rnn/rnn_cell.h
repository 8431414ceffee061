// The Elman RNN cell (keras.layers.SimpleRNN, torch.nn.RNN): its traits for
// the engines and its per-unit math, shared by the CPU (on SIMD packets) and
// the GPU (per element).
//
//   h_t = act(x.W + b + h_{t-1}.U),  act = tanh or relu
// (torch's two biases b_ih + b_hh add into b). The backward needs only h_t:
// tanh' = 1 - h^2, relu' = [h > 0].
#ifndef TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_H_
#define TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_H_

#include "shared/host_device.h"

namespace tfrnn {
namespace rnn {

// The op's `nonlinearity` attribute.
struct Attrs {
  bool relu = false;  // else tanh
};

// See binding/op_kernels.h for what each trait means.
struct Cell {
  static constexpr int kGates = 1;
  static constexpr int kSaved = 0;  // the backward reads h_t from the output
  static constexpr int kBiasRows = 0;
  static constexpr bool kCellState = false;
  static constexpr bool kRecurrentGradsDiffer = false;
  static constexpr bool kHiddenBypass = false;
  static constexpr bool kVariants = false;
  static constexpr int kPanelPackets = 4;  // four packets of units a panel
  static constexpr const char* kSavedName = "";
  using Attrs = rnn::Attrs;
};

template <typename Act, typename V>
TFRNN_HOST_DEVICE inline V Activate(V pre, bool relu) {
  return relu ? Act::Relu(pre) : Act::Tanh(pre);
}

// The gradient of the pre-activation from h_t and the gradient reaching it.
template <typename Act, typename V>
TFRNN_HOST_DEVICE inline V PreActivationGrad(V h, V dh, bool relu) {
  return relu ? Act::WherePositive(h, dh) : dh * (1 - h * h);
}

}  // namespace rnn
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_RNN_RNN_CELL_H_
