// Input checks shared by the recurrent kernels: each failure is an
// InvalidArgument status whose message names the argument.
#ifndef TFRNN_CUSTOM_OPS_BINDING_VALIDATION_H_
#define TFRNN_CUSTOM_OPS_BINDING_VALIDATION_H_

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <string>

#include "absl/status/status.h"
#include "shared/dims.h"
#include "shared/recurrent_args.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"

namespace tfrnn {

inline absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

// An output's data, or null when it is empty.
template <typename T>
T* Data(tensorflow::Tensor* t) {
  return t->NumElements() == 0 ? nullptr : t->flat<T>().data();
}

// An input's data.
template <typename T>
const T* In(const tensorflow::Tensor& t) {
  return t.flat<T>().data();
}

inline absl::Status CheckRank(const tensorflow::Tensor& t, const char* name,
                              int rank) {
  if (t.dims() != rank) {
    return Invalid(std::string(name) + " must be rank " +
                   std::to_string(rank) + ", got shape " +
                   t.shape().DebugString());
  }
  return absl::OkStatus();
}

inline absl::Status CheckShape(const tensorflow::Tensor& t, const char* name,
                               const tensorflow::TensorShape& expected) {
  if (t.shape() != expected) {
    return Invalid(std::string(name) + " must have shape " +
                   expected.DebugString() + ", got " + t.shape().DebugString());
  }
  return absl::OkStatus();
}

// An optional input given as shape [0]: the op's "none".
inline bool IsNone(const tensorflow::Tensor& t) {
  return t.dims() == 1 && t.dim_size(0) == 0;
}

// Reads I, H and Hh from kernel [I,G*H], recurrent_kernel [Hh,G*H] and,
// when not null, the LSTM's projection_kernel (shape [0]: none; else
// [H,P], Hh = P); without a projection Hh = H.
inline absl::Status CheckWeights(const tensorflow::Tensor& kernel,
                                 const tensorflow::Tensor& recurrent,
                                 const tensorflow::Tensor* projection,
                                 int gates, Dims* d) {
  TF_RETURN_IF_ERROR(CheckRank(kernel, "kernel", 2));
  TF_RETURN_IF_ERROR(CheckRank(recurrent, "recurrent_kernel", 2));
  d->units = d->hidden = recurrent.dim_size(0);
  d->input = kernel.dim_size(0);
  if (projection != nullptr && !IsNone(*projection)) {
    TF_RETURN_IF_ERROR(CheckRank(*projection, "projection_kernel", 2));
    d->units = projection->dim_size(0);
    d->hidden = projection->dim_size(1);
    if (d->hidden == 0) {
      return Invalid(
          "projection_kernel must have at least one column (P >= 1), got "
          "shape " + projection->shape().DebugString());
    }
  }
  TF_RETURN_IF_ERROR(CheckShape(recurrent, "recurrent_kernel",
                                {d->hidden, gates * d->units}));
  return CheckShape(kernel, "kernel", {d->input, gates * d->units});
}

// A [B, width] state input: h [B,Hh], or a cell state [B,H].
struct NamedState {
  const tensorflow::Tensor& tensor;
  const char* name;
  bool cell_state = false;
};

// Checks x ([B,T,I], or [B,I] for a step op), the states and the weights
// (projection: as CheckWeights); fills d (time is 1 for a step op).
inline absl::Status CheckInputs(const tensorflow::Tensor& x, int x_rank,
                                std::initializer_list<NamedState> states,
                                const tensorflow::Tensor& kernel,
                                const tensorflow::Tensor& recurrent,
                                const tensorflow::Tensor* projection,
                                int gates, Dims* d) {
  TF_RETURN_IF_ERROR(CheckWeights(kernel, recurrent, projection, gates, d));
  TF_RETURN_IF_ERROR(CheckRank(x, "x", x_rank));
  d->batch = x.dim_size(0);
  d->time = x_rank == 3 ? x.dim_size(1) : 1;
  if (x.dim_size(x_rank - 1) != d->input) {
    return Invalid("x must have " + std::to_string(d->input) +
                   " features (kernel rows), got shape " +
                   x.shape().DebugString());
  }
  for (const NamedState& s : states) {
    TF_RETURN_IF_ERROR(CheckShape(
        s.tensor, s.name, {d->batch, s.cell_state ? d->units : d->hidden}));
  }
  return absl::OkStatus();
}

// Checks sequence_length [batch] with every value in [0, time]; returns the
// longest.
inline absl::Status CheckLengths(const tensorflow::Tensor& lengths,
                                 int64_t batch, int64_t time,
                                 int64_t* max_len) {
  TF_RETURN_IF_ERROR(CheckShape(lengths, "sequence_length", {batch}));
  auto flat = lengths.flat<int32_t>();
  *max_len = 0;
  for (int64_t b = 0; b < batch; ++b) {
    if (flat(b) < 0 || flat(b) > time) {
      return Invalid("sequence_length[" + std::to_string(b) + "] = " +
                     std::to_string(flat(b)) + " is outside [0, " +
                     std::to_string(time) + "]");
    }
    *max_len = std::max<int64_t>(*max_len, flat(b));
  }
  return absl::OkStatus();
}

// recurrent_mask multiplies h_{t-1} where it enters the recurrent product
// (variational recurrent dropout): [B, Hh], or shape [0] for no mask.
// *data is its data, or null for no mask.
template <typename T>
absl::Status CheckRecurrentMask(const tensorflow::Tensor& mask,
                                const Dims& d, const T** data) {
  *data = nullptr;
  if (IsNone(mask)) return absl::OkStatus();
  if (mask.dims() != 2 || mask.dim_size(0) != d.batch ||
      mask.dim_size(1) != d.hidden) {
    return Invalid("recurrent_mask must have shape [" +
                   std::to_string(d.batch) + ", " + std::to_string(d.hidden) +
                   "] (batch, units) or [0] for none, got " +
                   mask.shape().DebugString());
  }
  *data = mask.flat<T>().data();
  return absl::OkStatus();
}

// The error for a zoneout value outside [0, 1], on either device.
inline absl::Status ZoneoutOutOfRange(const char* name, double value,
                                      int64_t index) {
  return Invalid(std::string(name) + " must lie in [0, 1], got " +
                 std::to_string(value) + " at flat index " +
                 std::to_string(index));
}

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_BINDING_VALIDATION_H_
