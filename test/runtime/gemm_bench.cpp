//===- gemm_bench.cpp - kan_gemm_nt vs OpenBLAS (Google Benchmark) --------===//
//
// Run with --benchmark_format=json; each case reports a GFLOP/s counter.
// OpenBLAS is pinned to one thread so the comparison is per core.
//
//===----------------------------------------------------------------------===//
#include "kanrt/kanrt.h"

#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#ifdef KANRT_BENCH_CBLAS
#include <cblas.h>
extern "C" void openblas_set_num_threads(int);
#endif

namespace {

template <typename T> struct Operands {
  std::vector<T> A, B, C;
  Operands(size_t m, size_t n, size_t k) : A(m * k), B(n * k), C(m * n) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> d(-1, 1);
    for (auto &v : A)
      v = static_cast<T>(d(rng));
    for (auto &v : B)
      v = static_cast<T>(d(rng));
  }
};

void setFlops(benchmark::State &state, size_t m, size_t n, size_t k) {
  state.counters["GFLOPS"] = benchmark::Counter(
      2.0 * m * n * k, benchmark::Counter::kIsIterationInvariantRate,
      benchmark::Counter::OneK::kIs1000);
  state.counters["GFLOPS"].value /= 1e9;
}

void BM_kan_dgemm(benchmark::State &state) {
  size_t m = state.range(0), n = state.range(1), k = state.range(2);
  Operands<double> o(m, n, k);
  for (auto _ : state) {
    kan_gemm_nt_portable_f64(m, n, k, 1.0, o.A.data(), k, o.B.data(), k, 0.0,
                             o.C.data(), n);
    benchmark::DoNotOptimize(o.C.data());
  }
  setFlops(state, m, n, k);
}

void BM_kan_sgemm(benchmark::State &state) {
  size_t m = state.range(0), n = state.range(1), k = state.range(2);
  Operands<float> o(m, n, k);
  for (auto _ : state) {
    kan_gemm_nt_portable_f32(m, n, k, 1.0f, o.A.data(), k, o.B.data(), k,
                             0.0f, o.C.data(), n);
    benchmark::DoNotOptimize(o.C.data());
  }
  setFlops(state, m, n, k);
}

#ifdef KANRT_BENCH_CBLAS
void BM_cblas_dgemm(benchmark::State &state) {
  openblas_set_num_threads(1);
  int m = state.range(0), n = state.range(1), k = state.range(2);
  Operands<double> o(m, n, k);
  for (auto _ : state) {
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0,
                o.A.data(), k, o.B.data(), k, 0.0, o.C.data(), n);
    benchmark::DoNotOptimize(o.C.data());
  }
  setFlops(state, m, n, k);
}

void BM_cblas_sgemm(benchmark::State &state) {
  openblas_set_num_threads(1);
  int m = state.range(0), n = state.range(1), k = state.range(2);
  Operands<float> o(m, n, k);
  for (auto _ : state) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, n, k, 1.0f,
                o.A.data(), k, o.B.data(), k, 0.0f, o.C.data(), n);
    benchmark::DoNotOptimize(o.C.data());
  }
  setFlops(state, m, n, k);
}
#endif

// Square sizes plus the KAN shapes: N=1024 rows, K = I*(G+k+1) = 64*9,
// O = 64 outputs; and the first layer of [784,64,10].
#define KAN_SIZES                                                              \
  Args({256, 256, 256})                                                        \
      ->Args({512, 512, 512})                                                  \
      ->Args({1024, 64, 576})                                                  \
      ->Args({256, 64, 7056})
BENCHMARK(BM_kan_dgemm)->KAN_SIZES;
BENCHMARK(BM_kan_sgemm)->KAN_SIZES;
#ifdef KANRT_BENCH_CBLAS
BENCHMARK(BM_cblas_dgemm)->KAN_SIZES;
BENCHMARK(BM_cblas_sgemm)->KAN_SIZES;
#endif

} // namespace

BENCHMARK_MAIN();
