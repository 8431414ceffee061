// Input checks shared by the recurrent kernels: each failure is an
// InvalidArgument status whose message names the argument.
#ifndef TFRNN_CUSTOM_OPS_COMMON_VALIDATION_H_
#define TFRNN_CUSTOM_OPS_COMMON_VALIDATION_H_

#include <algorithm>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "tensorflow/core/framework/tensor.h"
#include "tensorflow/core/framework/tensor_shape.h"

namespace tfrnn {

inline absl::Status Invalid(const std::string& message) {
  return absl::InvalidArgumentError(message);
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

// The tensor's data, or null when it is empty.
template <typename T>
T* Data(tensorflow::Tensor* t) {
  return t->NumElements() == 0 ? nullptr : t->flat<T>().data();
}

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_COMMON_VALIDATION_H_
