// One thread's GEMMs in MKL (sequential), float32 against bfloat16 and
// float16 operands with float32 results, B packed once as the fused op
// would pack its weights once a call: built and run by mkl_bf16_probe.py.
// Each line: m,k,n, then median microseconds of sgemm, sgemm on packed B,
// bf16 gemm on packed B, f16 gemm on packed B.
#include <immintrin.h>
#include <mkl_cblas.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

uint16_t ToBfloat16(float f) {  // nearest, ties to even
  uint32_t u;
  std::memcpy(&u, &f, 4);
  u += 0x7FFF + ((u >> 16) & 1);
  return static_cast<uint16_t>(u >> 16);
}

template <typename F>
double MedianMicros(int rounds, const F& f) {
  std::vector<double> times;
  for (int r = 0; r < rounds + 2; ++r) {
    const auto start = std::chrono::steady_clock::now();
    f();
    const auto end = std::chrono::steady_clock::now();
    if (r >= 2) {
      times.push_back(
          std::chrono::duration<double, std::micro>(end - start).count());
    }
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

void Probe(int m, int k, int n) {
  std::mt19937 gen(0);
  std::normal_distribution<float> normal;
  std::vector<float> a(size_t(m) * k), b(size_t(k) * n), c(size_t(m) * n);
  for (float& v : a) v = normal(gen);
  for (float& v : b) v = normal(gen);
  std::vector<MKL_BF16> a16(a.size()), b16(b.size());
  for (size_t i = 0; i < a.size(); ++i) a16[i] = ToBfloat16(a[i]);
  for (size_t i = 0; i < b.size(); ++i) b16[i] = ToBfloat16(b[i]);
  std::vector<MKL_F16> ah(a.size()), bh(b.size());
  for (size_t i = 0; i < a.size(); ++i) ah[i] = _cvtss_sh(a[i], 0);
  for (size_t i = 0; i < b.size(); ++i) bh[i] = _cvtss_sh(b[i], 0);

  const auto L = CblasRowMajor;
  std::vector<float> bp(cblas_sgemm_pack_get_size(CblasBMatrix, m, n, k) /
                        sizeof(float));
  cblas_sgemm_pack(L, CblasBMatrix, CblasNoTrans, m, n, k, 1.f, b.data(), n,
                   bp.data());
  std::vector<MKL_BF16> bp16(
      cblas_gemm_bf16bf16f32_pack_get_size(CblasBMatrix, m, n, k) /
      sizeof(MKL_BF16));
  cblas_gemm_bf16bf16f32_pack(L, CblasBMatrix, CblasNoTrans, m, n, k,
                              b16.data(), n, bp16.data());
  std::vector<MKL_F16> bph(
      cblas_gemm_f16f16f32_pack_get_size(CblasBMatrix, m, n, k) /
      sizeof(MKL_F16));
  cblas_gemm_f16f16f32_pack(L, CblasBMatrix, CblasNoTrans, m, n, k, bh.data(),
                            n, bph.data());

  const int rounds = double(m) * k * n > 1e8 ? 7 : 50;
  const double plain = MedianMicros(rounds, [&] {
    cblas_sgemm(L, CblasNoTrans, CblasNoTrans, m, n, k, 1.f, a.data(), k,
                b.data(), n, 0.f, c.data(), n);
  });
  const double packed = MedianMicros(rounds, [&] {
    cblas_sgemm_compute(L, CblasNoTrans, CblasPacked, m, n, k, a.data(), k,
                        bp.data(), n, 0.f, c.data(), n);
  });
  const double bf16 = MedianMicros(rounds, [&] {
    cblas_gemm_bf16bf16f32_compute(L, CblasNoTrans, CblasPacked, m, n, k,
                                   1.f, a16.data(), k, bp16.data(), n, 0.f,
                                   c.data(), n);
  });
  const double f16 = MedianMicros(rounds, [&] {
    cblas_gemm_f16f16f32_compute(L, CblasNoTrans, CblasPacked, m, n, k, 1.f,
                                 ah.data(), k, bph.data(), n, 0.f, c.data(),
                                 n);
  });
  std::printf("%d,%d,%d %.1f %.1f %.1f %.1f\n", m, k, n, plain, packed, bf16,
              f16);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  for (int i = 1; i + 2 < argc; i += 3) {
    Probe(std::atoi(argv[i]), std::atoi(argv[i + 1]), std::atoi(argv[i + 2]));
  }
  return 0;
}
