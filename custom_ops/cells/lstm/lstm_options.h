// The LSTM's options, declared once: the option inputs every LSTM op takes
// after its own, in order, and which of them get a gradient (the Grad op's
// outputs d<name>, in the same order, after dbias). The op registrations
// (lstm_ops.cc), the kernels' and shape functions' readers
// (lstm_option_inputs.h, by name) and, in Python, tfrnn/ops/lstm.py's
// LSTM_OPTIONS (held to this list by tests/ops/test_lstm_options_seam.py)
// follow it. Framework-free: a list of names.
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_OPTIONS_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_OPTIONS_H_

// X(name, TFRNN_GRADIENT or TFRNN_NO_GRADIENT) for each option input.
#define TFRNN_LSTM_OPTIONS(X)            \
  X(peephole, TFRNN_GRADIENT)            \
  X(zoneout_h, TFRNN_NO_GRADIENT)        \
  X(zoneout_c, TFRNN_NO_GRADIENT)        \
  X(gain_x, TFRNN_GRADIENT)              \
  X(gain_h, TFRNN_GRADIENT)              \
  X(gain_c, TFRNN_GRADIENT)              \
  X(shift_c, TFRNN_GRADIENT)             \
  X(projection_kernel, TFRNN_GRADIENT)

// For REGISTER_OP: an option's input, and its gradient's output (none for
// TFRNN_NO_GRADIENT).
#define TFRNN_OPTION_INPUT(name, gradient) .Input(#name ": T")
#define TFRNN_OPTION_GRADIENT_OUTPUT(name, gradient) gradient(name)
#define TFRNN_GRADIENT(name) .Output("d" #name ": T")
#define TFRNN_NO_GRADIENT(name)

#define TFRNN_OPTION_ENTRY(name, gradient) {#name, gradient##_FLAG},
#define TFRNN_GRADIENT_FLAG true
#define TFRNN_NO_GRADIENT_FLAG false

namespace tfrnn {
namespace lstm {

// The list as data, for the readers.
struct OptionInput {
  const char* name;
  bool gradient;  // the Grad op has an output "d" + name, shaped as it
};
constexpr OptionInput kOptionInputs[] = {
    TFRNN_LSTM_OPTIONS(TFRNN_OPTION_ENTRY)};

constexpr int CountOptionGradients() {
  int n = 0;
  for (const OptionInput& option : kOptionInputs) n += option.gradient;
  return n;
}
constexpr int kOptionGradients = CountOptionGradients();

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_OPTIONS_H_
