// A cell's option inputs, as the kernels (binding/op_kernels.h) and the
// shape functions (binding/shape_fns.h) see them: through one type, its
// Options, which reads each by name and checks it. The LSTM's is
// lstm::OptionInputs (cells/lstm/lstm_option_inputs.h); a cell without
// options has NoOptionInputs. What an Options type gives:
//   Projection(ctx, &tensor)    the input that sets h's width (null: none)
//   Take<T>(ctx, d, read_values, &args)   every option, checked, into args
//   AllocateGradients<T>(ctx, &grads)     the Grad op's option gradients
//   Shape(c, name, &shape)      an option input's shape, for the shape
//                               functions (only cells with kVariants ask)
//   SetGradientShapes(c)        the Grad op's option gradients' shapes
#ifndef TFRNN_CUSTOM_OPS_BINDING_OPTION_INPUTS_H_
#define TFRNN_CUSTOM_OPS_BINDING_OPTION_INPUTS_H_

#include "shared/recurrent_args.h"
#include "tensorflow/core/framework/op_kernel.h"
#include "tensorflow/core/framework/shape_inference.h"

namespace tfrnn {

struct NoOptionInputs {
  static absl::Status Projection(tensorflow::OpKernelContext*,
                                 const tensorflow::Tensor** projection) {
    *projection = nullptr;
    return absl::OkStatus();
  }
  template <typename T>
  static absl::Status Take(tensorflow::OpKernelContext*, const Dims&, bool,
                           SequenceInputs<T>*) {
    return absl::OkStatus();
  }
  template <typename T>
  static absl::Status AllocateGradients(tensorflow::OpKernelContext*,
                                        Gradients<T>*) {
    return absl::OkStatus();
  }
  static absl::Status SetGradientShapes(
      tensorflow::shape_inference::InferenceContext*) {
    return absl::OkStatus();
  }
};

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_BINDING_OPTION_INPUTS_H_
