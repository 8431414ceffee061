// SIMD packets of T (Eigen's widest for the build: 16 floats with AVX-512,
// 8 with AVX2) and the few operations the fused kernels apply to them.
//
// Activations go through Eigen's own functors, the ones its array
// expressions (.logistic(), .tanh()) use, so a value comes out the same
// whichever path computed it.
#ifndef TFRNN_CUSTOM_OPS_CPU_SIMD_H_
#define TFRNN_CUSTOM_OPS_CPU_SIMD_H_

#include <algorithm>
#include <cstdint>

#include "Eigen/Core"

namespace tfrnn {
namespace cpu {

template <typename T>
struct Simd {
  using Packet = typename Eigen::internal::packet_traits<T>::type;
  static constexpr int kSize = Eigen::internal::unpacket_traits<Packet>::size;

  // p[0, n) for n <= kSize; lanes past n are zero. Never reads past p + n.
  static Packet Load(const T* p, int64_t n) {
    if (n == kSize) return Eigen::internal::ploadu<Packet>(p);
    alignas(64) T lanes[kSize] = {};
    std::copy_n(p, n, lanes);
    return Eigen::internal::pload<Packet>(lanes);
  }

  // Writes lanes [0, n) of v to p.
  static void Store(T* p, const Packet& v, int64_t n) {
    if (n == kSize) {
      Eigen::internal::pstoreu(p, v);
      return;
    }
    alignas(64) T lanes[kSize];
    Eigen::internal::pstore(lanes, v);
    std::copy_n(lanes, n, p);
  }

  static Packet Logistic(const Packet& x) {
    return Apply<Eigen::internal::scalar_logistic_op<T>>(x);
  }
  static Packet Tanh(const Packet& x) {
    return Apply<Eigen::internal::scalar_tanh_op<T>>(x);
  }

 private:
  // The functor's packet path where Eigen has one, else lane by lane.
  template <typename Op>
  static Packet Apply(const Packet& x) {
    if constexpr (Eigen::internal::functor_traits<Op>::PacketAccess) {
      return Op().packetOp(x);
    } else {
      alignas(64) T lanes[kSize];
      Eigen::internal::pstore(lanes, x);
      for (T& v : lanes) v = Op()(v);
      return Eigen::internal::pload<Packet>(lanes);
    }
  }
};

// The activation policy of the cells' formulas (shared/host_device.h) on
// packets.
template <typename T>
struct PacketActivations {
  using Packet = typename Simd<T>::Packet;
  static Packet Logistic(const Packet& x) { return Simd<T>::Logistic(x); }
  static Packet Tanh(const Packet& x) { return Simd<T>::Tanh(x); }
  static Packet Relu(const Packet& x) {
    return Eigen::internal::pmax(x, Eigen::internal::pset1<Packet>(T(0)));
  }
  static Packet WherePositive(const Packet& y, const Packet& dy) {
    const Packet zero = Eigen::internal::pset1<Packet>(T(0));
    return Eigen::internal::pselect(Eigen::internal::pcmp_lt(zero, y), dy,
                                    zero);
  }
  static Packet Clip(const Packet& x, const Packet& limit) {
    return Eigen::internal::pmin(
        Eigen::internal::pmax(x, Eigen::internal::pnegate(limit)), limit);
  }
  static Packet WhereWithin(const Packet& x, const Packet& limit,
                            const Packet& dy) {
    using Eigen::internal::pabs;
    const Packet zero = Eigen::internal::pset1<Packet>(T(0));
    return Eigen::internal::pselect(
        Eigen::internal::pcmp_le(pabs(x), limit), dy, zero);
  }
};

}  // namespace cpu
}  // namespace tfrnn

#endif  // TFRNN_CUSTOM_OPS_CPU_SIMD_H_
