// Sizes of a recurrent op's problem, shared by kernels and functors.
#ifndef TFRNN_CUSTOM_OPS_SHARED_DIMS_H_
#define TFRNN_CUSTOM_OPS_SHARED_DIMS_H_

#include <cstdint>

namespace tfrnn {

struct Dims {
  int64_t batch;
  int64_t time;
  int64_t input;
  int64_t units;   // H: the cell state's width and each gate's
  int64_t hidden;  // h's width: the LSTM's projection P, else H
};

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_SHARED_DIMS_H_
