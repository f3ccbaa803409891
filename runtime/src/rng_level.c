/*===- rng_level.c - normal draws compiled per ISA level --------*- C -*-===*/
/* Compiled once per kernel level with -ffp-contract=off (CMakeLists.txt):
   the loop of normal.inc in the level's vector width, identical bits at
   every level (see normal.inc). rng.c picks the active level's copy. */
#include "internal.h"

#ifndef KAN_ISA_SUFFIX
#define KAN_ISA_SUFFIX
#endif

#define KAN_NORMAL_BLOCKS KAN_ISA_NAME(kan_normal_blocks)
#define KAN_NORMAL_STORAGE
void KAN_NORMAL_BLOCKS(uint64_t seed, uint32_t b0, size_t nb, uint32_t dir,
                       uint32_t step, uint32_t stream, double *out);
#include "normal.inc"
