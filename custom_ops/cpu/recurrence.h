// Small pieces of the CPU recurrence engine: the pool, scratch from the
// kernel's allocator, prefetches and the recurrent mask's copies (row
// lengths and step order: shared/steps.h).
#ifndef TFRNN_CUSTOM_OPS_CPU_RECURRENCE_H_
#define TFRNN_CUSTOM_OPS_CPU_RECURRENCE_H_

#include <algorithm>
#include <cstdint>

#include "Eigen/Core"
#include "cpu/gemm.h"
#include "cpu/simd.h"
#include "shared/steps.h"
#include "tensorflow/core/framework/op_kernel.h"

namespace tfrnn {
namespace cpu {

template <typename T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <typename T>
using ConstVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

inline tensorflow::thread::ThreadPool* Pool(tensorflow::OpKernelContext* ctx) {
  return ctx->device()->tensorflow_cpu_worker_threads()->workers;
}

// n values of scratch from the kernel's allocator, held by `holder` (so
// TensorFlow's memory accounting sees them), uninitialised; null, with the
// kernel's status set, when the allocation fails. Never null otherwise:
// an empty tensor has no data pointer, so n = 0 gets one value.
template <typename T>
T* AllocateScratch(tensorflow::OpKernelContext* ctx, int64_t n,
                   tensorflow::Tensor* holder) {
  const absl::Status status = ctx->allocate_temp(
      tensorflow::DataTypeToEnum<T>::value,
      tensorflow::TensorShape({std::max<int64_t>(n, 1)}), holder);
  if (!status.ok()) {
    ctx->SetStatus(status);
    return nullptr;
  }
  return holder->flat<T>().data();
}

// Asks for the cache lines of p[0, n) ahead of their use (for writing when
// `write`). One step's rows lie T steps apart in a batch-major tensor, a
// stride the hardware prefetcher does not follow.
template <typename T>
inline void Prefetch(const T* p, int64_t n, bool write) {
  constexpr uintptr_t kLine = 64;
  const uintptr_t end = reinterpret_cast<uintptr_t>(p + n);
  for (uintptr_t line = reinterpret_cast<uintptr_t>(p) & ~(kLine - 1);
       line < end; line += kLine) {
    if (write) {
      __builtin_prefetch(reinterpret_cast<const void*>(line), 1);
    } else {
      __builtin_prefetch(reinterpret_cast<const void*>(line), 0);
    }
  }
}

// The recurrent mask's values from `index` on, or null when there is no
// mask (without offsetting a null pointer).
template <typename T>
const T* MaskAt(const T* mask, int64_t index) {
  return mask == nullptr ? nullptr : mask + index;
}

// dst[0, n) = src[0, n), times mask[0, n) when there is a mask (see MaskAt).
template <typename T>
void CopyMasked(const T* src, const T* mask, int64_t n, T* dst) {
  if (mask == nullptr) {
    std::copy_n(src, n, dst);
  } else {
    Vec<T>(dst, n) = ConstVec<T>(src, n) * ConstVec<T>(mask, n);
  }
}

// dst[0, n) += src[0, n), times mask[0, n) when there is a mask.
template <typename T>
void AddMasked(const T* src, const T* mask, int64_t n, T* dst) {
  if (mask == nullptr) {
    Vec<T>(dst, n) += ConstVec<T>(src, n);
  } else {
    Vec<T>(dst, n) += ConstVec<T>(src, n) * ConstVec<T>(mask, n);
  }
}

// v times mask[0, width), or v when there is no mask (see MaskAt).
template <typename T>
typename Simd<T>::Packet Masked(const typename Simd<T>::Packet& v,
                                const T* mask, int64_t width) {
  if (mask == nullptr) return v;
  return Eigen::internal::pmul(v, Simd<T>::Load(mask, width));
}

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_RECURRENCE_H_
