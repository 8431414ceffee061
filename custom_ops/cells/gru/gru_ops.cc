// Op registrations and shape functions for the fused GRU (Keras's
// reset_after=True variant). Shapes: x [B,T,I], h0 [B,H], kernel [I,3H],
// recurrent_kernel [H,3H], bias [2,3H], sequence_length [B] int32.
#include "binding/shape_fns.h"
#include "cells/gru/gru_cell.h"
#include "tensorflow/core/framework/op.h"

namespace tfrnn {
namespace {

using Shapes = shape::RecurrentShapes<gru::Cell>;

}  // namespace

REGISTER_OP("TfrnnGru")
    .Input("x: T")
    .Input("h0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Input("sequence_length: int32")
    .Input("recurrent_mask: T")
    .Output("output: T")
    .Output("h_n: T")
    .Output("reserve: T")
    .Attr("T: {float, double}")
    .Attr("reverse: bool = false")
    .Attr("is_training: bool = true")
    .SetShapeFn(Shapes::Sequence)
    .Doc(R"doc(
Whole-sequence GRU (Keras reset_after=True, gates z, r, h), batch-major, with
TfrnnLstm's sequence_length/reverse semantics. reserve [T,B,4H] (time-major)
holds the activations the gradient needs (empty when is_training is false). recurrent_mask [B,H]
(or shape [0] for none) multiplies h_{t-1} in the recurrent product (not in
the update z * h_{t-1}): variational recurrent dropout.
)doc");

REGISTER_OP("TfrnnGruGrad")
    .Input("x: T")
    .Input("h0: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("sequence_length: int32")
    .Input("output: T")
    .Input("reserve: T")
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
    .SetShapeFn(Shapes::Grad)
    .Doc("Backward pass of TfrnnGru from its saved activations.");

REGISTER_OP("TfrnnGruStep")
    .Input("x: T")
    .Input("h: T")
    .Input("kernel: T")
    .Input("recurrent_kernel: T")
    .Input("bias: T")
    .Output("h_new: T")
    .Output("reserve: T")
    .Attr("T: {float, double}")
    .SetShapeFn(Shapes::Step)
    .Doc("One GRU step (decoding). reserve: the activations, for the gradient.");

}  // namespace tfrnn
