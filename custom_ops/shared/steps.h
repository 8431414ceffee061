// Which steps a row runs and in what order: shared by the CPU engine, the
// GPU kernels and their host stand-in, so every device walks the same steps.
#ifndef TFRNN_CUSTOM_OPS_SHARED_STEPS_H_
#define TFRNN_CUSTOM_OPS_SHARED_STEPS_H_

#include <cstdint>

#include "shared/host_device.h"

namespace tfrnn {

// Steps row b runs (every step when there are no lengths).
TFRNN_HOST_DEVICE inline int64_t Length(const int32_t* lengths, int64_t b,
                                        int64_t time) {
  return lengths == nullptr ? time : lengths[b];
}

// Step t's state came from the step visited before it, or from the initial
// state (-1). A reverse row visits len-1 .. 0.
TFRNN_HOST_DEVICE inline int64_t PreviousStep(bool reverse, int64_t t,
                                              int64_t length) {
  if (reverse) return t + 1 < length ? t + 1 : -1;
  return t - 1;
}

// The time step of walk step s of max_len (forward walks; a backward walk
// visits them the other way round).
TFRNN_HOST_DEVICE inline int64_t StepTime(bool reverse, int64_t s,
                                          int64_t max_len) {
  return reverse ? max_len - 1 - s : s;
}

}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_SHARED_STEPS_H_
