// Op registrations and shape functions for the fused LSTM.
//
// Shapes (batch-major, as Keras): x [B,T,I], h0/c0 [B,H], kernel [I,4H],
// recurrent_kernel [H,4H], bias [4H], sequence_length [B] int32; under a
// projection_kernel [H,P], h0 is [B,P] and recurrent_kernel [P,4H].
// The shape functions catch what they can at graph construction; the kernels
// check everything again at run time (shapes may be unknown until then).
#include "binding/shape_fns.h"
#include "cells/lstm/lstm_cell.h"
#include "cells/lstm/lstm_option_inputs.h"
#include "cells/lstm/lstm_options.h"
#include "tensorflow/core/framework/op.h"

namespace tfrnn {
namespace {

using Shapes = shape::RecurrentShapes<lstm::Cell, lstm::OptionInputs>;

}  // namespace

// The options' attributes (their inputs: lstm_options.h); the sequence
// op's doc says what each does.
#define TFRNN_LSTM_OPTION_ATTRS  \
  Attr("cell_clip: float = -1")  \
      .Attr("layer_norm_epsilon: float = 0.001")

REGISTER_OP("TfrnnLstm")
    .Input("x: T")
    .Input("h0: T")
    .Input("c0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("sequence_length: int32")
    .Input("recurrent_mask: T")
    TFRNN_LSTM_OPTIONS(TFRNN_OPTION_INPUT)
    .Output("output: T")
    .Output("h_n: T")
    .Output("c_n: T")
    .Output("gates: T")
    .Output("cell: T")
    .Attr("T: {float, double}")
    .Attr("reverse: bool = false")
    .Attr("is_training: bool = true")
    .TFRNN_LSTM_OPTION_ATTRS
    .SetShapeFn(Shapes::Sequence)
    .Doc(R"doc(
Whole-sequence LSTM, batch-major, Keras weight layout (gate order i, f, c, o).

Row b runs steps 0..sequence_length[b]-1 (reverse: the same steps backwards,
as tf.reverse_sequence would). Outputs at steps >= sequence_length[b] are 0 and
h_n/c_n hold the state after the row's last step (h0/c0 when it is empty).
gates [T,B,4H] (time-major) and cell [B,T,H] are the activated gates and
cell states the gradient needs; they are empty when is_training is false.
recurrent_mask [B,H] (or shape [0] for none) multiplies h_{t-1} where it
enters the recurrent product: variational recurrent dropout, one mask for
every step.
Options (cells/lstm/lstm_cell.h has the formulas), each off when its input has
shape [0] or cell_clip is negative: peephole [3,H] (p_i, p_f, p_o, as
BlockLSTM's); zoneout_h, zoneout_c: the share of h_{t-1} / c_{t-1} each unit
keeps at a step, a scalar or [B,T,H] in [0, 1] (a training mask of 0s and 1s,
or inference's expectation); cell_clip: c_t clipped to [-cell_clip, cell_clip];
layer norm: gain_x [4H], gain_h [4H], gain_c [H], shift_c [H], all four or
none (Ba et al.: each gate's x.W and h.U normalised over its units times its
gain, tanh reading LN(c_t) * gain_c + shift_c; layer_norm_epsilon is added to
the variances). gates is then [T,B,13H+9]: the normalised values and their
statistics follow the gates. projection_kernel [H,P] (LSTMP, torch's
proj_size): h_t = (o * tanh(...)) . projection_kernel, so h0, output, h_n,
recurrent_mask and zoneout_h are P wide and recurrent_kernel is [P,4H];
c stays H wide.
Outputs and h_n/c_n are the carried states, after zoneout.
)doc");

REGISTER_OP("TfrnnLstmGrad")
    .Input("x: T")
    .Input("h0: T")
    .Input("c0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("sequence_length: int32")
    .Input("output: T")
    .Input("gates: T")
    .Input("cell: T")
    .Input("d_output: T")
    .Input("d_h_n: T")
    .Input("d_c_n: T")
    .Input("recurrent_mask: T")
    TFRNN_LSTM_OPTIONS(TFRNN_OPTION_INPUT)
    .Output("dx: T")
    .Output("dh0: T")
    .Output("dc0: T")
    .Output("dkernel: T")
    .Output("drecurrent_kernel: T")
    .Output("dbias: T")
    TFRNN_LSTM_OPTIONS(TFRNN_OPTION_GRADIENT_OUTPUT)
    .Attr("T: {float, double}")
    .Attr("reverse: bool = false")
    .TFRNN_LSTM_OPTION_ATTRS
    .SetShapeFn(Shapes::Grad)
    .Doc("Backward pass of TfrnnLstm from its saved gates and cell states.");

REGISTER_OP("TfrnnLstmStep")
    .Input("x: T")
    .Input("h: T")
    .Input("c: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    TFRNN_LSTM_OPTIONS(TFRNN_OPTION_INPUT)
    .Output("h_new: T")
    .Output("c_new: T")
    .Output("gates: T")
    .Attr("T: {float, double}")
    .TFRNN_LSTM_OPTION_ATTRS
    .SetShapeFn(Shapes::Step)
    .Doc("One LSTM step (decoding) with TfrnnLstm's options (a per-step "
         "zoneout is [B,1,H]). gates: the activated gates, for the "
         "gradient.");

}  // namespace tfrnn
