// The LSTM's option inputs in the TensorFlow binding: the one type
// (OptionInputs) through which binding/op_kernels.h and binding/shape_fns.h
// see a cell's options. Each input is read by its name (lstm_options.h
// lists them), as TensorFlow's own kernels do, and checked here.
#ifndef TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_OPTION_INPUTS_H_
#define TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_OPTION_INPUTS_H_

#include <string>
#include <vector>

#include "binding/validation.h"
#include "cells/lstm/lstm_options.h"
#include "shared/recurrent_args.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tfrnn {
namespace lstm {

// peephole [3, H] (p_i, p_f, p_o), or shape [0] for none; *data null then.
template <typename T>
absl::Status CheckPeephole(const tensorflow::Tensor& peephole, const Dims& d,
                           const T** data) {
  *data = nullptr;
  if (IsNone(peephole)) return absl::OkStatus();
  TF_RETURN_IF_ERROR(CheckShape(peephole, "peephole", {3, d.units}));
  *data = peephole.flat<T>().data();
  return absl::OkStatus();
}

// The layer norm's gain_x [4H], gain_h [4H], gain_c [H], shift_c [H]: all
// given, or all shape [0] for none (*w all null then).
template <typename T>
absl::Status CheckLayerNorm(const tensorflow::Tensor& gain_x,
                            const tensorflow::Tensor& gain_h,
                            const tensorflow::Tensor& gain_c,
                            const tensorflow::Tensor& shift_c, const Dims& d,
                            LayerNormWeights<T>* w) {
  *w = {};
  const bool none[] = {IsNone(gain_x), IsNone(gain_h), IsNone(gain_c),
                       IsNone(shift_c)};
  if (none[0] && none[1] && none[2] && none[3]) return absl::OkStatus();
  if (none[0] || none[1] || none[2] || none[3]) {
    return Invalid(
        "layer norm takes gain_x, gain_h, gain_c and shift_c together: give "
        "all four, or all four as shape [0] for none");
  }
  TF_RETURN_IF_ERROR(CheckShape(gain_x, "gain_x", {4 * d.units}));
  TF_RETURN_IF_ERROR(CheckShape(gain_h, "gain_h", {4 * d.units}));
  TF_RETURN_IF_ERROR(CheckShape(gain_c, "gain_c", {d.units}));
  TF_RETURN_IF_ERROR(CheckShape(shift_c, "shift_c", {d.units}));
  *w = {In<T>(gain_x), In<T>(gain_h), In<T>(gain_c), In<T>(shift_c)};
  return absl::OkStatus();
}

// A zoneout input: shape [0] (none), a scalar (the same share for every
// unit and step) or [B, T, width] (per step; width: the state's, Hh for h,
// H for c); every value in [0, 1], checked here when `read_values` (the
// tensor is in host memory), else by the GPU engine (CheckZoneoutValues).
template <typename T>
absl::Status CheckZoneout(const tensorflow::Tensor& z, const char* name,
                          const Dims& d, int64_t width, bool read_values,
                          StepWeights<T>* weights) {
  *weights = {nullptr, false};
  if (IsNone(z)) return absl::OkStatus();
  if (z.dims() != 0) {
    TF_RETURN_IF_ERROR(CheckShape(z, name, {d.batch, d.time, width}));
  }
  const auto flat = z.flat<T>();
  for (int64_t i = 0; read_values && i < flat.size(); ++i) {
    if (!(flat(i) >= T(0) && flat(i) <= T(1))) {  // NaN fails too
      return ZoneoutOutOfRange(name, static_cast<double>(flat(i)), i);
    }
  }
  *weights = {flat.data(), z.dims() != 0};
  return absl::OkStatus();
}

struct OptionInputs {
  using InferenceContext = ::tensorflow::shape_inference::InferenceContext;
  using ShapeHandle = ::tensorflow::shape_inference::ShapeHandle;

  // projection_kernel ([0]: none, else [H,P]), read ahead of the others:
  // it sets the units and h's width.
  static absl::Status Projection(tensorflow::OpKernelContext* ctx,
                                 const tensorflow::Tensor** projection) {
    return ctx->input("projection_kernel", projection);
  }

  // Every option input, checked (the projection: by CheckInputs) into
  // args; zoneout values only when `read_values` (host memory).
  template <typename T>
  static absl::Status Take(tensorflow::OpKernelContext* ctx, const Dims& d,
                           bool read_values, SequenceInputs<T>* args) {
    const tensorflow::Tensor *peephole, *zoneout_h, *zoneout_c, *ln[4];
    TF_RETURN_IF_ERROR(ctx->input("peephole", &peephole));
    TF_RETURN_IF_ERROR(ctx->input("zoneout_h", &zoneout_h));
    TF_RETURN_IF_ERROR(ctx->input("zoneout_c", &zoneout_c));
    TF_RETURN_IF_ERROR(ctx->input("gain_x", &ln[0]));
    TF_RETURN_IF_ERROR(ctx->input("gain_h", &ln[1]));
    TF_RETURN_IF_ERROR(ctx->input("gain_c", &ln[2]));
    TF_RETURN_IF_ERROR(ctx->input("shift_c", &ln[3]));
    TF_RETURN_IF_ERROR(CheckPeephole(*peephole, d, &args->peephole));
    TF_RETURN_IF_ERROR(CheckZoneout(*zoneout_h, "zoneout_h", d, d.hidden,
                                    read_values, &args->zoneout_h));
    TF_RETURN_IF_ERROR(CheckZoneout(*zoneout_c, "zoneout_c", d, d.units,
                                    read_values, &args->zoneout_c));
    return CheckLayerNorm(*ln[0], *ln[1], *ln[2], *ln[3], d,
                          &args->layer_norm);
  }

  // The Grad op's option gradients, each shaped as its input.
  template <typename T>
  static absl::Status AllocateGradients(tensorflow::OpKernelContext* ctx,
                                        Gradients<T>* grads) {
    // Gradients<T>'s fields of the options with a gradient, in order.
    T** data[] = {&grads->dpeephole, &grads->dgain_x, &grads->dgain_h,
                  &grads->dgain_c,   &grads->dshift_c, &grads->dprojection};
    static_assert(sizeof(data) / sizeof(data[0]) == kOptionGradients);
    int k = 0;
    for (const OptionInput& option : kOptionInputs) {
      if (!option.gradient) continue;
      const tensorflow::Tensor* input;
      tensorflow::Tensor* output;
      TF_RETURN_IF_ERROR(ctx->input(option.name, &input));
      TF_RETURN_IF_ERROR(ctx->allocate_output(
          std::string("d") + option.name, input->shape(), &output));
      *data[k++] = Data<T>(output);
    }
    return absl::OkStatus();
  }

  // The shape of the named option input.
  static absl::Status Shape(InferenceContext* c, const char* name,
                            ShapeHandle* shape) {
    std::vector<ShapeHandle> shapes;
    TF_RETURN_IF_ERROR(c->input(name, &shapes));
    *shape = shapes[0];
    return absl::OkStatus();
  }

  // The Grad op's option gradients' shapes: their inputs'.
  static absl::Status SetGradientShapes(InferenceContext* c) {
    for (const OptionInput& option : kOptionInputs) {
      if (!option.gradient) continue;
      std::vector<ShapeHandle> shapes;
      TF_RETURN_IF_ERROR(c->input(option.name, &shapes));
      TF_RETURN_IF_ERROR(c->set_output(std::string("d") + option.name,
                                       shapes));
    }
    return absl::OkStatus();
  }
};

}  // namespace lstm
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CELLS_LSTM_LSTM_OPTION_INPUTS_H_
