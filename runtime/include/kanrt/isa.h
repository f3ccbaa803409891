/*===- kanrt/isa.h - instruction-set level of the kernels -------*- C -*-===*/
/** \file
 * The kernels of kernels.h are compiled once per x86-64 instruction-set
 * level (baseline x86-64, x86-64-v3 = AVX2+FMA, x86-64-v4 = AVX-512) and
 * the best level the CPU supports is chosen when the first kernel runs.
 * The environment variable KAN_ISA=baseline|avx2|avx512 forces a lower
 * level (a level the CPU lacks falls back to the best it has, with a
 * message on stderr). Results are bit-identical for the same build and the
 * same level, on any CPU; different levels round differently (FMA, vector
 * width), within the kernels' accuracy. A library built with
 * -DKANRT_NATIVE=ON has one level, "native" (-march=native).
 */
#ifndef KANRT_ISA_H
#define KANRT_ISA_H

#ifdef __cplusplus
extern "C" {
#endif

/** Levels, lowest first. */
typedef enum kan_isa {
  KAN_ISA_BASELINE = 0, /**< x86-64 (SSE2), or the only level elsewhere */
  KAN_ISA_AVX2 = 1,     /**< x86-64-v3: AVX2, FMA, BMI2 */
  KAN_ISA_AVX512 = 2,   /**< x86-64-v4: AVX-512 F/BW/CD/DQ/VL */
  KAN_ISA_NATIVE = 3    /**< built with -march=native (KANRT_NATIVE) */
} kan_isa;

/** Level of the kernels in use (chosen on first use, then fixed). */
kan_isa kan_isa_active(void);

/** Name of a level: "baseline", "avx2", "avx512" or "native". */
const char *kan_isa_name(kan_isa isa);

/** C compiler flags that target a level, for code compiled at run time to
 * match the kernels it links with: "-march=x86-64-v3" etc.; "" where no
 * flag applies (not x86-64). */
const char *kan_isa_cflags(kan_isa isa);

/** Highest level this build and this CPU support (ignores KAN_ISA). */
kan_isa kan_isa_best(void);

#ifdef __cplusplus
}
#endif
#endif /* KANRT_ISA_H */
