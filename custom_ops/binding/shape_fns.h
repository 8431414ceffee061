// Shape functions of the recurrent ops. Inputs follow one layout: x at 0,
// then the states, then kernel [I,G*H] and recurrent_kernel [Hh,G*H] with G
// gates (Hh: h's width, the LSTM's projection P, else H).
#ifndef TFRNN_CUSTOM_OPS_BINDING_SHAPE_FNS_H_
#define TFRNN_CUSTOM_OPS_BINDING_SHAPE_FNS_H_

#include "binding/option_inputs.h"
#include "shared/recurrent_args.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tfrnn {
namespace shape {

using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

// Reads I, H and Hh from kernel [I,G*H], recurrent_kernel [Hh,G*H] and,
// for the LSTM (kVariants), projection_kernel ([0] none, else [H,P] and
// Hh = P); without a projection Hh = H (*same: true).
template <typename Cell, typename Options>
absl::Status WeightDims(InferenceContext* c, int kernel_idx,
                        DimensionHandle* input, DimensionHandle* units,
                        DimensionHandle* hidden, bool* same) {
  ShapeHandle kernel, recurrent;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kernel_idx), 2, &kernel));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kernel_idx + 1), 2, &recurrent));
  *input = c->Dim(kernel, 0);
  *hidden = c->Dim(recurrent, 0);
  *units = *hidden;
  *same = true;
  if constexpr (Cell::kVariants) {
    ShapeHandle projection;
    TF_RETURN_IF_ERROR(Options::Shape(c, "projection_kernel", &projection));
    TF_RETURN_IF_ERROR(c->WithRankAtMost(projection, 2, &projection));
    *same = c->RankKnown(projection) && c->Rank(projection) != 2;
    if (!c->RankKnown(projection)) {
      *units = c->UnknownDim();
    } else if (c->Rank(projection) == 2) {
      *units = c->Dim(projection, 0);
      TF_RETURN_IF_ERROR(c->Merge(*hidden, c->Dim(projection, 1), hidden));
    }
  }
  DimensionHandle width, unused;
  TF_RETURN_IF_ERROR(c->Multiply(*units, Cell::kGates, &width));
  TF_RETURN_IF_ERROR(c->Merge(c->Dim(kernel, 1), width, &width));
  TF_RETURN_IF_ERROR(c->Merge(c->Dim(recurrent, 1), width, &width));
  if (!c->ValueKnown(*units) && c->ValueKnown(width)) {
    TF_RETURN_IF_ERROR(c->Divide(width, Cell::kGates, true, units));
  }
  return absl::OkStatus();
}

// Checks a [B,width] state input against batch and width; refines both.
inline absl::Status StateDims(InferenceContext* c, int idx,
                              DimensionHandle* batch, DimensionHandle* width) {
  ShapeHandle s;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(idx), 2, &s));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(s, 0), batch));
  return c->Merge(*width, c->Dim(s, 1), width);
}

// Checks x (input 0, rank x_rank, features last), the states (inputs
// 1..kStates: h [B,Hh], then c [B,H]) and the weights that follow.
// Returns x, B, H and Hh.
template <typename Cell, typename Options>
absl::Status CommonShape(InferenceContext* c, int x_rank, ShapeHandle* x,
                         DimensionHandle* batch, DimensionHandle* units,
                         DimensionHandle* hidden) {
  constexpr int kStates = Cell::kCellState ? 2 : 1;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), x_rank, x));
  *batch = c->Dim(*x, 0);
  DimensionHandle input, unused;
  bool same;
  TF_RETURN_IF_ERROR(
      WeightDims<Cell, Options>(c, 1 + kStates, &input, units, hidden, &same));
  TF_RETURN_IF_ERROR(c->Merge(c->Dim(*x, x_rank - 1), input, &unused));
  TF_RETURN_IF_ERROR(StateDims(c, 1, batch, hidden));
  if (same) TF_RETURN_IF_ERROR(c->Merge(*units, *hidden, units));
  if (kStates == 2) TF_RETURN_IF_ERROR(StateDims(c, 2, batch, units));
  if (same) *hidden = *units;
  return absl::OkStatus();
}

// Checks a bias input of shape `rows` x [G*H] (rows = 0: rank 1, [G*H]).
inline absl::Status BiasDims(InferenceContext* c, int idx, int gates,
                             int rows, DimensionHandle units) {
  ShapeHandle bias;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(idx), rows == 0 ? 1 : 2, &bias));
  DimensionHandle width, unused;
  TF_RETURN_IF_ERROR(c->Multiply(units, gates, &width));
  if (rows != 0) {
    TF_RETURN_IF_ERROR(c->Merge(c->Dim(bias, 0), c->MakeDim(rows), &unused));
  }
  return c->Merge(c->Dim(bias, rows == 0 ? 0 : 1), width, &unused);
}

