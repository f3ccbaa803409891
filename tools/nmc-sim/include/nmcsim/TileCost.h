//===- TileCost.h - the tile kernels priced by the timing model -*- C++ -*-===//
//
// The NM Quad tile kernels (lib/Target/NMQuad/Kernels) run through the
// simulator's performance model: the implementation of the target's
// KernelCostModel that `kan-translate --report` and `nmc-sim --estimate` use.
//
//===----------------------------------------------------------------------===//
#ifndef NMCSIM_TILECOST_H
#define NMCSIM_TILECOST_H

#include "kan/Target/NMQuad/Kernels/CostModel.h"
#include "nmcsim/Simulator.h"

namespace kan::nmcsim {

/// Modelled cost of one call of the kernel (assumptions: PerfConfig and
/// docs/NMC4-ASM.md). Obtained by running the emitted code through the
/// simulator with A, Bt and C in banks 0, 1 and 2; `detailJson` holds the
/// PerfStats of that call, also stored in \p stats when given.
nmquad::KernelEstimate estimateGemmTile(const nmquad::TileShape &shape,
                                        const PerfConfig &perf = {},
                                        PerfStats *stats = nullptr);

/// Modelled cycles of one kan_nmc_axpy_f64 call on \p n doubles (x and y
/// in banks 1 and 2); negative if the simulator fails.
double estimateAxpyCycles(int n);

/// estimateGemmTile with the default PerfConfig, as a KernelCostModel.
const nmquad::KernelCostModel &getTimingCostModel();
/// Makes it the model of --report (nmquad::getKernelCostModel).
void registerTimingCostModel();

} // namespace kan::nmcsim

#endif // NMCSIM_TILECOST_H
