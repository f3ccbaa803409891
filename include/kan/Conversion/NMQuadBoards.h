//===- NMQuadBoards.h - the NM Card Mini and NM Quad profiles ---*- C++ -*-===//
//
// What a board offers the schedule (docs/NEUROMATRIX.md, "Chip and boards"):
// NM6408 chips, NMC4 cores per chip, and DDR per chip. The cores address
// their chip's DDR through the EMI window of the vendor's linker script
// (nm6408brd.lds: EMI_CPU 0x1FCC0000 bytes), so what one chip's program can
// hold is the smaller of that window and the chip's DDR.
//
//===----------------------------------------------------------------------===//

#ifndef KAN_CONVERSION_NMQUADBOARDS_H
#define KAN_CONVERSION_NMQUADBOARDS_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <optional>

namespace mlir::kan {

struct NMQuadBoard {
  llvm::StringRef name, product;
  int64_t chips, coresPerChip;
  int64_t ddrBytesPerChip;
};

/// The profile named `name` ("mini", "quad"), or none.
inline std::optional<NMQuadBoard> getNMQuadBoard(llvm::StringRef name) {
  constexpr int64_t kGiB = int64_t(1) << 30;
  if (name == "mini")
    return NMQuadBoard{"mini", "NM Card Mini", 1, 16, 5 * kGiB};
  if (name == "quad")
    return NMQuadBoard{"quad", "NM Quad", 4, 16, 5 * kGiB};
  return std::nullopt;
}

} // namespace mlir::kan

#endif // KAN_CONVERSION_NMQUADBOARDS_H