// The saved row's width: kSaved per unit or, for the LSTM (kVariants)
// with its layer-norm inputs given, LayerNormSavedWidth; unknown while
// gain_x's size is.
template <typename Cell, typename Options>
absl::Status SavedDim(InferenceContext* c, DimensionHandle units,
                      DimensionHandle* saved) {
  if constexpr (Cell::kVariants) {
    ShapeHandle gain_x;
    TF_RETURN_IF_ERROR(Options::Shape(c, "gain_x", &gain_x));
    TF_RETURN_IF_ERROR(c->WithRank(gain_x, 1, &gain_x));
    const DimensionHandle size = c->Dim(gain_x, 0);
    if (!c->ValueKnown(size)) {
      *saved = c->UnknownDim();
      return absl::OkStatus();
    }
    if (c->Value(size) != 0) {
      *saved = c->ValueKnown(units) ? c->MakeDim(Cell::LayerNormSavedWidth(
                                          c->Value(units)))
                                    : c->UnknownDim();
      return absl::OkStatus();
    }
  }
  return c->Multiply(units, Cell::kSaved, saved);
}

// The shape functions of a cell's three ops (their inputs and outputs in
// the order binding/op_kernels.h lists), from the cell's traits and its
// Options (binding/option_inputs.h).
template <typename Cell, typename Options = NoOptionInputs>
struct RecurrentShapes {
  static constexpr int kStates = Cell::kCellState ? 2 : 1;

  static absl::Status Sequence(InferenceContext* c) {
    ShapeHandle x, lengths, mask;
    DimensionHandle batch, units, hidden, saved;
    TF_RETURN_IF_ERROR(
        CommonShape<Cell, Options>(c, 3, &x, &batch, &units, &hidden));
    TF_RETURN_IF_ERROR(
        BiasDims(c, 3 + kStates, Cell::kGates, Cell::kBiasRows, units));
    TF_RETURN_IF_ERROR(c->WithRank(c->input(4 + kStates), 1, &lengths));
    TF_RETURN_IF_ERROR(c->Merge(batch, c->Dim(lengths, 0), &batch));
    TF_RETURN_IF_ERROR(c->WithRankAtMost(c->input(5 + kStates), 2, &mask));
    bool is_training = false;
    if (Cell::kSaved > 0 || Cell::kCellState) {
      TF_RETURN_IF_ERROR(c->GetAttr("is_training", &is_training));
    }
    const DimensionHandle time = c->Dim(x, 1);
    int out = 0;
    c->set_output(out++, c->MakeShape({batch, time, hidden}));
    c->set_output(out++, c->MakeShape({batch, hidden}));
    if (Cell::kCellState) c->set_output(out++, c->MakeShape({batch, units}));
    if (Cell::kSaved > 0) {  // time-major
      TF_RETURN_IF_ERROR(SavedDim<Cell, Options>(c, units, &saved));
      c->set_output(out++, is_training ? c->MakeShape({time, batch, saved})
                                       : c->MakeShape({0}));
    }
    if (Cell::kCellState) {
      c->set_output(out++, is_training ? c->MakeShape({batch, time, units})
                                       : c->MakeShape({0}));
    }
    return absl::OkStatus();
  }

  static absl::Status Grad(InferenceContext* c) {
    ShapeHandle x;
    DimensionHandle batch, units, hidden, width;
    TF_RETURN_IF_ERROR(
        CommonShape<Cell, Options>(c, 3, &x, &batch, &units, &hidden));
    TF_RETURN_IF_ERROR(c->Multiply(units, Cell::kGates, &width));
    int out = 0;
    c->set_output(out++, x);
    c->set_output(out++, c->MakeShape({batch, hidden}));
    if (Cell::kCellState) c->set_output(out++, c->MakeShape({batch, units}));
    c->set_output(out++, c->input(1 + kStates));
    c->set_output(out++, c->input(2 + kStates));
    c->set_output(out++, Cell::kBiasRows == 0
                             ? c->MakeShape({width})
                             : c->MakeShape({Cell::kBiasRows, width}));
    return Options::SetGradientShapes(c);
  }

  static absl::Status Step(InferenceContext* c) {
    ShapeHandle x;
    DimensionHandle batch, units, hidden, saved;
    TF_RETURN_IF_ERROR(
        CommonShape<Cell, Options>(c, 2, &x, &batch, &units, &hidden));
    TF_RETURN_IF_ERROR(
        BiasDims(c, 3 + kStates, Cell::kGates, Cell::kBiasRows, units));
    int out = 0;
    c->set_output(out++, c->MakeShape({batch, hidden}));
    if (Cell::kCellState) c->set_output(out++, c->MakeShape({batch, units}));
    if (Cell::kSaved > 0) {
      TF_RETURN_IF_ERROR(SavedDim<Cell, Options>(c, units, &saved));
      c->set_output(out++, c->MakeShape({batch, saved}));
    }
    return absl::OkStatus();
  }
};

}  // namespace shape
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_BINDING_SHAPE_FNS_H_
