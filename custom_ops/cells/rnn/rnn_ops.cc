// Op registrations and shape functions for the fused Elman RNN. Shapes:
// x [B,T,I], h0 [B,H], kernel [I,H], recurrent_kernel [H,H], bias [H],
// sequence_length [B] int32.
#include "binding/shape_fns.h"
#include "cells/rnn/rnn_cell.h"
#include "tensorflow/core/framework/op.h"

namespace tfrnn {
namespace {

using Shapes = shape::RecurrentShapes<rnn::Cell>;

}  // namespace

REGISTER_OP("TfrnnRnn")
    .Input("x: T")
    .Input("h0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("sequence_length: int32")
    .Input("recurrent_mask: T")
    .Output("output: T")
    .Output("h_n: T")
    .Attr("T: {float, double}")
    .Attr("reverse: bool = false")
    .Attr("nonlinearity: {'tanh', 'relu'} = 'tanh'")
    .SetShapeFn(Shapes::Sequence)
    .Doc(R"doc(
Whole-sequence Elman RNN, h_t = nonlinearity(x.W + b + h_{t-1}.U), batch-major,
Keras's SimpleRNN weight layout, with TfrnnLstm's sequence_length/reverse
semantics. The gradient needs only the outputs. recurrent_mask [B,H] (or shape
[0] for none) multiplies h_{t-1} in the recurrent product.
)doc");

REGISTER_OP("TfrnnRnnGrad")
    .Input("x: T")
    .Input("h0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("sequence_length: int32")
    .Input("output: T")
    .Input("d_output: T")
    .Input("d_h_n: T")
    .Input("recurrent_mask: T")
    .Output("dx: T")
    .Output("dh0: T")
    .Output("dkernel: T")
    .Output("drecurrent_kernel: T")
    .Output("dbias: T")
    .Attr("T: {float, double}")
    .Attr("reverse: bool = false")
    .Attr("nonlinearity: {'tanh', 'relu'} = 'tanh'")
    .SetShapeFn(Shapes::Grad)
    .Doc("Backward pass of TfrnnRnn from its outputs.");

REGISTER_OP("TfrnnRnnStep")
    .Input("x: T")
    .Input("h: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Output("h_new: T")
    .Attr("T: {float, double}")
    .Attr("nonlinearity: {'tanh', 'relu'} = 'tanh'")
    .SetShapeFn(Shapes::Step)
    .Doc("One Elman RNN step (decoding).");

}  // namespace tfrnn
