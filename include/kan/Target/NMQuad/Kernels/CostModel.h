//===- CostModel.h - cost of the NMC4 FPU tile kernels ----------*- C++ -*-===//
//
// What `kan-translate --target=nmquad --report` asks about a tile kernel:
// its cycles per call. The NM Quad target only emits kernels; the model that
// prices them (tools/nmc-sim: the emitted assembly run under the simulator's
// timing model) is a separate library that the tools offering --report link
// and register. Plain C++17, like the kernel emitters.
//
//===----------------------------------------------------------------------===//
#ifndef KAN_TARGET_NMQUAD_KERNELS_COSTMODEL_H
#define KAN_TARGET_NMQUAD_KERNELS_COSTMODEL_H

#include "kan/Target/NMQuad/Kernels/GemmTile.h"

#include <cstdint>
#include <string>

namespace kan::nmquad {

/// Modelled cost of one call of a tile kernel.
struct KernelEstimate {
  bool valid = false;
  std::string error;
  std::string symbol;
  uint64_t cycles = 0;
  double flops = 0;      // 2 * m * n * kk
  double gflops = 0;     // at the model's clock
  double peakGflops = 0; // 8 (f64) / 32 (f32) per core
  double efficiency = 0; // gflops / peakGflops, whole call
  /// Efficiency of the k loop alone: the cost of one more k (f64) or one
  /// more 64-wide k block (f32), i.e. without prologue, C load and store.
  double steadyEfficiency = 0;
  uint64_t bankConflicts = 0;
  /// The model's own counters as a JSON object ("{}" when it has none).
  std::string detailJson = "{}";
  std::string toJson() const;
};

/// Prices tile kernels.
class KernelCostModel {
public:
  virtual ~KernelCostModel();
  /// Where the figures come from, as the report names it ("the timing
  /// model (tools/nmc-sim, estimateGemmTile)").
  virtual std::string describe() const = 0;
  /// The cost of one call of the kernel for \p shape (kk > 0); invalid, with
  /// the reason in `error`, for a shape the model cannot price.
  virtual KernelEstimate estimate(const TileShape &shape) const = 0;
  /// Cycles of one call of kan_nmc_axpy_f64 on \p n doubles; negative when
  /// the model cannot price it.
  virtual double axpyCycles(int n) const = 0;
};

/// The model --report uses: null until a tool registers one. The model must
/// outlive its use (a function-local static in practice).
const KernelCostModel *getKernelCostModel();
void registerKernelCostModel(const KernelCostModel &model);

} // namespace kan::nmquad

#endif // KAN_TARGET_NMQUAD_KERNELS_COSTMODEL_H
