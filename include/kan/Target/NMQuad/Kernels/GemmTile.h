//===- GemmTile.h - NMC4 FPU GEMM tile micro-kernels ------------*- C++ -*-===//
//
// Emits the NMC4 assembly of the tile kernels declared in
// runtime/nmc/kan_nmc_tile.h (C += A * Bt, A m x kk, Bt kk x n, row-major).
// Plain C++17: the NM Quad target uses this without MLIR types. Their cost
// is CostModel.h's (priced by tools/nmc-sim, not part of the target).
//
//===----------------------------------------------------------------------===//
#ifndef KAN_TARGET_NMQUAD_KERNELS_GEMMTILE_H
#define KAN_TARGET_NMQUAD_KERNELS_GEMMTILE_H

#include <cstdint>
#include <string>
#include <vector>

namespace kan::nmquad {

enum class TilePrecision { F64, F32 };

/// f32 kernels take kk in blocks of this many.
constexpr int kF32KBlock = 64;

/// A tile shape. The emitted code depends on (precision, m, n); kk is a
/// run-time argument, used only by estimateGemmTile().
struct TileShape {
  int m = 24;
  int n = 32;
  int kk = 256;
  TilePrecision precision = TilePrecision::F64;
};

/// How a supported shape maps onto the four FPU cells.
struct TileLayout {
  int cells = 0;       // FPU cells used
  int rowsPerCell = 0; // C rows accumulated in each cell
  int lanes = 32;      // 64-bit words per C row (= n for f64, n/2 for f32)
};

/// True if an assembly kernel exists for \p shape (kk is checked only when
/// positive). On false, \p why (if given) says which parameter is wrong.
bool isSupportedTile(const TileShape &shape, std::string *why = nullptr);
/// The layout of a supported shape.
TileLayout tileLayout(const TileShape &shape);
/// "_kan_nmc_gemm_tile_f64_24x32" (the assembler name of the C symbol).
std::string tileSymbol(const TileShape &shape);
/// Every (m, n) with a kernel, kk set to \p kk.
std::vector<TileShape> supportedTileShapes(TilePrecision precision, int kk);

/// NMC4 GNU-assembler text of the kernel for \p shape; empty if the shape is
/// unsupported (check isSupportedTile first).
std::string emitGemmTileF64(const TileShape &shape);
std::string emitGemmTileF32(const TileShape &shape);
/// Dispatches on shape.precision.
std::string emitGemmTile(const TileShape &shape);

} // namespace kan::nmquad

#endif // KAN_TARGET_NMQUAD_KERNELS_GEMMTILE_H
