// Op registrations and shape functions for the fused GRU (Keras's
// reset_after=True variant). Shapes: x [B,T,I], h0 [B,H], kernel [I,3H],
// recurrent_kernel [H,3H], bias [2,3H], sequence_length [B] int32.
#include "common/shape_fns.h"
#include "gru/gru_cell.h"
#include "tensorflow/core/framework/op.h"

namespace tfrnn {
namespace {

using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;
using shape::BiasDims;
using shape::CommonShape;

constexpr int kGates = gru::Cell::kGates;
constexpr int kReserve = gru::Cell::kSaved;

absl::Status GruShape(InferenceContext* c) {
  ShapeHandle x, lengths;
  DimensionHandle batch, units;
  TF_RETURN_IF_ERROR(CommonShape(c, 3, 1, kGates, &x, &batch, &units));
  TF_RETURN_IF_ERROR(BiasDims(c, 4, kGates, 2, units));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(5), 1, &lengths));
  TF_RETURN_IF_ERROR(c->Merge(batch, c->Dim(lengths, 0), &batch));
  ShapeHandle mask;
  TF_RETURN_IF_ERROR(c->WithRankAtMost(c->input(6), 2, &mask));
  bool is_training;
  TF_RETURN_IF_ERROR(c->GetAttr("is_training", &is_training));
  DimensionHandle reserve;
  TF_RETURN_IF_ERROR(c->Multiply(units, kReserve, &reserve));
  c->set_output(0, c->MakeShape({batch, c->Dim(x, 1), units}));
  c->set_output(1, c->MakeShape({batch, units}));
  c->set_output(2, is_training
                       ? c->MakeShape({c->Dim(x, 1), batch, reserve})
                       : c->MakeShape({0}));
  return absl::OkStatus();
}

absl::Status GruGradShape(InferenceContext* c) {
  ShapeHandle x;
  DimensionHandle batch, units, width;
  TF_RETURN_IF_ERROR(CommonShape(c, 3, 1, kGates, &x, &batch, &units));
  TF_RETURN_IF_ERROR(c->Multiply(units, kGates, &width));
  c->set_output(0, x);
  c->set_output(1, c->MakeShape({batch, units}));
  c->set_output(2, c->input(2));
  c->set_output(3, c->input(3));
  c->set_output(4, c->MakeShape({2, width}));
  return absl::OkStatus();
}

absl::Status GruStepShape(InferenceContext* c) {
  ShapeHandle x;
  DimensionHandle batch, units, reserve;
  TF_RETURN_IF_ERROR(CommonShape(c, 2, 1, kGates, &x, &batch, &units));
  TF_RETURN_IF_ERROR(BiasDims(c, 4, kGates, 2, units));
  TF_RETURN_IF_ERROR(c->Multiply(units, kReserve, &reserve));
  c->set_output(0, c->MakeShape({batch, units}));
  c->set_output(1, c->MakeShape({batch, reserve}));
  return absl::OkStatus();
}

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
    .SetShapeFn(GruShape)
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
    .SetShapeFn(GruGradShape)
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
    .SetShapeFn(GruStepShape)
    .Doc("One GRU step (decoding). reserve: the activations, for the gradient.");

}  // namespace tfrnn
