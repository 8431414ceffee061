// Shape functions of the recurrent ops. Inputs follow one layout: x at 0,
// then the states, then kernel [I,G*H] and recurrent_kernel [H,G*H] with G
// gates.
#ifndef TFRNN_CUSTOM_OPS_COMMON_SHAPE_FNS_H_
#define TFRNN_CUSTOM_OPS_COMMON_SHAPE_FNS_H_

#include "common/recurrent_args.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tfrnn {
namespace shape {

using ::tensorflow::shape_inference::DimensionHandle;
using ::tensorflow::shape_inference::InferenceContext;
using ::tensorflow::shape_inference::ShapeHandle;

// Reads I and H from kernel [I,G*H] and recurrent_kernel [H,G*H].
inline absl::Status WeightDims(InferenceContext* c, int kernel_idx, int gates,
                               DimensionHandle* input, DimensionHandle* units) {
  ShapeHandle kernel, recurrent;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kernel_idx), 2, &kernel));
  TF_RETURN_IF_ERROR(c->WithRank(c->input(kernel_idx + 1), 2, &recurrent));
  *input = c->Dim(kernel, 0);
  *units = c->Dim(recurrent, 0);
  DimensionHandle width, unused;
  TF_RETURN_IF_ERROR(c->Multiply(*units, gates, &width));
  TF_RETURN_IF_ERROR(c->Merge(c->Dim(kernel, 1), width, &unused));
  return c->Merge(c->Dim(recurrent, 1), width, &unused);
}

// Checks a [B,H] state input against batch and units; refines both.
inline absl::Status StateDims(InferenceContext* c, int idx,
                              DimensionHandle* batch, DimensionHandle* units) {
  ShapeHandle s;
  TF_RETURN_IF_ERROR(c->WithRank(c->input(idx), 2, &s));
  TF_RETURN_IF_ERROR(c->Merge(*batch, c->Dim(s, 0), batch));
  return c->Merge(*units, c->Dim(s, 1), units);
}

// Checks x (input 0, rank x_rank, features last), `num_states` [B,H] states
// (inputs 1..num_states) and the weights that follow. Returns x, B and H.
inline absl::Status CommonShape(InferenceContext* c, int x_rank, int num_states,
                                int gates, ShapeHandle* x,
                                DimensionHandle* batch,
                                DimensionHandle* units) {
  TF_RETURN_IF_ERROR(c->WithRank(c->input(0), x_rank, x));
  *batch = c->Dim(*x, 0);
  DimensionHandle input, unused;
  TF_RETURN_IF_ERROR(WeightDims(c, 1 + num_states, gates, &input, units));
  TF_RETURN_IF_ERROR(c->Merge(c->Dim(*x, x_rank - 1), input, &unused));
  for (int i = 1; i <= num_states; ++i) {
    TF_RETURN_IF_ERROR(StateDims(c, i, batch, units));
  }
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
// with its layer-norm inputs (the last four) given, LayerNormSavedWidth;
// unknown while gain_x's size is.
template <typename Cell>
absl::Status SavedDim(InferenceContext* c, DimensionHandle units,
                      DimensionHandle* saved) {
  if constexpr (Cell::kVariants) {
    ShapeHandle gain_x;
    TF_RETURN_IF_ERROR(c->WithRank(
        c->input(c->num_inputs() - kLayerNormInputs), 1, &gain_x));
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
// the order common/recurrent_kernels.h lists), from the cell's traits.
template <typename Cell>
struct RecurrentShapes {
  static constexpr int kStates = Cell::kCellState ? 2 : 1;

  static absl::Status Sequence(InferenceContext* c) {
    ShapeHandle x, lengths, mask;
    DimensionHandle batch, units, saved;
    TF_RETURN_IF_ERROR(
        CommonShape(c, 3, kStates, Cell::kGates, &x, &batch, &units));
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
    c->set_output(out++, c->MakeShape({batch, time, units}));
    for (int i = 0; i < kStates; ++i) {
      c->set_output(out++, c->MakeShape({batch, units}));
    }
    if (Cell::kSaved > 0) {  // time-major
      TF_RETURN_IF_ERROR(SavedDim<Cell>(c, units, &saved));
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
    DimensionHandle batch, units, width;
    TF_RETURN_IF_ERROR(
        CommonShape(c, 3, kStates, Cell::kGates, &x, &batch, &units));
    TF_RETURN_IF_ERROR(c->Multiply(units, Cell::kGates, &width));
    int out = 0;
    c->set_output(out++, x);
    for (int i = 0; i < kStates; ++i) {
      c->set_output(out++, c->MakeShape({batch, units}));
    }
    c->set_output(out++, c->input(1 + kStates));
    c->set_output(out++, c->input(2 + kStates));
    c->set_output(out++, Cell::kBiasRows == 0
                             ? c->MakeShape({width})
                             : c->MakeShape({Cell::kBiasRows, width}));
    if (Cell::kVariants) {  // dpeephole, the layer norm's: their inputs'
      const int peephole = c->num_inputs() - kVariantInputs;
      c->set_output(out++, c->input(peephole));
      for (int k = 0; k < kLayerNormInputs; ++k) {
        c->set_output(out++,
                      c->input(c->num_inputs() - kLayerNormInputs + k));
      }
    }
    return absl::OkStatus();
  }

  static absl::Status Step(InferenceContext* c) {
    ShapeHandle x;
    DimensionHandle batch, units, saved;
    TF_RETURN_IF_ERROR(
        CommonShape(c, 2, kStates, Cell::kGates, &x, &batch, &units));
    TF_RETURN_IF_ERROR(
        BiasDims(c, 3 + kStates, Cell::kGates, Cell::kBiasRows, units));
    int out = 0;
    for (int i = 0; i < kStates; ++i) {
      c->set_output(out++, c->MakeShape({batch, units}));
    }
    if (Cell::kSaved > 0) {
      TF_RETURN_IF_ERROR(SavedDim<Cell>(c, units, &saved));
      c->set_output(out++, c->MakeShape({batch, saved}));
    }
    return absl::OkStatus();
  }
};

}  // namespace shape
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_COMMON_SHAPE_FNS_H_
