//===- Axpy.h - NMC4 FPU vector multiply-add kernel -------------*- C++ -*-===//
//
// Emits the NMC4 assembly of kan_nmc_axpy_f64 (runtime/nmc/kan_nmc_axpy.h):
// y[i] = y[i] + a[0] * x[i] for i < n, the inner step of the dense update
// theta -= scale * sum_d c_d v_d (kan_update_dense_f64's order: the
// direction sums, then theta + (-scale) * acc). Plain C++17.
//
//===----------------------------------------------------------------------===//
#ifndef KAN_TARGET_NMQUAD_KERNELS_AXPY_H
#define KAN_TARGET_NMQUAD_KERNELS_AXPY_H

#include <string>

namespace kan::nmquad {

/// "_kan_nmc_axpy_f64", the assembler name of the C symbol.
std::string axpySymbol();
/// GNU-syntax NMC4 assembly of the kernel.
std::string emitAxpyF64();

} // namespace kan::nmquad

#endif
